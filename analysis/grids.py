"""Square and H3 hexagon grids with per-cell point sums and queen contiguity, for Gi* hot spots.

Every grid holds all cells of its extent, empty ones included (Gi* needs the zeros).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely

MAX_CELLS = 2_000_000


@dataclass(frozen=True)
class Grid:
    """Cells with point counts and weight sums; ``kind`` is "square" or "hex".

    ``cells``: shapely polygons (metres for square grids, WGS-84 lon/lat for hex grids);
    ``counts``: points per cell; ``sums``: sum of the points' weights per cell (= counts
    without weights); ``w``: binary queen contiguity, no self loops; ``point_cell``: cell
    index of each input point (−1 outside the grid). Square grids are row-major with row 0
    north, so ``sums.reshape(shape)`` is a raster under ``transform`` (GDAL order
    ``(x0, cell, 0, y_top, 0, -cell)``); hex grids carry H3 index strings in ``ids`` and
    their ``resolution``.
    """

    kind: str
    cells: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    w: sp.csr_array
    point_cell: np.ndarray
    crs: str | None = None
    shape: tuple[int, int] | None = None
    transform: tuple[float, ...] | None = None
    ids: np.ndarray | None = None
    resolution: int | None = None


def check_points(x, y, weights, xname="x", yname="y"):
    """Coordinates and weights as float arrays (weights 1 when None), or a plain ValueError."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if len(x) != len(y):
        raise ValueError(f"{xname} and {yname} differ in length ({len(x)} and {len(y)})")
    if len(x) == 0:
        raise ValueError("there are no points to put on a grid")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"{xname}/{yname} hold missing or infinite coordinates")
    if weights is None:
        return x, y, np.ones(len(x))
    w = np.asarray(weights, float).ravel()
    if len(w) != len(x):
        raise ValueError(f"weights has {len(w)} values for {len(x)} points")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and not negative")
    return x, y, w


def fitting_cell(cell_m: float, n: float, max_cells: float) -> float:
    """A round cell size (m) at which a grid of ``n`` cells of ``cell_m`` has at most
    ``max_cells`` (cell counts fall with the square of the size; 5 % to spare)."""
    bigger = cell_m * math.sqrt(max(n, 1) / max_cells) * 1.05
    nice = float(f"{bigger:.2g}")
    return float(math.ceil(nice if nice >= bigger else bigger))


def check_cell_count(n: int, cell_m: float, max_cells: int) -> None:
    """Refuse a grid of more than ``max_cells`` cells, suggesting a cell size (m) that fits."""
    if n > max_cells:
        raise ValueError(f"a {cell_m:g} m grid here would have {n:,} cells, more than the limit "
                         f"of {max_cells:,}: use a larger cell, e.g. "
                         f"{fitting_cell(cell_m, n, max_cells):,.0f} m")


def square_cell_count(bounds, cell_m: float) -> int:
    """Cells of the north-up lattice of ``cell_m`` squares :func:`lattice` lays over
    ``bounds`` (xmin, ymin, xmax, ymax; m), without building it."""
    xmin, ymin, xmax, ymax = map(float, bounds)
    cols = max(1, math.ceil((xmax - xmin) / cell_m - 1e-9))
    rows = max(1, math.ceil((ymax - ymin) / cell_m - 1e-9))
    return rows * cols


def lattice(bounds, cell_m: float, *, max_cells: int = MAX_CELLS) -> tuple[float, float, int, int]:
    """``(x0, y_top, rows, cols)`` of a north-up lattice of ``cell_m`` cells covering
    ``bounds`` = (xmin, ymin, xmax, ymax) in metres, anchored at its north-west corner."""
    if not cell_m > 0:
        raise ValueError(f"the cell size must be a positive number of metres, got {cell_m}")
    xmin, ymin, xmax, ymax = map(float, bounds)
    if not (xmax >= xmin and ymax >= ymin):
        raise ValueError(f"bounds must be (xmin, ymin, xmax, ymax), got {tuple(bounds)}")
    cols = max(1, math.ceil((xmax - xmin) / cell_m - 1e-9))
    rows = max(1, math.ceil((ymax - ymin) / cell_m - 1e-9))
    check_cell_count(rows * cols, cell_m, max_cells)
    return xmin, ymax, rows, cols


