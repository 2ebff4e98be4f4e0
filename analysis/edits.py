"""Network edits as scenarios: add a stair, lift, escalator, footbridge or passage (a line
joined to the network at its ends), or close the stretch of network a line covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analysis.walk_network import (
    SEGMENT_COLUMNS,
    WalkNetwork,
    nearest_on_segments,
    segment_lines,
    split_segments,
)

ADDED_KIND = {"stairs": "steps", "elevator": "elevator", "escalator": "escalator",
              "footbridge": "footbridge", "passage": "passage"}
EDIT_KINDS = (*ADDED_KIND, "closed")
DIRECTIONS = {"both": 0, "forward": 1, "backward": -1}
INCLINES = {"": 0, "up": 1, "down": -1}
DEFAULT_MAX_GAP_M = 50.0  # farthest an added line's end may be from the network
DEFAULT_CLOSE_TOL_M = 5.0  # a closed line closes the segments within this distance of it
JUNCTION_TOL_M = 1.0  # added lines whose ends meet within this distance join each other


class EditRefused(ValueError):
    """Edits that cannot be applied; ``problems`` holds ``(line index, text)`` pairs."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        super().__init__("; ".join(f"line {i + 1}: {t}" for i, t in problems))


@dataclass(frozen=True)
class Edited:
    """The edited network; ``added``: its segments drawn by the edits (indices);
    ``closed``: (k, 2, 2) start and end points (m) of the segments the closures removed;
    ``gap_m``: per edit line, how far its start and end were from where they joined (0 for
    ends joined to another added line, NaN for closures)."""

    network: WalkNetwork
    added: np.ndarray
    closed: np.ndarray
    gap_m: np.ndarray


def apply_edits(net: WalkNetwork, lines: Sequence[np.ndarray], kinds: Sequence[str], *,
                closed: Sequence[bool] | None = None, direction: Sequence[str] | None = None,
                incline: Sequence[str] | None = None, step_count: Sequence[float] | None = None,
                max_gap_m: float = DEFAULT_MAX_GAP_M,
                close_tol_m: float = DEFAULT_CLOSE_TOL_M) -> Edited:
    """Apply edit lines (vertex arrays in the network's metres) to ``net``.

    ``kinds``: one of :data:`EDIT_KINDS` per line; a line of kind ``closed`` (or with
    ``closed`` true) removes the segments lying within ``close_tol_m`` of it, after cutting
    the network at its ends. Every other line is added: its ends join the nearest point of
    the network (cutting that segment; an end within 1 m of another added line's end joins
    that line instead), each end at most ``max_gap_m`` away; its segments get the kind
    (stairs → steps), ``direction`` (both, forward, backward along the drawing),
    ``incline`` (up, down) and ``step_count`` given. Closures apply before additions.
    Raises :class:`EditRefused` naming every line that cannot be applied.
    """
    m = len(lines)
    kinds = [str(k) for k in kinds]
    closed = np.zeros(m, bool) if closed is None else np.asarray(closed, bool)
    direction = ["both"] * m if direction is None else [d or "both" for d in direction]
    incline = [""] * m if incline is None else [i or "" for i in incline]
    counts = np.full(m, np.nan) if step_count is None else np.asarray(step_count, float)
    lines = [np.asarray(a, float).reshape(-1, 2) for a in lines]
    _check(lines, kinds, direction, incline, counts)
    shut = closed | (np.array(kinds, dtype=object) == "closed")
    gap = np.full((m, 2), np.nan)
    net, removed = _close(net, [lines[i] for i in np.flatnonzero(shut)], np.flatnonzero(shut),
                          max_gap_m, close_tol_m)
    add = np.flatnonzero(~shut)
    net, added, gap[add] = _add(net, [lines[i] for i in add], add, [kinds[i] for i in add],
                                [direction[i] for i in add], [incline[i] for i in add],
                                counts[add], max_gap_m)
    return Edited(net, added, removed, gap)


