"""Business-circle catchments with the Huff model, on a grid of residents.

Residents (demand points, or census populations spread over districts) are summed into
square cells; each cell's probability of patronising each circle follows
:func:`analysis.clusters.huff_probabilities` with straight-line distance or network time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.clusters import huff_probabilities
from geo_app.export import run_info
from layers._validate import nonnegative_column

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
    ij = np.column_stack([np.floor(x / cell_m), np.floor(y / cell_m)]).astype(np.int64)
    cells, inv = np.unique(ij, axis=0, return_inverse=True)
    total = np.bincount(inv.ravel(), weights=pop[ok])
    boxes = shapely.box(cells[:, 0] * cell_m, cells[:, 1] * cell_m,
                        (cells[:, 0] + 1) * cell_m, (cells[:, 1] + 1) * cell_m)
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
