"""The siting workflow: candidates and demand on the walk graph → chosen hub sites."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from analysis.areas import facility_isochrones
from analysis.coverage import point_times
from analysis.graph import WalkGraph
from analysis.paths import nearest_times_s, source_point_times
from analysis.siting import (
    SitingResult,
    coverage_matrix,
    covered_weight,
    gains_in_order,
    greedy_capacitated,
    greedy_cover,
    mip_capacitated,
    mip_cover,
    mip_pmedian,
    pmedian,
    solve_mclp,
)
from analysis.snap import DEFAULT_MAX_SNAP_M, Snapped
from geo_app.config import DEFAULT
from geo_app.errors import DataWarning, warn
from geo_app.workflows.coverage import CoverageInputs, to_metres
from geo_app.workflows.graphs import walk_graph_from_network
from layers.network import StreetNetwork

log = logging.getLogger(__name__)

OBJECTIVES = ("mclp", "cover", "pmedian")


# OSM features that can host a community hub: community and public buildings, vacant land.
CANDIDATE_RULES = ("amenity=community_centre|social_centre|townhall|public_building; "
                   "building=public|civic|government|community_centre; "
                   "landuse=brownfield|greenfield|vacant")


def osm_candidates(path: str | Path) -> gpd.GeoDataFrame:
    """Candidate sites from an OSM file: community centres, public buildings, vacant land."""
    from layers.facilities import parse_rules, read_osm_facilities

    basket = pd.DataFrame({"category": ["candidate"], "rules": [parse_rules(CANDIDATE_RULES)]})
    found = read_osm_facilities(path, basket)
    if len(found) == 0:
        raise ValueError(f"{path}: no community centre, public building or vacant land in OSM")
    found = found.drop_duplicates("osm_id")
    names = found["name"].where(found["name"] != "", found["osm_id"])
    return gpd.GeoDataFrame({"name": names.to_numpy(), "osm_id": found["osm_id"].to_numpy()},
                            geometry=found.geometry.to_numpy(), crs=4326)


def grid_candidates(graph: WalkGraph, spacing_m: float, *,
                    max_snap_m: float = DEFAULT_MAX_SNAP_M) -> gpd.GeoDataFrame:
    """Candidate sites on a square grid over the network, kept where a street is near."""
    if not spacing_m > 0:
        raise ValueError(f"grid spacing must be positive metres, got {spacing_m}")
    x0, x1 = graph.x.min(), graph.x.max()
    y0, y1 = graph.y.min(), graph.y.max()
    nx_, ny_ = int((x1 - x0) // spacing_m) + 1, int((y1 - y0) // spacing_m) + 1
    if nx_ * ny_ > 2_000_000:
        raise ValueError(f"a {spacing_m:g} m grid gives {nx_ * ny_:,} cells: use a wider spacing")
    gx, gy = np.meshgrid(x0 + spacing_m * (np.arange(nx_) + 0.5),
                         y0 + spacing_m * (np.arange(ny_) + 0.5))
    gx, gy = gx.ravel(), gy.ravel()
    dist, _ = graph.kdtree.query(np.column_stack([gx, gy]))
    keep = dist <= min(max_snap_m, spacing_m / 2)
    pts = gpd.GeoSeries(shapely.points(gx[keep], gy[keep]), crs=graph.crs).to_crs(4326)
    return gpd.GeoDataFrame({"name": [f"grid {i + 1}" for i in range(int(keep.sum()))]},
                            geometry=pts.values, crs=4326)


@dataclass
class SitingRun:
    """Inputs prepared once (graph, joins, coverage sets) and re-used by solves and what-ifs."""

    graph: WalkGraph
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    demand_snap: Snapped
    cand_snap: Snapped
    times: sp.csr_array  # candidates × demand, seconds within the threshold
    existing_s: np.ndarray  # demand → nearest existing facility (inf if none within)
    threshold_s: float
    speed_m_s: float
    max_snap_m: float
    seconds_prepare: float
    warnings: list = field(default_factory=list)  # GeoAppWarning
    join: str = "node"  # how points join the graph: "street" (split graph) or "node"

    @property
    def weights(self) -> np.ndarray:
        return self.demand["population"].to_numpy(float)

    @property
    def covered(self) -> np.ndarray:
        """Demand already covered by existing facilities."""
        return self.existing_s <= self.threshold_s

    @cached_property
    def cover(self) -> sp.csr_array:
        """0/1 candidates × demand coverage (built once per run; runs are replaced, not edited)."""
        return coverage_matrix(self.times, self.threshold_s)


def prepare(net: StreetNetwork | WalkGraph, demand: gpd.GeoDataFrame,
            candidates: gpd.GeoDataFrame, *, existing: gpd.GeoDataFrame | None = None,
            minutes: float = 15.0, speed_m_s: float = 1.0,
            max_snap_m: float = DEFAULT_MAX_SNAP_M, join: str = "node") -> SitingRun:
    """Join everything to the walk graph and build the sparse coverage sets.

    ``join``: "node" joins points to the nearest node; "street" to the nearest point of the
    nearest street (residents, candidates and existing facilities split one graph, as
    coverage does, so a chosen site covers the residents coverage says it does). The run's
    ``graph`` is then the split graph."""
    from analysis.join import join_points

    t0 = time.perf_counter()
    if not minutes > 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    if len(demand) == 0:
        raise ValueError("no demand points: the demand layer is empty")
    if len(candidates) == 0:
        raise ValueError("no candidate sites")
    g = net if isinstance(net, WalkGraph) else walk_graph_from_network(net, speed_m_s=speed_m_s)
    limit = 60.0 * minutes
    warnings = []
    dx, dy = to_metres(demand, g.crs)
    cx, cy = to_metres(candidates, g.crs)
    has_existing = existing is not None and len(existing) > 0
    ex, ey = to_metres(existing, g.crs) if has_existing else (np.zeros(0), np.zeros(0))
    joined = join_points(g, [(cx, cy), (dx, dy), (ex, ey)], how=join, speed_m_s=speed_m_s,
                         max_dist_m=max_snap_m)
    g, (csnap, dsnap, es) = joined.graph, joined.points
    off = int((~csnap.on_network).sum())
    if off:
        warn(warnings, f"{off} of {len(candidates)} candidates are more than {max_snap_m:g} m "
             "from the network and cannot be chosen", DataWarning,
             key="warn_candidates_off_network", off=off, total=len(candidates),
             max_snap_m=max_snap_m)
    if not csnap.on_network.any():
        raise ValueError("no candidate is within reach of the network")
    times = source_point_times(g, csnap.node, csnap.access_s, dsnap.node, dsnap.access_s,
                               limit_s=limit)
    if times.nnz == 0:
        raise ValueError(f"no demand is within {minutes:g} minutes' walk of any candidate")
    existing_s = np.full(len(demand), np.inf)
    if has_existing:
        on = es.on_network
        existing_s = point_times(nearest_times_s(g, es.node[on], es.access_s[on], limit_s=limit),
                                 dsnap)
    log.info("siting run: %d residents, %d candidates, %.0f min; coverage sets %d pairs in %.2f s",
             len(demand), len(candidates), minutes, times.nnz, time.perf_counter() - t0)
    return SitingRun(g, demand.reset_index(drop=True), candidates.reset_index(drop=True), dsnap,
                     csnap, times, existing_s, limit, speed_m_s, max_snap_m,
                     time.perf_counter() - t0, warnings, join)


def district_groups(candidates: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                    quotas: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Group index per candidate and (min, max) sites per group from a quota table.

    ``quotas`` has ``district`` (name_zh or adcode), ``min`` and ``max``; candidates
    outside every listed district form one unrestricted group.
    """
    missing = {"district", "min", "max"} - set(quotas.columns)
    if missing:
        raise ValueError(f"the quota table lacks column(s) {', '.join(sorted(missing))}")
    key = quotas["district"].astype(str)
    by_code = key.str.fullmatch(r"\d{6}").all()
    col = "adcode" if by_code else "name_zh"
    unknown = sorted(set(key) - set(districts[col].astype(str)))
    if unknown:
        raise ValueError(f"unknown district(s) in the quota table: {', '.join(unknown)}")
    from analysis.zones import zone_names

    joined = zone_names(candidates.geometry.values,
                        districts.geometry.values, districts[col].astype(str), None)
    names = list(key) + ["(other)"]
    lookup = {k: i for i, k in enumerate(key)}
    groups = np.array([lookup.get(v, len(key)) for v in joined], dtype=np.int64)
    lo = np.r_[pd.to_numeric(quotas["min"]).fillna(0).to_numpy(float), 0]
    hi = np.r_[pd.to_numeric(quotas["max"]).fillna(np.inf).to_numpy(float), np.inf]
    return groups, lo, hi, names


