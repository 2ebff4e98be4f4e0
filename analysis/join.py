"""Joining points (residents, facilities) to a walk graph: at the street front — the
nearest point of the nearest walkable segment, the graph split there — or at the nearest
node (for comparison)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from analysis.graph import Segments, WalkGraph
from analysis.snap import DEFAULT_MAX_SNAP_M, Snapped, snap_points
from analysis.walk_network import chain, nearest_on_segments, segment_lines

JOINS = ("street", "node")


@dataclass(frozen=True)
class Joined:
    """Points joined to a graph: the graph to walk on (split at the street-front points,
    or the graph itself for node joins) and, per point set, the :class:`Snapped` join in
    that graph's node indices (``dist_m``: the straight walk off the network).

    The split graph keeps the old nodes' indices; its new nodes follow them, node
    ``n_old + k`` lying at fraction ``split_t[k]`` from old node ``split_u[k]`` to
    ``split_v[k]`` (e.g. to give it the owner of the nearer end in a sharded run).
    """

    graph: WalkGraph
    points: list[Snapped]
    n_old: int = 0
    split_u: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    split_v: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    split_t: np.ndarray = field(default_factory=lambda: np.zeros(0))


def join_points(graph: WalkGraph, point_sets: Sequence[tuple[np.ndarray, np.ndarray]], *,
                how: str = "street", speed_m_s: float,
                max_dist_m: float = DEFAULT_MAX_SNAP_M) -> Joined:
    """Join each set of points (x, y in metres, the graph's CRS) to ``graph``.

    ``how="street"``: each point joins the nearest point of the nearest segment walkable
    both ways; the segment is split there (a new node), so that the rest of it is walked
    in each direction with its own times (slope, steps, waits pro rata). Points of every
    set share the split graph, so residents and facilities on one segment reach each
    other along it. ``how="node"``: the nearest node (the graph unchanged). The straight
    line off the network is walked at ``speed_m_s``; points farther than ``max_dist_m``
    are off-network (node -1, time ``inf``).
    """
    if how not in JOINS:
        raise ValueError(f"how must be one of {', '.join(JOINS)}, got {how!r}")
    if how == "node":
        return Joined(graph, [snap_points(graph, x, y, speed_m_s=speed_m_s,
                                          max_dist_m=max_dist_m) for x, y in point_sets],
                      graph.n_nodes)
    if graph.segments is None:
        raise ValueError("the graph has no segment table (build it with build_walk_graph or "
                         "build_profile_graph) for street-front joins")
    xs = [np.asarray(x, float) for x, _ in point_sets]
    ys = [np.asarray(y, float) for _, y in point_sets]
    x, y = np.concatenate(xs) if xs else np.zeros(0), np.concatenate(ys) if ys else np.zeros(0)
    seg, t, dist = nearest_segment_points(graph, x, y, max_dist_m=max_dist_m)
    on = seg >= 0
    g, node_on = split_graph(graph, seg[on], t[on])
    node = np.full(len(x), -1, np.int64)
    node[on] = node_on
    access = np.where(on, dist / speed_m_s, np.inf)
    bounds = np.cumsum([0, *map(len, xs)])
    n = graph.n_nodes
    new = node_on >= n
    first = np.unique(node_on[new], return_index=True)[1]
    k_seg, k_t = seg[on][new][first], t[on][new][first]
    return Joined(g, [Snapped(node[a:b], dist[a:b], access[a:b])
                      for a, b in zip(bounds[:-1], bounds[1:])], n,
                  graph.segments.u[k_seg], graph.segments.v[k_seg], k_t)


def joinable(segments: Segments) -> np.ndarray:
    """Segments a point may join: walkable both ways, and not boarded only at their ends
    (a lift, an escalator, a footbridge or underpass deck)."""
    ok = np.isfinite(segments.fwd_s) & np.isfinite(segments.back_s)
    if segments.boarded_at_ends is not None:
        ok &= ~segments.boarded_at_ends
    return ok


def nearest_segment_points(graph: WalkGraph, x: np.ndarray, y: np.ndarray, *,
                           max_dist_m: float = DEFAULT_MAX_SNAP_M
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point: the nearest joinable segment (-1 beyond ``max_dist_m``), the
    fraction (0…1 from its u end) of the nearest point on it, and the distance (m; for
    points off the network, to the nearest segment at any distance)."""
    s = graph.segments
    cand = np.flatnonzero(joinable(s))
    if not (len(cand) and len(x)):
        return nearest_on_segments(None, cand, graph.x, graph.y, s.u, s.v, np.asarray(x, float),
                                   np.asarray(y, float), max_dist_m)
    tree = _segment_tree(graph, cand)
    ends = np.zeros(graph.n_nodes, bool)
    ends[s.u[cand]] = ends[s.v[cand]] = True
    node_tree = graph.kdtree if ends.all() else None  # else: a tree of the ends alone
    return nearest_on_segments(tree, cand, graph.x, graph.y, s.u, s.v, np.asarray(x, float),
                               np.asarray(y, float), max_dist_m, node_tree)


def _segment_tree(graph: WalkGraph, cand: np.ndarray):
    """STRtree of the joinable segments' lines (not kept: about 150 bytes a segment)."""
    import shapely

    s = graph.segments
    return shapely.STRtree(segment_lines(graph.x, graph.y, s.u[cand], s.v[cand]))


def split_graph(graph: WalkGraph, seg: np.ndarray, t: np.ndarray
                ) -> tuple[WalkGraph, np.ndarray]:
    """The graph with a node at fraction ``t`` along each segment ``seg`` (points at a
    segment end use that node), and the node of each point.

    Each cut segment's pieces get its travel times pro rata and its end waits on the
    pieces at its ends; the whole segment's own edges stay in the graph (walking it whole
    takes the sum of its pieces), so no time between old nodes changes.
    """
    s = graph.segments
    n = graph.n_nodes
    c = chain(seg, t, s.u, s.v, n)
    k = len(c.new_seg)
    if k == 0:
        return graph, c.node
    su, sv = s.u[c.new_seg], s.v[c.new_seg]
    x = np.r_[graph.x, graph.x[su] + c.new_t * (graph.x[sv] - graph.x[su])]
    y = np.r_[graph.y, graph.y[su] + c.new_t * (graph.y[sv] - graph.y[su])]
    first_id = min(int(graph.node_id.min()) if n else 0, 0) - 1
    node_id = np.r_[graph.node_id, first_id - np.arange(k)]
    wu, wv = s.waits()
    span = c.t1 - c.t0
    at_u = np.where(c.t0 == 0, wu[c.seg], 0.0)
    at_v = np.where(c.t1 == 1, wv[c.seg], 0.0)
    pieces = Segments(c.a, c.b, s.travel_fwd_s[c.seg] * span, s.travel_back_s[c.seg] * span,
                      at_u, at_v)
    keep = np.ones(len(s.u), bool)
    keep[c.split] = False
    wu_all, wv_all = np.r_[wu[keep], at_u], np.r_[wv[keep], at_v]
    has_waits = s.wait_u_s is not None or s.wait_v_s is not None
    ends = s.boarded_at_ends
    segments = Segments(np.r_[s.u[keep], c.a], np.r_[s.v[keep], c.b],
                        np.r_[s.travel_fwd_s[keep], pieces.travel_fwd_s],
                        np.r_[s.travel_back_s[keep], pieces.travel_back_s],
                        wu_all if has_waits else None, wv_all if has_waits else None,
                        None if ends is None else np.r_[ends[keep], ends[c.seg]])
    fwd, back = pieces.fwd_s, pieces.back_s
    rows = np.r_[c.a, c.b]
    cols = np.r_[c.b, c.a]
    cost = np.r_[fwd, back]
    ok = np.isfinite(cost) & (rows != cols)
    time = append_edges(graph.time, n + k, rows[ok], cols[ok], cost[ok])
    return replace(graph, time=time, x=x, y=y, node_id=node_id, segments=segments), c.node


def append_edges(time: sp.csr_array, n: int, rows: np.ndarray, cols: np.ndarray,
                 cost: np.ndarray) -> sp.csr_array:
    """``time`` grown to ``n`` nodes with the edges (rows → cols, cost) added after each
    row's own (explicit zeros kept; no sorting of the old entries)."""
    old_n = time.shape[0]
    counts = np.zeros(n, np.int64)
    counts[:old_n] = np.diff(time.indptr)
    extra = np.bincount(rows, minlength=n)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts + extra, out=indptr[1:])
    total = int(indptr[-1])
    idx_dtype = np.int32 if n < 2**31 and total < 2**31 else np.int64
    indices = np.empty(total, idx_dtype)
    data = np.empty(total, float)
    old_rows = np.repeat(np.arange(old_n), counts[:old_n])
    pos = indptr[old_rows] + (np.arange(len(old_rows)) - time.indptr[old_rows])
    indices[pos] = time.indices
    data[pos] = time.data
    order = np.argsort(rows, kind="stable")
    r = rows[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r)
    pos_new = indptr[r] + counts[r] + rank
    indices[pos_new] = cols[order]
    data[pos_new] = cost[order]
    return sp.csr_array((data, indices, indptr.astype(idx_dtype)), shape=(n, n))
