"""Reading users' CSV and vector files (layers.userfile.read_user_layer)."""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Point, Polygon, mapping

import layers
from layers import LayerValidationError, read_user_layer

# Three points in central Chongqing (WGS-84) used across the CSV tests.
LON = np.array([106.5770, 106.5288, 106.4324])
LAT = np.array([29.5570, 29.5763, 29.5029])


def write_csv(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def points_csv(tmp_path, lon=LON, lat=LAT, name="points.csv", lon_col="lon", lat_col="lat"):
    df = pd.DataFrame({"name": ["解放碑", "观音桥", "重庆西站"], lon_col: lon, lat_col: lat,
                       "kind": ["a", "b", "c"]})
    path = tmp_path / name
    df.to_csv(path, index=False, float_format="%.10f")
    return path


def geojson(path, features, crs: str | None = None):
    """Write a FeatureCollection by hand: [(properties, shapely geometry or None), ...]."""
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": props,
                         "geometry": None if geom is None else mapping(geom)}
                        for props, geom in features]}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def assert_xy(gdf, lon, lat, atol=1e-12):
    np.testing.assert_allclose(gdf.geometry.x.to_numpy(), lon, rtol=0, atol=atol)
    np.testing.assert_allclose(gdf.geometry.y.to_numpy(), lat, rtol=0, atol=atol)


def cq(x: float, y: float) -> tuple[float, float]:
    """A coordinate near central Chongqing from small offsets."""
    return 106.5 + 0.01 * x, 29.5 + 0.01 * y


# --- CSV ----------------------------------------------------------------------------------


def test_csv_lon_lat(tmp_path):
    gdf, report = read_user_layer(points_csv(tmp_path))
    assert gdf.crs.to_epsg() == 4326
    assert (gdf.geom_type == "Point").all()
    assert list(gdf.index) == [2, 3, 4]  # CSV line numbers: header is line 1
    assert list(gdf["name"]) == ["解放碑", "观音桥", "重庆西站"]
    assert list(gdf["kind"]) == ["a", "b", "c"]
    assert_xy(gdf, LON, LAT)
    assert report.rows_read == 3 and report.rows_kept == 3
    assert report.rejected == [] and report.repaired == [] and report.warnings == []


def test_csv_with_chinese_headers(tmp_path):
    gdf, _ = read_user_layer(points_csv(tmp_path, lon_col="经度", lat_col="纬度"))
    assert_xy(gdf, LON, LAT)
    assert list(gdf.index) == [2, 3, 4]
    assert "经度" not in gdf.columns and "name" in gdf.columns


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_csv_in_chinese_legacy_encoding(tmp_path, encoding):
    text = "名称,经度,纬度,备注\n解放碑,106.577,29.557,渝中区商圈\n观音桥,106.5288,29.5763,江北区\n"
    path = write_csv(tmp_path / "gbk.csv", text, encoding)
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # the file really is not UTF-8
    gdf, report = read_user_layer(path)
    assert list(gdf["name"]) == ["解放碑", "观音桥"]  # 名称 is an alias of name
    assert report.columns == {"lon": "经度", "lat": "纬度", "name": "名称"}
    assert report.encoding in ("gbk", "gb18030")
    assert list(gdf["备注"]) == ["渝中区商圈", "江北区"]
    assert_xy(gdf, [106.577, 106.5288], [29.557, 29.5763])


def test_csv_with_explicit_column_names(tmp_path):
    path = points_csv(tmp_path, lon_col="E", lat_col="N")
    gdf, _ = read_user_layer(path, lon_col="E", lat_col="N")
    assert_xy(gdf, LON, LAT)


@pytest.mark.parametrize(("datum", "convert"), [("gcj02", layers.gcj02_to_wgs84),
                                                ("GCJ-02", layers.gcj02_to_wgs84),
                                                ("bd09", layers.bd09_to_wgs84),
                                                ("Baidu", layers.bd09_to_wgs84)])
