"""Editing a siting proposal by hand: sites added where the planner clicks, removed when
clicked again, and the numbers of the proposal as it stands."""

from __future__ import annotations

import dataclasses
import logging
import weakref
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from analysis.join import join_points
from analysis.paths import source_point_times
from analysis.siting import SitingResult
from analysis.snap import Snapped
from geo_app.io.display import fmt_persons, fmt_share
from geo_app.labels import t
from geo_app.workflows.coverage import to_metres
from geo_app.workflows.siting import SitingRun, sites_frame, summary_frame

log = logging.getLogger(__name__)

CLICK_RADIUS_M = 50.0  # a click this close to a proposed site removes it


def add_candidate_points(run: SitingRun, points: gpd.GeoDataFrame) -> tuple[SitingRun, list[int]]:
    """A run with ``points`` (EPSG:4326, optional ``name``) appended to its candidates.

    The points join the walk graph as the run's own did (street front or nearest node)
    and their rows of walking times to the
    demand (seconds, within the run's threshold) are computed and stacked under the
    run's; the run itself is not changed. Returns the new run and the points' candidate
    indices. Points off the network get empty rows (they cover nobody).
    """
    x, y = to_metres(points, run.graph.crs)
    # joined as the run joined its own points: a street-front join splits the graph again
    # (old nodes keep their indices, so the run's other rows and joins stay valid)
    joined = join_points(run.graph, [(x, y)], how=run.join, speed_m_s=run.speed_m_s,
                         max_dist_m=run.max_snap_m)
    graph, (snap,) = joined.graph, joined.points
    rows = source_point_times(graph, snap.node, snap.access_s, run.demand_snap.node,
                              run.demand_snap.access_s, limit_s=run.threshold_s)
    start = len(run.candidates)
    names = (points["name"].astype(str).to_numpy() if "name" in points.columns
             else [f"point {start + i + 1}" for i in range(len(points))])
    added = gpd.GeoDataFrame({"name": names}, geometry=points.geometry.to_numpy(), crs=4326)
    old = run.cand_snap
    return dataclasses.replace(
        run, graph=graph, candidates=pd.concat([run.candidates, added], ignore_index=True),
        cand_snap=Snapped(*(np.concatenate([getattr(old, f), getattr(snap, f)])
                            for f in ("node", "dist_m", "access_s"))),
        times=sp.csr_array(sp.vstack([run.times, rows], format="csr")),
    ), list(range(start, start + len(points)))


class Toggle(NamedTuple):
    """The proposal and run after a click, and what the click did."""

    proposal: list[int]
    run: SitingRun
    action: str  # "added", "removed" or "moved"
    site: int  # the candidate index added, removed or moved to


class OffNetworkClick(ValueError):
    """A point too far from every street for a site: ``dist_m`` from the nearest, more than
    ``max_m``."""

    def __init__(self, message: str, dist_m: float, max_m: float):
        super().__init__(message)
        self.dist_m, self.max_m = dist_m, max_m


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
        dist = float(new_run.cand_snap.dist_m[site])
        raise OffNetworkClick(f"({lon:.5f}, {lat:.5f}) is {dist:,.0f} m from the nearest street, "
                              f"farther than {run.max_snap_m:g} m: a site there would serve "
                              "nobody", dist, run.max_snap_m)
    return Toggle([*proposal, site], new_run, "added", site)


def remove_site(proposal: list[int], run: SitingRun, site: int) -> Toggle:
    """The proposal without ``site`` (a candidate index)."""
    return Toggle([int(s) for s in proposal if int(s) != int(site)], run, "removed", int(site))


def move_site(proposal: list[int], run: SitingRun, site: int, lon: float, lat: float,
              *, prefix: str = "proposed") -> Toggle:
    """``site`` dragged to (``lon``, ``lat``): it leaves the proposal and a site at the new
    point takes its place in the order (a free candidate within a few metres, else a new
    point, as :func:`toggle_site` adds one). Raises :class:`OffNetworkClick` off the network."""
    order = [int(s) for s in proposal]
    rest = [s for s in order if s != int(site)]
    done = toggle_site(rest, run, lon, lat, radius_m=1.0, prefix=prefix)
    if done.action != "added":  # dropped on another proposed site: the two become one
        return Toggle(rest, done.run, "removed", int(site))
    at = order.index(int(site)) if int(site) in order else len(rest)
    return Toggle([*rest[:at], done.site, *rest[at:]], done.run, "moved", done.site)


_COMPONENTS: dict[int, tuple] = {}  # id(graph) -> (weak reference, labels)


def walk_components(graph) -> np.ndarray:
    """The piece of network (weakly connected component) of each node, computed once per graph."""
    kept = _COMPONENTS.get(id(graph))
    if kept is not None and kept[0]() is graph:
        return kept[1]
    _, labels = connected_components(graph.time, directed=True, connection="weak")
    _COMPONENTS.clear()  # one graph at a time is enough for a session's edits
    _COMPONENTS[id(graph)] = (weakref.ref(graph), labels)
    return labels


class ZeroGain(NamedTuple):
    """Why a site gains nobody: ``reason`` (a label key) and the persons behind it."""

    reason: str  # gain0_off_network, gain0_separate, gain0_far, gain0_residents_off,
    #              gain0_all_covered, gain0_nobody
    persons: float