def queen_weights(rows: int, cols: int) -> sp.csr_array:
    """Binary queen contiguity of a row-major ``rows`` × ``cols`` lattice (as libpysal lat2W)."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    src, dst = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            ok = (r + dr >= 0) & (r + dr < rows) & (c + dc >= 0) & (c + dc < cols)
            i = np.flatnonzero(ok)
            src.append(i)
            dst.append(i + dr * cols + dc)
    src, dst = np.concatenate(src), np.concatenate(dst)
    n = rows * cols
    return sp.csr_array((np.ones(len(src)), (src, dst)), shape=(n, n))


def square_grid(x, y, cell_m: float, *, weights=None, bounds=None,
                max_cells: int = MAX_CELLS) -> Grid:
    """Square grid of ``cell_m`` metre cells over projected points ``x``, ``y`` (m).

    Covers the points' bounding box, or ``bounds`` = (xmin, ymin, xmax, ymax) in metres;
    points outside ``bounds`` get ``point_cell`` −1 and are not counted.
    """
    x, y, w = check_points(x, y, weights)
    if bounds is None:
        bounds = (x.min(), y.min(), x.max(), y.max())
    x0, y_top, rows, cols = lattice(bounds, cell_m, max_cells=max_cells)
    col = np.floor((x - x0) / cell_m).astype(np.int64)
    row = np.floor((y_top - y) / cell_m).astype(np.int64)
    # points on the far edges belong to the last column / row
    col[(col == cols) & (x <= x0 + cols * cell_m)] = cols - 1
    row[(row == rows) & (y >= y_top - rows * cell_m)] = rows - 1
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    point_cell = np.where(inside, row * cols + col, -1)
    n = rows * cols
    counts = np.bincount(point_cell[inside], minlength=n)
    sums = np.bincount(point_cell[inside], weights=w[inside], minlength=n)
    r, c = np.divmod(np.arange(n), cols)
    left = x0 + c * cell_m
    top = y_top - r * cell_m
    cells = shapely.box(left, top - cell_m, left + cell_m, top)
    return Grid("square", cells, counts, sums, queen_weights(rows, cols), point_cell,
                shape=(rows, cols), transform=(x0, cell_m, 0.0, y_top, 0.0, -cell_m))


def h3_resolution(edge_m: float) -> int:
    """The H3 resolution whose average hexagon edge (m) is nearest ``edge_m`` (log scale)."""
    import h3

    if not edge_m > 0:
        raise ValueError(f"the cell size must be a positive number of metres, got {edge_m}")
    edges = np.array([h3.average_hexagon_edge_length(r, unit="m") for r in range(16)])
    return int(np.argmin(np.abs(np.log(edges / edge_m))))


def _cells_in(geom, resolution: int) -> np.ndarray:
    """H3 cells (int) whose centres lie in a WGS-84 polygon."""
    import h3

    return np.array([h3.str_to_int(c) for c in h3.geo_to_cells(geom, resolution)], np.uint64)


def _estimated_cells(geom, resolution: int) -> int:
    """Rough number of H3 cells in a WGS-84 polygon (for refusing oversized grids early)."""
    import h3

    lat = geom.centroid.y if not geom.is_empty else 0.0
    km2 = geom.area * 111.32**2 * math.cos(math.radians(lat))
    return int(km2 / h3.average_hexagon_area(resolution, unit="km^2"))


def _hull_area(lon: np.ndarray, lat: np.ndarray, edge_m: float):
    """The points' convex hull widened by one cell edge (WGS-84 degrees)."""
    pad = edge_m / (111_320.0 * math.cos(math.radians(min(abs(lat).max(), 89.0))))  # degrees
    return shapely.convex_hull(shapely.multipoints(np.column_stack([lon, lat]))).buffer(pad)


def hex_cell_count(lon, lat, resolution: int) -> int:
    """Rough number of cells :func:`hex_grid` makes over WGS-84 points at ``resolution``
    (the H3 cells of their convex hull widened by one edge), without building it."""
    import h3

    lon, lat = np.asarray(lon, float).ravel(), np.asarray(lat, float).ravel()
    edge_m = h3.average_hexagon_edge_length(int(resolution), unit="m")
    return max(1, _estimated_cells(_hull_area(lon, lat, edge_m), resolution))