def test_csv_in_web_map_datum_is_converted(tmp_path, datum, convert):
    gdf, report = read_user_layer(points_csv(tmp_path), datum=datum)
    want_lon, want_lat = convert(LON, LAT)
    assert gdf.crs.to_epsg() == 4326
    assert_xy(gdf, want_lon, want_lat, atol=1e-9)
    assert np.abs(gdf.geometry.x.to_numpy() - LON).min() > 1e-3  # really moved
    assert report.datum == datum


@pytest.mark.parametrize("datum", ["cgcs2000", "wgs84", "EPSG:4490", "EPSG:4326", 4326])
def test_csv_in_wgs84_or_cgcs2000_is_unchanged(tmp_path, datum):
    gdf, _ = read_user_layer(points_csv(tmp_path), datum=datum)
    assert gdf.crs.to_epsg() == 4326
    assert_xy(gdf, LON, LAT)


@pytest.mark.parametrize(("epsg", "lon"), [
    # CGCS2000 / 3-degree Gauss-Kruger CM 105E covers 103.5–106.5 E (western Chongqing)
    (4544, np.array([105.72, 105.93, 106.45])),
    # CGCS2000 / 3-degree Gauss-Kruger CM 108E covers 106.5–109.5 E (central and eastern)
    (4545, np.array([106.577, 107.39, 108.38])),
])
def test_csv_in_projected_gauss_kruger_metres(tmp_path, epsg, lon):
    crs = CRS.from_epsg(epsg)
    west, south, east, north = crs.area_of_use.bounds
    assert (west <= lon).all() and (lon <= east).all() and south <= 29.5 <= north
    lat = np.array([29.36, 29.55, 30.81])
    x, y = Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)
    assert np.all(np.asarray(x) > 1e5)  # metres, not degrees
    path = tmp_path / "gk.csv"
    pd.DataFrame({"id": [1, 2, 3], "x": x, "y": y}).to_csv(path, index=False, float_format="%.4f")
    gdf, _ = read_user_layer(path, datum=f"EPSG:{epsg}")
    assert gdf.crs.to_epsg() == 4326
    assert_xy(gdf, lon, lat, atol=1e-6)


# --- vector formats -----------------------------------------------------------------------


def sample_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["p", "l", "a"], "value": [1, 2, 3]},
        geometry=[Point(cq(1, 1)), LineString([cq(0, 0), cq(3, 4)]),
                  Polygon([cq(0, 0), cq(2, 0), cq(2, 2), cq(0, 2)])],
        crs=4326)


@pytest.mark.parametrize(("suffix", "driver"), [(".geojson", "GeoJSON"),
                                                (".shp", "ESRI Shapefile"),
                                                (".gpkg", "GPKG")])
def test_vector_formats_load(tmp_path, suffix, driver):
    src = sample_frame()
    path = tmp_path / f"sample{suffix}"
    if driver == "ESRI Shapefile":  # one geometry type per shapefile
        src = src.iloc[[2]].reset_index(drop=True)
    src.to_file(path, driver=driver)
    gdf, report = read_user_layer(path)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.index) == list(range(1, len(src) + 1))  # feature numbers from 1
    assert list(gdf["name"]) == list(src["name"])
    # same shapes (a shapefile may reverse ring orientation, so compare topologically)
    assert shapely.equals(gdf.geometry.values, src.geometry.values).all()
    assert report.rows_read == len(src)


def test_geopackage_with_two_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    src = sample_frame()
    src.iloc[:2].to_file(path, layer="a", driver="GPKG")
    src.iloc[2:].to_file(path, layer="b", driver="GPKG")
    with pytest.raises(LayerValidationError, match=r"2 layers \(a, b\)") as info:
        read_user_layer(path)
    assert str(path) in str(info.value)
    gdf, _ = read_user_layer(path, layer="a")
    assert list(gdf["name"]) == ["p", "l"]
    gdf, _ = read_user_layer(path, layer="b")
    assert list(gdf["name"]) == ["a"]
    with pytest.raises(LayerValidationError, match=r"no layer 'c'; it has a, b"):
        read_user_layer(path, layer="c")


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <Placemark><name>解放碑</name><Point><coordinates>106.577,29.557,0</coordinates></Point></Placemark>
  <Placemark><name>江边</name><LineString><coordinates>
    106.57,29.55 106.58,29.56 106.59,29.565</coordinates></LineString></Placemark>