def _check(lines, kinds, direction, incline, counts) -> None:
    problems = []
    for i, (xy, k) in enumerate(zip(lines, kinds)):
        if k not in EDIT_KINDS:
            problems.append((i, f"kind {k!r} is not one of {', '.join(EDIT_KINDS)}"))
        if len(xy) < 2 or not np.isfinite(xy).all():
            problems.append((i, "a line needs at least two points with finite coordinates"))
        elif np.hypot(*np.diff(xy, axis=0).T).sum() == 0:
            problems.append((i, "the line has zero length"))
        if direction[i] not in DIRECTIONS:
            problems.append((i, f"direction {direction[i]!r} is not one of "
                                f"{', '.join(DIRECTIONS)}"))
        if incline[i] not in INCLINES:
            problems.append((i, f"incline {incline[i]!r} is not up or down"))
        if np.isfinite(counts[i]) and counts[i] < 1:
            problems.append((i, f"step_count {counts[i]:g} is not a count of steps (≥ 1)"))
    if problems:
        raise EditRefused(problems)


def _ends_on_network(net: WalkNetwork, px, py, rows, max_gap_m: float, what: str):
    """Nearest segment point of each end, or EditRefused for ends beyond ``max_gap_m``."""
    import shapely

    cand = np.arange(net.n_segments)
    tree = shapely.STRtree(segment_lines(net.x, net.y, net.u, net.v))
    seg, t, dist = nearest_on_segments(tree, cand, net.x, net.y, net.u, net.v, px, py,
                                       max_gap_m)
    far = np.flatnonzero(seg < 0)
    if len(far):
        raise EditRefused([(int(rows[i]), f"its {what[i]} is {dist[i]:,.0f} m from the "
                            f"network (at most {max_gap_m:g} m): draw it to a street")
                           for i in far])
    return seg, t, dist


def _close(net: WalkNetwork, lines, rows, max_gap_m, tol):
    """Cut the network at the closed lines' ends, then drop the segments within ``tol``."""
    import shapely

    if not len(lines):
        return net, np.zeros((0, 2, 2))
    ends = np.array([[a[0], a[-1]] for a in lines]).reshape(-1, 2)
    which = np.repeat(rows, 2)
    what = np.tile(["start", "end"], len(lines))
    seg, t, _ = _ends_on_network(net, ends[:, 0], ends[:, 1], which, max_gap_m, what)
    net, _ = split_segments(net, seg, t)
    zones = shapely.buffer(np.array([shapely.LineString(a) for a in lines]), tol + 1e-6)
    segs = segment_lines(net.x, net.y, net.u, net.v)
    zone, hit = shapely.STRtree(segs).query(zones, predicate="contains")
    empty = np.setdiff1d(np.arange(len(lines)), zone)
    if len(empty):
        raise EditRefused([(int(rows[i]), f"the closed line covers no street segment: draw "
                            f"it along the street, within {tol:g} m") for i in empty])
    hit = np.unique(hit)
    gone = np.stack([np.column_stack([net.x[net.u[hit]], net.y[net.u[hit]]]),
                     np.column_stack([net.x[net.v[hit]], net.y[net.v[hit]]])], axis=1)
    keep = np.ones(net.n_segments, bool)
    keep[hit] = False
    return replace(net, **net.segment_rows(keep)), gone


