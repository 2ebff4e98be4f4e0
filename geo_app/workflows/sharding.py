"""Coverage in shards: square tiles or districts, each run on its own piece of network with a
halo, on one process or a Dask cluster, and put back together into the single run's result.

Why a shard gives the whole-area answer: a walk of the longest threshold ``T`` never ends
farther (straight line) than ``reach = T × v`` from its start, ``v`` being the fastest
straight-line progress along any edge of the walk graph (``WalkGraph.max_straight_speed_m_s``,
at least the walking speed of access walks). So a shard's residents see every facility and
street they can reach when it holds the facilities within ``reach`` of its core and the
network within ``reach + max_snap_m`` (see :func:`geo_app.workflows.study_area.clip_inputs`,
whose test checks the same rule). Every resident, facility and street node is owned by exactly
one shard, so the assembled tables count each once.

Dask (``dask.distributed``) runs the shards: a ``LocalCluster`` on one machine, a scheduler
address for many; the client reads the inputs, cuts them and sends each shard its piece, so
workers need no access to the files.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from analysis.zones import zone_names
from geo_app.errors import ParameterError
from geo_app.workflows.coverage_steps import Part, local_part, to_metres

log = logging.getLogger(__name__)

MARGIN = 1.01  # projection scale and rounding: cut a little wider than the proof needs


@dataclass(frozen=True)
class Shard:
    """One piece of the study area: its name, its core (WGS-84) and what it owns."""

    key: str
    core: shapely.Geometry
    demand_rows: np.ndarray
    facility_rows: np.ndarray
    node_ids: np.ndarray


TILES_PER_WORKER = 2  # enough to keep every worker busy while the client sends tiles
MAX_TILE_SEGMENTS = 2_000_000  # about 2 GB on a worker with the residents of its tile


def default_shard_km(reach_m: float, *, extent_km2: float | None = None,
                     workers: int | None = None, segments: int | None = None) -> float:
    """Tile side (km) for a reach: at least four reaches wide, so the halo costs at most
    about (1 + 2/4)² − 1 ≈ 1.25 times the core's work, and never under 2 km.

    With the extent (km²) and the workers known, wider: about :data:`TILES_PER_WORKER`
    tiles a worker, as few tiles as keep each worker busy (each tile's halo is read and
    walked twice, so a 100 km city on two workers runs fastest in 2 × 2 tiles), unless a
    tile would hold more than :data:`MAX_TILE_SEGMENTS` of the network's ``segments``."""
    side = max(2.0, 4 * reach_m / 1000.0)
    if extent_km2 and workers:
        balanced = math.sqrt(extent_km2 / (TILES_PER_WORKER * workers)) * 1.001
        if segments:
            balanced = min(balanced, math.sqrt(extent_km2 * MAX_TILE_SEGMENTS / segments))
        side = max(side, balanced)
    return math.ceil(side * 10) / 10


def plan_tiles(net, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *, crs: str,
               side_km: float) -> list[Shard]:
    """Tiles about ``side_km`` on a side in ``crs``, fitted to the extent of the residents,
    facilities and street nodes (as many as that side needs, stretched to fit), those that
    hold any; each thing is owned by the tile it lies in."""
    from geo_app.workflows.shard_reads import fit_grid

    if not (np.isfinite(side_km) and side_km > 0):
        raise ParameterError(f"--shard-km must be a positive number of kilometres, got {side_km}")
    nodes = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.nodes["lon"], net.nodes["lat"]),
                             crs=4326)
    xy = [to_metres(layer, crs) for layer in (demand, facilities, nodes)]
    x, y = np.concatenate([a for a, _ in xy]), np.concatenate([b for _, b in xy])
    if not len(x):
        return []
    grid = fit_grid((x.min(), y.min(), x.max(), y.max()), 1000.0 * side_km, 1000.0 * side_km)
    used, owner = np.unique(grid.owner(x, y), return_inverse=True)
    own_d, own_f, own_n = np.split(owner, np.cumsum([len(a) for a, _ in xy])[:-1])
    boxes = np.array([grid.box(k) for k in used]).reshape(-1, 4)
    squares = gpd.GeoSeries(shapely.box(*boxes.T), crs=crs).to_crs(4326).to_numpy()
    node_ids = net.nodes["node_id"].to_numpy(np.int64)
    return [Shard(f"tile {k % grid.nx},{k // grid.nx}", squares[n], np.flatnonzero(own_d == n),
                  np.flatnonzero(own_f == n), node_ids[own_n == n])
            for n, k in enumerate(used)]


