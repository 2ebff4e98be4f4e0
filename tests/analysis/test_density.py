"""Kernel density against a brute-force sum, its integral, and GeoTIFF export."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio

from analysis.density import kernel_density
from geo_app.io.export import geotiff_bytes, write_geotiff, write_gpkg_layers

BOUNDS = (1000.0, 2000.0, 2000.0, 2750.0)  # 40 × 30 cells of 25 m
CELL = 25.0


def quartic(d, h):
    return np.where(d <= h, 3 / (math.pi * h**2) * (1 - (d / h) ** 2) ** 2, 0.0)


def gaussian(d, s):
    return np.where(d <= 3 * s, np.exp(-d**2 / (2 * s**2)) / (2 * math.pi * s**2)
                    / (1 - math.exp(-4.5)), 0.0)


def brute(x, y, w, h, kern):
    """Σ w·K at every cell centre of BOUNDS, per km² (row 0 north)."""
    xs = BOUNDS[0] + (np.arange(40) + 0.5) * CELL
    ys = BOUNDS[3] - (np.arange(30) + 0.5) * CELL
    d = np.hypot(xs[None, :, None] - x, ys[:, None, None] - y)
    return (kern(d, h) * w).sum(axis=2) * 1e6


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(900, 2100, 400), rng.uniform(1900, 2850, 400)  # some beyond the edges
    return x, y, rng.uniform(1, 30, 400)


@pytest.mark.parametrize("kernel,kern,h", [("quartic", quartic, 120.0),
                                           ("gaussian", gaussian, 50.0)])
def test_exact_equals_brute_force(points, kernel, kern, h):
    x, y, w = points
    d = kernel_density(x, y, bandwidth_m=h, cell_m=CELL, weights=w, kernel=kernel,
                       bounds=BOUNDS, exact=True)
    ref = brute(x, y, w, h, kern)
    assert d.values.shape == (30, 40)
    np.testing.assert_allclose(d.values, ref, rtol=1e-9, atol=1e-9 * ref.max())


@pytest.mark.parametrize("kernel,kern,h", [("quartic", quartic, 120.0),
                                           ("gaussian", gaussian, 50.0)])
def test_fast_path_within_binning_bound(points, kernel, kern, h):
    """Linear binning interpolates each point's kernel bilinearly between cell centres:
    off by ≤ cell²/8·(max|K_xx| + max|K_yy|) (plus the jump at the gaussian's 3σ cut)
    for each point within reach + cell·√2; the stencil is then rescaled by s."""
    x, y, w = points
    fast = kernel_density(x, y, bandwidth_m=h, cell_m=CELL, weights=w, kernel=kernel,
                          bounds=BOUNDS).values
    ref = brute(x, y, w, h, kern)
    peak = float(kern(0.0, h))
    if kernel == "quartic":  # max |K_xx| = 8 K(0)/h²
        per_point, reach = CELL**2 / 8 * 16 * peak / h**2, h
    else:  # max |K_xx| = K(0)/σ²
        per_point, reach = CELL**2 / 8 * 2 * peak / h**2 + peak * math.exp(-4.5), 3 * h
    r = math.ceil(reach / CELL)
    off = np.arange(-r, r + 1) * CELL
    s = 1 / (kern(np.hypot(off[:, None], off[None, :]), h).sum() * CELL**2)
    near = brute(x, y, w, reach + CELL * math.sqrt(2), lambda d, r: (d <= r).astype(float)) / 1e6
    tol = near * per_point * 1e6 + abs(1 - 1 / s) * fast + 1e-9 * ref.max()
    assert (np.abs(fast - ref) <= tol).all()
    # in practice (cell = bandwidth / 2 to / 5): about 2 % of the peak
    assert np.abs(fast - ref).max() < 0.03 * ref.max()


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_integral_is_total_weight(kernel, exact):
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 300, 500), rng.normal(0, 300, 500)
    w = rng.uniform(0, 10, 500)
    d = kernel_density(x, y, bandwidth_m=150, cell_m=15, weights=w, kernel=kernel, exact=exact)
    assert d.total == pytest.approx(w.sum(), rel=0.01)
    # a raster covering only part of the points holds less
    part = kernel_density(x, y, bandwidth_m=150, cell_m=15, weights=w, bounds=(0, 0, 2000, 2000))
    assert part.total < 0.5 * w.sum()


def test_orientation_and_transform():
    d = kernel_density([500.0, 120.0], [930.0, 40.0], bandwidth_m=100, cell_m=10,
                       weights=[5.0, 1.0], bounds=(0, 0, 1000, 1000))
    row, col = np.unravel_index(np.argmax(d.values), d.values.shape)
    assert row < 10  # the heavy point is near the north edge, so near row 0
    assert d.transform @ (col + 0.5, row + 0.5) == pytest.approx((500.0, 930.0), abs=10)
    assert d.transform.to_gdal() == (0.0, 10.0, 0.0, 1000.0, 0.0, -10.0)
    assert d.bounds == (0.0, 0.0, 1000.0, 1000.0)
    peak = d.values.max() / 1e6  # per m²: 5 persons under a quartic of 100 m
    assert peak == pytest.approx(5 * 3 / (math.pi * 100**2), rel=0.05)


def test_refusals():
    with pytest.raises(ValueError, match="no points"):
        kernel_density([], [], bandwidth_m=100, cell_m=10)
    with pytest.raises(ValueError, match="bandwidth"):
        kernel_density([0.0], [0.0], bandwidth_m=0, cell_m=10)
    with pytest.raises(ValueError, match="cell size"):
        kernel_density([0.0], [0.0], bandwidth_m=100, cell_m=-1)
    with pytest.raises(ValueError, match="unknown kernel"):
        kernel_density([0.0], [0.0], bandwidth_m=100, cell_m=10, kernel="epanechnikov")
    with pytest.raises(ValueError, match="not negative"):
        kernel_density([0.0], [0.0], bandwidth_m=100, cell_m=10, weights=[-1.0])
    with pytest.raises(ValueError, match=r"cells, more than the limit.*larger cell"):
        kernel_density([0.0, 1e6], [0.0, 1e6], bandwidth_m=100, cell_m=10)


# --- GeoTIFF ------------------------------------------------------------------------------

@pytest.fixture()
def surface():
    rng = np.random.default_rng(4)
    return kernel_density(rng.uniform(0, 3000, 200), rng.uniform(0, 2000, 200),
                          bandwidth_m=200, cell_m=20, bounds=(300_000, 3_270_000, 303_000,
                                                              3_272_000))


def test_geotiff_round_trip(tmp_path, surface):
    path = write_geotiff(surface.values, surface.transform, "EPSG:32648", tmp_path / "d.tif",
                         nodata=-1.0, description="points/km²")
    with rasterio.open(path) as src:
        assert src.count == 1 and src.dtypes[0] == "float32"
        assert src.crs.to_epsg() == 32648 and src.nodata == -1.0
        assert src.transform == surface.transform
        assert src.descriptions[0] == "points/km²"
        np.testing.assert_allclose(src.read(1), surface.values, rtol=1e-6)
    # a GDAL tuple works as well, and the bytes open the same
    data = geotiff_bytes(surface.values, surface.transform.to_gdal(), 32648)
    with rasterio.io.MemoryFile(data) as mem, mem.open() as src:
        assert src.transform == surface.transform and src.crs.to_epsg() == 32648
        np.testing.assert_allclose(src.read(1), surface.values, rtol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["d.tif"]


def test_failed_write_keeps_old_file(tmp_path, surface, monkeypatch):
    path = tmp_path / "d.tif"
    write_geotiff(np.ones((3, 4)), (0, 1, 0, 3, 0, -1), 32648, path)
    before = path.read_bytes()
    real_open = rasterio.open

    def dies_mid_write(fp, mode="r", **kw):
        dst = real_open(fp, mode, **kw)
        dst.write(np.zeros((kw["height"], kw["width"]), np.float32), 1)
        dst.close()  # half a file is on disk
        raise OSError("disk full")

    monkeypatch.setattr(rasterio, "open", dies_mid_write)
    with pytest.raises(OSError, match="disk full"):
        write_geotiff(surface.values, surface.transform, 32648, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.tif"]


def test_failed_gpkg_write_keeps_old_file(tmp_path, monkeypatch):
    import geopandas as gpd
    import pandas as pd
    import shapely

    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(106.5, 29.5)], crs=4326)
    path = write_gpkg_layers({"sites": frame}, tmp_path / "r.gpkg")
    before = Path(path).read_bytes()

    def boom(self, *a, **k):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_gpkg_layers({"sites": frame, "summary": pd.DataFrame({"b": [2]})}, path)
    assert Path(path).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.gpkg"]


def test_geotiff_refuses_bad_arrays(tmp_path):
    with pytest.raises(ValueError, match="2-D"):
        write_geotiff(np.ones(5), (0, 1, 0, 1, 0, -1), 32648, tmp_path / "x.tif")
    with pytest.raises(ValueError, match="GDAL tuple"):
        geotiff_bytes(np.ones((2, 2)), (0, 1, 0), 32648)
