"""Datum conversions WGS-84 / GCJ-02 / BD-09 (layers.coords)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

import layers
from layers.coords import normalise_datum

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between two arrays of points."""
    _, _, dist = GEOD.inv(np.ravel(lon1), np.ravel(lat1), np.ravel(lon2), np.ravel(lat2))
    return np.asarray(dist)


@pytest.fixture(scope="module")
def cq_grid() -> tuple[np.ndarray, np.ndarray]:
    """60 x 60 grid over Chongqing municipality (WGS-84 degrees)."""
    lon, lat = np.meshgrid(np.linspace(105.2, 110.2, 60), np.linspace(28.1, 32.3, 60))
    return lon.ravel(), lat.ravel()


# --- independent scalar oracle: the public "eviltransform"/"coordtransform" formula ---------

_PI = 3.1415926535897932384626
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = _PI * 3000.0 / 180.0


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * _PI) + 20.0 * math.sin(2.0 * x * _PI)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * _PI) + 40.0 * math.sin(y / 3.0 * _PI)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * _PI) + 320.0 * math.sin(y * _PI / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * _PI) + 20.0 * math.sin(2.0 * x * _PI)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * _PI) + 40.0 * math.sin(x / 3.0 * _PI)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * _PI) + 300.0 * math.sin(x / 30.0 * _PI)) * 2.0 / 3.0
    return ret


def oracle_wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * _PI
    magic = math.sin(radlat)
    magic = 1 - _EE * magic * magic
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * _PI)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * _PI)
    return lon + dlon, lat + dlat


def oracle_gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (layers.wgs84_to_gcj02, layers.gcj02_to_wgs84),
        (layers.wgs84_to_bd09, layers.bd09_to_wgs84),
        (layers.gcj02_to_wgs84, layers.wgs84_to_gcj02),
        (layers.gcj02_to_bd09, layers.bd09_to_gcj02),
        (layers.bd09_to_wgs84, layers.wgs84_to_bd09),
    ],
    ids=["wgs-gcj-wgs", "wgs-bd-wgs", "gcj-wgs-gcj", "gcj-bd-gcj", "bd-wgs-bd"],
)
def test_round_trip_over_chongqing_within_a_centimetre(cq_grid, forward, inverse):
    lon, lat = cq_grid
    back_lon, back_lat = inverse(*forward(lon, lat))
    err = metres(lon, lat, back_lon, back_lat)
    assert err.max() < 0.01, f"worst round-trip error {err.max():.4f} m"


def test_gcj02_offset_in_chongqing_is_a_few_hundred_metres(cq_grid):
    lon, lat = cq_grid
    off = metres(lon, lat, *layers.wgs84_to_gcj02(lon, lat))
    assert 250 <= off.min() and off.max() <= 750, (off.min(), off.max())


def test_bd09_offset_in_chongqing_is_about_a_kilometre(cq_grid):
    lon, lat = cq_grid
    off = metres(lon, lat, *layers.wgs84_to_bd09(lon, lat))
    assert 900 <= off.min() and off.max() <= 1300, (off.min(), off.max())


# --- agreement with the published formula -----------------------------------------------