def plan_zones(net, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame,
               zones: gpd.GeoDataFrame, name_column: str) -> list[Shard]:
    """One shard per zone (district, township) holding residents; residents, facilities and
    nodes outside every such zone form one more shard, "(outside)"."""
    names = zones[name_column].astype(object).fillna("(outside)").astype(str)

    def owner(points: gpd.GeoDataFrame) -> np.ndarray:
        return zone_names(points.geometry.values, zones.geometry.values, names, "(outside)")

    own_d = owner(demand.reset_index(drop=True))
    own_f = owner(facilities.reset_index(drop=True))
    nodes = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.nodes["lon"], net.nodes["lat"]),
                             crs=4326)
    own_n = owner(nodes)
    node_ids = net.nodes["node_id"].to_numpy(np.int64)
    names = list(dict.fromkeys(own_d))
    if "(outside)" in set(own_f) | set(own_n) and "(outside)" not in names:
        names.append("(outside)")
    named = dict(zip(zones[name_column].astype(str), zones.geometry))
    shards = []
    for name in names:
        if name == "(outside)":
            pts = np.concatenate([
                shapely.get_coordinates(demand.geometry.values[own_d == name]),
                shapely.get_coordinates(facilities.geometry.values[own_f == name]),
                net.nodes.loc[own_n == name, ["lon", "lat"]].to_numpy()])
            core = shapely.convex_hull(shapely.multipoints(pts)) if len(pts) else \
                shapely.Polygon()
        else:
            core = named[name]
        shards.append(Shard(name, core, np.flatnonzero(own_d == name),
                            np.flatnonzero(own_f == name), node_ids[own_n == name]))
    # facilities and nodes of zones without residents belong to the (outside) shard
    orphan_f = ~np.isin(own_f, names)
    orphan_n = ~np.isin(own_n, names)
    if orphan_f.any() or orphan_n.any():
        k = next((i for i, sh in enumerate(shards) if sh.key == "(outside)"), None)
        if k is None:
            shards.append(Shard("(outside)", shapely.Polygon(), np.zeros(0, np.int64),
                                np.zeros(0, np.int64), np.zeros(0, np.int64)))
            k = len(shards) - 1
        shards[k] = dataclasses.replace(
            shards[k], facility_rows=np.union1d(shards[k].facility_rows,
                                                np.flatnonzero(orphan_f)),
            node_ids=np.union1d(shards[k].node_ids, node_ids[orphan_n]))
    return shards


def _near(area_m: shapely.Geometry, x: np.ndarray, y: np.ndarray, distance_m: float
          ) -> np.ndarray:
    """Which points (metres) lie within ``distance_m`` of ``area_m`` (same CRS): inside the
    area grown by that distance (a prepared polygon, so a million points take a moment)."""
    if area_m.is_empty:
        return np.zeros(len(x), bool)
    grown = shapely.buffer(area_m, distance_m, quad_segs=16)
    shapely.prepare(grown)
    return shapely.contains_xy(grown, x, y)


@dataclass(frozen=True)
class Layers:
    """The whole inputs with their coordinates in the run's metric CRS, computed once."""

    net: object
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    crs: str
    node_xy: np.ndarray
    facility_xy: np.ndarray
    demand_xy: np.ndarray

    @classmethod
    def of(cls, net, facilities, demand, crs: str) -> Layers:
        nodes = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.nodes["lon"],
                                                             net.nodes["lat"]), crs=4326)
        xy = [np.column_stack(to_metres(g, crs)) if len(g) else np.zeros((0, 2))
              for g in (nodes, facilities, demand)]
        return cls(net, facilities, demand, crs, *xy)


