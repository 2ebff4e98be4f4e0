"""Polygons of the True cells of a raster mask, traced with whole-array numpy operations.

The boundary of the mask is cut into unit cell edges, each directed with the True side on
its left; every edge's successor is found from the four cells around its end corner
(turning left at a diagonal touch, so regions are 4-connected as in GDAL's polygonize); the
successor cycles are the rings, ordered in one depth-first pass (scipy), and holes are given
to their region by a ray cast to the west. Shapely then builds every ring and polygon from
flat coordinate arrays: no Python object per ring is made before GEOS sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, depth_first_order

E, N, W, S = 0, 1, 2, 3  # directions of travel; the True cell is on the left


class Traced(NamedTuple):
    """What :func:`mask_polygons` returns."""

    polygons: np.ndarray  # shapely Polygons, one per region
    cells: np.ndarray  # (n, 2): a (row, column) of the mask inside each polygon
    area: np.ndarray  # area of each polygon (square metres, before ``transform``)


def mask_polygons(mask: np.ndarray, x0: float, y_top: float, cell: float, *,
                  smooth: bool = False, transform: Callable | None = None) -> Traced:
    """One polygon (with its holes) per 4-connected region of True cells of the north-up
    ``mask`` whose top-left corner is (``x0``, ``y_top``), square cells of ``cell`` metres.

    ``smooth=False``: the cells' outline, corners only (rings may touch at a corner, as
    GDAL's polygonize makes them). ``smooth=True``: the outline with every corner cut from
    the middle of one cell side to the middle of the next (the marching-squares contour at
    0.5 of the mask: rings never touch and staircases become straight lines), within half
    a cell of the outline, so no GEOS simplify is needed. ``transform(x, y) -> (x, y)``
    maps the vertices (e.g. to WGS-84) before the geometries are built; areas are
    measured before it.
    """
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    if not m.any():
        return Traced(np.empty(0, dtype=object), np.zeros((0, 2), np.int64), np.zeros(0))
    p = np.zeros((h + 2, w + 2), dtype=bool)  # a False frame: every ring closes
    p[1:-1, 1:-1] = m
    e = _edges(p)
    succ = _successors(p, e)
    ring_of, order, first = _rings(succ)
    if not smooth and _split_touches(e, succ, ring_of):  # smooth rings never touch
        ring_of, order, first = _rings(succ)
    n_rings = len(first)
    # signed area (shoelace over the unit edges, corner units): > 0 shell, < 0 hole
    sx, sy, ex, ey = e["c0"], -e["r0"], e["c1"], -e["r1"]
    area2 = np.bincount(ring_of, weights=(sx * ey - ex * sy).astype(float), minlength=n_rings)
    shell = area2 > 0
    root = _owner(p, e, ring_of, shell)
    d = e["dir"][order]
    before, after = np.empty_like(d), np.empty_like(d)  # directions of the edges around
    before[1:], after[:-1] = d[:-1], d[1:]
    last = np.r_[first[1:], len(order)] - 1  # position of each ring's last edge in order
    before[first], after[last] = d[last], d[first]
    if smooth:  # midpoints of the edges, kept where the outline turns (marching squares)
        keep = before != after
        k = order[keep]
        fx, fy = (e["c0"][k] + e["c1"][k]) / 2, (e["r0"][k] + e["r1"][k]) / 2
    else:  # the corners: where the direction changes
        keep = d != before
        k = order[keep]
        fx, fy = e["c0"][k].astype(float), e["r0"][k].astype(float)
    ring = ring_of[order][keep]
    fx, fy = fx - 1, fy - 1  # corner units of the mask (the frame taken off)
    # areas from the vertices (shoelace, cell units): shells count, holes subtract
    start = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    nxt = np.arange(1, len(ring) + 1)
    nxt[np.r_[start[1:], len(ring)] - 1] = start
    ring_area = np.bincount(ring, weights=fx * fy[nxt] - fx[nxt] * fy, minlength=n_rings) / 2
    x, y = x0 + fx * cell, y_top - fy * cell
    if transform is not None:
        x, y = transform(x, y)
    rings = shapely.linearrings(np.column_stack([x, y]), indices=ring)
    by_poly = np.lexsort((~shell, root))  # per polygon: its shell, then its holes
    poly_ids, poly_index = np.unique(root[by_poly], return_inverse=True)
    polys = shapely.polygons(rings[by_poly], indices=poly_index)
    area = np.bincount(poly_index, weights=-ring_area[by_poly]) * cell * cell
    # a True cell inside each polygon: the left cell of the shell's first edge
    k = order[first[poly_ids]]
    return Traced(polys, np.column_stack([e["lr"][k], e["lc"][k]]) - 1, area)


def _edges(p: np.ndarray) -> dict:
    """Directed unit boundary edges of the framed mask ``p``: start and end corners (row,
    column of the corner grid), direction, the True cell on the left, and for vertical
    edges their position among all vertical edges (row-major)."""
    hor = np.flatnonzero(p[1:] != p[:-1])  # between cell rows i and i+1: corner row i+1
    ver = np.flatnonzero(p[:, 1:] != p[:, :-1])  # between columns j and j+1: corner col j+1
    wh, wv = p.shape[1], p.shape[1] - 1
    hi, hj = hor // wh, hor % wh
    r = hi + 1
    below = p[r, hj]  # True below: the edge runs west, else east
    vr, vj = ver // wv, ver % wv
    c = vj + 1
    east = p[vr, c]  # True to the east: the edge runs south, else north
    r0 = np.concatenate([r, np.where(east, vr, vr + 1)])
    r1 = np.concatenate([r, np.where(east, vr + 1, vr)])
    c0 = np.concatenate([np.where(below, hj + 1, hj), c])
    c1 = np.concatenate([np.where(below, hj, hj + 1), c])
    d = np.concatenate([np.where(below, W, E), np.where(east, S, N)]).astype(np.int8)
    lr = np.concatenate([np.where(below, r, r - 1), vr])
    lc = np.concatenate([hj, np.where(east, c, c - 1)])
    return {"r0": r0, "c0": c0, "r1": r1, "c1": c1, "dir": d, "lr": lr, "lc": lc,
            "hor": hor, "ver": ver, "n_hor": len(hor)}


def _turn_table() -> np.ndarray:
    """New direction by (direction, cells around the end corner: NW 1, NE 2, SW 4, SE 8):
    turn left when the cell ahead-left is False (also at a diagonal touch), go straight
    when only it is True, turn right when both cells ahead are True."""
    ahead = {E: (2, 8), N: (1, 2), W: (4, 1), S: (8, 4)}  # (ahead-left, ahead-right) bits
    out = np.zeros(64, dtype=np.int8)
    for d, (left, right) in ahead.items():
        for code in range(16):
            turn = 1 if not code & left else (0 if not code & right else 3)
            out[d * 16 + code] = (d + turn) % 4
    return out


_TURN = _turn_table()


def _corner_code(p: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The four cells around corners (r, c) of the framed mask as bits NW 1, NE 2, SW 4,
    SE 8."""
    flat = p.view(np.uint8).ravel()
    at = (r - 1) * p.shape[1] + (c - 1)
    return flat[at] | flat[at + 1] << 1 | flat[at + p.shape[1]] << 2 | \
        flat[at + p.shape[1] + 1] << 3


