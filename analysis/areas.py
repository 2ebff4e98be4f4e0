"""Polygons from network results: facility isochrones, gap areas and life circles."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.geometry
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
    return _segments(graph.time.tocoo(), graph.x, graph.y, node_time_s, limit_s)


def _segments(coo, x: np.ndarray, y: np.ndarray, node_time_s: np.ndarray,
              limit_s: float) -> np.ndarray:
    i, j, w = coo.row, coo.col, coo.data
    tj = node_time_s[j]
    ok = np.isfinite(tj) & (tj <= limit_s)
    i, j, w, tj = i[ok], j[ok], w[ok], tj[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(w > 0, np.clip((limit_s - tj) / w, 0.0, 1.0), 1.0)
    x0, y0 = x[j], y[j]
    x1 = x0 + frac * (x[i] - x0)
    y1 = y0 + frac * (y[i] - y0)
    coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    return shapely.linestrings(coords)


def band(lines: np.ndarray, buffer_m: float = DEFAULT_BUFFER_M, *,
         cell_m: float | None = None) -> shapely.Geometry:
    """The area within ``buffer_m`` of the lines (metres), traced on a fine grid.

    Lines are sampled every half cell onto a grid of ``cell_m`` (default buffer/2.5),
    dilated by a disc of radius ``buffer_m`` and traced back to polygons: the result is
    within one cell of the exact buffer union, at a small fraction of its cost.
    """
    from rasterio.features import shapes
    from rasterio.transform import Affine
    from scipy.ndimage import binary_dilation

    lines = np.asarray(lines, dtype=object)
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return shapely.Polygon()
    cell = float(cell_m or buffer_m / 2.5)
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = xy[:-1][same], xy[1:][same]
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
    transform = Affine(cell, 0, x0, 0, -cell, y1)
    polys = [shapely.geometry.shape(geom) for geom, _ in
             shapes(grid.astype(np.uint8), mask=grid, transform=transform)]
    return shapely.simplify(shapely.union_all(polys), cell / 2)


def facility_isochrones(graph: WalkGraph, nodes: np.ndarray, access_s: np.ndarray,
                        limit_s: float, *, buffer_m: float = DEFAULT_BUFFER_M,
                        batch: int = 64) -> list[shapely.Geometry]:
    """Area from which each facility is reached within ``limit_s`` (graph CRS, metres).

    The facility's own access walk is taken off its budget. Bounded Dijkstra per
    facility on the part of the graph it can reach; partly walked edges count up to
    where the time runs out.
    """
    from analysis.paths import local_graphs

    nodes = np.asarray(nodes, dtype=np.int64)
    budget = limit_s - np.asarray(access_s, float)
    out: list[shapely.Geometry] = [shapely.Polygon()] * len(nodes)
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
                out[k] = band(_segments(fwd, x, y, row, budget[k]), buffer_m)
    return out


def gap_polygons(x: np.ndarray, y: np.ndarray, population: np.ndarray, uncovered: np.ndarray,
                 *, cell_m: float = 200.0) -> tuple[list[shapely.Geometry], np.ndarray]:
    """Contiguous areas of uncovered residents, largest population first.

    Uncovered points are binned into ``cell_m`` squares; touching squares merge into
    one gap. Returns (polygons in the points' metric CRS, population of each).
    """
    m = np.asarray(uncovered, bool) & (np.asarray(population, float) > 0)
    if not m.any():
        return [], np.zeros(0)
    cells, inv = square_bins(np.asarray(x)[m], np.asarray(y)[m], cell_m)
    cell_pop = np.bincount(inv, weights=np.asarray(population, float)[m])
    boxes = square_polygons(cells, cell_m)
    merged = shapely.get_parts(shapely.union_all(boxes))
    tree = shapely.STRtree(merged)
    centres = shapely.centroid(boxes)
    cell_idx, part_idx = tree.query(centres, predicate="within")
    pop = np.bincount(part_idx, weights=cell_pop[cell_idx], minlength=len(merged))
    order = np.argsort(-pop, kind="stable")
    return list(merged[order]), pop[order]


def hull_of(x: np.ndarray, y: np.ndarray, *, ratio: float = 0.3,
            buffer_m: float = DEFAULT_BUFFER_M) -> shapely.Geometry:
    """A concave hull around points (metres), widened by ``buffer_m``."""
    if len(x) == 0:
        return shapely.Polygon()
    pts = shapely.multipoints(np.column_stack([x, y]))
    return shapely.buffer(shapely.concave_hull(pts, ratio=ratio), buffer_m)
