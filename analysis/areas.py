"""Polygons from network results: facility isochrones, gap areas and life circles."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from analysis.graph import WalkGraph

DEFAULT_BUFFER_M = 25.0  # half-width of the walkable band drawn along reached streets
BAND_MAX_CELLS = 16_000_000  # raster size above which band_cell_m coarsens the cell


def reached_segments(graph: WalkGraph, node_time_s: np.ndarray, limit_s: float) -> np.ndarray:
    """Street pieces reachable within ``limit_s``, including partly walked edges.

    ``node_time_s`` are times *to* the facility. For each directed edge i→j of time w,
    the piece next to j is walkable for a fraction (limit − t[j]) / w of the edge.
    Returns shapely LineStrings in the graph's CRS.
    """
    a, b = reached_pieces(graph.time.tocoo(), graph.x, graph.y, node_time_s, limit_s)
    return shapely.linestrings(np.stack([a, b], axis=1))


def reached_pieces(coo, x: np.ndarray, y: np.ndarray, node_time_s: np.ndarray,
                   limit_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points (two ``(n, 2)`` arrays, metres) of the reached street pieces of
    :func:`reached_segments`, without building geometries; a street walked whole in both
    directions is given once."""
    i, j, w = coo.row, coo.col, coo.data
    tj = node_time_s[j]
    ok = np.isfinite(tj) & (tj <= limit_s)
    i, j, w, tj = i[ok], j[ok], w[ok], tj[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(w > 0, np.clip((limit_s - tj) / w, 0.0, 1.0), 1.0)
    whole = np.flatnonzero(frac >= 1.0)
    if len(whole):  # i→j and j→i both walked whole: the same street, keep one
        key = np.minimum(i[whole], j[whole]) * (len(x) + 1) + np.maximum(i[whole], j[whole])
        drop = np.ones(len(whole), bool)
        drop[np.unique(key, return_index=True)[1]] = False
        if drop.any():
            keep = np.ones(len(i), bool)
            keep[whole[drop]] = False
            i, j, frac = i[keep], j[keep], frac[keep]
    x0, y0 = x[j], y[j]
    return (np.column_stack([x0, y0]),
            np.column_stack([x0 + frac * (x[i] - x0), y0 + frac * (y[i] - y0)]))


def band_cell_m(extent_m2: float, buffer_m: float = DEFAULT_BUFFER_M) -> float:
    """Raster cell (m) for the band over an extent of ``extent_m2`` square metres: fine
    (``buffer_m``/2.5, 10 m by default) up to :data:`BAND_MAX_CELLS` cells, coarser for city
    extents so the raster stays that size, and at most ``buffer_m``/1.25 (20 m), so that
    every reached street point is still inside the band (see :func:`band_polygon`)."""
    want = float(np.sqrt(max(extent_m2, 0.0) / BAND_MAX_CELLS))
    return float(np.clip(want, buffer_m / 2.5, buffer_m / 1.25))


def band(lines: np.ndarray, buffer_m: float = DEFAULT_BUFFER_M, *,
         cell_m: float | None = None) -> shapely.Geometry:
    """The area within ``buffer_m`` of the lines (metres), on a raster: see
    :func:`band_of_pieces`."""
    lines = np.asarray(lines, dtype=object)
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return shapely.Polygon()
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    return band_of_pieces(xy[:-1][same], xy[1:][same], buffer_m, cell_m=cell_m)


def band_of_pieces(a: np.ndarray, b: np.ndarray, buffer_m: float = DEFAULT_BUFFER_M, *,
                   cell_m: float | None = None) -> shapely.Geometry:
    """The area within ``buffer_m`` of the straight pieces from ``a[k]`` to ``b[k]``
    (``(n, 2)`` arrays, metres), as a (multi)polygon: see :func:`band_polygon`."""
    return band_polygon(a, b, buffer_m, cell_m=cell_m).geometry


class Band(NamedTuple):
    """What :func:`band_polygon` returns."""

    geometry: shapely.Geometry  # in the CRS ``transform`` maps to (default: metres)
    area_m2: float
    cell_m: float


def band_polygon(a: np.ndarray, b: np.ndarray, buffer_m: float = DEFAULT_BUFFER_M, *,
                 cell_m: float | None = None, transform: Callable | None = None) -> Band:
    """The area within ``buffer_m`` of the straight pieces from ``a[k]`` to ``b[k]``
    (``(n, 2)`` arrays, metres): its (multi)polygon, area and raster cell.

    On a raster of ``cell_m`` squares (default :func:`band_cell_m` of the pieces' extent),
    a cell is in the band when its centre is within ``buffer_m`` of a piece (exactly: each
    piece's capsule is cut into row intervals); the cells are traced with their corners cut
    (:func:`analysis.raster_trace.mask_polygons`). The outline is within 1.21 cells of the
    exact buffer union: every point closer than ``buffer_m`` − 1.21 ``cell_m`` to a piece
    is inside, none farther than ``buffer_m`` + 1.21 ``cell_m``. ``transform(x, y)`` maps
    the vertices (e.g. to WGS-84) before the geometry is built; the area is in m².
    """
    from analysis.raster_trace import mask_polygons

    a, b = np.asarray(a, float).reshape(-1, 2), np.asarray(b, float).reshape(-1, 2)
    if len(a) == 0:
        return Band(shapely.Polygon(), 0.0, float(cell_m or buffer_m / 2.5))
    lo = np.minimum(a.min(axis=0), b.min(axis=0))
    hi = np.maximum(a.max(axis=0), b.max(axis=0))
    cell = float(cell_m or band_cell_m(float(np.prod(hi - lo + 2 * buffer_m)), buffer_m))
    flip = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    a, b = np.where(flip[:, None], b, a), np.where(flip[:, None], a, b)  # one way per street
    pad = buffer_m + 2 * cell
    x0, y_top = lo[0] - pad, hi[1] + pad
    w = int(np.ceil((hi[0] + pad - x0) / cell))
    h = int(np.ceil((y_top - lo[1] + pad) / cell))
    row, c0, c1 = capsule_rows((a[:, 0] - x0) / cell, (y_top - a[:, 1]) / cell,
                               (b[:, 0] - x0) / cell, (y_top - b[:, 1]) / cell, buffer_m / cell)
    n = c1 - c0 + 1
    first = row * w + c0 - (np.cumsum(n) - n)
    mask = np.zeros(h * w, dtype=bool)
    mask[np.repeat(first, n) + np.arange(int(n.sum()))] = True
    polys, _, area = mask_polygons(mask.reshape(h, w), x0, y_top, cell, smooth=True,
                                   transform=transform)
    if len(polys) == 0:
        return Band(shapely.Polygon(), 0.0, cell)
    geom = polys[0] if len(polys) == 1 else shapely.multipolygons(polys)
    return Band(geom, float(area.sum()), cell)


def capsule_rows(ax, ay, bx, by, r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells (in cell units: column = x, row = y downwards, centres at k + 0.5) whose centre
    is within ``r`` of the segment from (``ax``, ``ay``) to (``bx``, ``by``), as row
    intervals: (row, first column, last column), empty intervals dropped.

    On a row the capsule is the hull of the two end discs' chords and of the band along
    the segment, whose bounds (projection in [0, length²], normal distance ≤ r) are
    linear in the row's height: their coefficients are found once per segment.
    """
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    length = np.sqrt(ll)
    inf = np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(dx != 0, -dy / dx, 0.0)  # projection bounds: p + beta * y
        p0 = np.where(dx != 0, ax - ay * beta, -inf)
        p1 = np.where(dx != 0, p0 + ll / dx, inf)
        delta = np.where(dy != 0, dx / dy, 0.0)  # normal-distance bounds: q + delta * y
        q0 = np.where(dy != 0, ax - ay * delta - r * length / dy, -inf)
        q1 = np.where(dy != 0, q0 + 2 * r * length / dy, inf)
    lo_y = np.where(dx != 0, -inf, np.minimum(ay, by))  # a vertical segment's band: its rows
    hi_y = np.where(dx != 0, inf, np.maximum(ay, by))
    lo_y[ll == 0] = inf  # a point: its disc only
    par = np.stack([ax, ay, bx, by, np.minimum(p0, p1), np.maximum(p0, p1), beta,
                    np.minimum(q0, q1), np.maximum(q0, q1), delta, lo_y, hi_y])
    v0 = np.ceil(np.minimum(ay, by) - r - 0.5).astype(np.int64)
    v1 = np.floor(np.maximum(ay, by) + r - 0.5).astype(np.int64)
    n = np.maximum(v1 - v0 + 1, 0)
    seg = np.repeat(np.arange(len(ax)), n)
    row = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n - v0, n)
    yc = row + 0.5
    (ax, ay, bx, by, pl, ph, beta, ql, qh, delta, lo_y, hi_y) = par[:, seg]
    with np.errstate(invalid="ignore"):
        ea, eb = yc - ay, yc - by
        sa, sb = np.sqrt(r * r - ea * ea), np.sqrt(r * r - eb * eb)  # NaN: off the disc
        lo, hi = np.fmin(ax - sa, bx - sb), np.fmax(ax + sa, bx + sb)
        s_lo = np.maximum(pl + beta * yc, ql + delta * yc)
        s_hi = np.minimum(ph + beta * yc, qh + delta * yc)
        off = (s_lo > s_hi) | (yc < lo_y) | (yc > hi_y)
        s_lo[off] = np.nan
        lo, hi = np.fmin(lo, s_lo), np.fmax(hi, np.where(off, np.nan, s_hi))
        c0, c1 = np.ceil(lo - 0.5), np.floor(hi - 0.5)
        keep = c1 >= c0
    return row[keep], c0[keep].astype(np.int64), c1[keep].astype(np.int64)


def service_area(graph: WalkGraph, node_time_s: np.ndarray, limit_s: float, *,
                 buffer_m: float = DEFAULT_BUFFER_M) -> shapely.Geometry:
    """Area within ``limit_s`` of the nearest facility of a category (graph CRS, metres):
    the band around every street piece walkable in time, from the node times of the one
    multi-source pass that coverage runs (access walks already counted there)."""
    a, b = reached_pieces(graph.time.tocoo(), graph.x, graph.y, node_time_s, limit_s)
    return band_of_pieces(a, b, buffer_m)


def facility_isochrones(graph: WalkGraph, nodes: np.ndarray, access_s: np.ndarray,
                        limit_s: float, *, buffer_m: float = DEFAULT_BUFFER_M,
                        batch: int = 64, progress=None) -> list[shapely.Geometry]:
    """Area from which each facility is reached within ``limit_s`` (graph CRS, metres).

    The facility's own access walk is taken off its budget. Bounded Dijkstra for a batch
    of facilities at a time on the part of the graph they can reach; partly walked edges
    count up to where the time runs out. ``progress(done, total)`` is called per batch.
    """
    from analysis.paths import local_graphs

    nodes = np.asarray(nodes, dtype=np.int64)
    budget = limit_s - np.asarray(access_s, float)
    out: list[shapely.Geometry] = [shapely.Polygon()] * len(nodes)
    done = 0
    for members, local, sub in local_graphs(graph, nodes, budget):
        fwd = graph.time[local][:, local].tocoo()
        x, y = graph.x[local], graph.y[local]
        lsrc = np.searchsorted(local, nodes[members])
        for b in range(0, len(members), batch):
            sel = members[b:b + batch]
            lim = float(budget[sel].max())
            times = np.atleast_2d(dijkstra(sub, directed=True, indices=lsrc[b:b + batch],
                                           limit=lim))
            for k, row in zip(sel, times):
                out[k] = band_of_pieces(*reached_pieces(fwd, x, y, row, budget[k]), buffer_m)
            done += len(sel)
            if progress is not None:
                progress(done, len(nodes))
    return out


class Gaps(NamedTuple):
    """What :func:`gaps` returns, largest population first."""

    polygons: np.ndarray  # in the CRS ``transform`` maps to (default: the points')
    population: np.ndarray
    area_m2: np.ndarray


def gaps(x: np.ndarray, y: np.ndarray, population: np.ndarray, uncovered: np.ndarray, *,
         cell_m: float = 200.0, transform: Callable | None = None) -> Gaps:
    """Contiguous areas of uncovered residents, largest population first.

    Uncovered points are binned into ``cell_m`` squares aligned on multiples of ``cell_m``;
    squares sharing an edge form one gap (labelled on a raster of the squares and traced
    once, without a union). ``transform(x, y)`` maps the vertices (e.g. to WGS-84) before
    the polygons are built; areas are in m² of the points' metric CRS.
    """
    from scipy.ndimage import label

    from analysis.raster_trace import mask_polygons

    pop_all = np.asarray(population, float)
    m = np.asarray(uncovered, bool) & (pop_all > 0)
    if not m.any():
        return Gaps(np.empty(0, dtype=object), np.zeros(0), np.zeros(0))
    i = np.floor(np.asarray(x, float)[m] / cell_m).astype(np.int64)
    j = np.floor(np.asarray(y, float)[m] / cell_m).astype(np.int64)
    i0, j1 = i.min(), j.max()
    rows, cols = j1 - j + 1, i - i0 + 1  # north up, one empty cell of margin
    shape = (int(rows.max()) + 2, int(cols.max()) + 2)
    flat = rows * shape[1] + cols
    cell_pop = np.bincount(flat, weights=pop_all[m], minlength=shape[0] * shape[1])
    grid = np.zeros(shape[0] * shape[1], dtype=bool)
    grid[flat] = True
    labels, n = label(grid.reshape(shape))  # edge-connected components
    pop = np.bincount(labels.ravel(), weights=cell_pop, minlength=n + 1)[1:]
    polys, at, area = mask_polygons(grid.reshape(shape), (i0 - 1) * cell_m, (j1 + 2) * cell_m,
                                    cell_m, transform=transform)  # one per component
    by_label = np.argsort(labels[at[:, 0], at[:, 1]], kind="stable")
    order = np.argsort(-pop, kind="stable")
    return Gaps(polys[by_label][order], pop[order], area[by_label][order])


def gap_polygons(x: np.ndarray, y: np.ndarray, population: np.ndarray, uncovered: np.ndarray,
                 *, cell_m: float = 200.0) -> tuple[list[shapely.Geometry], np.ndarray]:
    """:func:`gaps` as (polygons in the points' metric CRS, population of each)."""
    found = gaps(x, y, population, uncovered, cell_m=cell_m)
    return list(found.polygons), found.population


def hull_of(x: np.ndarray, y: np.ndarray, *, ratio: float = 0.3,
            buffer_m: float = DEFAULT_BUFFER_M) -> shapely.Geometry:
    """A concave hull around points (metres), widened by ``buffer_m``."""
    if len(x) == 0:
        return shapely.Polygon()
    pts = shapely.multipoints(np.column_stack([x, y]))
    return shapely.buffer(shapely.concave_hull(pts, ratio=ratio), buffer_m)
