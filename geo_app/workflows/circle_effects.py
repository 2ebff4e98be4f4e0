"""A siting proposal's effect on the life circles: the circles meeting the standard before and
after the proposed 渝邻汇 hubs are added (as facilities of every category a hub embeds, as in
:mod:`geo_app.workflows.before_after`), per zone against the target, and which new hubs turn
which circles into circles meeting the standard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.paths import source_point_times
from analysis.snap import snap_points
from geo_app.workflows.before_after import HUB_CATEGORIES
from geo_app.workflows.coverage import CoverageInputs, run_coverage
from geo_app.workflows.coverage_data import from_result
from geo_app.workflows.coverage_steps import to_metres
from geo_app.workflows.life_circles import (
    CircleParams,
    LifeCircles,
    circle_params,
    count_meeting,
    delineate_circles,
    hub_circles,
    judge,
)


@dataclass
class CircleEffect:
    """``before``/``after``: the circles judged on each coverage; ``flips``: circles meeting
    the standard only after, with the new hubs within reach of their residents (``hubs``,
    ``hub_residents``: residents each reaches); ``counts``: circles meeting per zone."""

    before: LifeCircles
    after: LifeCircles
    flips: pd.DataFrame
    counts: pd.DataFrame


def with_sites(facilities: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
               categories: Sequence[str]) -> gpd.GeoDataFrame:
    """``facilities`` then one copy of ``sites`` per category (EPSG:4326), appended last so
    that existing hubs keep their order (and their circle numbers)."""
    names = site_names(sites)
    added = [gpd.GeoDataFrame({"category": c, "name": names, "source": "scenario"},
                              geometry=sites.geometry.to_crs(4326).to_numpy(), crs=4326)
             for c in categories]
    out = pd.concat([facilities.to_crs(4326), *added], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=4326)


def site_names(sites: gpd.GeoDataFrame) -> list[str]:
    if "name" in sites.columns:
        return [str(v) if v == v and str(v) else f"site {i + 1}"
                for i, v in enumerate(sites["name"])]
    return [f"site {i + 1}" for i in range(len(sites))]


def reach_of_sites(graph, sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, limit_s: float,
                   speed_m_s: float, max_snap_m: float):
    """Sparse sites × residents matrix of walking times (s) within ``limit_s``."""
    sx, sy = to_metres(sites.to_crs(4326), graph.crs)
    dx, dy = to_metres(demand, graph.crs)
    s = snap_points(graph, sx, sy, speed_m_s=speed_m_s, max_dist_m=max_snap_m)
    d = snap_points(graph, dx, dy, speed_m_s=speed_m_s, max_dist_m=max_snap_m)
    return source_point_times(graph, s.node, np.nan_to_num(s.access_s, posinf=0), d.node,
                              np.nan_to_num(d.access_s, posinf=0), limit_s=limit_s)


def circles_before_after(inputs: CoverageInputs, sites: gpd.GeoDataFrame,
                         params: CircleParams | None = None, *,
                         hub_categories: Sequence[str] = HUB_CATEGORIES,
                         minutes: float | None = None, speed_m_s: float = 1.0, graph=None,
                         boundaries: gpd.GeoDataFrame | None = None,
                         boundary_name: str = "name", standards: pd.DataFrame | None = None,
                         target: float | None = None, max_snap_m: float = 500.0
                         ) -> CircleEffect:
    """Circles meeting the standard with the existing facilities and with ``sites`` added.

    Delineated circles keep their partition (it depends on residents and streets only) and
    are judged twice; hub-centred circles are redrawn (a new hub has a circle of its own).
    A new hub is credited with a circle it turns when it is within the longest threshold of
    the hub categories of at least one of the circle's residents.
    """
    from geo_app.workflows.graphs import walk_graph_from_network

    p = params or circle_params()
    hub = list(dict.fromkeys(str(c) for c in hub_categories))
    g = graph if graph is not None else walk_graph_from_network(inputs.network,
                                                                speed_m_s=speed_m_s)
    cats = list(dict.fromkeys([*(inputs.categories or []), *hub]))

    def cover(facilities):
        r = run_coverage(inputs.network, facilities, inputs.demand, minutes=minutes,
                         speed_m_s=speed_m_s, graph=g, isochrones=False, categories=cats,
                         zones=inputs.zones, sources=inputs.sources, max_snap_m=max_snap_m,
                         progress=lambda f, m: None)
        return from_result(r)

    data_b = cover(inputs.facilities)
    data_a = cover(with_sites(inputs.facilities, sites, hub)) if len(sites) else data_b
    if p.mode == "hubs":
        before, after = hub_circles(data_b, p, standards=standards), \
            hub_circles(data_a, p, standards=standards)
    else:
        before = delineate_circles(data_b, g, p, boundaries=boundaries,
                                   boundary_name=boundary_name, standards=standards)
        after = judge(before, data_a, standards=standards)
    flips = _flips(before, after, g, sites, data_a, hub, speed_m_s, max_snap_m)
    cb, ca = count_meeting(before.circles, target), count_meeting(after.circles, target)
    counts = cb.merge(ca[["zone_type", "zone", "circles", "meeting"]], on=["zone_type", "zone"],
                      how="outer", suffixes=("_before", "_after"))
    for c in ("circles_before", "meeting_before", "circles_after", "meeting_after"):
        counts[c] = counts[c].fillna(0).astype(int)
    counts["gain"] = counts["meeting_after"] - counts["meeting_before"]
    counts["progress_after"] = counts["meeting_after"] / counts["target"]
    keep = ["zone_type", "zone", "circles_before", "meeting_before", "circles_after",
            "meeting_after", "gain", "target", "progress", "progress_after"]
    counts = counts[keep]
    return CircleEffect(before, after, flips, counts)


def _flips(before: LifeCircles, after: LifeCircles, g, sites, data, hub, speed_m_s,
           max_snap_m) -> pd.DataFrame:
    a, b = after.circles, before.circles
    was = np.zeros(len(a), bool)
    n = min(len(a), len(b))
    was[:n] = b["meets_standard"].to_numpy()[:n]  # hub circles: existing hubs come first
    turned = np.flatnonzero(a["meets_standard"].to_numpy() & ~was)
    cols = ["circle", "district", "residents", "share_before", "share_after", "hubs",
            "hub_residents"]
    if not len(turned) or not len(sites):
        return pd.DataFrame(columns=cols)
    limit = 60.0 * max(data.thresholds_min.get(c, 0.0) for c in hub)
    reach = reach_of_sites(g, sites, data.demand, limit, speed_m_s, max_snap_m).tocsc()
    names = site_names(sites)
    unit_circle = after.units["circle"].to_numpy() - 1
    pop = after.units["population"].to_numpy(float)
    share_b = np.full(len(a), np.nan)
    share_b[:n] = b["basket_share"].to_numpy()[:n]
    rows = []
    for c in turned:
        members = np.flatnonzero(unit_circle == c)
        sub = reach[:, members].tocsr()
        hit = np.flatnonzero(np.diff(sub.indptr) > 0)
        served = [float(pop[members[sub.indices[sub.indptr[h]:sub.indptr[h + 1]]]].sum())
                  for h in hit]
        rows.append({"circle": int(a["circle"].iloc[c]),
                     "district": a["district"].iloc[c] if "district" in a.columns else "",
                     "residents": float(a["residents"].iloc[c]),
                     "share_before": share_b[c], "share_after": float(a["basket_share"].iloc[c]),
                     "hubs": "; ".join(names[h] for h in hit),
                     "hub_residents": "; ".join(f"{v:,.0f}" for v in served)})
    return pd.DataFrame(rows, columns=cols)