def _successors(p: np.ndarray, e: dict) -> np.ndarray:
    """Index of the edge that follows each edge at its end corner (see :func:`_turn_table`)."""
    r, c = e["r1"], e["c1"]
    e["code"] = code = _corner_code(p, r, c)
    nd = _TURN[e["dir"] * 16 + code]
    wh, wv = p.shape[1], p.shape[1] - 1
    is_hor = (nd == E) | (nd == W)
    h, v = np.flatnonzero(is_hor), np.flatnonzero(~is_hor)
    out = np.empty(len(nd), dtype=np.int64)
    out[h] = np.searchsorted(e["hor"], (r[h] - 1) * wh + c[h] - (nd[h] == W))
    out[v] = e["n_hor"] + np.searchsorted(e["ver"], (r[v] - (nd[v] == N)) * wv + c[v] - 1)
    return out


def _split_touches(e: dict, succ: np.ndarray, ring_of: np.ndarray) -> bool:
    """Where a ring passes a diagonal touch twice, swap the two ways out, splitting it into
    two rings that meet at that corner (a valid shell and hole, or two holes, as GDAL
    makes them); touches between different rings stay as they are. True if any split."""
    at = np.flatnonzero((e["code"] == 6) | (e["code"] == 9))
    if not len(at):
        return False
    at = at[np.argsort(e["r1"][at] * (e["c1"].max() + 2) + e["c1"][at], kind="stable")]
    a, b = at[0::2], at[1::2]  # the two edges into each touching corner
    same = ring_of[a] == ring_of[b]
    a, b = a[same], b[same]
    succ[a], succ[b] = succ[b], succ[a].copy()
    return bool(len(a))


def _rings(succ: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cycles of the permutation ``succ``: ring of each edge (numbered in walk order),
    all edges in walk order, and the position in that order where each ring starts."""
    n = len(succ)
    one = np.ones(n, dtype=np.int8)
    _, label = connected_components(csr_matrix((one, (np.arange(n), succ)), shape=(n, n)),
                                    directed=True, connection="weak")
    rep = np.flatnonzero(np.r_[True, label[1:] > np.maximum.accumulate(label)[:-1]])
    # the labels are numbered by first edge; join the cycles into one path and walk it
    pred = np.empty(n, dtype=np.int64)
    pred[succ] = np.arange(n)
    nxt = succ.copy()
    nxt[pred[rep[:-1]]] = rep[1:]
    keep = np.ones(n, bool)
    keep[pred[rep[-1]]] = False
    src = np.flatnonzero(keep)
    order = depth_first_order(csr_matrix((one[keep], (src, nxt[keep])), shape=(n, n)),
                              int(rep[0]), directed=True, return_predecessors=False)
    is_first = np.zeros(n, bool)
    is_first[rep] = True
    first = np.flatnonzero(is_first[order])
    ring_in_order = np.cumsum(is_first[order]) - 1
    ring_of = np.empty(n, dtype=np.int64)
    ring_of[order] = ring_in_order
    return ring_of, order, first


def _owner(p: np.ndarray, e: dict, ring_of: np.ndarray, shell: np.ndarray) -> np.ndarray:
    """The shell ring of the region each ring bounds. From the westmost northward edge of a
    hole (True cell to its west, in the region), go west through True cells to the first
    southward edge: it bounds the same region, further west; follow until a shell."""
    n_rings = len(shell)
    parent = np.arange(n_rings)
    d = e["dir"]
    north = np.flatnonzero((d == N) & ~shell[ring_of])
    if len(north):
        # the westmost northward edge of each hole (ties: any)
        key = e["c0"][north] * (len(d) + 1) + north
        best = np.full(n_rings, np.iinfo(np.int64).max)
        np.minimum.at(best, ring_of[north], key)
        holes = np.flatnonzero(best < np.iinfo(np.int64).max)
        k = best[holes] % (len(d) + 1)
        south = np.flatnonzero(d == S)
        wc = p.shape[1] + 1
        s_key = e["r0"][south] * wc + e["c0"][south]  # sorted: row-major
        at = np.searchsorted(s_key, e["r1"][k] * wc + e["c0"][k]) - 1
        parent[holes] = ring_of[south[at]]
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent = up
