"""Service areas, bands and traced rasters against slow, obviously correct references:
GDAL's polygonize (rasterio), point-to-segment distances one by one, and shapely's union of
buffered street pieces."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from analysis.areas import (
    band_cell_m,
    band_of_pieces,
    band_polygon,
    capsule_rows,
    gaps,
    reached_pieces,
    service_area,
)
from analysis.graph import build_walk_graph
from analysis.paths import nearest_times_s
from analysis.raster_trace import mask_polygons

BUFFER = 25.0


def gdal_polygons(mask, x0, y_top, cell):
    """The reference: GDAL's polygonize (4-connected) through rasterio, ring by ring."""
    from rasterio.features import shapes
    from rasterio.transform import Affine

    transform = Affine(cell, 0, x0, 0, -cell, y_top)
    return [shapely.Polygon(g["coordinates"][0], g["coordinates"][1:]) for g, _ in
            shapes(mask.astype(np.uint8), mask=mask, transform=transform)]


def random_masks(seed, n=40):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        h, w = rng.integers(1, 30, 2)
        yield rng.random((h, w)) < rng.uniform(0.1, 0.9)  # many diagonal touches and holes


@pytest.mark.parametrize("seed", range(5))
def test_traced_polygons_equal_gdal_polygonize(seed):
    for mask in random_masks(seed):
        polys, cells, area = mask_polygons(mask, 100.0, 50.0, 2.0)
        want = gdal_polygons(mask, 100.0, 50.0, 2.0)
        assert len(polys) == len(want)
        assert shapely.is_valid(polys).all()
        key = lambda p: (*p.bounds, round(p.area, 6))  # noqa: E731
        for got, ref in zip(sorted(polys, key=key), sorted(want, key=key)):
            assert got.symmetric_difference(ref).area < 1e-9
            assert len(got.interiors) == len(ref.interiors)
        np.testing.assert_allclose(area, shapely.area(polys))
        for p, (r, c) in zip(polys, cells):  # a cell of the region inside its polygon
            assert mask[r, c] and p.contains(shapely.Point(100 + 2 * c + 1, 50 - 2 * r - 1))


@pytest.mark.parametrize("seed", range(3))
def test_smooth_outline_is_valid_and_within_half_a_cell(seed):
    for mask in random_masks(seed + 10):
        raw, _, _ = mask_polygons(mask, 0.0, 0.0, 1.0)
        smooth, _, area = mask_polygons(mask, 0.0, 0.0, 1.0, smooth=True)
        assert len(smooth) == len(raw) and shapely.is_valid(smooth).all()
        np.testing.assert_allclose(area, shapely.area(smooth))
        for a, b in zip(raw, smooth):  # corners cut by at most half a cell side
            assert shapely.hausdorff_distance(a, b) <= 0.5 + 1e-9
            assert a.buffer(0.36).contains(b) and b.buffer(0.36).contains(a.buffer(-0.36))