def test_wgs84_to_gcj02_matches_the_published_scalar_formula():
    rng = np.random.default_rng(0)
    lon = rng.uniform(73.0, 135.0, 200)
    lat = rng.uniform(18.0, 53.0, 200)
    got_lon, got_lat = layers.wgs84_to_gcj02(lon, lat)
    want = np.array([oracle_wgs84_to_gcj02(x, y) for x, y in zip(lon, lat)])
    np.testing.assert_allclose(got_lon, want[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got_lat, want[:, 1], rtol=0, atol=1e-9)
    # and the conversion really moved the points (not a vacuous comparison)
    assert np.all(np.abs(got_lon - lon) > 1e-4)


def test_gcj02_to_bd09_matches_the_published_scalar_formula():
    rng = np.random.default_rng(0)
    lon = rng.uniform(105.2, 110.2, 200)
    lat = rng.uniform(28.1, 32.3, 200)
    got_lon, got_lat = layers.gcj02_to_bd09(lon, lat)
    want = np.array([oracle_gcj02_to_bd09(x, y) for x, y in zip(lon, lat)])
    np.testing.assert_allclose(got_lon, want[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got_lat, want[:, 1], rtol=0, atol=1e-9)


def test_inverse_is_the_exact_preimage_of_the_forward_formula():
    rng = np.random.default_rng(0)
    lon = rng.uniform(105.2, 110.2, 200)
    lat = rng.uniform(28.1, 32.3, 200)
    w_lon, w_lat = layers.gcj02_to_wgs84(lon, lat)
    fwd = np.array([oracle_wgs84_to_gcj02(x, y) for x, y in zip(w_lon, w_lat)])
    np.testing.assert_allclose(fwd[:, 0], lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fwd[:, 1], lat, rtol=0, atol=1e-9)


# --- outside China -------------------------------------------------------------------------

OUTSIDE = {
    "Helsinki": (24.94, 60.17),
    "New York": (-74.006, 40.7128),
    "Tokyo": (139.7, 35.7),
    "Sydney": (151.21, -33.87),
}

ALL_CONVERTERS = [
    layers.wgs84_to_gcj02,
    layers.gcj02_to_wgs84,
    layers.wgs84_to_bd09,
    layers.bd09_to_wgs84,
    layers.gcj02_to_bd09,
    layers.bd09_to_gcj02,
]


@pytest.mark.parametrize("convert", ALL_CONVERTERS, ids=lambda f: f.__name__)
def test_points_outside_china_are_unchanged(convert):
    lon = np.array([p[0] for p in OUTSIDE.values()])
    lat = np.array([p[1] for p in OUTSIDE.values()])
    assert not layers.in_china(lon, lat).any()
    out_lon, out_lat = convert(lon, lat)
    assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)


def test_mixed_inside_and_outside_only_moves_the_inside_points():
    lon = np.array([24.94, 106.55, 139.7])
    lat = np.array([60.17, 29.56, 35.7])
    out_lon, out_lat = layers.wgs84_to_gcj02(lon, lat)
    assert out_lon[0] == lon[0] and out_lat[0] == lat[0]
    assert out_lon[2] == lon[2] and out_lat[2] == lat[2]
    assert out_lon[1] != lon[1] and out_lat[1] != lat[1]


# --- shapes, inputs, datum names -----------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 2), (0,)])
@pytest.mark.parametrize("convert", ALL_CONVERTERS, ids=lambda f: f.__name__)
def test_vectorised_over_shapes(convert, shape):
    rng = np.random.default_rng(0)
    lon = rng.uniform(105.2, 110.2, shape)
    lat = rng.uniform(28.1, 32.3, shape)
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == shape and out_lat.shape == shape
    # element-wise: the same as converting the flattened arrays
    flat_lon, flat_lat = convert(lon.ravel(), lat.ravel())
    np.testing.assert_allclose(out_lon.ravel(), flat_lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out_lat.ravel(), flat_lat, rtol=0, atol=1e-9)


@pytest.mark.parametrize("convert", ALL_CONVERTERS, ids=lambda f: f.__name__)
def test_inputs_are_not_modified(convert):
    lon = np.array([106.55, 107.4])
    lat = np.array([29.56, 29.7])
    lon0, lat0 = lon.copy(), lat.copy()
    convert(lon, lat)
    assert np.array_equal(lon, lon0) and np.array_equal(lat, lat0)


@pytest.mark.parametrize("convert", ALL_CONVERTERS, ids=lambda f: f.__name__)
def test_mismatched_shapes_raise(convert):
    with pytest.raises(ValueError, match="shape"):
        convert(np.zeros(3) + 106.5, np.zeros(4) + 29.5)


def test_convert_xy_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="shape"):
        layers.convert_xy(np.full(3, 106.5), np.full(4, 29.5), "gcj02", "wgs84")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("cgcs2000", "wgs84"),
        ("CGCS2000", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("EPSG:4490", "wgs84"),
        ("GCJ-02", "gcj02"),
        ("gcj_02", "gcj02"),
        ("amap", "gcj02"),
        ("Baidu", "bd09"),
        ("BD-09", "bd09"),
    ],
)
def test_normalise_datum_aliases(name, canonical):
    assert normalise_datum(name) == canonical


@pytest.mark.parametrize("name", ["foo", "utm48n", "", "wgs72"])
def test_normalise_datum_unknown_lists_accepted(name):
    with pytest.raises(ValueError, match="expected one of") as info:
        normalise_datum(name)
    for accepted in ("wgs84", "gcj02", "bd09"):
        assert accepted in str(info.value)


def test_convert_xy_dispatches_to_the_converters():
    lon, lat = np.array([106.55, 108.4]), np.array([29.56, 30.8])
    for src, dst, func in [
        ("wgs84", "gcj02", layers.wgs84_to_gcj02),
        ("gcj02", "wgs84", layers.gcj02_to_wgs84),
        ("cgcs2000", "bd09", layers.wgs84_to_bd09),
        ("bd09", "gcj02", layers.bd09_to_gcj02),
    ]:
        got = layers.convert_xy(lon, lat, src, dst)
        want = func(lon, lat)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    same = layers.convert_xy(lon, lat, "cgcs2000", "wgs84")
    assert np.array_equal(same[0], lon) and np.array_equal(same[1], lat)