def _add(net: WalkNetwork, lines, rows, kinds, direction, incline, counts, max_gap_m):
    """Add the lines as new segments joined at their ends."""
    from scipy.spatial import cKDTree

    k = len(lines)
    if k == 0:
        return net, np.zeros(0, np.int64), np.zeros((0, 2))
    ends = np.array([[a[0], a[-1]] for a in lines]).reshape(-1, 2)  # 2 per line
    # ends meeting other lines' ends: one shared junction node each, not on the network
    pairs = cKDTree(ends).query_pairs(JUNCTION_TOL_M, output_type="ndarray")
    pairs = pairs[pairs[:, 0] // 2 != pairs[:, 1] // 2] if len(pairs) else pairs
    group = np.arange(len(ends))
    for _ in range(len(ends)):  # smallest index of each connected group of ends
        if not len(pairs):
            break
        low = np.minimum(group[pairs[:, 0]], group[pairs[:, 1]])
        nxt = group.copy()
        np.minimum.at(nxt, pairs[:, 0], low)
        np.minimum.at(nxt, pairs[:, 1], low)
        if np.array_equal(nxt, group):
            break
        group = nxt
    junction = np.isin(np.arange(len(ends)), pairs.ravel()) if len(pairs) else \
        np.zeros(len(ends), bool)
    on_net = np.flatnonzero(~junction)
    what = np.tile(["start", "end"], k)
    gap = np.zeros(len(ends))
    seg, t, dist = _ends_on_network(net, ends[on_net, 0], ends[on_net, 1],
                                    np.repeat(rows, 2)[on_net], max_gap_m, what[on_net])
    gap[on_net] = dist
    net, end_node = split_segments(net, seg, t)
    node_of_end = np.full(len(ends), -1, np.int64)
    node_of_end[on_net] = end_node
    # junction nodes: one per group, at the group's first end
    roots = np.unique(group[junction])
    n0 = net.n_nodes
    root_node = n0 + np.arange(len(roots))
    node_of_end[junction] = root_node[np.searchsorted(roots, group[junction])]
    jx, jy = ends[roots, 0], ends[roots, 1]
    # interior vertices: new nodes
    inner = [a[1:-1] for a in lines]
    n_inner = np.array([len(a) for a in inner])
    inner_xy = np.concatenate(inner) if n_inner.sum() else np.zeros((0, 2))
    first_inner = n0 + len(roots) + np.r_[0, np.cumsum(n_inner)[:-1]]
    # the vertex nodes of each line, its ends on the network (or junction) points
    vert_nodes, vert_line = [], []
    for i in range(k):
        vert_nodes.append(np.r_[node_of_end[2 * i], first_inner[i] + np.arange(n_inner[i]),
                                node_of_end[2 * i + 1]])
        vert_line.append(np.full(n_inner[i] + 2, i))
    nodes = np.concatenate(vert_nodes)
    line_of = np.concatenate(vert_line)
    x = np.r_[net.x, jx, inner_xy[:, 0]]
    y = np.r_[net.y, jy, inner_xy[:, 1]]
    same = line_of[1:] == line_of[:-1]
    a, b, seg_line = nodes[:-1][same], nodes[1:][same], line_of[:-1][same]
    length = np.hypot(x[b] - x[a], y[b] - y[a])
    total = np.bincount(seg_line, weights=length, minlength=k)[seg_line]
    share = np.where(total > 0, length / np.where(total > 0, total, 1), 1.0)
    z = _added_heights(net, nodes, line_of, x, y, len(x))
    codes = []
    for name in kinds:
        net, code = net.kind_code(ADDED_KIND[name])
        codes.append(code)
    new = {"u": a, "v": b, "length_m": length, "kind": np.array(codes)[seg_line],
           "direction": np.array([DIRECTIONS[d] for d in direction])[seg_line],
           "incline": np.array([INCLINES[d] for d in incline])[seg_line],
           "steps": counts[seg_line] * share, "way_share": share}
    cols = {c: np.concatenate([getattr(net, c), np.asarray(new[c]).astype(getattr(net, c).dtype)])
            for c in SEGMENT_COLUMNS}
    extra = len(x) - net.n_nodes
    first_id = min(int(net.node_id.min()) if net.n_nodes else 0, 0) - 1
    out = replace(net, x=x, y=y, z=z, node_id=np.r_[net.node_id, first_id - np.arange(extra)],
                  lift=np.r_[net.lift, np.zeros(extra, bool)], **cols)
    return out, net.n_segments + np.arange(len(a)), gap.reshape(-1, 2)


def _added_heights(net, nodes, line_of, x, y, n):
    """Elevations of the nodes: the network's; new ones interpolated along their line
    between its ends' (NaN when either is unknown)."""
    z = np.r_[net.z, np.full(n - net.n_nodes, np.nan)]
    start = np.r_[0, np.flatnonzero(np.diff(line_of)) + 1]
    stop = np.r_[start[1:], len(nodes)] - 1
    step = np.r_[0.0, np.hypot(np.diff(x[nodes]), np.diff(y[nodes]))]
    step[start] = 0.0
    along = np.cumsum(step)
    along = along - along[start][line_of]
    total = along[stop][line_of]
    za, zb = z[nodes[start]][line_of], z[nodes[stop]][line_of]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, along / total, 0.0)
    new = nodes >= net.n_nodes
    z[nodes[new]] = (za + share * (zb - za))[new]
    return z
