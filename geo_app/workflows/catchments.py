"""Business-circle catchments with the Huff model, on a grid of residents.

Residents (demand points, or census populations spread over districts) are summed into
square cells; each cell's probability of patronising each circle follows
:func:`analysis.clusters.huff_probabilities` with straight-line distance or network time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.clusters import huff_probabilities
from analysis.grids import square_bins, square_polygons
from geo_app.errors import InputError, ParameterError
from geo_app.io.export import run_info
from layers.validate import located, nonnegative_column

log = logging.getLogger(__name__)

COSTS = ("straight", "network")


@dataclass(frozen=True)
class CatchmentResult:
    """``cells``: residents per cell with ``dominant`` circle, its probability and ``p_<k>``
    per circle; ``circles``: attractiveness and expected visitors; ``areas``: the cells
    merged by dominant circle."""

    cells: gpd.GeoDataFrame
    circles: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    params: dict = field(default_factory=dict)

    def layers(self) -> dict[str, pd.DataFrame]:
        return {"cells": self.cells, "circles": self.circles, "dominant_areas": self.areas,
                "run_info": run_info(self.params)}


def population_cells(demand: gpd.GeoDataFrame, cell_m: float, crs: str) -> gpd.GeoDataFrame:
    """Residents of demand points (``population``) summed into ``cell_m`` squares (``crs``)."""
    if cell_m <= 0:
        raise ValueError(f"cell size must be positive metres, got {cell_m}")
    pts = demand.geometry.to_crs(crs)
    pop = demand["population"].to_numpy(float)
    ok = np.isfinite(pop) & (pop > 0) & ~pts.is_empty.to_numpy()
    if not ok.any():
        raise ValueError("no residents: every demand point has zero or missing population")
    x, y = pts.x.to_numpy()[ok], pts.y.to_numpy()[ok]
    cells, inv = square_bins(x, y, cell_m)
    total = np.bincount(inv, weights=pop[ok])
    boxes = square_polygons(cells, cell_m)
    return gpd.GeoDataFrame({"population": total}, geometry=boxes, crs=crs)


def census_cells(districts: gpd.GeoDataFrame, cell_m: float, crs: str,
                 population: str = "pop_2020", area: shapely.Geometry | None = None
                 ) -> gpd.GeoDataFrame:
    """Census residents spread evenly over each district, cut into ``cell_m`` squares.

    An estimate for maps of the whole city: residents are not evenly spread. Districts
    without a census figure contribute no residents. With ``area`` (in ``crs``) only the
    cells inside its bounding box are made.
    """
    d = districts[districts[population].notna()].to_crs(crs)
    x0, y0, x1, y1 = d.total_bounds
    if area is not None:
        a0, b0, a1, b1 = area.bounds
        x0, y0 = x0 + np.floor(max(a0 - x0, 0) / cell_m) * cell_m, y0 + np.floor(max(b0 - y0, 0) / cell_m) * cell_m
        x1, y1 = min(x1, a1), min(y1, b1)
        if x1 <= x0 or y1 <= y0:
            raise ValueError("the centres and their reach lie outside the districts' census area")
    nx, ny = int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m))
    if nx * ny > 2_000_000:
        raise ValueError(f"{nx * ny:,} cells of {cell_m:g} m: choose a larger cell")
    i, j = np.meshgrid(np.arange(nx), np.arange(ny))
    boxes = shapely.box(x0 + i.ravel() * cell_m, y0 + j.ravel() * cell_m,
                        x0 + (i.ravel() + 1) * cell_m, y0 + (j.ravel() + 1) * cell_m)
    cells = gpd.GeoDataFrame(geometry=boxes, crs=crs)
    parts = gpd.overlay(cells.reset_index(names="cell"), d[[population, "geometry"]]
                        .assign(district_area=d.area), how="intersection", keep_geom_type=True)
    parts["population"] = parts[population].astype(float) * parts.area / parts["district_area"]
    pop = parts.groupby("cell")["population"].sum()
    out = cells.loc[pop.index].assign(population=pop.to_numpy())
    return out[out["population"] > 0].reset_index(drop=True)


def attractiveness_of(circles: gpd.GeoDataFrame, spec: str, *, pois: gpd.GeoDataFrame | None = None,
                      radius_m: float = 500.0, crs: str | None = None) -> np.ndarray:
    """Attractiveness per circle: ``"equal"``, ``"pois"`` (POIs within ``radius_m``) or
    ``"column:NAME"`` (a numeric column such as floor area)."""
    if spec == "equal":
        return np.ones(len(circles))
    if spec == "pois":
        if pois is None or len(pois) == 0:
            raise ValueError("attractiveness 'pois' needs a points-of-interest layer")
        from scipy.spatial import cKDTree

        p, c = pois.geometry.to_crs(crs), circles.geometry.to_crs(crs)
        tree = cKDTree(np.column_stack([p.x, p.y]))
        counts = tree.query_ball_point(np.column_stack([c.x, c.y]), r=radius_m, return_length=True)
        return np.asarray(counts, float)
    if spec.startswith("column:"):
        return nonnegative_column(circles, spec.split(":", 1)[1], "the centres")
    raise ValueError(f"unknown attractiveness {spec!r}: use equal, pois or column:NAME")


def straight_costs(cells: gpd.GeoDataFrame, circles: gpd.GeoDataFrame,
                   max_m: float = np.inf) -> np.ndarray:
    """Cells × circles straight-line distances (m) between cell centres and circles;
    ``inf`` beyond ``max_m``."""
    c = cells.geometry.centroid
    p = circles.geometry.to_crs(cells.crs)
    d = np.hypot(c.x.to_numpy()[:, None] - p.x.to_numpy()[None, :],
                 c.y.to_numpy()[:, None] - p.y.to_numpy()[None, :])
    return np.where(d <= max_m, d, np.inf)


def network_costs(cells: gpd.GeoDataFrame, circles: gpd.GeoDataFrame, graph, *,
                  access_speed_m_s: float, limit_s: float, max_snap_m: float = 500.0) -> np.ndarray:
    """Cells × circles travel times (s) on ``graph``; ``inf`` beyond ``limit_s`` or off the
    network. Cell centres and circles join their nearest node at ``access_speed_m_s``."""
    from analysis.paths import source_point_times
    from analysis.snap import snap_points

    c = cells.geometry.centroid.to_crs(graph.crs)
    p = circles.geometry.to_crs(graph.crs)
    sc = snap_points(graph, c.x.to_numpy(), c.y.to_numpy(), speed_m_s=access_speed_m_s,
                     max_dist_m=max_snap_m)
    sp_ = snap_points(graph, p.x.to_numpy(), p.y.to_numpy(), speed_m_s=access_speed_m_s,
                      max_dist_m=max_snap_m)
    m = source_point_times(graph, sp_.node, sp_.access_s, sc.node, sc.access_s,
                           limit_s=limit_s).tocoo()
    out = np.full((len(cells), len(circles)), np.inf)
    out[m.col, m.row] = m.data
    return out


def huff_catchments(cells: gpd.GeoDataFrame, circles: gpd.GeoDataFrame, cost: np.ndarray,
                    attractiveness: np.ndarray, *, alpha: float = 1.0, beta: float = 2.0,
                    name: str = "name", params: dict | None = None) -> CatchmentResult:
    """Probabilities, dominant circle per cell, dominant areas and expected visitors.

    ``cost`` is cells × circles (metres or seconds; the power decay does not depend on
    the unit). Cells reaching no circle keep ``dominant`` = −1 and no visitors.
    """
    if len(circles) == 0:
        raise ValueError("there are no centres (business circles) to compete")
    p = huff_probabilities(attractiveness, cost, alpha=alpha, beta=beta)
    pop = cells["population"].to_numpy(float)
    reached = p.sum(axis=1) > 0
    dom = np.where(reached, p.argmax(axis=1), -1)
    out = cells.copy()
    out["dominant"] = dom
    out["dominant_name"] = np.where(reached, circles[name].to_numpy(object)[np.maximum(dom, 0)], "")
    out["p_dominant"] = p.max(axis=1)
    for k in range(len(circles)):
        out[f"p_{k}"] = p[:, k]
    out = out.to_crs(4326)
    visitors = (pop[:, None] * p).sum(axis=0)
    circ = circles.copy()
    circ["attractiveness"] = attractiveness
    circ["expected_visitors"] = visitors
    circ["share"] = visitors / pop.sum() if pop.sum() > 0 else 0.0
    circ["dominant_cells"] = np.bincount(dom[reached], minlength=len(circles))
    kept = out[out["dominant"] >= 0]
    areas = kept.dissolve(by="dominant", aggfunc={"population": "sum", "dominant_name": "first"})
    areas = areas.reset_index().rename(columns={"dominant_name": "name"})
    return CatchmentResult(out, circ, areas, params or {})


WALK_ACCESS_M_S = 1.0
DRIVE_ACCESS_M_S = 5.0  # reaching the road network by car park or lane (18 km/h)


def load_centres(path: str | Path | gpd.GeoDataFrame | None, name_column: str | None,
                 datum: str | int = "wgs84") -> tuple[gpd.GeoDataFrame, str]:
    """Centres with names: the bundled business circles, a GeoDataFrame or a file of points."""
    if path is None:
        from layers import load_business_circles

        c = load_business_circles()
        name = name_column or "name_zh"
    elif isinstance(path, gpd.GeoDataFrame):
        name = name_column or "name"
        if name not in path.columns:
            raise InputError(f"centres: no column {name!r} (columns: "
                             f"{', '.join(map(str, path.columns))})")
        c = path
    else:
        from layers.userfile import read_user_layer

        name = name_column or "name"
        c, _ = read_user_layer(path, datum=datum, required_columns=(name,),
                               geometry_types=("Point",))
    c = located(c).reset_index(drop=True)
    if len(c) < 2:
        raise ValueError(f"{path or 'business circles'}: {len(c)} located centre(s); "
                         "a catchment model needs at least two to compete")
    return c, name


def graph_of(net, mode: str, crs: str | None = None):
    """The walk or drive graph of a loaded street network (read with the same ``mode``)."""
    if mode == "walk":
        from geo_app.workflows.graphs import walk_graph_from_network

        return walk_graph_from_network(net, crs=crs)
    if mode == "drive":
        from geo_app.workflows.graphs import drive_graph_from_network

        return drive_graph_from_network(net, crs=crs)
    raise ParameterError(f"unknown mode {mode!r}: expected walk or drive")


def graph_for(network: str | Path, mode: str, crs: str | None = None):
    """The walk or drive graph of a network file."""
    from layers.network import read_network

    if mode not in ("walk", "drive"):
        raise ParameterError(f"unknown mode {mode!r}: expected walk or drive")
    return graph_of(read_network(network, mode=mode), mode, crs)


def run_catchments(*, centres: str | Path | gpd.GeoDataFrame | None = None,
                   name_column: str | None = None,
                   demand: str | Path | gpd.GeoDataFrame = "census",
                   network: str | Path | None = None,
                   mode: str = "walk", attractiveness: str = "equal",
                   pois: str | Path | gpd.GeoDataFrame | None = None, alpha: float = 1.0,
                   beta: float = 2.0, max_minutes: float = 60.0, max_km: float = 20.0,
                   cell_m: float = 1000.0, datum: str | int = "wgs84",
                   graph=None, osm_file: str | Path | None = None) -> CatchmentResult:
    """Huff catchments of ``centres`` over residents summed into ``cell_m`` cells.

    Costs are network travel times when a ``network`` (or a prepared ``graph``) is given,
    straight-line distances otherwise; beyond ``max_minutes`` / ``max_km`` a centre is
    not visited at all. ``demand="buildings"`` estimates residents from the buildings of
    ``osm_file`` (default: the ``network`` file).
    """
    from geo_app.workflows.clusters import load_pois
    from layers.crs import metric_crs

    c, name = load_centres(centres, name_column, datum)
    if isinstance(demand, gpd.GeoDataFrame):
        crs = metric_crs(demand)
        cells = population_cells(demand, cell_m, crs)
        demand_text = "residents given"
    elif str(demand) == "census":
        from layers import load_districts

        crs = metric_crs(c)
        # with a network, nobody outruns 40 m/s (144 km/h): that bounds the census cells
        reach = max_km * 1000 if network is None and graph is None else max_minutes * 60 * 40.0
        area = shapely.buffer(shapely.convex_hull(shapely.multipoints(
            np.column_stack([c.to_crs(crs).geometry.x, c.to_crs(crs).geometry.y]))), reach)
        cells = census_cells(load_districts(), cell_m, crs, area=area)
        demand_text = "census 2020, spread evenly within each district (estimate)"
    else:
        from layers.sources import load_demand

        residents = load_demand(demand, network=osm_file or network, datum=datum)
        crs = metric_crs(residents)
        cells = population_cells(residents, cell_m, crs)
        demand_text = str(demand)
    if isinstance(pois, (str, Path)):
        pois = load_pois(pois, datum=datum)
    a = attractiveness_of(c, attractiveness, pois=pois, crs=crs)
    if network is not None or graph is not None:
        graph = graph if graph is not None else graph_for(network, mode)
        speed = DRIVE_ACCESS_M_S if mode == "drive" else WALK_ACCESS_M_S
        cost = network_costs(cells, c, graph, access_speed_m_s=speed, limit_s=max_minutes * 60)
        cost_text = f"{mode} time on {network or 'the loaded network'} (≤ {max_minutes:g} min)"
    else:
        cost = straight_costs(cells, c, max_m=max_km * 1000)
        cost_text = f"straight-line distance (≤ {max_km:g} km)"
    if not np.isfinite(cost).any():
        raise ValueError(f"no resident reaches any centre ({cost_text}): do the residents, the "
                         "centres and the network cover the same place?")
    params = {"centres": len(c), "name_column": name, "demand": demand_text, "cells": len(cells),
              "cell_m": cell_m, "residents": float(cells["population"].sum()), "cost": cost_text,
              "attractiveness": attractiveness, "alpha": alpha, "beta": beta}
    result = huff_catchments(cells, c, cost, a, alpha=alpha, beta=beta, name=name, params=params)
    params["unreached"] = float(result.cells.loc[result.cells["dominant"] < 0, "population"].sum())
    return result
