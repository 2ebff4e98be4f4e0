"""Walk and drive graphs: directed compressed-sparse-row arrays of travel times in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

DEFAULT_SPEED_M_S = 1.0  # 60 m/min, the life-circle standards' default
DEFAULT_STEPS_SPEED_M_S = 0.5  # horizontal speed on long stairs (0.4–0.5 m/s)
TOBLER_FLAT_KM_H = 6.0 * np.exp(-3.5 * 0.05)  # 5.04 km/h on level ground


# connector kinds a walker boards only at their ends (points never join them mid-span)
ENDS_ONLY = ("elevator", "escalator", "footbridge", "underpass")

@dataclass(frozen=True)
class Segments:
    """The undirected straight segments a graph was built from, with their walking times.

    ``u``/``v``: node indices; ``travel_fwd_s``/``travel_back_s``: seconds to walk the
    segment u→v / v→u (``inf`` where that way is not allowed), a part of it taking the same
    share (constant speed and slope along a segment); ``wait_u_s``/``wait_v_s``: seconds paid
    on top when passing its u / v end (half an elevator node's wait; None: none);
    ``boarded_at_ends``: segments a walker gets on and off only at their ends (lifts,
    escalators, footbridges, underpasses: nobody joins them mid-span; None: none).
    """

    u: np.ndarray
    v: np.ndarray
    travel_fwd_s: np.ndarray
    travel_back_s: np.ndarray
    wait_u_s: np.ndarray | None = None
    wait_v_s: np.ndarray | None = None
    boarded_at_ends: np.ndarray | None = None

    def waits(self) -> tuple[np.ndarray, np.ndarray]:
        """(wait at u, wait at v) per segment (s), zeros when none."""
        zero = np.zeros(len(self.u))
        return (zero if self.wait_u_s is None else self.wait_u_s,
                zero if self.wait_v_s is None else self.wait_v_s)

    @property
    def fwd_s(self) -> np.ndarray:
        wu, wv = self.waits()
        return self.travel_fwd_s + wu + wv

    @property
    def back_s(self) -> np.ndarray:
        wu, wv = self.waits()
        return self.travel_back_s + wu + wv


@dataclass(frozen=True)
class WalkGraph:
    """A directed walk (or drive) graph held as CSR arrays.

    ``time`` is the ``scipy.sparse.csr_array`` of walking times (s) from row node to
    column node; ``x``/``y`` are node coordinates in metres in ``crs``; ``node_id``
    keeps the source ids (e.g. OSM node ids) for joins; ``segments`` (walk graphs) the
    segments with their times, for joining points to the street front.
    """

    time: sp.csr_array
    x: np.ndarray
    y: np.ndarray
    node_id: np.ndarray
    crs: str
    segments: Segments | None = None

    @property
    def n_nodes(self) -> int:
        return self.time.shape[0]

    @cached_property
    def reverse(self) -> sp.csr_array:
        """Times of the reversed graph (walking *to* a node); the graph itself when symmetric."""
        t = self.time.T.tocsr()
        t.sort_indices()
        g = self.time
        same = (t.indptr.shape == g.indptr.shape and np.array_equal(t.indptr, g.indptr)
                and np.array_equal(t.indices, g.indices) and np.array_equal(t.data, g.data))
        return self.time if same else t

    @cached_property
    def max_straight_speed_m_s(self) -> float:
        """Fastest straight-line progress along any edge (m/s): no walk of ``t`` seconds ends
        farther than ``t`` times this from where it started."""
        coo = self.time.tocoo()
        dist = np.hypot(self.x[coo.row] - self.x[coo.col], self.y[coo.row] - self.y[coo.col])
        if np.any((coo.data <= 0) & (dist > 0)):
            return float("inf")
        ok = coo.data > 0
        return float((dist[ok] / coo.data[ok]).max()) if ok.any() else 0.0

    @cached_property
    def kdtree(self):
        """KD-tree of node coordinates (metres) for nearest-node joins."""
        from scipy.spatial import cKDTree

        return cKDTree(np.column_stack([self.x, self.y]))

    @property
    def n_edges(self) -> int:
        return self.time.nnz


def tobler_factor(slope: np.ndarray) -> np.ndarray:
    """Tobler's hiking speed at ``slope`` (rise/run) relative to level ground.

    1.0 on the flat, 1.19 at the fastest slope of −5 %, about 0.5 at +20 %.
    """
    return 6.0 * np.exp(-3.5 * np.abs(np.asarray(slope, dtype=float) + 0.05)) / TOBLER_FLAT_KM_H


def edge_times_s(length_m: np.ndarray, speed_m_s: np.ndarray | float,
                 rise_m: np.ndarray | None = None) -> np.ndarray:
    """Walking time (s) of edges of ``length_m`` at ``speed_m_s`` on the flat.

    With ``rise_m`` (end elevation minus start elevation, m) the speed follows
    Tobler's hiking function of the slope rise/length in the direction walked.
    """
    length = np.asarray(length_m, dtype=float)
    speed = np.broadcast_to(np.asarray(speed_m_s, dtype=float), length.shape)
    if rise_m is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(length > 0, np.asarray(rise_m, dtype=float) / length, 0.0)
        speed = speed * tobler_factor(slope)
    return length / speed


def build_walk_graph(u: np.ndarray, v: np.ndarray, length_m: np.ndarray, *,
                     x: np.ndarray, y: np.ndarray, crs: str,
                     node_id: np.ndarray | None = None,
                     is_steps: np.ndarray | None = None,
                     elevation_m: np.ndarray | None = None,
                     speed_m_s: float = DEFAULT_SPEED_M_S,
                     steps_speed_m_s: float = DEFAULT_STEPS_SPEED_M_S) -> WalkGraph:
    """Build the directed walk graph from undirected street segments.

    ``u``, ``v`` are node indices (0…n-1) of each segment's ends, ``length_m`` its
    length. Every segment is walkable both ways (pedestrians ignore one-way rules);
    ``is_steps`` marks ``highway=steps`` segments, walked at ``steps_speed_m_s``.
    With ``elevation_m`` per node the time of each direction follows Tobler's hiking
    function (steps keep their own speed). Parallel segments keep the minimum time.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    length = np.asarray(length_m, dtype=float)
    n = len(x)
    if not (len(u) == len(v) == len(length)):
        raise ValueError(f"u, v and length_m differ in length: {len(u)}, {len(v)}, {len(length)}")
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValueError(f"edge ends must be node indices in 0…{n - 1}")
    if np.any(~np.isfinite(length) | (length < 0)):
        raise ValueError("edge lengths must be finite and non-negative (metres)")
    if speed_m_s <= 0 or steps_speed_m_s <= 0:
        raise ValueError("walking speeds must be positive (m/s)")
    steps = np.zeros(len(u), bool) if is_steps is None else np.asarray(is_steps, dtype=bool)
    speed = np.where(steps, steps_speed_m_s, speed_m_s)
    if elevation_m is None:
        fwd = back = edge_times_s(length, speed)
    else:
        z = np.asarray(elevation_m, dtype=float)
        if len(z) != n or np.any(np.isinf(z)):
            raise ValueError("elevation_m needs one value per node (metres; NaN: unknown)")
        known = np.isfinite(z[u]) & np.isfinite(z[v])  # unknown heights: taken as level
        rise = np.where(steps | ~known, 0.0, z[v] - z[u])
        fwd = edge_times_s(length, speed, rise)
        back = edge_times_s(length, speed, -rise)
    return graph_from_segments(Segments(u, v, fwd, back), x=x, y=y, crs=crs, node_id=node_id)


def graph_from_segments(segments: Segments, *, x: np.ndarray, y: np.ndarray, crs: str,
                        node_id: np.ndarray | None = None) -> WalkGraph:
    """The directed graph of ``segments``: each allowed direction one edge (its travel time
    plus end waits); parallel edges keep the minimum, loops are dropped."""
    n = len(x)
    u, v = np.asarray(segments.u, np.int64), np.asarray(segments.v, np.int64)
    fwd, back = segments.fwd_s, segments.back_s
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    cost = np.concatenate([fwd, back])
    keep = (rows != cols) & np.isfinite(cost)  # a loop never shortens a walk
    time = min_csr(rows[keep], cols[keep], cost[keep], n)
    ids = np.arange(n, dtype=np.int64) if node_id is None else np.asarray(node_id)
    return WalkGraph(time, np.asarray(x, dtype=float), np.asarray(y, dtype=float), ids, crs,
                     segments)


def build_drive_graph(u: np.ndarray, v: np.ndarray, length_m: np.ndarray,
                      speed_kmh: np.ndarray, oneway: np.ndarray, *,
                      x: np.ndarray, y: np.ndarray, crs: str,
                      node_id: np.ndarray | None = None) -> WalkGraph:
    """Build the directed drive graph (times in seconds) from road segments.

    ``u``, ``v`` are node indices (0…n-1) of each segment's ends, ``length_m`` its
    length (m), ``speed_kmh`` its travel speed (km/h) and ``oneway`` its direction:
    0 both ways, 1 only u→v, -1 only v→u. Parallel segments keep the minimum time;
    loops are dropped.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    length = np.asarray(length_m, dtype=float)
    speed = np.asarray(speed_kmh, dtype=float)
    way = np.asarray(oneway)
    n = len(x)
    if not (len(u) == len(v) == len(length) == len(speed) == len(way)):
        raise ValueError("u, v, length_m, speed_kmh and oneway differ in length: "
                         f"{len(u)}, {len(v)}, {len(length)}, {len(speed)}, {len(way)}")
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValueError(f"edge ends must be node indices in 0…{n - 1}")
    if np.any(~np.isfinite(length) | (length < 0)):
        raise ValueError("edge lengths must be finite and non-negative (metres)")
    if np.any(~np.isfinite(speed) | (speed <= 0)):
        raise ValueError("edge speeds must be finite and positive (km/h)")
    if not np.all(np.isin(way, (-1, 0, 1))):
        raise ValueError("oneway must be 0 (both ways), 1 (u→v) or -1 (v→u)")
    cost = length / (speed / 3.6)
    fwd, back = way >= 0, way <= 0
    rows = np.concatenate([u[fwd], v[back]])
    cols = np.concatenate([v[fwd], u[back]])
    cost = np.concatenate([cost[fwd], cost[back]])
    keep = rows != cols  # a loop never shortens a trip
    time = min_csr(rows[keep], cols[keep], cost[keep], n)
    ids = np.arange(n, dtype=np.int64) if node_id is None else np.asarray(node_id)
    return WalkGraph(time, np.asarray(x, dtype=float), np.asarray(y, dtype=float), ids, crs)


def min_csr(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, n: int) -> sp.csr_array:
    """CSR matrix keeping the minimum cost of duplicate (row, col) entries.

    scipy would sum duplicates; here the cheapest parallel edge wins.
    """
    key = np.asarray(rows, dtype=np.int64) * n + np.asarray(cols, dtype=np.int64)
    order = np.argsort(key)
    key, cost = key[order], np.asarray(cost, dtype=float)[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)
    cost = np.minimum.reduceat(cost, starts) if len(key) else cost
    key = key[starts]
    rows, cols = key // n, key % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if n < 2**31 and len(cols) < 2**31 else np.int64
    return sp.csr_array((cost, cols.astype(idx_dtype), indptr.astype(idx_dtype)), shape=(n, n))


def profile_segments(net, profile, connectors) -> Segments:
    """Walking times of every segment of a :class:`~analysis.walk_network.WalkNetwork` for
    one :class:`~analysis.profiles.WalkerProfile`, with the costs of ``connectors`` (a
    mapping kind → :class:`~analysis.profiles.Connector`).

    The rules, per segment and direction (``inf`` where not allowed):

    - walked kinds (no connector speed): length / (flat speed × Tobler factor of the
      slope walked), the slope from node elevations (level where either is unknown, or
      where the connector has ``slope`` off, e.g. lifts); a ``max_grade`` makes steeper
      ones impassable both ways;
    - machine kinds (connector speed, e.g. escalators): length / that speed, no slope;
    - steps: their run (``steps`` × the connector's ``tread_m`` when counted, else the
      length) at the stairs speed up or down (direction from ``incline``, else the
      elevations, else the climbing speed both ways); impassable for profiles without
      stairs speeds;
    - ``step_free_only`` profiles use only step-free kinds;
    - a one-way segment (``direction``) only forward or backward;
    - each kind's ``wait_s`` is spread over its way (``way_share``); an elevator node
      (``lift``) costs half the elevator's wait at each end of a segment through it, a
      signalled crossing node (``signal``) half the ``crossing_signals`` wait
      (:func:`analysis.profiles.signal_waits`).
    """
    from analysis.profiles import check_kinds, signal_waits

    used = np.bincount(net.kind, minlength=len(net.kinds)) > 0
    names = [k for k, on in zip(net.kinds, used) if on]
    check_kinds(names, connectors)
    if net.lift.any():
        check_kinds(["elevator"], connectors)

    def table(attr, default):
        vals = [getattr(connectors[k], attr) if k in connectors else None for k in net.kinds]
        return np.array([default if v is None else v for v in vals], dtype=float)

    code = net.kind
    speed, wait = table("speed_m_s", np.nan)[code], table("wait_s", 0.0)[code]
    free = table("step_free", 1.0)[code] > 0
    sloped = table("slope", 1.0)[code] > 0
    length = np.asarray(net.length_m, float)
    zu, zv = net.z[net.u], net.z[net.v]
    known = np.isfinite(zu) & np.isfinite(zv)
    rise = np.where(known, zv - zu, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(length > 0, rise / length, 0.0)
    steps = code == net.kinds.index("steps") if "steps" in net.kinds else np.zeros(len(code), bool)
    machine = np.isfinite(speed) & ~steps
    walked = ~machine & ~steps
    slope = np.where(walked & sloped, slope, 0.0)  # lifts: level, whatever the rise
    ok = np.ones(len(code), bool)
    if profile.step_free_only:
        ok &= free
    if not profile.uses_stairs:
        ok &= ~steps
    if profile.max_grade is not None:
        ok &= ~(walked & (np.abs(slope) > profile.max_grade))
    flat = profile.flat_m_s
    fwd = np.where(machine, length / np.where(machine, speed, 1.0),
                   length / (flat * tobler_factor(slope)))
    back = np.where(machine, fwd, length / (flat * tobler_factor(-slope)))
    if profile.uses_stairs and steps.any():
        tread = table("tread_m", np.nan)[code]
        run = np.where(np.isfinite(net.steps) & np.isfinite(tread), net.steps * tread, length)
        climb = np.where(net.incline != 0, net.incline, np.sign(rise))
        up, down = run / profile.stairs_up_m_s, run / profile.stairs_down_m_s
        fwd = np.where(steps, np.where(climb < 0, down, up), fwd)
        back = np.where(steps, np.where(climb > 0, down, up), back)
    spread = wait * np.asarray(net.way_share, float)
    fwd = np.where(ok & (net.direction >= 0), fwd + spread, np.inf)
    back = np.where(ok & (net.direction <= 0), back + spread, np.inf)
    wait_u = wait_v = None
    if net.lift.any():
        half = connectors["elevator"].wait_s / 2
        wait_u, wait_v = np.where(net.lift[net.u], half, 0.0), np.where(net.lift[net.v], half, 0.0)
    wait_u, wait_v = signal_waits(net, connectors, wait_u, wait_v)
    ends_only = np.isin(np.asarray(net.kinds, dtype=object)[code], ENDS_ONLY)
    return Segments(net.u, net.v, fwd, back, wait_u, wait_v,
                    ends_only if ends_only.any() else None)


def build_profile_graph(net, profile, connectors) -> WalkGraph:
    """The directed walk graph of a :class:`~analysis.walk_network.WalkNetwork` for one
    walker profile (:func:`profile_segments`); segments the profile cannot use in a
    direction are left out of it."""
    return graph_from_segments(profile_segments(net, profile, connectors), x=net.x, y=net.y,
                               crs=net.crs, node_id=net.node_id)
