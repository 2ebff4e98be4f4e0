"""Business-circle catchments with the Huff model, on a grid of residents.

Residents (demand points, or census populations spread over districts) are summed into
square cells; each cell's probability of patronising each circle follows
:func:`analysis.clusters.huff_probabilities` with straight-line distance or network time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.clusters import huff_probabilities
from analysis.grids import fitting_cell, square_bins, square_cell_count, square_polygons
from geo_app.config import DEFAULT, Settings
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
        x0 = x0 + np.floor(max(a0 - x0, 0) / cell_m) * cell_m
        y0 = y0 + np.floor(max(b0 - y0, 0) / cell_m) * cell_m
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
                 datum: str | int = "wgs84", *, layer: str | None = None,
                 columns: Mapping[str, str] | None = None,
                 on_bad_rows: str = "raise") -> tuple[gpd.GeoDataFrame, str]:
    """Centres with names: the bundled business circles, a GeoDataFrame or a file of points
    (``layer`` and ``columns``, {role: column}, as for
    :func:`~layers.userfile.read_user_layer`; the name is the ``name`` role)."""
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
        from geo_app.workflows.inputs import named_points

        c = named_points(path, name_column=name_column or "name", datum=datum, layer=layer,
                         columns=columns, on_bad_rows=on_bad_rows)
        name = "name"
    c = located(c)
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


def _check_cells(n: int, k: int, cell_m: float, s: Settings, what: str) -> None:
    """Refuse more than ``s.max_grid_cells`` cells or ``s.max_catchment_pairs`` cells ×
    centres, naming the cell size that fits."""
    fit = min(s.max_grid_cells, s.max_catchment_pairs / max(k, 1))
    if n <= fit:
        return
    why = (f"{n:,} cells (limit {s.max_grid_cells:,}, max_grid_cells)" if n > s.max_grid_cells
           else f"{n:,} cells × {k:,} centres = {n * k:,} pairs (limit "
                f"{s.max_catchment_pairs:,.0f}, max_catchment_pairs)")
    raise ParameterError(f"the residents' grid of {cell_m:g} m cells ({what}) would have {why}: "
                         f"use --cell-m {fitting_cell(cell_m, n, fit):g} or more")


def _residents(demand, c: gpd.GeoDataFrame, *, cell_m: float, network, graph, max_km: float,
               max_minutes: float, s: Settings, read) -> tuple[gpd.GeoDataFrame, str, str]:
    """(cells, metric CRS, text) of the residents: given points, census or a file."""
    from layers.crs import metric_crs

    if isinstance(demand, gpd.GeoDataFrame) or str(demand) != "census":
        residents = demand if isinstance(demand, gpd.GeoDataFrame) else read(demand)
        crs = metric_crs(residents)
        pts = residents.geometry.to_crs(crs)
        _check_cells(len(square_bins(pts.x.to_numpy(), pts.y.to_numpy(), cell_m)[0]), len(c),
                     cell_m, s, "one cell per square holding residents")
        text = "residents given" if isinstance(demand, gpd.GeoDataFrame) else str(demand)
        return population_cells(residents, cell_m, crs), crs, text
    from layers import load_districts

    crs = metric_crs(c)
    # with a network, nobody outruns 40 m/s (144 km/h): that bounds the census cells
    reach = max_km * 1000 if network is None and graph is None else max_minutes * 60 * 40.0
    xy = c.to_crs(crs).geometry
    area = shapely.buffer(shapely.convex_hull(shapely.multipoints(
        np.column_stack([xy.x, xy.y]))), reach)
    districts = load_districts()
    x0, y0, x1, y1 = districts[districts["pop_2020"].notna()].to_crs(crs).total_bounds
    a0, b0, a1, b1 = area.bounds
    box = (max(x0, a0), max(y0, b0), min(x1, a1), min(y1, b1))
    if box[2] > box[0] and box[3] > box[1]:
        _check_cells(square_cell_count(box, cell_m), len(c), cell_m, s,
                     "census, over the districts within reach of the centres")
    return (census_cells(districts, cell_m, crs, area=area), crs,
            "census 2020, spread evenly within each district (estimate)")


def run_catchments(*, centres: str | Path | gpd.GeoDataFrame | None = None,
                   name_column: str | None = None,
                   demand: str | Path | gpd.GeoDataFrame = "census",
                   network: str | Path | None = None,
                   mode: str = "walk", attractiveness: str = "equal",
                   pois: str | Path | gpd.GeoDataFrame | None = None, alpha: float = 1.0,
                   beta: float = 2.0, max_minutes: float = 60.0, max_km: float = 20.0,
                   cell_m: float = 1000.0, datum: str | int = "wgs84",
                   graph=None, osm_file: str | Path | None = None,
                   datums: Mapping[str, str] | None = None,
                   layers: Mapping[str, str] | None = None,
                   columns: Mapping[str, Mapping[str, str]] | None = None,
                   on_bad_rows: str = "raise", settings: Settings | None = None,
                   progress=None) -> CatchmentResult:
    """Huff catchments of ``centres`` over residents summed into ``cell_m`` cells.

    Costs are network travel times when a ``network`` (or a prepared ``graph``) is given,
    straight-line distances otherwise; beyond ``max_minutes`` / ``max_km`` a centre is
    not visited at all. ``demand="buildings"`` estimates residents from the buildings of
    ``osm_file`` (default: the ``network`` file).

    Files: ``datum`` applies to each, unless ``datums`` names one per input ("centres",
    "demand", "pois", "network"); ``layers`` and ``columns`` ({role: column}) per input
    likewise. Point files declared WGS-84 inside China are checked for a GCJ-02/BD-09
    shift (against the network, else a district column) and for far outliers. The cells
    (and cells × centres) are estimated first and refused beyond the ``settings``' caps.
    """
    from geo_app.workflows.clusters import load_pois
    from geo_app.workflows.input_checks import check_points, streets_of
    from layers.sources import load_demand

    s = settings or DEFAULT
    say = progress or (lambda f, m: None)
    datums = {k: v or datum for k, v in {"centres": None, "demand": None, "pois": None,
                                         "network": None, **(datums or {})}.items()}
    layers, columns = dict(layers or {}), dict(columns or {})

    def opts(what: str) -> dict:
        return {"datum": datums[what], "layer": layers.get(what),
                "columns": columns.get(what) or None, "on_bad_rows": on_bad_rows}

    net = None
    if network is not None and graph is None:
        from layers.network import read_network

        say(0.05, f"{mode} network")
        net = read_network(network, mode=mode, datum=datums["network"],
                           layer=layers.get("network"))
        graph = graph_of(net, mode)
    streets = streets_of(net) if net is not None else None
    c, name = load_centres(centres, name_column, **opts("centres"))
    check_points(c, centres, datums["centres"], "centres", streets=streets, settings=s)
    c = c.reset_index(drop=True)

    def read_residents(spec):
        residents = load_demand(spec, network=osm_file or network, **opts("demand"))
        check_points(residents, spec, datums["demand"], "demand", streets=streets, settings=s)
        return residents

    say(0.15, "residents")
    cells, crs, demand_text = _residents(demand, c, cell_m=cell_m, network=network, graph=graph,
                                         max_km=max_km, max_minutes=max_minutes, s=s,
                                         read=read_residents)
    _check_cells(len(cells), len(c), cell_m, s, "cells holding residents")
    if isinstance(pois, (str, Path)):
        spec = pois
        pois = load_pois(spec, **opts("pois"))
        check_points(pois, spec, datums["pois"], "pois", streets=streets, settings=s)
    a = attractiveness_of(c, attractiveness, pois=pois, crs=crs)
    say(0.3, "travel costs")
    if network is not None or graph is not None:
        speed = DRIVE_ACCESS_M_S if mode == "drive" else WALK_ACCESS_M_S
        cost = network_costs(cells, c, graph, access_speed_m_s=speed, limit_s=max_minutes * 60)
        cost_text = f"{mode} time on {network or 'the loaded network'} (≤ {max_minutes:g} min)"
    else:
        cost = straight_costs(cells, c, max_m=max_km * 1000)
        cost_text = f"straight-line distance (≤ {max_km:g} km)"
    if not np.isfinite(cost).any():
        raise ValueError(f"no resident reaches any centre ({cost_text}): do the residents, the "
                         "centres and the network cover the same place?")
    say(0.7, "Huff model")
    params = {"centres": len(c), "name_column": name, "demand": demand_text, "cells": len(cells),
              "cell_m": cell_m, "residents": float(cells["population"].sum()), "cost": cost_text,
              "attractiveness": attractiveness, "alpha": alpha, "beta": beta}
    result = huff_catchments(cells, c, cost, a, alpha=alpha, beta=beta, name=name, params=params)
    params["unreached"] = float(result.cells.loc[result.cells["dominant"] < 0, "population"].sum())
    return result