def test_trace_of_an_empty_mask_and_the_transform():
    assert len(mask_polygons(np.zeros((3, 4), bool), 0, 0, 1).polygons) == 0
    mask = np.zeros((5, 6), bool)
    mask[1:4, 1:5] = True
    mask[2, 2] = False  # a hole
    moved = mask_polygons(mask, 10.0, 20.0, 2.0, transform=lambda x, y: (x + 1000, 2 * y))
    (poly,), _, (area,) = mask_polygons(mask, 10.0, 20.0, 2.0)
    assert area == pytest.approx(11 * 4.0)  # metres, measured before the transform
    assert moved.area[0] == pytest.approx(area)
    want = shapely.transform(poly, lambda xy: xy * [1, 2] + [1000, 0])
    assert moved.polygons[0].equals_exact(want, 1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_capsule_rows_equal_distances_cell_by_cell(seed):
    rng = np.random.default_rng(seed)
    n = 60
    ax, ay = rng.uniform(5, 35, n), rng.uniform(5, 35, n)
    bx, by = np.clip(ax + rng.normal(0, 6, n), 5, 45), np.clip(ay + rng.normal(0, 6, n), 5, 45)
    bx[:5], by[5:10], bx[10:13], by[10:13] = ax[:5], ay[5:10], ax[10:13], ay[10:13]
    ax[13:16], ay[13:16] = np.floor(ax[13:16]) + 0.5, np.floor(ay[13:16]) + 0.5  # on centres
    r = rng.uniform(0.3, 4.0)
    row, c0, c1 = capsule_rows(ax, ay, bx, by, r)
    got = np.zeros((50, 50), bool)
    for k in range(len(row)):
        got[row[k], c0[k]:c1[k] + 1] = True
    cy, cx = np.mgrid[0:50, 0:50] + 0.5
    pts = shapely.points(cx.ravel(), cy.ravel())
    lines = shapely.linestrings(np.stack([np.c_[ax, ay], np.c_[bx, by]], axis=1))
    d = np.min(shapely.distance(pts[:, None], lines[None, :]), axis=1).reshape(50, 50)
    unsure = np.abs(d - r) < 1e-9  # a centre exactly on the outline may go either way
    assert np.array_equal(got[~unsure], (d <= r)[~unsure])


def grid_graph(rng, side=18, spacing=100.0, drop=0.15):
    ij = np.array([(i, j) for i in range(side) for j in range(side)])
    x = ij[:, 0] * spacing + rng.normal(0, 10, len(ij))
    y = ij[:, 1] * spacing + rng.normal(0, 10, len(ij))
    k = np.arange(side * side).reshape(side, side)
    u = np.r_[k[:-1].ravel(), k[:, :-1].ravel()]
    v = np.r_[k[1:].ravel(), k[:, 1:].ravel()]
    keep = rng.random(len(u)) > drop
    u, v = u[keep], v[keep]
    return build_walk_graph(u, v, np.hypot(x[u] - x[v], y[u] - y[v]), x=x, y=y, crs="local")


def exact_band(graph, t, limit_s, radius):
    """The reference: shapely's union of every reached piece buffered by ``radius``."""
    a, b = reached_pieces(graph.time.tocoo(), graph.x, graph.y, t, limit_s)
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    return shapely.union_all(shapely.buffer(lines, radius, quad_segs=16)), lines


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cell", [None, 12.5, 20.0])
def test_service_area_against_the_union_of_buffered_pieces(seed, cell):
    """Oracle for the service area of a category (two facilities, 600 s at 1 m/s): every
    reached node inside; every point within buffer − 1.21 cells of a reached piece inside,
    nothing beyond buffer + 1.21 cells; no node whose walking time exceeds the limit by
    more than (buffer + 1.21 cells) / speed inside; the area off the exact union's by less
    than the outline's length × cell / 20 (the outline is unbiased to a twentieth of a cell;
    measured: 0.3–0.9 % of the area at 10–15 m cells, up to 2.5 % at 20 m), and by less than
    1 % at the default cell (10 m here)."""
    rng = np.random.default_rng(seed)
    g = grid_graph(rng)
    src = rng.choice(g.n_nodes, 2, replace=False)
    limit = 600.0
    t = nearest_times_s(g, src, limit_s=limit)
    got = band_polygon(*reached_pieces(g.time.tocoo(), g.x, g.y, t, limit), BUFFER,
                       cell_m=cell)
    c = got.cell_m
    assert c == (cell or 10.0)
    area = got.geometry
    assert area.is_valid and area.area == pytest.approx(got.area_m2)
    nodes = shapely.points(g.x, g.y)
    assert shapely.contains(area, nodes[t <= limit]).all()
    exact, lines = exact_band(g, t, limit, BUFFER)
    inner = shapely.union_all(shapely.buffer(lines, BUFFER - 1.21 * c, quad_segs=16))
    outer = shapely.union_all(shapely.buffer(lines, BUFFER + 1.21 * c, quad_segs=16))
    assert shapely.difference(inner, area).area < 1e-6
    assert shapely.difference(area, outer).area < 1e-6
    full = nearest_times_s(g, src)
    late = full > limit + (BUFFER + 1.21 * c) / 1.0
    assert not shapely.intersects(area, nodes[late]).any()
    assert abs(area.area - exact.area) < exact.length * c / 20
    if cell is None:
        assert abs(area.area - exact.area) < 0.01 * exact.area


def test_service_area_equals_the_band_of_every_directed_piece():
    """Streets walked whole both ways are given once: the band is the same as with both."""
    g = grid_graph(np.random.default_rng(7), side=10)
    t = nearest_times_s(g, [44], limit_s=500)
    coo = g.time.tocoo()
    a, b = reached_pieces(coo, g.x, g.y, t, 500.0)
    ok = t[coo.col] <= 500  # every directed piece, as before: the slow way
    frac = np.clip((500 - t[coo.col[ok]]) / coo.data[ok], 0, 1)[:, None]
    a_all = np.c_[g.x, g.y][coo.col[ok]]
    b_all = a_all + frac * (np.c_[g.x, g.y][coo.row[ok]] - a_all)
    assert len(a) < len(a_all)
    key = lambda p, q: set(map(tuple, np.round(np.sort(np.stack([p, q], 1), axis=1)  # noqa: E731
                                               .reshape(-1, 4), 6)))
    assert key(a, b) == key(a_all, b_all)
    assert service_area(g, t, 500.0).equals(band_of_pieces(a_all, b_all))


def test_band_cell_from_the_extent():
    assert band_cell_m(1e6) == 10.0  # a district: buffer / 2.5
    assert band_cell_m(3.6e9) == pytest.approx(15.0)  # 60 km square: 16 M cells
    assert band_cell_m(1e10) == 20.0  # 100 km square: capped at buffer / 1.25
    assert band_cell_m(1e10, 50.0) == 25.0
    assert band_polygon(np.zeros((0, 2)), np.zeros((0, 2))).geometry.is_empty


def test_band_and_gaps_built_in_wgs84_equal_the_metric_ones_moved():
    crs = "EPSG:32648"
    to_wgs = Transformer.from_crs(crs, 4326, always_xy=True)
    rng = np.random.default_rng(2)
    a = np.c_[rng.uniform(6e5, 6.05e5, 80), rng.uniform(3.3e6, 3.305e6, 80)]
    b = a + rng.normal(0, 80, (80, 2))
    metric = band_polygon(a, b)
    moved = band_polygon(a, b, transform=to_wgs.transform)
    assert moved.area_m2 == metric.area_m2 == pytest.approx(metric.geometry.area)
    want = shapely.transform(metric.geometry, lambda xy: np.c_[to_wgs.transform(*xy.T)])
    assert moved.geometry.equals_exact(want, 1e-12)
    x, y = rng.uniform(6e5, 6.1e5, 500), rng.uniform(3.3e6, 3.31e6, 500)
    pop = rng.integers(1, 9, 500).astype(float)
    unc = rng.random(500) < 0.5
    m, w = gaps(x, y, pop, unc), gaps(x, y, pop, unc, transform=to_wgs.transform)
    np.testing.assert_array_equal(m.population, w.population)
    np.testing.assert_allclose(m.area_m2, shapely.area(m.polygons))
    np.testing.assert_array_equal(m.area_m2, w.area_m2)
    for p, q in zip(m.polygons, w.polygons):
        assert q.equals_exact(shapely.transform(p, lambda xy: np.c_[to_wgs.transform(*xy.T)]),
                              1e-12)