def hex_grid(lon, lat, resolution: int, *, weights=None, area=None,
             max_cells: int = MAX_CELLS) -> Grid:
    """H3 hexagon grid at ``resolution`` (0–15) over WGS-84 points (degrees).

    Cells are those whose centres lie in ``area`` (a WGS-84 shapely polygon) plus those
    holding points; without ``area``, the points' convex hull widened by one cell edge, so
    empty cells among the points are present with 0. ``cells`` are lon/lat polygons;
    ``ids`` H3 index strings, sorted.
    """
    import h3
    from h3.api import basic_int

    lon, lat, w = check_points(lon, lat, weights, "lon", "lat")
    if not (isinstance(resolution, (int, np.integer)) and 0 <= resolution <= 15):
        raise ValueError(f"H3 resolution must be a whole number from 0 to 15, got {resolution!r}")
    resolution = int(resolution)
    edge_m = h3.average_hexagon_edge_length(resolution, unit="m")
    if area is None:
        area = _hull_area(lon, lat, edge_m)
    check_cell_count(_estimated_cells(area, resolution), edge_m, max_cells)
    point_ids = np.fromiter((basic_int.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon)),
                            np.uint64, len(lon))
    ids = np.union1d(_cells_in(area, resolution), point_ids)  # sorted, unique
    n = len(ids)
    check_cell_count(n, edge_m, max_cells)
    point_cell = np.searchsorted(ids, point_ids).astype(np.int64)
    counts = np.bincount(point_cell, minlength=n)
    sums = np.bincount(point_cell, weights=w, minlength=n)

    # contiguity: each cell's ring-1 neighbours that are in the grid
    disks = [basic_int.grid_disk(int(c), 1) for c in ids]
    deg = np.fromiter(map(len, disks), np.int64, n)
    nb = np.fromiter((c for d in disks for c in d), np.uint64, int(deg.sum()))
    src = np.repeat(np.arange(n), deg)
    pos = np.minimum(np.searchsorted(ids, nb), n - 1)
    keep = (ids[pos] == nb) & (pos != src)
    w_mat = sp.csr_array((np.ones(int(keep.sum())), (src[keep], pos[keep])), shape=(n, n))

    # polygons: h3 gives (lat, lng); shapely wants (lon, lat)
    rings = [basic_int.cell_to_boundary(int(c)) for c in ids]
    sizes = np.fromiter(map(len, rings), np.int64, n)
    coords = np.array([p for ring in rings for p in ring], float).reshape(-1, 2)[:, ::-1]
    cells = shapely.polygons(shapely.linearrings(coords, indices=np.repeat(np.arange(n), sizes)))
    str_ids = np.array([h3.int_to_str(int(c)) for c in ids], dtype=object)
    return Grid("hex", cells, counts, sums, w_mat, point_cell, crs="EPSG:4326", ids=str_ids,
                resolution=resolution)


def square_bins(x, y, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Squares of ``cell_m`` metres aligned on multiples of ``cell_m`` that hold points.

    Returns ``(cells, inverse)``: the (column, row) index pairs of the occupied squares
    (k × 2, int64; the square of a point at x, y has column ⌊x / cell_m⌋, row ⌊y / cell_m⌋)
    and for each point the position of its square in ``cells``.
    """
    if not (np.isfinite(cell_m) and cell_m > 0):
        raise ValueError(f"cell size must be positive metres, got {cell_m}")
    ij = np.column_stack([np.floor(np.asarray(x, float) / cell_m),
                          np.floor(np.asarray(y, float) / cell_m)]).astype(np.int64)
    cells, inverse = np.unique(ij.reshape(-1, 2), axis=0, return_inverse=True)
    return cells, inverse.ravel()


def square_polygons(cells: np.ndarray, cell_m: float) -> np.ndarray:
    """The squares of :func:`square_bins` cells as shapely boxes (same metres)."""
    i, j = cells[:, 0] * cell_m, cells[:, 1] * cell_m
    return shapely.box(i, j, i + cell_m, j + cell_m)
