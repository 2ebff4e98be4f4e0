"""The 38 Chongqing district/county units (layers.districts)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point

import layers
from layers.districts import AREA_CRS, read_district_facts
from layers.resources import data_dir

GEOD = Geod(ellps="WGS84")
METRIC_CRS = 32648  # UTM 48N, for distances over Chongqing

MISSING_POP = {"忠县", "云阳县", "巫溪县", "秀山土家族苗族自治县", "酉阳土家族苗族自治县"}


def containing(districts: gpd.GeoDataFrame, lon: float, lat: float) -> list[str]:
    """Names of the districts whose polygon contains the point."""
    return list(districts.loc[districts.contains(Point(lon, lat)), "name_zh"])


def test_shape_crs_and_columns():
    d = layers.load_districts()
    assert len(d) == 38
    assert d.crs.to_epsg() == 4326
    for col in ("adcode", "name_zh", "region_group", "pop_2020", "area_km2", "geometry"):
        assert col in d.columns
    assert list(d.columns) == list(layers.DISTRICT_COLUMNS)


def test_adcodes_are_unique_six_digit_strings():
    d = layers.load_districts()
    assert all(isinstance(c, str) and re.fullmatch(r"50\d{4}", c) for c in d["adcode"])
    assert d["adcode"].is_unique
    assert d["name_zh"].is_unique


def test_geometries_are_valid_polygons():
    d = layers.load_districts()
    assert d.geometry.notna().all()
    assert set(d.geom_type) <= {"Polygon", "MultiPolygon"}
    assert d.is_valid.all()
    assert (~d.is_empty).all()


def test_total_area_is_that_of_chongqing():
    d = layers.load_districts()
    total = d["area_km2"].sum()
    assert abs(total - 82_400) / 82_400 < 0.01, total
    # area_km2 is the equal-area area of each polygon
    np.testing.assert_allclose(d["area_km2"], d.to_crs(AREA_CRS).area / 1e6, rtol=1e-9)


def test_region_group_counts():
    counts = layers.load_districts()["region_group"].value_counts().to_dict()
    assert counts == {"中心城区": 9, "主城新区": 12, "渝东北三峡库区城镇群": 11, "渝东南武陵山区城镇群": 6}


def test_population_total_and_missing_units():
    d = layers.load_districts()
    assert int(d["pop_2020"].sum()) == 28_911_932
    assert int(d["pop_2020"].notna().sum()) == 33
    assert set(d.loc[d["pop_2020"].isna(), "name_zh"]) == MISSING_POP


def test_density_is_population_over_area():
    d = layers.load_districts()
    has = d["pop_2020"].notna()
    np.testing.assert_allclose(
        d.loc[has, "density_per_km2"],
        d.loc[has, "pop_2020"].astype(float) / d.loc[has, "area_km2"], rtol=1e-12)
    assert d.loc[~has, "density_per_km2"].isna().all()


def test_load_districts_returns_an_independent_copy():
    d = layers.load_districts()
    d.loc[0, "name_zh"] = "changed"
    assert layers.load_districts().loc[0, "name_zh"] != "changed"


# --- known places ----------------------------------------------------------------------------


def test_jiefangbei_is_in_yuzhong():
    assert containing(layers.load_districts(), 106.577, 29.557) == ["渝中区"]


def test_guanyinqiao_station_is_in_jiangbei():
    assert containing(layers.load_districts(), 106.52876, 29.57625) == ["江北区"]


def test_every_seat_lies_in_its_own_district():
    d = layers.load_districts()
    seats = gpd.GeoSeries(gpd.points_from_xy(d["seat_lon"], d["seat_lat"]), crs=4326)
    dist = d.to_crs(METRIC_CRS).geometry.distance(seats.to_crs(METRIC_CRS), align=False)
    far = d.loc[dist.to_numpy() > 200, "name_zh"]
    assert far.empty, f"seats more than 200 m outside their district: {list(far)}"


def test_seat_columns_agree_with_their_gcj02_source():
    """The facts table keeps the GCJ-02 seat it converted; forward again must agree."""
    facts = pd.read_csv(data_dir() / "districts.csv", dtype=str, keep_default_na=False)
    lon, lat = layers.wgs84_to_gcj02(facts["seat_lon"].astype(float).to_numpy(),
                                     facts["seat_lat"].astype(float).to_numpy())
    _, _, err = GEOD.inv(lon, lat, facts["seat_lon_gcj02"].astype(float).to_numpy(),
                         facts["seat_lat_gcj02"].astype(float).to_numpy())
    assert err.max() < 2.0, err.max()  # the table rounds to ~1e-5 degrees


# --- GCJ-02 → WGS-84 conversion of the boundaries ------------------------------------------


def _paired_vertex_metres(a, b) -> np.ndarray:
    ca, cb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    assert ca.shape == cb.shape
    _, _, dist = GEOD.inv(ca[:, 0], ca[:, 1], cb[:, 0], cb[:, 1])
    return np.asarray(dist)


def test_yuzhong_boundary_is_shifted_by_the_gcj02_offset():
    d = layers.load_districts().set_index("adcode")
    raw = layers.read_boundaries_gcj02(["500103"])
    dist = _paired_vertex_metres(d.loc["500103", "geometry"], raw.loc["500103"])
    assert len(dist) > 50
    assert dist.min() > 250 and dist.max() < 700, (dist.min(), dist.max())


def test_all_boundaries_are_shifted_by_the_gcj02_offset():
    d = layers.load_districts()
    raw = layers.read_boundaries_gcj02(list(d["adcode"]))
    dist = np.concatenate([_paired_vertex_metres(a, b)
                           for a, b in zip(d.geometry.values, raw.values)])
    assert 300 <= np.median(dist) <= 600, np.median(dist)
    assert dist.min() > 250 and dist.max() < 750
    # and the converted vertices are exactly the GCJ-02 inverse of the raw ones
    xy = shapely.get_coordinates(raw.loc["500103"])
    want = np.column_stack(layers.gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
    got = shapely.get_coordinates(d.set_index("adcode").loc["500103", "geometry"])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_read_boundaries_gcj02_unknown_code_names_it():
    with pytest.raises(FileNotFoundError, match="500199"):
        layers.read_boundaries_gcj02(["500199"])


def test_districts_tile_without_large_overlaps():
    d = layers.load_districts().to_crs(AREA_CRS)
    geoms = d.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]])).sum()
    total = shapely.area(geoms).sum()
    assert pairs.sum() > 38  # neighbours do touch
    assert overlap < 0.001 * total, overlap / total


# --- validation of the facts table ---------------------------------------------------------


def test_read_district_facts_reads_the_bundled_table():
    facts = read_district_facts()
    assert len(facts) == 38
    assert str(facts["pop_2020_census"].dtype) == "Int64"


def test_read_district_facts_reports_every_problem(tmp_path):
    raw = pd.read_csv(data_dir() / "districts.csv", dtype=str, keep_default_na=False)
    # data row i is CSV line i + 2 (the header is line 1)
    raw.loc[2, "adcode"] = "50010X"  # line 4
    raw.loc[4, "name_zh"] = ""  # line 6
    raw.loc[6, "pop_2020_census"] = "abc"  # line 8
    raw.loc[9, "adcode"] = raw.loc[8, "adcode"]  # line 11 repeats line 10
    path = tmp_path / "districts_bad.csv"
    raw.to_csv(path, index=False)

    with pytest.raises(layers.LayerValidationError, match=re.escape(str(path))) as info:
        read_district_facts(path)
    info.match(r"row 4, column 'adcode': expected a 6-digit code, got '50010X'")
    info.match(r"row 6, column 'name_zh': empty")
    info.match(r"row 8, column 'pop_2020_census': expected a number, got 'abc'")
    info.match(r"row 11, column 'adcode': duplicate value '%s'" % raw.loc[8, "adcode"])
    assert len(info.value.problems) == 4
    assert info.value.source == str(path)


def test_read_district_facts_missing_column(tmp_path):
    raw = pd.read_csv(data_dir() / "districts.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "no_region.csv"
    raw.drop(columns=["region_group"]).to_csv(path, index=False)
    with pytest.raises(layers.LayerValidationError, match=r"missing column\(s\) region_group"):
        read_district_facts(path)


def test_near_chongqing_is_the_one_box_test():
    from layers.districts import CHONGQING_LAT, CHONGQING_LON, near_chongqing

    d = layers.load_districts()
    west, south, east, north = d.total_bounds
    assert CHONGQING_LON[0] < west < east < CHONGQING_LON[1]
    assert CHONGQING_LAT[0] < south < north < CHONGQING_LAT[1]
    jiefangbei = gpd.GeoDataFrame(geometry=[Point(106.5775, 29.5577)], crs=4326)
    helsinki = gpd.GeoDataFrame(geometry=[Point(24.94, 60.17), Point(24.96, 60.18)], crs=4326)
    assert near_chongqing(jiefangbei) and near_chongqing(jiefangbei.geometry)
    assert near_chongqing(jiefangbei.to_crs(32648))  # a projected layer is looked at in degrees
    assert not near_chongqing(helsinki) and not near_chongqing(helsinki.iloc[:0])
    assert near_chongqing((100.0, 20.0, 120.0, 40.0))  # a box around it
    assert not near_chongqing((east + 0.05, south, east + 0.2, north))
    assert near_chongqing((east + 0.05, south, east + 0.2, north), margin_deg=0.1)
    assert not near_chongqing((np.nan, np.nan, np.nan, np.nan)) and not near_chongqing([1, 2])