def shard_inputs(shard: Shard, layers: Layers, *, reach_m: float, max_snap_m: float,
                 edits=None) -> dict:
    """What the shard's task needs: the network within ``reach + max_snap_m`` of its core and
    of the things it owns, the facilities within ``reach`` of them, its residents; with
    ``edits`` (:class:`~geo_app.workflows.shard_edits.ShardEdits`) the edits touching it."""
    net = layers.net
    core = gpd.GeoSeries([shard.core], crs=4326).to_crs(layers.crs).iloc[0]
    node_ids = net.nodes["node_id"].to_numpy(np.int64)
    own_n = np.isin(node_ids, shard.node_ids)
    owned = np.concatenate([layers.demand_xy[shard.demand_rows],
                            layers.facility_xy[shard.facility_rows], layers.node_xy[own_n]])
    if not core.is_empty:
        shapely.prepare(core)
        owned = owned[~shapely.contains_xy(core, owned[:, 0], owned[:, 1])]
    area = shapely.union_all([core, shapely.multipoints(owned)]) if len(owned) else core
    keep = _near(area, *layers.node_xy.T, MARGIN * (reach_m + max_snap_m))
    mine, extra = (None, []) if edits is None else \
        edits.for_area(area, MARGIN * (reach_m + max_snap_m))
    keep |= np.isin(node_ids, extra)  # the segments those edits join or close
    ids = node_ids[keep]
    e = net.edges
    both = np.isin(e["u"].to_numpy(np.int64), ids) & np.isin(e["v"].to_numpy(np.int64), ids)
    piece = dataclasses.replace(net, nodes=net.nodes.loc[keep].reset_index(drop=True),
                                edges=e.loc[both].reset_index(drop=True),
                                source=f"{net.source} ({shard.key})")
    near = _near(area, *layers.facility_xy.T, MARGIN * reach_m) if len(layers.facility_xy) \
        else np.zeros(0, bool)
    near[shard.facility_rows] = True
    rows = np.flatnonzero(near)
    return {"net": piece, "facilities": layers.facilities.iloc[rows].reset_index(drop=True),
            "facility_rows": rows, "own_facility": np.isin(rows, shard.facility_rows),
            "demand": layers.demand.iloc[shard.demand_rows].reset_index(drop=True),
            "demand_rows": shard.demand_rows, "own_node_ids": shard.node_ids, "edits": mine}


def run_shard(inputs: dict, *, crs: str, categories: Sequence[str],
              limits_s: Mapping[str, float], speed_m_s: float, steps_speed_m_s: float,
              max_snap_m: float, mode: str, reach_speed_m_s: float, join: str = "node",
              profile: str | None = None) -> Part:
    """One shard's :class:`~geo_app.workflows.coverage_steps.Part` (runs on a worker)."""
    from geo_app.workflows.graphs import walk_graph_for, walk_graph_from_network

    if profile is not None:
        g = walk_graph_for(inputs["net"], profile=profile, crs=crs, edits=inputs.get("edits"))
    else:
        g = walk_graph_from_network(inputs["net"], speed_m_s=speed_m_s,
                                    steps_speed_m_s=steps_speed_m_s, crs=crs)
    if g.max_straight_speed_m_s > reach_speed_m_s * 1.000001:
        raise RuntimeError(f"a shard's network is faster ({g.max_straight_speed_m_s:.3f} m/s) "
                           f"than the whole one ({reach_speed_m_s:.3f} m/s): its halo is short")
    own_node = np.isin(g.node_id, inputs["own_node_ids"])
    return local_part(g, inputs["facilities"], inputs["demand"], categories=categories,
                      limits_s=limits_s, speed_m_s=speed_m_s, max_snap_m=max_snap_m,
                      mode=mode, facility_rows=inputs["facility_rows"],
                      demand_rows=inputs["demand_rows"], own_facility=inputs["own_facility"],
                      own_node=own_node, join=join)


def run_shards(shards: Sequence[Shard], layers: Layers, *, client=None, reach_m: float,
               max_snap_m: float, progress: Callable | None = None, edits=None,
               **task) -> list[Part]:
    """Every shard's part, on the Dask ``client`` (or here, one after another); network
    ``edits`` (layers.edits.NetworkEdits, with a ``profile``) go to the shards they touch."""
    if edits is not None and len(edits):
        from geo_app.workflows.shard_edits import ShardEdits

        edits = ShardEdits.of(edits, layers.net, layers.node_xy, layers.crs)
    else:
        edits = None
    say = progress or (lambda f, m: None)
    started = time.perf_counter()
    crs = layers.crs
    parts: list[Part] = []
    if client is None:
        for k, s in enumerate(shards):
            say(k / len(shards), f"shard {k + 1} of {len(shards)} ({s.key})")
            inputs = shard_inputs(s, layers, reach_m=reach_m, max_snap_m=max_snap_m,
                                  edits=edits)
            parts.append(run_shard(inputs, crs=crs, max_snap_m=max_snap_m, **task))
    else:
        from dask.distributed import as_completed

        futures = {}
        for k, s in enumerate(shards):
            inputs = shard_inputs(s, layers, reach_m=reach_m, max_snap_m=max_snap_m,
                                  edits=edits)
            futures[client.submit(run_shard, inputs, crs=crs, max_snap_m=max_snap_m,
                                  pure=False, key=f"coverage-shard-{k}-{time.time_ns()}",
                                  **task)] = k
        done: dict[int, Part] = {}
        for n, fut in enumerate(as_completed(futures), start=1):
            done[futures[fut]] = fut.result()
            say(n / len(shards), f"{n} of {len(shards)} shards done")
        parts = [done[k] for k in range(len(shards))]
    log.info("%d shards in %.1f s", len(parts), time.perf_counter() - started)
    return parts