# --- geometries and frames -----------------------------------------------------------------


def _cq(x: float, y: float) -> tuple[float, float]:
    """A point near central Chongqing from small offsets."""
    return 106.5 + 0.01 * x, 29.5 + 0.01 * y


SHELL = [_cq(0, 0), _cq(10, 0), _cq(10, 10), _cq(0, 10), _cq(0, 0)]
HOLE = [_cq(2, 2), _cq(4, 2), _cq(4, 4), _cq(2, 4), _cq(2, 2)]

GEOMETRIES = {
    "Point": Point(_cq(1, 2)),
    "LineString": LineString([_cq(0, 0), _cq(5, 3), _cq(9, 9)]),
    "Polygon": Polygon(SHELL, [HOLE]),
    "MultiPoint": MultiPoint([_cq(1, 1), _cq(2, 3)]),
    "MultiLineString": MultiLineString([[_cq(0, 0), _cq(1, 1)], [_cq(3, 3), _cq(4, 6)]]),
    "MultiPolygon": MultiPolygon([Polygon(SHELL, [HOLE]),
                                  Polygon([_cq(20, 20), _cq(21, 20), _cq(21, 21), _cq(20, 20)])]),
    "GeometryCollection": GeometryCollection([Point(_cq(1, 1)), LineString([_cq(0, 0), _cq(2, 2)]),
                                              Polygon(SHELL)]),
}


@pytest.mark.parametrize(("src", "dst"), [("wgs84", "gcj02"), ("gcj02", "wgs84"),
                                          ("wgs84", "bd09"), ("bd09", "wgs84")])
@pytest.mark.parametrize("kind", list(GEOMETRIES))
def test_convert_geometries_moves_every_vertex(kind, src, dst):
    geom = GEOMETRIES[kind]
    (out,) = layers.convert_geometries(np.array([geom], dtype=object), src, dst)
    assert out.geom_type == kind
    assert shapely.get_num_geometries(out) == shapely.get_num_geometries(geom)
    if kind == "Polygon":
        assert len(out.interiors) == 1
    xy = shapely.get_coordinates(geom)
    got = shapely.get_coordinates(out)
    want = np.column_stack(layers.convert_xy(xy[:, 0], xy[:, 1], src, dst))
    assert got.shape == want.shape
    # the inverse is iterative, so allow its tolerance; forward conversions are exact
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert np.abs(got - xy).min() > 1e-4  # every vertex actually moved


def test_convert_geometries_keeps_z_and_handles_mixed_dimensions():
    geoms = np.array([Point(106.5, 29.5, 312.5), Point(106.6, 29.6),
                      LineString([(106.5, 29.5, 1.0), (106.7, 29.8, 2.0)]), None], dtype=object)
    out = layers.convert_geometries(geoms, "wgs84", "gcj02")
    assert out[0].has_z and out[0].z == 312.5
    assert not out[1].has_z
    assert list(shapely.get_coordinates(out[2], include_z=True)[:, 2]) == [1.0, 2.0]
    assert out[3] is None
    lon, lat = layers.wgs84_to_gcj02(np.array([106.5, 106.6]), np.array([29.5, 29.6]))
    assert (out[0].x, out[0].y) == (lon[0], lat[0])
    assert (out[1].x, out[1].y) == (lon[1], lat[1])


def test_convert_geometries_same_datum_is_a_copy():
    geoms = np.array([Point(106.5, 29.5)], dtype=object)
    out = layers.convert_geometries(geoms, "cgcs2000", "WGS84")
    assert out is not geoms and out[0].equals(geoms[0])


def test_convert_gdf_refuses_projected_frame():
    gdf = gpd.GeoDataFrame(geometry=[Point(106.5, 29.5)], crs=4326).to_crs(32648)
    with pytest.raises(ValueError, match="longitude/latitude"):
        layers.convert_gdf(gdf, "gcj02", "wgs84")


@pytest.mark.parametrize("crs", [4326, 4490, None])
def test_convert_gdf_returns_epsg4326(crs):
    gdf = gpd.GeoDataFrame({"name": ["a", "b"]},
                           geometry=[Point(106.5, 29.5), Point(107.0, 30.0)], crs=crs)
    out = layers.convert_gdf(gdf, "gcj02", "wgs84")
    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["a", "b"]
    lon, lat = layers.gcj02_to_wgs84(np.array([106.5, 107.0]), np.array([29.5, 30.0]))
    np.testing.assert_allclose(out.geometry.x, lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out.geometry.y, lat, rtol=0, atol=1e-12)
    assert gdf.geometry.iloc[0].x == 106.5  # input untouched
