"""Detecting layers offset by the GCJ-02 / BD-09 datum shift (layers.datum_check)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import layers
from layers import datum_shift_suspicion

METRIC_CRS = 32648  # UTM 48N, metres over Chongqing


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return layers.load_districts()


@pytest.fixture(scope="module")
def near_boundary_points(districts) -> gpd.GeoDataFrame:
    """300 random WGS-84 points inside the central districts, within 1.5 km of a district
    boundary, labelled with the adcode of the district that contains them."""
    rng = np.random.default_rng(0)
    central = districts[districts["region_group"] == "中心城区"]
    polys_m = central.to_crs(METRIC_CRS).geometry.values
    rings_m = shapely.boundary(polys_m)
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys_m)
    tree = shapely.STRtree(polys_m)
    kept_xy, kept_code = [], []
    while len(kept_xy) < 300:
        pts = shapely.points(rng.uniform(xmin, xmax, 4000), rng.uniform(ymin, ymax, 4000))
        p, d = tree.query(pts, predicate="within")
        # the nearest district boundary to a point is that of the district holding it
        near = shapely.distance(pts[p], rings_m[d]) < 1500
        kept_xy.extend(shapely.get_coordinates(pts[p][near]))
        kept_code.extend(central["adcode"].to_numpy()[d[near]])
    xy = np.asarray(kept_xy[:300])
    pts = gpd.GeoSeries(shapely.points(xy), crs=METRIC_CRS).to_crs(4326)
    return gpd.GeoDataFrame({"adcode": kept_code[:300]}, geometry=pts.values, crs=4326)


def shifted(gdf: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    return layers.convert_gdf(gdf, "wgs84", datum)


# --- lines and polygons that follow the boundaries ---------------------------------------------


def test_districts_against_themselves_raise_nothing(districts):
    assert datum_shift_suspicion(districts, districts) is None


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_shifted_boundaries_are_recognised(districts, datum):
    found = datum_shift_suspicion(shifted(districts, datum), districts)
    assert found is not None and found.datum == datum
    assert "median distance" in found.evidence


def test_shifted_boundaries_as_lines_are_recognised(districts):
    lines = districts[districts["region_group"] == "中心城区"].copy()
    lines["geometry"] = lines.boundary
    found = datum_shift_suspicion(shifted(lines, "gcj02"), districts)
    assert found is not None and found.datum == "gcj02"


def test_warn_if_shifted_issues_a_datum_shift_warning(districts):
    central = districts[districts["region_group"] == "中心城区"]
    with pytest.warns(layers.DatumShiftWarning, match="GCJ02") as record:
        text = layers.warn_if_shifted(shifted(central, "gcj02"), districts, "my.geojson")
    assert len(record) == 1
    assert text.startswith("my.geojson: ") and "datum='gcj02'" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert layers.warn_if_shifted(central, districts, "ok.geojson") is None


# --- points labelled with their district -------------------------------------------------------


def test_sample_is_as_intended(near_boundary_points, districts):
    pts = near_boundary_points
    assert len(pts) == 300
    central = set(districts.loc[districts["region_group"] == "中心城区", "adcode"])
    assert set(pts["adcode"]) <= central and len(set(pts["adcode"])) >= 5
    # each label is the district that contains the point
    joined = gpd.sjoin(pts, districts[["adcode", "geometry"]], predicate="within")
    assert (joined["adcode_left"] == joined["adcode_right"]).all() and len(joined) == 300


def test_labelled_points_shifted_by_gcj02_are_recognised(near_boundary_points, districts):
    moved = shifted(near_boundary_points, "gcj02")
    found = datum_shift_suspicion(moved, districts, district_column="adcode")
    assert found is not None and found.datum == "gcj02"
    assert "'adcode' district" in found.evidence


def test_labelled_points_by_name_shifted_by_bd09_are_recognised(near_boundary_points, districts):
    names = dict(zip(districts["adcode"], districts["name_zh"]))
    pts = near_boundary_points.assign(district=near_boundary_points["adcode"].map(names))
    found = datum_shift_suspicion(shifted(pts, "bd09"), districts, district_column="district")
    assert found is not None and found.datum == "bd09"


def test_unshifted_labelled_points_raise_nothing(near_boundary_points, districts):
    assert datum_shift_suspicion(near_boundary_points, districts, district_column="adcode") is None


def test_points_without_district_column_raise_nothing(near_boundary_points, districts):
    moved = shifted(near_boundary_points, "gcj02")
    assert datum_shift_suspicion(moved, districts) is None
    assert datum_shift_suspicion(moved, districts, district_column="no_such_column") is None


def test_too_few_labelled_points_raise_nothing(near_boundary_points, districts):
    moved = shifted(near_boundary_points.iloc[:5], "gcj02")
    assert datum_shift_suspicion(moved, districts, district_column="adcode") is None


# --- layers that do not follow the boundaries --------------------------------------------------


@pytest.fixture(scope="module")
def road_like_lines(districts) -> gpd.GeoDataFrame:
    """60 random wiggly polylines across the central city, each with 40 vertices."""
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(60):
        start = np.array([rng.uniform(106.3, 106.8), rng.uniform(29.35, 29.8)])
        steps = rng.normal(0.0, 0.004, (39, 2)) + rng.uniform(-0.003, 0.003, 2)
        lines.append(shapely.linestrings(np.vstack([start, start + np.cumsum(steps, axis=0)])))
    return gpd.GeoDataFrame({"road": range(60)}, geometry=lines, crs=4326)


def test_road_network_like_layer_raises_nothing(road_like_lines, districts):
    # enough of its vertices lie near a boundary for the test to be meaningful
    xy = shapely.get_coordinates(road_like_lines.to_crs(METRIC_CRS).geometry.values)
    rings = shapely.boundary(districts.to_crs(METRIC_CRS).geometry.values)
    _, dist = shapely.STRtree(rings).query_nearest(shapely.points(xy), return_distance=True,
                                                   all_matches=False)
    assert (dist < 2000).sum() > 100
    assert datum_shift_suspicion(road_like_lines, districts) is None


def test_empty_layer_raises_nothing(districts):
    assert datum_shift_suspicion(districts.iloc[:0], districts) is None


def _brute_distances(lon, lat, lat0, streets):
    """Every point against every street in the local frame (the obviously correct way)."""
    from layers.coords import bd09_to_wgs84, gcj02_to_wgs84
    from layers.datum_check import _local_xy

    lines = shapely.transform(streets, lambda c: _local_xy(c[:, 0], c[:, 1], lat0))
    out = {}
    for name, (x, y) in {"wgs84": (lon, lat), "gcj02": gcj02_to_wgs84(lon, lat),
                         "bd09": bd09_to_wgs84(lon, lat)}.items():
        pts = shapely.points(_local_xy(x, y, lat0))
        out[name] = shapely.distance(pts[:, None], lines[None, :]).min(axis=1)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_street_distances_equal_brute_force(seed):
    """The grid sieve keeps every street that can be nearest: random short and long
    streets around Chongqing, points on them, between them and kilometres from any."""
    from layers.datum_check import street_distances

    rng = np.random.default_rng(seed)
    n = 600
    x0 = 106.5 + rng.uniform(-0.05, 0.05, n)
    y0 = 29.55 + rng.uniform(-0.05, 0.05, n)
    step = np.where(rng.random(n) < 0.1, 0.03, 0.002)  # some streets longer than the sieve
    x1 = x0 + rng.uniform(-1, 1, n) * step
    y1 = y0 + rng.uniform(-1, 1, n) * step
    streets = shapely.linestrings(np.stack([np.c_[x0, y0], np.c_[x1, y1]], axis=1))
    lon = np.r_[106.5 + rng.uniform(-0.06, 0.06, 300), 106.8, 106.2]  # two far away
    lat = np.r_[29.55 + rng.uniform(-0.06, 0.06, 300), 29.9, 29.55]
    got = street_distances(lon, lat, 29.55, streets)
    want = _brute_distances(lon, lat, 29.55, streets)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-6)
    assert want["wgs84"][-2:].min() > 5_000  # the far points took the slow path


def test_street_distances_of_a_network_piece_with_no_street_near():
    """Points whose only streets are far still get their exact distance."""
    from layers.datum_check import street_distances

    streets = shapely.linestrings([[[106.0, 29.0], [106.001, 29.0]]])
    got = street_distances(np.array([106.5]), np.array([29.0]), 29.0, streets)
    want = _brute_distances(np.array([106.5]), np.array([29.0]), 29.0, streets)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12)
