"""Elevations from any DEM GeoTIFF in any CRS (the real 1″ DEM of 九龙坡, and copies of it
in UTM and Web Mercator), partial coverage on request, OSM ``ele``; and walker profiles on
that real terrain against networkx."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from layers import LayerValidationError
from layers.elevation import node_elevations, sample_dem


def write_tif(path, data, transform, crs, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype=data.dtype, crs=crs, transform=transform,
                       nodata=nodata) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture(scope="module")
def jiulongpo_dem(raw_dir):
    path = raw_dir / "chongqing_jiulongpo_pop_dem" / "dem_1arcsec.tif"
    if not path.is_file():
        pytest.skip(f"the shared 九龙坡 DEM is not at {path}")
    return path


def by_hand(path, lon, lat):
    """The cell of each point, one point at a time, in the raster's own CRS."""
    with rasterio.open(path) as src:
        band = src.read(1).astype(float)
        t = src.transform
        to = None if src.crs.is_geographic else Transformer.from_crs(4326, src.crs,
                                                                     always_xy=True)
        out = []
        for a, b in zip(lon, lat):
            x, y = (a, b) if to is None else to.transform(a, b)
            col = math.floor((x - t.c) / t.a)
            row = math.floor((y - t.f) / t.e)
            out.append(band[row, col])
    return np.array(out)