def solve(run: SitingRun, *, n: int | None = None, objective: str = "mclp",
          target_share: float = 0.9, groups: np.ndarray | None = None,
          min_per_group: np.ndarray | None = None, max_per_group: np.ndarray | None = None,
          time_limit_s: float = 10.0, exact: bool = True,
          capacity: float | None = None) -> SitingResult:
    """Choose sites for ``objective`` ({"mclp", "cover", "pmedian"}).

    mclp: ``n`` sites maximising newly covered residents; cover: fewest sites so that
    ``target_share`` of residents are covered (counting existing facilities); pmedian:
    ``n`` sites minimising residents' total walking time (beyond the threshold counts
    at the threshold). ``capacity`` (mclp only) caps the residents a hub can serve.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}: expected one of "
                         f"{', '.join(OBJECTIVES)}")
    usable = run.cand_snap.on_network
    if objective in ("mclp", "pmedian"):
        if n is None:
            raise ValueError(f"objective {objective} needs the number of sites (--n)")
        if n > int(usable.sum()):
            raise ValueError(f"{n} sites asked for but only {int(usable.sum())} candidates can "
                             "be reached from the network")
    w = run.weights
    if capacity is not None:
        if objective != "mclp":
            raise ValueError("a hub capacity applies to the maximal covering objective (mclp)")
        if groups is not None:
            raise ValueError("district quotas and hub capacity cannot be combined yet")
        g = greedy_capacitated(run.times, w, n, capacity, covered=run.covered)
        if not exact:
            return g
        x = mip_capacitated(run.times, w, n, capacity, covered=run.covered, warm_start=g,
                            time_limit_s=time_limit_s)
        return x if x.objective >= g.objective else g
    if objective == "mclp":
        return solve_mclp(run.cover, w, n, covered=run.covered, groups=groups,
                          min_per_group=min_per_group, max_per_group=max_per_group,
                          time_limit_s=time_limit_s, exact=exact)
    if objective == "cover":
        if not 0 < target_share <= 1:
            raise ValueError(f"target share must be in (0, 1], got {target_share}")
        target = target_share * w.sum()
        g = greedy_cover(run.cover, w, target, covered=run.covered, max_sites=n)
        return mip_cover(run.cover, w, target, covered=run.covered, warm_start=g,
                         time_limit_s=time_limit_s) if exact else g
    h = pmedian(run.times, w, n, penalty_s=run.threshold_s, existing_s=run.existing_s)
    if not exact:
        return h
    x = mip_pmedian(run.times, w, n, penalty_s=run.threshold_s, existing_s=run.existing_s,
                    warm_start=h, time_limit_s=time_limit_s)
    return x if x.objective <= h.objective else SitingResult(
        h.sites, h.objective, x.bound, h.solver + "+highs-bound", h.seconds + x.seconds, h.gains,
        x.status)


@dataclass(frozen=True)
class Evaluation:
    """A proposal's effect: per-site gains and what stays uncovered."""

    sites: pd.DataFrame  # site, gain (newly covered persons alone), unique_gain, overlap
    newly_covered: float  # persons newly covered by the whole proposal
    already_covered: float
    uncovered: np.ndarray  # bool per demand point
    seconds: float