</Document>
</kml>
"""


def test_kml_loads(tmp_path):
    path = tmp_path / "places.kml"
    path.write_text(KML, encoding="utf-8")
    gdf, _ = read_user_layer(path)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.geom_type) == ["Point", "LineString"]
    names = gdf["Name"] if "Name" in gdf.columns else gdf["name"]
    assert list(names) == ["解放碑", "江边"]
    pt = gdf.geometry.iloc[0]
    assert (pt.x, pt.y) == (106.577, 29.557)


def test_projected_geojson_is_reprojected(tmp_path):
    src = gpd.GeoDataFrame({"name": ["a", "b", "c"]}, geometry=gpd.points_from_xy(LON, LAT),
                           crs=4326).to_crs(32648)
    path = tmp_path / "utm.geojson"
    src.to_file(path, driver="GeoJSON")
    gdf, _ = read_user_layer(path, datum="wgs84")
    assert gdf.crs.to_epsg() == 4326
    assert_xy(gdf, LON, LAT, atol=1e-8)


def test_projected_geojson_declared_gcj02_is_refused(tmp_path):
    src = gpd.GeoDataFrame(geometry=gpd.points_from_xy(LON, LAT), crs=4326).to_crs(32648)
    path = tmp_path / "utm.geojson"
    src.to_file(path, driver="GeoJSON")
    with pytest.raises(LayerValidationError, match="projected") as info:
        read_user_layer(path, datum="gcj02")
    assert str(path) in str(info.value)


def test_declared_epsg_contradicting_the_file_crs(tmp_path):
    src = gpd.GeoDataFrame(geometry=gpd.points_from_xy(LON, LAT), crs=4326).to_crs(32648)
    path = tmp_path / "utm.geojson"
    src.to_file(path, driver="GeoJSON")
    with pytest.raises(LayerValidationError, match="EPSG:4545"):
        read_user_layer(path, datum="EPSG:4545")
    gdf, _ = read_user_layer(path, datum="EPSG:32648")
    assert_xy(gdf, LON, LAT, atol=1e-8)


# --- errors --------------------------------------------------------------------------------


def raises_naming(path, pattern):
    """pytest.raises for a LayerValidationError whose message names ``path`` and ``pattern``."""
    return pytest.raises(LayerValidationError,
                         match=rf"(?s)^{re.escape(str(path))}: .*{pattern}")


def test_file_not_found(tmp_path):
    path = tmp_path / "missing.csv"
    with raises_naming(path, "file not found"):
        read_user_layer(path)


def test_folder_is_not_a_file(tmp_path):
    with raises_naming(tmp_path, "is a folder"):
        read_user_layer(tmp_path)


@pytest.mark.parametrize("name", ["empty.csv", "empty.geojson"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with raises_naming(path, "the file is empty"):
        read_user_layer(path)


def test_csv_header_only(tmp_path):
    path = write_csv(tmp_path / "header.csv", "name,lon,lat\n")
    with raises_naming(path, "no rows"):
        read_user_layer(path)


def test_csv_missing_latitude_lists_found_columns(tmp_path):
    path = write_csv(tmp_path / "nolat.csv", "name,lon,height\na,106.5,12\n")
    with raises_naming(path, "missing latitude column") as info:
        read_user_layer(path)
    info.match("found name, lon, height")
    assert "longitude" not in str(info.value)


def test_csv_named_column_not_present(tmp_path):
    path = points_csv(tmp_path)
    with raises_naming(path, "no column 'E' for lon \\(--lon-column\\); found name, lon, lat"):
        read_user_layer(path, lon_col="E")


BAD_ROW_CSV = "name,lon,lat\na,106.5,29.5\nb,106.6,29.6\nc,east,29.7\nd,106.8,29.8\n"


def test_unparseable_coordinate_names_row_and_columns(tmp_path):
    path = write_csv(tmp_path / "bad.csv", BAD_ROW_CSV)
    with raises_naming(path, r"row 4: coordinates \('east', '29.7'\) in columns 'lon', 'lat'") \
            as info:
        read_user_layer(path)
    assert [p.split(":")[0] for p in info.value.problems] == ["row 4"]  # reported once


def test_unparseable_coordinate_dropped_on_request(tmp_path):
    path = write_csv(tmp_path / "bad.csv", BAD_ROW_CSV)
    gdf, report = read_user_layer(path, on_bad_rows="drop")
    assert list(gdf.index) == [2, 3, 5]
    assert list(gdf["name"]) == ["a", "b", "d"]
    assert [r for r, _ in report.rejected] == [4]
    assert any("'east'" in why for _, why in report.rejected)
    assert report.rows_read == 4 and report.rows_kept == 3
    assert "row 4" in report.summary()


def test_on_bad_rows_must_be_known(tmp_path):
    with pytest.raises(ValueError, match="on_bad_rows"):
        read_user_layer(points_csv(tmp_path), on_bad_rows="skip")


def test_every_row_bad_even_when_dropping(tmp_path):
    path = write_csv(tmp_path / "allbad.csv", "lon,lat\nx,y\n,\n")
    with raises_naming(path, "no usable rows"):
        read_user_layer(path, on_bad_rows="drop")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "table.doc"
    path.write_bytes(b"some words")
    with raises_naming(path, r"unsupported file type \.doc"):
        read_user_layer(path)


def test_broken_workbook(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with raises_naming(path, r"cannot be read as an Excel workbook \(\.xlsx\)"):
        read_user_layer(path)


def test_garbage_geojson(tmp_path):
    path = tmp_path / "garbage.geojson"
    path.write_text("this is not { json at all", encoding="utf-8")
    with raises_naming(path, "cannot be read as a vector file"):
        read_user_layer(path)


def test_required_columns(tmp_path):
    path = points_csv(tmp_path)
    with raises_naming(path, r"missing column\(s\) population") as info:
        read_user_layer(path, required_columns=("population", "name"))
    info.match("found name, kind")
    gdf, _ = read_user_layer(path, required_columns=("name", "kind"))
    assert len(gdf) == 3


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_projected_numbers_declared_as_degrees(tmp_path, suffix):
    path = tmp_path / f"metres{suffix}"
    if suffix == ".csv":
        write_csv(path, "name,lon,lat\na,500000,3300000\nb,510000,3310000\n")
    else:
        geojson(path, [({"name": "a"}, Point(500000, 3300000))])
    with raises_naming(path, "not degrees") as info:
        read_user_layer(path, datum="wgs84")
    info.match(r"EPSG:")


@pytest.mark.parametrize("datum", ["foo", "EPSG:999999"])
def test_unknown_datum_lists_accepted(tmp_path, datum):
    path = points_csv(tmp_path)
    with raises_naming(path, re.escape(repr(datum))) as info:
        read_user_layer(path, datum=datum)
    if datum == "foo":
        info.match("expected one of wgs84, cgcs2000, gcj02, bd09")


# --- geometries ------------------------------------------------------------------------------

SQUARE = Polygon([cq(0, 0), cq(1, 0), cq(1, 1), cq(0, 1)])
BOWTIE = Polygon([cq(0, 0), cq(2, 2), cq(2, 0), cq(0, 2), cq(0, 0)])
# exactly collinear (same latitude): a diagonal would leave a valid 1e-17 deg² sliver
COLLINEAR = Polygon([cq(0, 0), cq(1, 0), cq(2, 0), cq(0, 0)])


def test_bowtie_polygon_is_repaired(tmp_path):
    assert not BOWTIE.is_valid
    path = geojson(tmp_path / "bowtie.geojson", [({"n": 1}, SQUARE), ({"n": 2}, BOWTIE)])
    gdf, report = read_user_layer(path)
    assert report.repaired == [2]
    assert report.rejected == []
    assert gdf.is_valid.all()
    fixed = gdf.geometry.loc[2]
    # the two triangles either side of the crossing, 0.01° x 0.02° / 2 each
    assert fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2
    assert fixed.area == pytest.approx(2e-4, rel=1e-6)
    assert gdf.geometry.loc[1].equals(SQUARE)


def test_collapsed_polygon_cannot_be_repaired(tmp_path):
    assert not COLLINEAR.is_valid
    path = geojson(tmp_path / "flat.geojson", [({"n": 1}, SQUARE), ({"n": 2}, COLLINEAR)])
    with raises_naming(path, r"row 2: invalid geometry .*cannot repair") as info:
        read_user_layer(path)
    assert len(info.value.problems) == 1
    gdf, report = read_user_layer(path, on_bad_rows="drop")
    assert list(gdf.index) == [1] and [r for r, _ in report.rejected] == [2]


def test_null_geometry_is_a_bad_row(tmp_path):
    path = geojson(tmp_path / "null.geojson", [({"n": 1}, SQUARE), ({"n": 2}, None),
                                               ({"n": 3}, Point(cq(1, 1)))])
    with raises_naming(path, r"row 2: no geometry"):
        read_user_layer(path)


def test_geometry_types_restriction(tmp_path):
    path = geojson(tmp_path / "mixed.geojson", [({"n": 1}, Point(cq(1, 1))),
                                                ({"n": 2}, LineString([cq(0, 0), cq(1, 1)]))])
    with raises_naming(path, r"row 2: geometry is a LineString, expected Point"):
        read_user_layer(path, geometry_types=("Point",))
    gdf, report = read_user_layer(path, geometry_types=("Point",), on_bad_rows="drop")
    assert list(gdf.index) == [1] and report.rows_kept == 1
    gdf, _ = read_user_layer(path, geometry_types=("Point", "LineString"))
    assert len(gdf) == 2


# --- datum suspicion -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcj_districts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gcj") / "districts_gcj02.geojson"
    shifted = layers.convert_gdf(layers.load_districts(), "wgs84", "gcj02")
    shifted[["adcode", "name_zh", "geometry"]].to_file(path, driver="GeoJSON")
    return path


def test_gcj02_file_read_as_wgs84_warns(gcj_districts_file):
    with pytest.warns(layers.DatumShiftWarning, match="GCJ02|GCJ-02|gcj02"):
        gdf, report = read_user_layer(gcj_districts_file, datum="wgs84",
                                      districts=layers.load_districts())
    assert len(gdf) == 38
    assert report.warnings and "gcj02" in report.warnings[0].lower()
    assert str(gcj_districts_file) in report.warnings[0]


def test_gcj02_file_read_as_gcj02_is_quiet_and_lands_on_the_districts(gcj_districts_file):
    d = layers.load_districts()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdf, report = read_user_layer(gcj_districts_file, datum="gcj02", districts=d)
    assert report.warnings == []
    got = shapely.get_coordinates(gdf.geometry.values)
    want = shapely.get_coordinates(d.geometry.values)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_wgs84_file_read_as_wgs84_is_quiet(tmp_path):
    path = tmp_path / "districts.geojson"
    d = layers.load_districts()
    d[["adcode", "geometry"]].to_file(path, driver="GeoJSON")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, report = read_user_layer(path, datum="wgs84", districts=d)
    assert report.warnings == []


def test_malformed_gbk_csv_is_a_clear_error(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("名称,经度,纬度\n解放碑,106.5,29.5\n观音桥,106.5,29.5,extra,more\n".encode("gbk"))
    with raises_naming(path, "not a readable CSV file"):
        read_user_layer(path)
