"""The walk network as arrays (metres): nodes, undirected segments and what each segment is
(its connector kind, direction, incline, steps), the input of walker-profile graphs and of
network edits; and splitting segments at points along them."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

STREET = "street"


@dataclass(frozen=True)
class WalkNetwork:
    """Nodes and undirected straight segments of a walk network, in metres.

    Nodes: ``x``, ``y`` (m, in ``crs``), ``node_id`` (source ids; split nodes get new
    negative ids), ``z`` (elevation m, NaN unknown), ``lift`` (an elevator node: passing it
    costs the elevator's wait). Segments: ``u``, ``v`` (node indices), ``length_m``,
    ``kind`` (codes into ``kinds``: street, steps, escalator …), ``direction`` (0 both ways,
    1 only u→v, -1 only v→u), ``incline`` (1 rises u→v, -1 falls, 0 unknown), ``steps``
    (steps on the segment, NaN unknown), ``way_share`` (share of its way: a way's wait is
    paid once over the whole way).
    """

    x: np.ndarray
    y: np.ndarray
    crs: str
    node_id: np.ndarray
    z: np.ndarray
    lift: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    kind: np.ndarray
    kinds: tuple[str, ...]
    direction: np.ndarray
    incline: np.ndarray
    steps: np.ndarray
    way_share: np.ndarray
    # signalled crossing nodes (highway/crossing=traffic_signals), by node index; nodes past
    # its end (split and edit nodes) are not; None: none
    signal: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_segments(self) -> int:
        return len(self.u)

    def kind_names(self) -> np.ndarray:
        """Kind name of every segment (object array)."""
        return np.asarray(self.kinds, dtype=object)[self.kind]

    def kind_code(self, name: str) -> tuple[WalkNetwork, int]:
        """The network (with ``name`` added to ``kinds`` when new) and the code of ``name``."""
        if name in self.kinds:
            return self, self.kinds.index(name)
        return replace(self, kinds=(*self.kinds, name)), len(self.kinds)

    def segment_rows(self, keep: np.ndarray) -> dict:
        """The segment columns restricted to ``keep`` (mask or indices)."""
        return {c: getattr(self, c)[keep] for c in SEGMENT_COLUMNS}


SEGMENT_COLUMNS = ("u", "v", "length_m", "kind", "direction", "incline", "steps", "way_share")


def walk_network(edges: pd.DataFrame, u: np.ndarray, v: np.ndarray, *, x: np.ndarray,
                 y: np.ndarray, crs: str, node_id: np.ndarray | None = None,
                 z: np.ndarray | None = None, lift: np.ndarray | None = None,
                 signal: np.ndarray | None = None) -> WalkNetwork:
    """A :class:`WalkNetwork` from a segment table (``length_m`` and, where present,
    ``kind``, ``direction``, ``incline``, ``steps``, ``way_share``; a table without ``kind``
    counts ``highway=steps`` as steps) and the node index of each segment's ends."""
    n, m = len(x), len(edges)
    if "kind" in edges.columns:
        kind = pd.Categorical(edges["kind"])
        codes = np.asarray(kind.codes, np.int64)
        kinds = tuple(str(c) for c in kind.categories)
        if (codes < 0).any():  # missing kinds are streets
            kinds, codes = _with_street(kinds, codes)
    else:
        steps = (edges["highway"] == "steps").to_numpy(bool) if "highway" in edges.columns \
            else np.zeros(m, bool)
        kinds, codes = (STREET, "steps"), steps.astype(np.int64)

    def col(name, default, dtype):
        return edges[name].to_numpy(dtype) if name in edges.columns \
            else np.full(m, default, dtype=dtype)

    return WalkNetwork(
        x=np.asarray(x, float), y=np.asarray(y, float), crs=crs,
        node_id=np.arange(n, dtype=np.int64) if node_id is None else np.asarray(node_id),
        z=np.full(n, np.nan) if z is None else np.asarray(z, float),
        lift=np.zeros(n, bool) if lift is None else np.asarray(lift, bool),
        u=np.asarray(u, np.int64), v=np.asarray(v, np.int64),
        length_m=edges["length_m"].to_numpy(float), kind=codes, kinds=kinds,
        direction=col("direction", 0, np.int8), incline=col("incline", 0, np.int8),
        steps=col("steps", np.nan, float), way_share=col("way_share", 1.0, float),
        signal=None if signal is None else np.asarray(signal, bool))


def _with_street(kinds: tuple[str, ...], codes: np.ndarray):
    if STREET not in kinds:
        kinds = (*kinds, STREET)
    return kinds, np.where(codes < 0, kinds.index(STREET), codes)


@dataclass(frozen=True)
class Chain:
    """Points on segments put in order along each segment.

    ``node``: for each point, the node it sits on (a segment end at t = 0 or 1, else a new
    node ``n + k``); ``new_seg``/``new_t``: segment and fraction of each new node; pieces of
    the split segments, in order along them: ``seg`` (the segment), ``t0``/``t1`` (fractions
    of its ends), ``a``/``b`` (their nodes); ``split``: the segments cut.
    """

    node: np.ndarray
    new_seg: np.ndarray
    new_t: np.ndarray
    seg: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    a: np.ndarray
    b: np.ndarray
    split: np.ndarray


def chain(seg: np.ndarray, t: np.ndarray, u: np.ndarray, v: np.ndarray, n: int) -> Chain:
    """Put points at fractions ``t`` (0…1) along segments ``seg`` (of ends ``u``, ``v``,
    ``n`` nodes) into chains: points at the same place share a node."""
    seg = np.asarray(seg, np.int64)
    t = np.asarray(t, float)
    node = np.where(t <= 0, u[seg], v[seg]).astype(np.int64)
    inner = np.flatnonzero((t > 0) & (t < 1))
    order = np.lexsort((t[inner], seg[inner]))  # by segment, then along it
    s_sorted, t_sorted = seg[inner][order], t[inner][order]
    fresh = np.r_[True, (s_sorted[1:] != s_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])] \
        if len(order) else np.zeros(0, bool)
    codes = np.empty(len(order), np.int64)
    codes[order] = np.cumsum(fresh) - 1
    new_seg, new_t = s_sorted[fresh], t_sorted[fresh]
    node[inner] = n + codes
    k = len(new_seg)
    first = np.r_[True, new_seg[1:] != new_seg[:-1]] if k else np.zeros(0, bool)
    last = np.r_[new_seg[1:] != new_seg[:-1], True] if k else np.zeros(0, bool)
    ids = n + np.arange(k)
    # a piece ends at each new node (from the previous one, or the segment's u) and one more
    # runs from the last new node of a segment to its v
    prev = np.where(first, u[new_seg], np.r_[-1, ids[:-1]] if k else ids)
    prev_t = np.where(first, 0.0, np.r_[0.0, new_t[:-1]] if k else new_t)
    piece_seg = np.r_[new_seg, new_seg[last]]
    t0 = np.r_[prev_t, new_t[last]]
    t1 = np.r_[new_t, np.ones(int(last.sum()))]
    a = np.r_[prev, ids[last]]
    b = np.r_[ids, v[new_seg[last]]]
    order = np.lexsort((t0, piece_seg))
    return Chain(node, new_seg, new_t, piece_seg[order], t0[order], t1[order], a[order],
                 b[order], new_seg[first])


