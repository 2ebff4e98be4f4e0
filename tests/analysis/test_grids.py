"""Square and H3 grids: full coverage, conserved sums, contiguity (libpysal), Gi* (esda)."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely

from analysis.grids import h3_resolution, hex_grid, square_grid
from analysis.hotspots import gi_star

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")

LON, LAT = 106.55, 29.56  # Yuzhong


def metres_to_deg(dx, dy):
    return LON + dx / (111_320 * np.cos(np.radians(LAT))), LAT + dy / 110_574


# --- square grids -----------------------------------------------------------------------

def test_square_grid_matches_lat2w_and_conserves():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(500, 1450, 300), rng.uniform(-200, 430, 300)
    w = rng.uniform(1, 5, 300)
    g = square_grid(x, y, 100.0, weights=w)
    rows, cols = g.shape
    assert (rows, cols) == (7, 10) and len(g.cells) == rows * cols == len(g.sums)
    ref = libpysal.weights.lat2W(rows, cols, rook=False).sparse
    assert (g.w != ref).nnz == 0 and g.w.diagonal().sum() == 0
    assert g.counts.sum() == 300 and np.isclose(g.sums.sum(), w.sum())
    assert (g.counts == 0).any()  # empty cells are kept
    # every point lies in its cell; row 0 is north
    assert shapely.covers(g.cells[g.point_cell], shapely.points(x, y)).all()
    assert g.cells[0].bounds[3] == pytest.approx(y.max())
    assert g.cells[0].bounds[0] == pytest.approx(x.min())
    x0, cell, _, y_top, _, neg = g.transform
    assert (x0, cell, y_top, neg) == pytest.approx((x.min(), 100.0, y.max(), -100.0))


def test_square_grid_bounds_drop_outside_points():
    x = np.array([5.0, 15.0, 250.0, -3.0])
    y = np.array([5.0, 95.0, 50.0, 50.0])
    g = square_grid(x, y, 10.0, bounds=(0, 0, 100, 100))
    assert g.shape == (10, 10)
    assert g.point_cell.tolist() == [90, 1, -1, -1]
    assert g.counts.sum() == 2


def test_single_point_gives_one_cell():
    g = square_grid([3.0], [4.0], 50.0)
    assert g.shape == (1, 1) and g.w.nnz == 0 and g.counts.tolist() == [1]


# --- hexagon grids -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def ring_points():
    """Points on an annulus 600–900 m around the centre: an empty hole in the middle."""
    rng = np.random.default_rng(1)
    r, a = rng.uniform(600, 900, 800), rng.uniform(0, 2 * np.pi, 800)
    lon, lat = metres_to_deg(r * np.cos(a), r * np.sin(a))
    return lon, lat, rng.integers(1, 20, 800).astype(float)


def test_hex_grid_fills_holes_and_conserves(ring_points):
    lon, lat, w = ring_points
    g = hex_grid(lon, lat, 10, weights=w)
    assert g.kind == "hex" and g.crs == "EPSG:4326" and g.resolution == 10
    assert np.isclose(g.sums.sum(), w.sum()) and g.counts.sum() == len(lon)
    centre = h3.latlng_to_cell(LAT, LON, 10)
    assert centre in set(g.ids)
    assert g.sums[list(g.ids).index(centre)] == 0
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([lon, lat])))
    assert set(h3.geo_to_cells(hull, 10)) <= set(g.ids)
    # polygons are lon/lat and hold their points
    assert shapely.contains_xy(g.cells[g.point_cell], lon, lat).all()


def test_hex_contiguity(ring_points):
    lon, lat, _ = ring_points
    g = hex_grid(lon, lat, 10)
    assert (g.w != g.w.T).nnz == 0 and g.w.diagonal().sum() == 0
    assert set(np.unique(g.w.data)) == {1.0}
    members = set(g.ids)
    deg = np.diff(g.w.indptr)
    interior = np.array([set(h3.grid_disk(c, 1)) <= members for c in g.ids])
    assert interior.sum() > 100 and (deg[interior] == 6).all()
    for i in np.flatnonzero(~interior)[:20]:  # edge cells: exactly their neighbours in the grid
        nbrs = {g.ids[j] for j in g.w.indices[g.w.indptr[i]:g.w.indptr[i + 1]]}
        assert nbrs == (set(h3.grid_disk(g.ids[i], 1)) & members) - {g.ids[i]}


def test_hex_grid_with_area_keeps_outside_point_cells():
    lon, lat = metres_to_deg(np.array([0.0, 100.0, 3000.0]), np.array([0.0, 50.0, 0.0]))
    area = shapely.box(*metres_to_deg(-500, -500), *metres_to_deg(500, 500))
    g = hex_grid(lon, lat, 9, area=area)
    point_cells = {h3.latlng_to_cell(b, a, 9) for a, b in zip(lon, lat)}
    expected = set(h3.geo_to_cells(area, 9)) | point_cells
    assert set(g.ids) == expected and g.counts.sum() == 3


def test_h3_resolution():
    assert h3_resolution(h3.average_hexagon_edge_length(9, unit="m")) == 9
    assert h3_resolution(500) == 8 and h3_resolution(70) == 10


@pytest.mark.filterwarnings("ignore")
def test_gi_star_on_hex_grid_matches_esda():
    rng = np.random.default_rng(2)
    dx, dy = rng.uniform(-1500, 1500, 3000), rng.uniform(-1500, 1500, 3000)
    bx, by = rng.normal(600, 200, 1500), rng.normal(-400, 200, 1500)  # the planted blob
    lon, lat = metres_to_deg(np.r_[dx, bx], np.r_[dy, by])
    g = hex_grid(lon, lat, 10)
    ours = gi_star(g.sums, g.w, permutations=999)
    wts = libpysal.weights.WSP(g.w).to_W(silence_warnings=True)
    ref = esda.getisord.G_Local(g.sums, wts, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, atol=1e-6)
    blob_cell = list(g.ids).index(h3.latlng_to_cell(*metres_to_deg(600, -400)[::-1], 10))
    assert ours.kind[blob_cell] == 1
    hot = np.flatnonzero(ours.kind == 1)
    centres = np.array([h3.cell_to_latlng(g.ids[i]) for i in hot])
    far = np.hypot((centres[:, 1] - metres_to_deg(600, -400)[0]) * 96_800,
                   (centres[:, 0] - metres_to_deg(600, -400)[1]) * 110_574)
    assert len(hot) >= 10 and (far < 800).all()


# --- refusals ----------------------------------------------------------------------------

def test_refusals():
    with pytest.raises(ValueError, match="no points"):
        square_grid([], [], 100.0)
    with pytest.raises(ValueError, match="positive"):
        square_grid([0.0, 1.0], [0.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="differ in length"):
        square_grid([0.0, 1.0], [0.0], 10.0)
    with pytest.raises(ValueError, match="missing or infinite"):
        square_grid([0.0, np.nan], [0.0, 1.0], 10.0)
    with pytest.raises(ValueError, match=r"100,000,000 cells.*larger cell, e\.g\. 8 m"):
        square_grid([0.0, 10_000.0], [0.0, 10_000.0], 1.0)
    with pytest.raises(ValueError, match="no points"):
        hex_grid([], [], 9)
    with pytest.raises(ValueError, match="0 to 15"):
        hex_grid([LON], [LAT], 16)
    lon, lat = metres_to_deg(np.array([-4e4, 4e4, 4e4, -4e4]), np.array([-4e4, -4e4, 4e4, 4e4]))
    with pytest.raises(ValueError, match="cells.*larger cell"):  # refused before filling
        hex_grid(lon, lat, 13)