def evaluate(run: SitingRun, site_index: list[int]) -> Evaluation:
    """Gains of a set of candidate sites: together, alone, uniquely, and their overlap."""
    t0 = time.perf_counter()
    w = run.weights
    fresh = np.where(run.covered, 0.0, w)
    cover = run.cover[site_index] if site_index else sp.csr_array((0, len(w)))
    count = np.asarray(cover.sum(axis=0)).ravel() if site_index else np.zeros(len(w))
    alone = cover @ fresh
    unique = cover @ (fresh * (count == 1))
    table = pd.DataFrame({"site": site_index, "gain_alone": alone, "unique_gain": unique,
                          "overlap": alone - unique})
    reached = count > 0
    return Evaluation(table, float(fresh[reached].sum()), float(w[run.covered].sum()),
                      ~(reached | run.covered), time.perf_counter() - t0)


def evaluation_result(run: SitingRun, sites: list[int] | None = None) -> SitingResult:
    """A :class:`~analysis.siting.SitingResult` for given ``sites`` (candidate indices, in
    order; default every candidate of the run), as a solve would report it."""
    sites = list(range(len(run.candidates))) if sites is None else [int(x) for x in sites]
    value = covered_weight(run.cover, run.weights, sites, run.covered)
    return SitingResult(sites, value, value, "evaluation", 0.0,
                        gains_in_order(run.cover, run.weights, sites, run.covered), "given")


