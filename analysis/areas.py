"""Polygons from network results: facility isochrones, gap areas and life circles."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from analysis.graph import WalkGraph
from analysis.grids import square_bins, square_polygons

DEFAULT_BUFFER_M = 25.0  # half-width of the walkable band drawn along reached streets


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
    :func:`reached_segments`, without building geometries."""
    i, j, w = coo.row, coo.col, coo.data
    tj = node_time_s[j]
    ok = np.isfinite(tj) & (tj <= limit_s)
    i, j, w, tj = i[ok], j[ok], w[ok], tj[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(w > 0, np.clip((limit_s - tj) / w, 0.0, 1.0), 1.0)
    x0, y0 = x[j], y[j]
    return (np.column_stack([x0, y0]),
            np.column_stack([x0 + frac * (x[i] - x0), y0 + frac * (y[i] - y0)]))


def band(lines: np.ndarray, buffer_m: float = DEFAULT_BUFFER_M, *,
         cell_m: float | None = None) -> shapely.Geometry:
    """The area within ``buffer_m`` of the lines (metres), traced on a fine grid.

    Lines are sampled every half cell onto a grid of ``cell_m`` (default buffer/2.5),
    dilated by a disc of radius ``buffer_m`` and traced back to polygons: the result is
    within one cell of the exact buffer union, at a small fraction of its cost.
    """
    lines = np.asarray(lines, dtype=object)
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return shapely.Polygon()
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    return band_of_pieces(xy[:-1][same], xy[1:][same], buffer_m, cell_m=cell_m)


def band_of_pieces(a: np.ndarray, b: np.ndarray, buffer_m: float = DEFAULT_BUFFER_M, *,
                   cell_m: float | None = None) -> shapely.Geometry:
    """:func:`band` of straight pieces from ``a[k]`` to ``b[k]`` (``(n, 2)`` arrays, metres)."""
    from scipy.ndimage import binary_dilation

    if len(a) == 0:
        return shapely.Polygon()
    cell = float(cell_m or buffer_m / 2.5)
    n = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / (cell / 2)).astype(np.int64))
    seg = np.repeat(np.arange(len(a)), n + 1)
    t = (np.arange(len(seg)) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)) / np.repeat(n, n + 1)
    pts = a[seg] + t[:, None] * (b[seg] - a[seg])
    pad = buffer_m + 2 * cell
    x0, y1 = pts[:, 0].min() - pad, pts[:, 1].max() + pad
    w = int(np.ceil((pts[:, 0].max() + pad - x0) / cell))
    h = int(np.ceil((y1 - (pts[:, 1].min() - pad)) / cell))
    grid = np.zeros((h, w), dtype=bool)
    grid[((y1 - pts[:, 1]) / cell).astype(np.int64), ((pts[:, 0] - x0) / cell).astype(np.int64)] = True
    r = int(np.ceil(buffer_m / cell))
    yy, xx = np.ogrid[-r:r + 1, -r:r + 1]
    grid = binary_dilation(grid, structure=(xx * xx + yy * yy) <= (buffer_m / cell) ** 2)
    return simplified(trace(grid, x0, y1, cell), cell / 2)


def simplified(geom: shapely.Geometry, tolerance: float) -> shapely.Geometry:
    """Traced (multi)polygons without their raster staircase: each part simplified on its own
    (Douglas–Peucker; a city-wide multipolygon simplified as one geometry with topology checks
    took minutes), keeping a part as traced where simplifying would make it invalid."""
    parts = shapely.get_parts(geom)
    if len(parts) == 0:
        return geom
    out = shapely.simplify(parts, tolerance, preserve_topology=False)
    bad = ~shapely.is_valid(out) | shapely.is_empty(out)
    out[bad] = shapely.simplify(parts[bad], tolerance, preserve_topology=True)
    return out[0] if len(out) == 1 else shapely.multipolygons(out)


def trace(mask: np.ndarray, x0: float, y_top: float, cell: float) -> shapely.Geometry:
    """The polygon (or multipolygon) of the True cells of a north-up ``mask`` whose top-left
    corner is (``x0``, ``y_top``) with square cells of ``cell`` metres. The traced regions
    are disjoint, so no union is needed."""
    from rasterio.features import shapes
    from rasterio.transform import Affine

    transform = Affine(cell, 0, x0, 0, -cell, y_top)
    polys = [shapely.Polygon(g["coordinates"][0], g["coordinates"][1:]) for g, _ in
             shapes(mask.astype(np.uint8), mask=mask, transform=transform)]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.multipolygons(polys)


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


def gap_polygons(x: np.ndarray, y: np.ndarray, population: np.ndarray, uncovered: np.ndarray,
                 *, cell_m: float = 200.0) -> tuple[list[shapely.Geometry], np.ndarray]:
    """Contiguous areas of uncovered residents, largest population first.

    Uncovered points are binned into ``cell_m`` squares; squares sharing an edge form one
    gap (labelled on a raster of the squares and traced once). Returns (polygons in the
    points' metric CRS, population of each).
    """
    from scipy.ndimage import label

    m = np.asarray(uncovered, bool) & (np.asarray(population, float) > 0)
    if not m.any():
        return [], np.zeros(0)
    cells, inv = square_bins(np.asarray(x)[m], np.asarray(y)[m], cell_m)
    cell_pop = np.bincount(inv, weights=np.asarray(population, float)[m])
    i0, j0 = cells.min(axis=0)
    rows = cells[:, 1].max() - cells[:, 1] + 1  # north up, one empty cell of margin
    cols = cells[:, 0] - i0 + 1
    grid = np.zeros((int(rows.max()) + 2, int(cols.max()) + 2), dtype=bool)
    grid[rows, cols] = True
    labels, n = label(grid)  # edge-connected components
    pop = np.bincount(labels[rows, cols], weights=cell_pop, minlength=n + 1)[1:]
    x0 = (i0 - 1) * cell_m
    y_top = (cells[:, 1].max() + 2) * cell_m
    from rasterio.features import shapes
    from rasterio.transform import Affine

    transform = Affine(cell_m, 0, x0, 0, -cell_m, y_top)
    parts: dict[int, list] = {}
    for g, v in shapes(labels.astype(np.int32), mask=grid, transform=transform):
        parts.setdefault(int(v), []).append(shapely.Polygon(g["coordinates"][0],
                                                            g["coordinates"][1:]))
    polys = np.array([p[0] if len(p) == 1 else shapely.multipolygons(p)
                      for _, p in sorted(parts.items())], dtype=object)
    order = np.argsort(-pop, kind="stable")
    return list(polys[order]), pop[order]


def hull_of(x: np.ndarray, y: np.ndarray, *, ratio: float = 0.3,
            buffer_m: float = DEFAULT_BUFFER_M) -> shapely.Geometry:
    """A concave hull around points (metres), widened by ``buffer_m``."""
    if len(x) == 0:
        return shapely.Polygon()
    pts = shapely.multipoints(np.column_stack([x, y]))
    return shapely.buffer(shapely.concave_hull(pts, ratio=ratio), buffer_m)