def split_segments(net: WalkNetwork, seg: np.ndarray, t: np.ndarray
                   ) -> tuple[WalkNetwork, np.ndarray]:
    """Insert nodes at fractions ``t`` along segments ``seg``; each cut segment becomes its
    pieces, with lengths, steps and way shares pro rata and elevations interpolated.

    Returns the new network and the node of each point (a segment end when ``t`` is 0 or 1).
    """
    n = net.n_nodes
    c = chain(seg, t, net.u, net.v, n)
    if len(c.new_seg) == 0:
        return net, c.node
    su, sv = net.u[c.new_seg], net.v[c.new_seg]
    x = np.r_[net.x, net.x[su] + c.new_t * (net.x[sv] - net.x[su])]
    y = np.r_[net.y, net.y[su] + c.new_t * (net.y[sv] - net.y[su])]
    z = np.r_[net.z, net.z[su] + c.new_t * (net.z[sv] - net.z[su])]
    first_id = min(int(net.node_id.min()) if n else 0, 0) - 1
    node_id = np.r_[net.node_id, first_id - np.arange(len(c.new_seg))]
    keep = np.ones(net.n_segments, bool)
    keep[c.split] = False
    old = net.segment_rows(keep)
    span = c.t1 - c.t0
    new = {"u": c.a, "v": c.b, "length_m": net.length_m[c.seg] * span,
           "kind": net.kind[c.seg], "direction": net.direction[c.seg],
           "incline": net.incline[c.seg], "steps": net.steps[c.seg] * span,
           "way_share": net.way_share[c.seg] * span}
    cols = {k: np.concatenate([old[k], np.asarray(new[k]).astype(old[k].dtype)])
            for k in SEGMENT_COLUMNS}
    out = replace(net, x=x, y=y, z=z, node_id=node_id,
                  lift=np.r_[net.lift, np.zeros(len(c.new_seg), bool)], **cols)
    return out, c.node