def sites_frame(run: SitingRun, result: SitingResult) -> gpd.GeoDataFrame:
    """The chosen sites in order of selection with ``gain`` (persons newly covered)."""
    c = run.candidates.iloc[result.sites]
    gains = gains_in_order(run.cover, run.weights, result.sites, run.covered)
    ev = evaluate(run, result.sites)
    out = pd.DataFrame({"order": np.arange(1, len(c) + 1), "candidate": result.sites,
                        "name": c["name"].astype(str).to_numpy() if "name" in c.columns else "",
                        "gain": gains, "gain_alone": ev.sites["gain_alone"].to_numpy(),
                        "unique_gain": ev.sites["unique_gain"].to_numpy(),
                        "snap_m": run.cand_snap.dist_m[result.sites]})
    return gpd.GeoDataFrame(out, geometry=c.geometry.to_numpy(), crs=4326)


def summary_frame(run: SitingRun, result: SitingResult, objective: str) -> pd.DataFrame:
    """One row: objective value, best bound, gap, solver, timings and coverage totals."""
    ev = evaluate(run, result.sites)
    w = run.weights
    return pd.DataFrame([{
        "objective": objective, "value": result.objective, "bound": result.bound,
        "gap": result.gap, "solver": result.solver, "status": result.status,
        "sites": len(result.sites), "minutes": run.threshold_s / 60,
        "residents": w.sum(), "covered_before": ev.already_covered,
        "newly_covered": ev.newly_covered,
        "share_after": (ev.already_covered + ev.newly_covered) / w.sum() if w.sum() else np.nan,
        "seconds_prepare": run.seconds_prepare, "seconds_solve": result.seconds,
        "candidates": len(run.candidates), "demand_points": len(run.demand),
        "covered_pairs": run.times.nnz,
    }])


def uncovered_frame(run: SitingRun, sites: list[int]) -> gpd.GeoDataFrame:
    """Demand points still not covered after the proposal."""
    ev = evaluate(run, sites)
    d = run.demand.loc[ev.uncovered]
    return gpd.GeoDataFrame(d.drop(columns="geometry").reset_index(drop=True),
                            geometry=d.geometry.to_numpy(), crs=4326)