def zero_gain_reason(run: SitingRun, proposal: list[int], site: int) -> ZeroGain:
    """Why ``site`` adds no resident to the rest of ``proposal``: off the network; uncovered
    residents within a straight walk of the threshold (most of them, by persons) sit on a
    separate piece of network, or farther along the streets, or away from every street;
    everyone it reaches is covered already; or nobody lives near."""
    site = int(site)
    node = int(run.cand_snap.node[site])
    if node < 0:
        return ZeroGain("gain0_off_network", 0.0)
    others = [int(s) for s in proposal if int(s) != site]
    reached_by_others = (np.asarray(run.cover[others].sum(axis=0)).ravel() > 0 if others
                         else np.zeros(len(run.demand), bool))
    w = run.weights
    reach = run.cover[[site]].toarray().ravel() > 0
    open_ = ~run.covered & ~reached_by_others  # residents nobody serves yet
    x, y = _demand_xy(run)
    sx, sy = run.graph.x[node], run.graph.y[node]
    near = np.hypot(x - sx, y - sy) <= run.threshold_s * run.speed_m_s
    lost = near & open_ & ~reach
    if lost.any():
        dnode = run.demand_snap.node
        off = lost & (dnode < 0)
        labels = walk_components(run.graph)
        apart = lost & (dnode >= 0) & (labels[np.maximum(dnode, 0)] != labels[node])
        groups = [(float(w[m].sum()), key) for key, m in (
            ("gain0_separate", apart), ("gain0_residents_off", off),
            ("gain0_far", lost & ~apart & ~off))]
        persons, key = max(groups)  # the reason behind most of them
        return ZeroGain(key, persons)
    if reach.any():
        return ZeroGain("gain0_all_covered", float(w[reach].sum()))
    return ZeroGain("gain0_nobody", 0.0)


_DEMAND_XY: dict[int, tuple] = {}  # id(demand frame) -> (weak reference, x, y)


def _demand_xy(run: SitingRun) -> tuple[np.ndarray, np.ndarray]:
    """Residents' coordinates in the graph's metres, computed once per demand frame."""
    d = run.demand
    kept = _DEMAND_XY.get(id(d))
    if kept is not None and kept[0]() is d:
        return kept[1], kept[2]
    x, y = to_metres(d, run.graph.crs)
    _DEMAND_XY.clear()
    _DEMAND_XY[id(d)] = (weakref.ref(d), x, y)
    return x, y


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


SOLVER_PARTS = ("greedy", "swap", "highs-mip", "highs-bound", "lagrangian-bound",
                "greedy-capacitated", "evaluation")
STATUSES = {"optimal": "st_optimal", "time limit reached": "st_time_limit",
            "heuristic": "st_heuristic", "given": "st_given", "infeasible": "st_infeasible",
            "iteration limit reached": "st_iteration_limit",
            "solution limit reached": "st_solution_limit", "interrupted by user": "st_interrupted"}


def solver_label(solver: str, lang: str = "zh") -> str:
    """A solver name such as ``greedy+swap+highs-bound`` in words: each step by its label."""
    parts = [p for p in str(solver).split("+") if p]
    return " + ".join(t(f"solver_{p}", lang) if p in SOLVER_PARTS else t("solver_other", lang)
                      for p in parts) or "—"


def status_label(status: str, lang: str = "zh") -> str:
    """A solver status (HiGHS's model status, or ours) in words."""
    return t(STATUSES.get(str(status).strip().lower(), "st_other"), lang)


def site_name(name, lang: str = "zh") -> str:
    """A candidate's name for people: the generated ones ("grid 20", "point 3") in words."""
    text = str(name)
    head, _, number = text.rpartition(" ")
    if head in ("grid", "point") and number.isdigit():
        return t(f"site_name_{head}", lang).format(n=number)
    return text


def summary_rows(summary: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The summary as a two-column table of labelled, formatted numbers, for people."""
    r = summary.iloc[0]
    gap = "—" if not np.isfinite(r["gap"]) else fmt_share(r["gap"])
    residents = r["residents"]
    objective = str(r["objective"])
    value, bound = (f"{float(r[k]):,.1f}" if objective == "pmedian" else fmt_persons(r[k])
                    for k in ("value", "bound"))

    def persons(v: float) -> str:
        return f"{fmt_persons(v)} ({fmt_share(v / residents)})" if residents else fmt_persons(v)

    rows = [("objective", t(objective, lang)), ("objective_value", value), ("bound", bound),
            ("gap", gap), ("solver", solver_label(r["solver"], lang)),
            ("status", status_label(r["status"], lang)),
            ("seconds_solve", f"{float(r['seconds_solve']):.2f}"),
            ("residents_total", fmt_persons(residents)),
            ("covered_before", persons(r["covered_before"])),
            ("newly_covered", persons(r["newly_covered"])),
            ("share_after", fmt_share(r["share_after"])),
            ("n_proposed", fmt_persons(r["sites"]))]
    return pd.DataFrame({t("item", lang): [t(k, lang) for k, _ in rows],
                         t("value", lang): [v for _, v in rows]})


SITE_COLUMNS = ("order", "name", "gain", "gain_alone", "unique_gain", "overlap", "snap_m")


def sites_table(sites: gpd.GeoDataFrame, lang: str = "zh") -> pd.DataFrame:
    """The proposal's sites for people: labelled columns, whole persons, WGS-84 lon/lat."""
    table = pd.DataFrame({t(c, lang): sites[c].round().astype("int64")  # whole, never -0
                          if c not in ("order", "name") else sites[c] for c in SITE_COLUMNS})
    table[t("name", lang)] = [site_name(n, lang) for n in sites["name"]]
    table[t("lon", lang)] = shapely.get_x(sites.geometry.values).round(5)
    table[t("lat", lang)] = shapely.get_y(sites.geometry.values).round(5)
    return table