def segment_lines(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shapely lines of segments (ends ``u``, ``v``) between nodes at ``x``, ``y``."""
    import shapely

    a = np.column_stack([x[u], y[u]])
    b = np.column_stack([x[v], y[v]])
    return shapely.linestrings(np.stack([a, b], axis=1))


def project(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, px: np.ndarray,
            py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fraction (0…1 from ``u``) of the point of each segment ``u``–``v`` nearest to
    (``px``, ``py``), and the distance to it."""
    ax, ay = x[u], y[u]
    dx, dy = x[v] - ax, y[v] - ay
    l2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(l2 > 0, ((px - ax) * dx + (py - ay) * dy) / l2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return t, np.hypot(ax + t * dx - px, ay + t * dy - py)


def nearest_on_segments(tree, cand: np.ndarray, x, y, u, v, px, py, max_dist_m: float,
                        node_tree=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point: the nearest segment among ``cand`` (an STRtree ``tree`` of their
    lines; -1 beyond ``max_dist_m``; of equally near ones the lowest index), the fraction
    along it and the distance (m; for points beyond, the distance to the nearest segment at
    any distance).

    The distance to the nearest end node of a candidate (``node_tree``: a KD-tree of those
    nodes, built when not given) bounds the answer, so the segments whose boxes meet the
    point's box of that half-size hold it: an envelope query, then exact projections.
    """
    import shapely
    from scipy.spatial import cKDTree

    n = len(px)
    seg = np.full(n, -1, np.int64)
    t = np.zeros(n)
    dist = np.full(n, np.inf)
    if n == 0 or len(cand) == 0:
        return seg, t, dist
    if node_tree is None:
        ends = np.unique(np.r_[u[cand], v[cand]])
        node_tree = cKDTree(np.column_stack([x[ends], y[ends]]))
    bound = node_tree.query(np.column_stack([px, py]))[0]
    r = np.minimum(bound, max_dist_m)
    p, k = tree.query(shapely.box(px - r, py - r, px + r, py + r))
    k = cand[k]
    tk, dk = project(x, y, u[k], v[k], px[p], py[p])
    order = np.lexsort((k, dk, p))  # per point: nearest first, then the lowest index
    p, k, tk, dk = p[order], k[order], tk[order], dk[order]
    first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, bool)
    p, k, tk, dk = p[first], k[first], tk[first], dk[first]
    ok = dk <= max_dist_m
    seg[p[ok]], t[p[ok]], dist[p[ok]] = k[ok], tk[ok], dk[ok]
    off = np.flatnonzero(seg < 0)  # beyond max_dist_m: how far, at any distance
    if len(off):
        pts = shapely.points(px[off], py[off])
        p, k = tree.query_nearest(pts, all_matches=True)
        p, k = _first_per_point(p, cand[k])
        dist[off[p]] = project(x, y, u[k], v[k], px[off[p]], py[off[p]])[1]
    return seg, t, dist


def _first_per_point(p: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One (point, segment) pair per point: the lowest segment index."""
    order = np.lexsort((k, p))
    p, k = p[order], k[order]
    first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, bool)
    return p[first], k[first]