def read_sites(path: str | Path, *, datum: str | int = "wgs84", layer: str | None = None,
               columns: Mapping[str, str] | None = None,
               on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Proposed or candidate sites from a file (points; polygons by an interior point);
    ``layer`` picks a layer or sheet, ``columns`` names the user's columns by role
    ({"name": "名称"})."""
    from layers.sources import warn_rejected
    from layers.userfile import read_user_layer

    gdf, report = read_user_layer(path, datum=datum, layer=layer, columns=columns,
                                  on_bad_rows=on_bad_rows)
    warn_rejected(path, report)
    pts = gdf.geometry.to_numpy()
    other = shapely.get_type_id(pts) != 0
    pts[other] = shapely.point_on_surface(pts[other])
    name = gdf["name"].astype(str) if "name" in gdf.columns else pd.Series(
        [f"site {i}" for i in gdf.index], index=gdf.index)
    return gpd.GeoDataFrame({"name": name.to_numpy()}, geometry=pts, crs=4326)



def candidate_sites(spec: str, graph, *, network: str | Path, datum: str = "wgs84",
                    max_snap_m: float = DEFAULT_MAX_SNAP_M, layer: str | None = None,
                    columns: Mapping[str, str] | None = None,
                    on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Candidates from ``spec``: ``grid:METRES`` (a grid over the ``graph``, cells within
    ``max_snap_m`` metres of a street), ``osm`` (community and public buildings and vacant
    land in the OSM ``network`` file) or the path of a file of sites (in ``datum``; its
    ``layer`` and ``columns`` as for :func:`read_sites`)."""
    from layers.sources import is_osm

    spec = str(spec)
    if spec.startswith("grid:"):
        try:
            spacing = float(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"candidates {spec}: write grid:METRES, e.g. grid:300") from None
        return grid_candidates(graph, spacing, max_snap_m=max_snap_m)
    if spec == "osm":
        if not is_osm(network):
            raise ValueError(f"OSM candidates need an OSM network file, not {Path(network).name}")
        return osm_candidates(network)
    if is_osm(spec):
        return osm_candidates(spec)
    return read_sites(spec, datum=datum, layer=layer, columns=columns, on_bad_rows=on_bad_rows)


def existing_of(inputs: CoverageInputs, category: str | None) -> gpd.GeoDataFrame | None:
    """The loaded facilities of ``category`` (None: no existing facilities count)."""
    if not category:
        return None
    fac = inputs.facilities
    return fac[fac["category"].astype(str) == category].reset_index(drop=True)


def prepare_run(inputs: CoverageInputs, *, category: str | None, candidates: str,
                minutes: float = 15.0, speed_m_s: float = 1.0,
                datum: str = "wgs84", profile: str | None = None, edits=None,
                join: str = "street") -> SitingRun:
    """The walk graph of the inputs' network, the candidates of ``candidates`` (see
    :func:`candidate_sites`; a file in ``datum``) and the run prepared with the
    ``category``'s facilities as already covering, within ``minutes`` at ``speed_m_s`` (m/s).
    A walker ``profile`` or network ``edits`` (:func:`layers.edits.read_edits`) walk the
    graph coverage walks for them (the profile's flat speed replaces ``speed_m_s``);
    ``join`` as :func:`prepare`."""
    graph, speed_m_s = siting_graph(inputs.network, profile=profile, edits=edits,
                                    speed_m_s=speed_m_s)
    sites = candidate_sites(candidates, graph, network=inputs.sources["network"],
                            datum=datum)
    return prepare(graph, inputs.demand, sites, existing=existing_of(inputs, category),
                   minutes=minutes, speed_m_s=speed_m_s, join=join)


def siting_graph(net, *, profile: str | None = None, edits=None, speed_m_s: float = 1.0):
    """The walk graph coverage uses for ``profile`` and ``edits`` (edits imply the adult
    profile; neither: the plain graph at ``speed_m_s``) and the access-walk speed (m/s)."""
    from geo_app.workflows.graphs import walk_graph_for, walker_profile

    if profile is None and (edits is None or not len(edits)):
        return walk_graph_from_network(net, speed_m_s=speed_m_s), speed_m_s
    profile = profile or "adult"
    return walk_graph_for(net, profile=profile, edits=edits), walker_profile(profile).flat_m_s


STATUS_KEYS = ("covered_before", "newly_covered", "still_uncovered", "off_network")
AGGREGATE_ABOVE = DEFAULT.map_aggregate_above  # more residents are summed into squares on maps


def demand_status(run: SitingRun, evaluation: Evaluation) -> np.ndarray:
    """Per demand point: 0 covered before (existing facilities), 1 newly covered by the
    proposal, 2 still uncovered, 3 off the network (:data:`STATUS_KEYS`)."""
    status = np.where(run.covered, 0, np.where(evaluation.uncovered, 2, 1))
    return np.where(run.demand_snap.on_network, status, 3)


def site_catchments(run: SitingRun, sites: list[int]) -> gpd.GeoSeries:
    """Area from which each site is reached within the run's threshold (the graph's metric CRS)."""
    snap = run.cand_snap
    polys = facility_isochrones(run.graph, snap.node[sites], snap.access_s[sites], run.threshold_s)
    return gpd.GeoSeries(polys, crs=run.graph.crs)


@dataclass(frozen=True)
class SitingView:
    """What the siting map draws of a proposal on a run."""

    run: SitingRun
    evaluation: Evaluation
    status: np.ndarray  # per demand point, see demand_status
    catchments: gpd.GeoSeries  # per site, the graph's metric CRS
    cells: gpd.GeoDataFrame | None  # above AGGREGATE_ABOVE residents: shares per square


def siting_view(run: SitingRun, sites, *, evaluation: Evaluation | None = None,
                aggregate_above: int = AGGREGATE_ABOVE) -> SitingView:
    """Everything :func:`geo_app.maps.siting.siting_map` draws for ``sites`` (candidate
    indices or a :class:`~analysis.siting.SitingResult`). ``evaluation``, when given,
    must be of the same sites."""
    from geo_app.workflows.coverage import demand_grid

    sites = [int(s) for s in getattr(sites, "sites", sites)]
    evaluation = evaluate(run, sites) if evaluation is None else evaluation
    if [int(s) for s in evaluation.sites["site"]] != sites:
        raise ValueError("the evaluation is of other sites than the ones to draw")
    status = demand_status(run, evaluation)
    cells = None
    if len(run.demand) > aggregate_above:
        shares = [demand_grid(run.demand, status == k, run.graph.crs) for k in (0, 1)]
        cells = shares[0].rename(columns={"value": "covered_before"})
        cells["newly_covered"] = shares[1]["value"].to_numpy()
    return SitingView(run, evaluation, status, site_catchments(run, sites), cells)
