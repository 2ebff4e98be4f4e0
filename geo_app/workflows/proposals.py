"""Editing a siting proposal by hand: sites added where the planner clicks, removed when
clicked again, and the numbers of the proposal as it stands."""

from __future__ import annotations

import dataclasses
import logging
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from analysis.paths import source_point_times
from analysis.siting import SitingResult
from analysis.snap import Snapped, snap_points
from geo_app.labels import t
from geo_app.workflows.coverage import to_metres
from geo_app.workflows.siting import SitingRun, sites_frame, summary_frame

log = logging.getLogger(__name__)

CLICK_RADIUS_M = 50.0  # a click this close to a proposed site removes it


def add_candidate_points(run: SitingRun, points: gpd.GeoDataFrame) -> tuple[SitingRun, list[int]]:
    """A run with ``points`` (EPSG:4326, optional ``name``) appended to its candidates.

    The points are snapped to the walk graph and their rows of walking times to the
    demand (seconds, within the run's threshold) are computed and stacked under the
    run's; the run itself is not changed. Returns the new run and the points' candidate
    indices. Points off the network get empty rows (they cover nobody).
    """
    x, y = to_metres(points, run.graph.crs)
    snap = snap_points(run.graph, x, y, speed_m_s=run.speed_m_s, max_dist_m=run.max_snap_m)
    rows = source_point_times(run.graph, snap.node, snap.access_s, run.demand_snap.node,
                              run.demand_snap.access_s, limit_s=run.threshold_s)
    start = len(run.candidates)
    names = (points["name"].astype(str).to_numpy() if "name" in points.columns
             else [f"point {start + i + 1}" for i in range(len(points))])
    added = gpd.GeoDataFrame({"name": names}, geometry=points.geometry.to_numpy(), crs=4326)
    old = run.cand_snap
    return dataclasses.replace(
        run, candidates=pd.concat([run.candidates, added], ignore_index=True),
        cand_snap=Snapped(*(np.concatenate([getattr(old, f), getattr(snap, f)])
                            for f in ("node", "dist_m", "access_s"))),
        times=sp.csr_array(sp.vstack([run.times, rows], format="csr")),
    ), list(range(start, start + len(points)))


class Toggle(NamedTuple):
    """The proposal and run after a click, and what the click did."""

    proposal: list[int]
    run: SitingRun
    action: str  # "added" or "removed"
    site: int  # the candidate index added or removed


def toggle_site(proposal: list[int], run: SitingRun, lon: float, lat: float,
                radius_m: float = CLICK_RADIUS_M, *, prefix: str = "proposed") -> Toggle:
    """Remove the proposed site within ``radius_m`` metres of (``lon``, ``lat``), or add one.

    An added site is the nearest unproposed candidate within ``radius_m`` reachable from
    the network, else a new candidate at the point (see :func:`add_candidate_points`)
    named ``prefix`` and a number.
    Raises ``ValueError`` for a point farther than the run's snapping distance from every
    street, where a site could serve nobody.
    """
    proposal = [int(s) for s in proposal]
    click = gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326)
    (x,), (y,) = to_metres(click, run.graph.crs)
    cx, cy = to_metres(run.candidates, run.graph.crs)
    dist = np.hypot(cx - x, cy - y)
    if proposal:
        near = min(proposal, key=lambda s: dist[s])
        if dist[near] <= radius_m:
            return Toggle([s for s in proposal if s != near], run, "removed", near)
    free = np.flatnonzero((dist <= radius_m) & run.cand_snap.on_network)
    free = free[~np.isin(free, proposal)]
    if len(free):
        site = int(free[np.argmin(dist[free])])
        return Toggle([*proposal, site], run, "added", site)
    added = int(run.candidates["name"].astype(str).str.startswith(f"{prefix} ").sum()) + 1
    new_run, (site,) = add_candidate_points(
        run, gpd.GeoDataFrame({"name": [f"{prefix} {added}"]}, geometry=click.geometry, crs=4326))
    if not new_run.cand_snap.on_network[site]:
        raise ValueError(f"({lon:.5f}, {lat:.5f}) is {new_run.cand_snap.dist_m[site]:,.0f} m from "
                         f"the nearest street, farther than {run.max_snap_m:g} m: a site there "
                         "would serve nobody")
    return Toggle([*proposal, site], new_run, "added", site)


def _as_proposal(result: SitingResult, proposal: list[int]) -> SitingResult:
    return dataclasses.replace(result, sites=[int(s) for s in proposal])


def proposal_sites(run: SitingRun, result: SitingResult, proposal: list[int]) -> gpd.GeoDataFrame:
    """The proposal's sites with their gains (persons): in order, alone, unique, overlap."""
    sites = sites_frame(run, _as_proposal(result, proposal))
    sites.insert(sites.columns.get_loc("unique_gain") + 1, "overlap",
                 sites["gain_alone"] - sites["unique_gain"])
    return sites


def proposal_summary(run: SitingRun, result: SitingResult, proposal: list[int],
                     objective: str) -> pd.DataFrame:
    """One row as :func:`~geo_app.workflows.siting.summary_frame`, with the residents covered by the
    proposal; ``edited`` tells whether it differs from the solver's sites (whose objective,
    bound and gap the row keeps)."""
    row = summary_frame(run, _as_proposal(result, proposal), objective)
    row["edited"] = sorted(int(s) for s in proposal) != sorted(int(s) for s in result.sites)
    return row


def summary_rows(summary: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The summary as a two-column table of labelled, formatted numbers, for people."""
    r = summary.iloc[0]
    gap = "—" if not np.isfinite(r["gap"]) else f"{100 * r['gap']:.2f} %"
    residents = r["residents"]

    def persons(v: float) -> str:
        return f"{v:,.0f} ({100 * v / residents:.1f} %)" if residents else f"{v:,.0f}"

    rows = [("objective", t(str(r["objective"]), lang)),
            ("objective_value", f"{r['value']:,.1f}"), ("bound", f"{r['bound']:,.1f}"),
            ("gap", gap), ("solver", str(r["solver"])), ("status", str(r["status"])),
            ("seconds_solve", f"{r['seconds_solve']:.2f}"),
            ("residents_total", f"{residents:,.0f}"),
            ("covered_before", persons(r["covered_before"])),
            ("newly_covered", persons(r["newly_covered"])),
            ("share_after", f"{100 * r['share_after']:.1f} %"),
            ("n_proposed", f"{int(r['sites'])}")]
    return pd.DataFrame({t("item", lang): [t(k, lang) for k, _ in rows],
                         t("value", lang): [v for _, v in rows]})


SITE_COLUMNS = ("order", "name", "gain", "gain_alone", "unique_gain", "overlap", "snap_m")


def sites_table(sites: gpd.GeoDataFrame, lang: str = "zh") -> pd.DataFrame:
    """The proposal's sites for people: labelled columns, whole persons, WGS-84 lon/lat."""
    table = pd.DataFrame({t(c, lang): sites[c].round(0) if c not in ("order", "name")
                          else sites[c] for c in SITE_COLUMNS})
    table[t("lon", lang)] = shapely.get_x(sites.geometry.values).round(5)
    table[t("lat", lang)] = shapely.get_y(sites.geometry.values).round(5)
    return table