# --- siting by district -----------------------------------------------------------------------
def site_zone(inputs: dict, *, n: int, minutes: float, speed_m_s: float, max_snap_m: float,
              objective: str, target_share: float, time_limit_s: float, exact: bool,
              crs: str) -> dict:
    """One zone's siting (runs on a worker): its residents, its candidates, the network
    around it and the existing facilities within reach; returns the chosen candidates'
    positions in the whole candidate layer and the solver's figures."""
    from geo_app.workflows.graphs import walk_graph_from_network
    from geo_app.workflows.siting import prepare, solve

    g = walk_graph_from_network(inputs["net"], speed_m_s=speed_m_s, crs=crs)
    run = prepare(g, inputs["demand"], inputs["candidates"], existing=inputs["existing"],
                  minutes=minutes, speed_m_s=speed_m_s, max_snap_m=max_snap_m)
    usable = int(run.cand_snap.on_network.sum())
    k = min(n, usable)
    result = solve(run, n=k, objective=objective, target_share=target_share,
                   time_limit_s=time_limit_s, exact=exact)
    return {"zone": inputs["zone"], "sites": inputs["candidate_rows"][result.sites],
            "value": result.objective, "bound": result.bound, "gap": result.gap,
            "solver": result.solver, "status": result.status, "asked": n, "usable": usable,
            "residents": float(run.weights.sum()), "seconds": result.seconds}


def site_by_zone(net, demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, existing,
                 zones: gpd.GeoDataFrame, name_column: str, quota: Mapping[str, int], *,
                 minutes: float, speed_m_s: float, max_snap_m: float, objective: str = "mclp",
                 target_share: float = 0.9, time_limit_s: float = 10.0, exact: bool = True,
                 crs: str, reach_speed_m_s: float, client=None,
                 progress: Callable | None = None) -> tuple[np.ndarray, list[dict]]:
    """Each zone with a quota solved on its own (in parallel on the Dask ``client``): at most
    ``quota[zone]`` sites among its candidates for its residents, existing facilities within
    reach counted. Returns the chosen candidates (positions, zones in quota order) and one
    record per zone. Residents near a border can also be reached from the next zone's sites;
    the caller evaluates the union of the choices over the whole area."""
    say = progress or (lambda f, m: None)
    reach = minutes * 60.0 * max(reach_speed_m_s, speed_m_s)

    def owner(points: gpd.GeoDataFrame) -> np.ndarray:  # outside every zone: no quota's
        return zone_names(points.geometry.values, zones.geometry.values,
                          zones[name_column].astype(str), None)

    own_d, own_c = owner(demand), owner(candidates)
    layers = Layers.of(net, existing if existing is not None else demand.iloc[:0], demand, crs)
    tasks = []
    for zone, n in quota.items():
        rows_c = np.flatnonzero(own_c == zone)
        if n <= 0 or not len(rows_c):
            continue
        shard = Shard(zone, zones.loc[zones[name_column].astype(str) == zone].geometry.iloc[0],
                      np.flatnonzero(own_d == zone), np.zeros(0, np.int64),
                      np.zeros(0, np.int64))
        cut = shard_inputs(shard, layers, reach_m=reach, max_snap_m=max_snap_m)
        tasks.append(({"zone": zone, "net": cut["net"], "demand": cut["demand"],
                       "candidates": candidates.iloc[rows_c].reset_index(drop=True),
                       "candidate_rows": rows_c,
                       "existing": cut["facilities"] if existing is not None else None}, n))
    kw = dict(minutes=minutes, speed_m_s=speed_m_s, max_snap_m=max_snap_m, objective=objective,
              target_share=target_share, time_limit_s=time_limit_s, exact=exact, crs=crs)
    if client is None:
        records = []
        for k, (inputs, n) in enumerate(tasks):
            say(k / max(len(tasks), 1), f"{inputs['zone']} ({k + 1} of {len(tasks)})")
            records.append(site_zone(inputs, n=n, **kw))
    else:
        futures = [client.submit(site_zone, inputs, n=n, pure=False, **kw) for inputs, n in tasks]
        records = client.gather(futures)
    chosen = np.concatenate([r["sites"] for r in records]) if records else np.zeros(0, np.int64)
    return chosen.astype(np.int64), records