def projected_copy(src_path, dst_path, crs, cell):
    """The DEM resampled onto a ``cell``-metre grid in ``crs``: each cell takes the value
    at its centre (via the WGS-84 sampler, checked by hand above)."""
    with rasterio.open(src_path) as src:
        b = src.bounds
    fwd = Transformer.from_crs(4326, crs, always_xy=True)
    xs, ys = fwd.transform([b.left, b.right, b.left, b.right], [b.bottom, b.bottom, b.top, b.top])
    x0, x1 = max(xs[0], xs[2]) + 100, min(xs[1], xs[3]) - 100
    y0, y1 = max(ys[0], ys[1]) + 100, min(ys[2], ys[3]) - 100
    cols, rows = int((x1 - x0) // cell), int((y1 - y0) // cell)
    cx = x0 + (np.arange(cols) + 0.5) * cell
    cy = y1 - (np.arange(rows) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(gx.ravel(), gy.ravel())
    data = sample_dem(src_path, lon, lat).reshape(rows, cols).astype("float32")
    return write_tif(dst_path, data, from_origin(x0, y1, cell, cell), crs)


def test_real_dem_in_wgs84_utm_and_web_mercator(jiulongpo_dem, tmp_path):
    rng = np.random.default_rng(0)
    lon = rng.uniform(106.505, 106.557, 400)
    lat = rng.uniform(29.466, 29.509, 400)
    z = sample_dem(jiulongpo_dem, lon, lat)
    np.testing.assert_array_equal(z, by_hand(jiulongpo_dem, lon, lat))
    assert 153 <= z.min() and z.max() <= 401 and z.max() - z.min() > 100
    for crs, cell in (("EPSG:32648", 30.0), ("EPSG:3857", 35.0)):
        copy = projected_copy(jiulongpo_dem, tmp_path / f"{crs[5:]}.tif", crs, cell)
        zc = sample_dem(copy, lon, lat)
        np.testing.assert_array_equal(zc, by_hand(copy, lon, lat))
        assert np.median(np.abs(zc - z)) < 6  # the same terrain, resampled once


def test_partial_coverage_and_osm_ele(jiulongpo_dem):
    lon = np.array([106.52, 106.53, 106.60, 106.70])  # the last two east of the DEM
    lat = np.array([29.49, 29.50, 29.49, 29.49])
    with pytest.raises(LayerValidationError, match=r"2 of 4 network nodes fall outside the "
                                                   r"DEM.*or allow partial coverage"):
        sample_dem(jiulongpo_dem, lon, lat)
    z = sample_dem(jiulongpo_dem, lon, lat, partial=True)
    np.testing.assert_array_equal(np.isnan(z), [False, False, True, True])
    np.testing.assert_array_equal(z[:2], sample_dem(jiulongpo_dem, lon[:2], lat[:2]))
    ele = np.array([np.nan, 300.0, 250.0, np.nan])
    with pytest.raises(LayerValidationError, match="1 of 4 network nodes"):
        node_elevations(lon, lat, dem=jiulongpo_dem, osm_ele=ele)
    both = node_elevations(lon, lat, dem=jiulongpo_dem, osm_ele=ele, partial=True)
    np.testing.assert_array_equal(both, [z[0], z[1], 250.0, np.nan])
    osm_first = node_elevations(lon, lat, dem=jiulongpo_dem, osm_ele=ele, partial=True,
                                prefer="osm")
    np.testing.assert_array_equal(osm_first, [z[0], 300.0, 250.0, np.nan])
    np.testing.assert_array_equal(node_elevations(lon, lat, osm_ele=ele), ele)


def test_no_data_scale_and_rasters_without_crs(tmp_path):
    data = np.arange(100, dtype="int16").reshape(10, 10)
    data[0, 0] = -9999
    path = write_tif(tmp_path / "d.tif", data, from_origin(106.5, 29.6, 0.01, 0.01),
                     "EPSG:4490", nodata=-9999)  # CGCS2000 degrees: read as WGS-84
    z = sample_dem(path, [106.505, 106.515, 106.595], [29.595, 29.595, 29.505], partial=True)
    np.testing.assert_array_equal(z, [np.nan, 1.0, 99.0])
    with rasterio.open(path, "r+") as dst:
        dst.scales, dst.offsets = (0.5,), (100.0,)
    assert sample_dem(path, [106.515], [29.595])[0] == 100.5
    bare = write_tif(tmp_path / "bare.tif", data, from_origin(660_000, 3_270_000, 30, 30), None)
    with pytest.raises(LayerValidationError, match="no CRS and its extent is not in degrees"):
        sample_dem(bare, [106.6], [29.5])
    ok = write_tif(tmp_path / "deg.tif", data, from_origin(106.5, 29.6, 0.01, 0.01), None)
    assert sample_dem(ok, [106.515], [29.595])[0] == 1.0


def test_profiles_on_real_terrain_equal_networkx(jiulongpo_dem):
    """A 100 m street grid laid over 九龙坡's river banks: every profile's times equal
    networkx on the same rules, and the wheelchair loses the grades steeper than 1:12."""
    from analysis.graph import profile_segments
    from analysis.walk_network import WalkNetwork
    from tests.analysis.test_profiles import CONNECTORS, PROFILES, assert_same_as_oracle

    crs = "EPSG:32648"
    to_wgs = Transformer.from_crs(crs, 4326, always_xy=True)
    x0, y0 = Transformer.from_crs(4326, crs, always_xy=True).transform(106.505, 29.466)
    n = 45
    ids = np.arange(n * n).reshape(n, n)
    x = x0 + np.repeat(np.arange(n), n) * 100.0
    y = y0 + np.tile(np.arange(n), n) * 100.0
    u = np.r_[ids[:-1, :].ravel(), ids[:, :-1].ravel()]
    v = np.r_[ids[1:, :].ravel(), ids[:, 1:].ravel()]
    lon, lat = to_wgs.transform(x, y)
    z = sample_dem(jiulongpo_dem, lon, lat)
    m = len(u)
    rng = np.random.default_rng(2)
    stairs = rng.random(m) < 0.1
    net = WalkNetwork(x=x, y=y, crs=crs, node_id=np.arange(len(x)), z=z,
                      lift=np.zeros(len(x), bool), u=u, v=v, length_m=np.full(m, 100.0),
                      kind=stairs.astype(np.int64), kinds=("street", "steps"),
                      direction=np.zeros(m, np.int8), incline=np.zeros(m, np.int8),
                      steps=np.full(m, np.nan), way_share=np.ones(m))
    grade = np.abs(z[v] - z[u]) / 100
    assert (grade > 0.083).mean() > 0.05  # real slopes: some too steep for wheelchairs
    wheel = profile_segments(net, PROFILES["wheelchair"], CONNECTORS)
    np.testing.assert_array_equal(np.isinf(wheel.fwd_s), (grade > 0.083) | stairs)
    for name, profile in PROFILES.items():
        assert_same_as_oracle(net, profile, CONNECTORS, rng, n_sources=3, limit=1200.0)
