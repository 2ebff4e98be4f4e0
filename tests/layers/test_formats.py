"""A planner's files in every form (tests/data/corpus, written by tests/data/make_corpus.py).

Every accepted variant must read to the clean file's points (within 1e-7 degrees) and
attribute values; every refused one must raise a LayerValidationError naming the file, the
row or column where it applies, and the fix.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from layers import LayerValidationError, read_user_layer

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
ATTRS = ["id", "name", "category", "capacity", "population"]


def read(name: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray warning from any reader
        return read_user_layer(CORPUS / name, **kwargs)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    """The clean file read by plain pandas: the oracle of points and values."""
    return pd.read_csv(CORPUS / "clean.csv", dtype={"name": str, "category": str})


def plain(value):
    """A cell compared across formats: numbers as floats, text stripped."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value).strip()


def assert_same(gdf: gpd.GeoDataFrame, truth: pd.DataFrame, atol: float = 1e-7) -> None:
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == len(truth)
    assert (gdf.geom_type == "Point").all()
    np.testing.assert_allclose(gdf.geometry.x.to_numpy(), truth["lon"], rtol=0, atol=atol)
    np.testing.assert_allclose(gdf.geometry.y.to_numpy(), truth["lat"], rtol=0, atol=atol)
    for col in ATTRS:
        assert [plain(v) for v in gdf[col]] == [plain(v) for v in truth[col]], col


def test_clean_file_matches_plain_pandas(truth):
    gdf, report = read("clean.csv")
    np.testing.assert_array_equal(gdf.geometry.x.to_numpy(), truth["lon"].to_numpy())
    np.testing.assert_array_equal(gdf.geometry.y.to_numpy(), truth["lat"].to_numpy())
    assert list(gdf.index) == list(range(2, 32))
    assert list(gdf["name"]) == list(truth["name"])
    assert gdf["population"].dtype == float
    assert report.cleaned == [] and report.skipped == [] and report.rejected == []
    assert report.format == "text" and report.encoding == "utf-8" and report.separator == ","


ACCEPTED = [
    ("gbk_chinese_headers.csv", {}),
    ("gb18030.csv", {}),
    ("utf8_bom.csv", {}),
    ("semicolon_decimal_comma.csv", {}),
    ("tab.tsv", {}),
    ("pipe.txt", {}),
    ("excel_unicode_text.txt", {}),
    ("two_sheets.xlsx", {"layer": "设施"}),
    ("facilities.xls", {}),
    ("workbook_named.csv", {}),
    ("shp_gbk_no_cpg_nested.zip", {}),
    ("shp_gbk_with_cpg.zip", {}),
    ("two_shapefiles.zip", {"layer": "facilities"}),
    ("csv_in_zip.zip", {}),
    ("names.kml", {}),
    ("names.kmz", {}),
    ("two_layers.gpkg", {"layer": "facilities"}),
    ("facilities.parquet", {}),
    ("wkt_column.csv", {}),
    ("amap_location.csv", {}),
    ("dms_fullwidth_thousands.csv", {}),
    ("trailing_empty.csv", {}),
    ("gk25fin_with_prj.zip", {}),
    ("gk25fin_metres.csv", {"datum": "EPSG:3879"}),
    ("xy_metres_and_lonlat.csv", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_variant_reads_like_the_clean_file(truth, name, kwargs):
    gdf, report = read(name, **kwargs)
    assert_same(gdf, truth)
    assert report.rows_read == len(truth) and report.rejected == []
    assert report.columns["name"] in ("name", "名称", "设施名称")


def test_legacy_encodings_are_detected():
    with pytest.raises(UnicodeDecodeError):
        (CORPUS / "gbk_chinese_headers.csv").read_text(encoding="utf-8")
    with pytest.raises(UnicodeDecodeError):  # 𠮷 needs GB18030's four-byte form
        (CORPUS / "gb18030.csv").read_text(encoding="gbk")
    _, report = read("gbk_chinese_headers.csv")
    assert report.encoding == "gbk"
    assert report.columns == {"lon": "经度", "lat": "纬度", "name": "名称", "category": "类别",
                              "population": "人口", "capacity": "床位", "id": "编号"}
    gdf, report = read("gb18030.csv")
    assert report.encoding == "gb18030" and set(gdf["备注"]) == {"𠮷"}
    assert report.columns["lon"] == "东经" and report.columns["population"] == "常住人口"
    _, report = read("excel_unicode_text.txt")
    assert report.encoding == "utf-16" and report.separator == "\t"


def test_separators_are_sniffed():
    for name, sep in (("semicolon_decimal_comma.csv", ";"), ("tab.tsv", "\t"),
                      ("pipe.txt", "|")):
        assert read(name)[1].separator == sep
    report = read("semicolon_decimal_comma.csv")[1]
    assert any("decimal commas" in c and "'lon'" in c for c in report.cleaned)


def test_gbk_shapefile_without_cpg_would_be_mojibake_in_gdal(tmp_path, truth):
    with zipfile.ZipFile(CORPUS / "shp_gbk_no_cpg_nested.zip") as zf:
        members = zf.namelist()
        assert not any(m.lower().endswith(".cpg") for m in members)
        assert all(m.startswith("数据/设施点/") for m in members)  # nested folders
        zf.extractall(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = gpd.read_file(next(tmp_path.rglob("*.shp")))  # GDAL's own guess: Latin-1
    assert "名称" not in raw.columns and list(raw.iloc[:, 1]) != list(truth["name"])
    gdf, report = read("shp_gbk_no_cpg_nested.zip")
    assert report.encoding == "GB18030" and report.layer == "设施"
    assert list(gdf["name"]) == list(truth["name"])


def test_excel_rows_are_sheet_rows_and_blanks_are_dropped():
    gdf, report = read("two_sheets.xlsx", layer="设施")
    assert list(gdf.index) == list(range(3, 33))  # title row 1, header row 2
    assert report.layer == "设施" and report.format == "excel"
    assert list(gdf.columns) == [*ATTRS, "geometry"]  # trailing blank columns dropped
    assert report.skipped == [33, 34, 35, 36]  # trailing rows holding only blanks


def test_trailing_empty_rows_and_columns_of_a_csv():
    gdf, report = read("trailing_empty.csv")
    assert list(gdf.columns) == [*ATTRS, "geometry"]
    assert len(report.skipped) >= 3 and min(report.skipped) == 32
    assert "empty row(s) skipped" in report.summary()


def test_magic_bytes_decide_over_the_extension():
    assert (CORPUS / "workbook_named.csv").read_bytes()[:4] == b"PK\x03\x04"
    assert read("workbook_named.csv")[1].format == "excel"
    if (CORPUS / "facilities.xls").exists():
        assert (CORPUS / "facilities.xls").read_bytes()[:4] == b"\xd0\xcf\x11\xe0"


def test_kml_keeps_names_folders_and_chinese_extended_data(truth):
    gdf, report = read("names.kml")
    assert list(gdf["name"]) == list(truth["name"])
    assert list(gdf["folder"]) == ["第一批"] * 15 + ["第二批"] * 15
    assert report.columns["category"] == "类别" and report.columns["id"] == "编号"
    gdf, _ = read("names.kml", layer="第二批")
    assert list(gdf["name"]) == list(truth["name"][15:])


def test_amap_location_and_type_columns(truth):
    gdf, report = read("amap_location.csv")
    assert report.columns["location"] == "location"
    assert report.columns["category"] == "type"  # the type name wins over typecode
    assert "typecode" in gdf.columns and "location" not in gdf.columns


def test_hand_typed_values_are_cleaned_and_reported(truth):
    gdf, report = read("dms_fullwidth_thousands.csv")
    raw = pd.read_csv(CORPUS / "dms_fullwidth_thousands.csv", dtype=str)
    assert raw["lon"].str.contains("°").any() and raw["lon"].str.contains("东经").any()
    assert raw["lon"].str.contains("２").any() and raw["population"].str.contains(",").any()
    lon = {c.split("'")[1]: c for c in report.cleaned}
    assert "degrees-minutes-seconds" in lon["lon"] and "full-width" in lon["lon"]
    assert "thousands separators" in lon["population"]
    assert re.search(r"e\.g\. row 2: .* → 24\.93966", lon["lon"])


def test_projected_files_are_converted(truth):
    lon, lat = Transformer.from_crs(3879, 4326, always_xy=True).transform(
        *Transformer.from_crs(4326, 3879, always_xy=True).transform(truth.lon, truth.lat))
    np.testing.assert_allclose(lon, truth.lon, atol=1e-9)  # the round trip itself is exact
    with zipfile.ZipFile(CORPUS / "gk25fin_with_prj.zip") as zf:
        assert "GK25FIN" in zf.read("gk25fin.prj").decode()
    gdf, _ = read("gk25fin_with_prj.zip")
    assert_same(gdf, truth, atol=1e-7)


def test_xy_in_metres_lose_to_lonlat_columns():
    gdf, report = read("xy_metres_and_lonlat.csv")
    assert (report.columns["lon"], report.columns["lat"]) == ("经度", "纬度")
    assert gdf["X坐标"].str.startswith("25").all()  # kept as an attribute


def test_swapped_columns_are_named_with_the_fix(truth):
    path = CORPUS / "swapped_lonlat_chongqing.csv"
    with pytest.raises(LayerValidationError) as info:
        read(path.name)
    text = str(info.value)
    assert text.startswith(str(path)) and "projected" not in text and "not degrees" not in text
    assert "look swapped" in text and "--lon-column 'lat' --lat-column 'lon'" in text
    gdf, _ = read(path.name, columns={"lon": "lat", "lat": "lon"})  # the fix it names
    np.testing.assert_allclose(gdf.geometry.x, truth.lon + 81.6, atol=1e-7)
    np.testing.assert_allclose(gdf.geometry.y, truth.lat - 30.6, atol=1e-7)


REFUSED = [
    ("binary_garbage.csv", {}, r"is not a text table \(binary content\); give a CSV"),
    ("undecodable_text.csv", {}, r"not readable text: neither UTF-8 .* nor GBK/GB18030; save"),
    ("gk25fin_metres.csv", {}, r"not degrees: declare the projected CRS .*--datum EPSG:<code>"
                               r".*EPSG:4513"),
    ("two_sheets.xlsx", {}, r"holds 2 sheets with data \(说明, 设施\); .*--layer"),
    ("two_sheets.xlsx", {"layer": "Sheet9"}, r"has no sheet 'Sheet9'; its sheets are 说明, 设施"),
    ("two_shapefiles.zip", {}, r"holds 2 layers \(facilities, study_area\); .*--layer"),
    ("two_shapefiles.zip", {"layer": "roads"},
     r"has no layer 'roads'; it holds facilities, study_area"),
    ("two_layers.gpkg", {}, r"holds 2 layers \(facilities, study_area\); .*--layer"),
    ("names.kml", {"layer": "第三批"}, r"has no folder '第三批'; it has 第一批, 第二批"),
    ("two_population_columns.csv", {"required_columns": ("population",)},
     r"columns '常住人口', '户籍人口' could each be the population: pick one with "
     r"--population-column"),
    ("bad_values.csv", {}, r"row 6: coordinates \('24\.9x', '60\.\d+'\) in columns 'lon', "
                           r"'lat' are not numbers"),
    ("bad_values.csv", {"required_columns": ("population",)},
     r"row 11: column 'population': '很多' is not a number"),
    ("clean.csv", {"columns": {"category": "设施类型"}},
     r"no column '设施类型' for category \(--category-column\); found id, name"),
    ("gbk_chinese_headers.csv", {"required_columns": ("address",)},
     r"missing column\(s\) address; found id, name, category, capacity, population"),
]


@pytest.mark.parametrize(("name", "kwargs", "pattern"), REFUSED,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSED)])
def test_refused_variant_names_file_and_fix(name, kwargs, pattern):
    path = CORPUS / name
    with pytest.raises(LayerValidationError) as info:
        read(name, **kwargs)
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert re.search(pattern, text), text


@pytest.mark.parametrize("name", ["binary_garbage.csv", "undecodable_text.csv"])
def test_garbage_is_one_short_line(name):
    with pytest.raises(LayerValidationError) as info:
        read(name)
    assert len(info.value.problems) == 1
    line = info.value.problems[0]
    assert "\n" not in line and len(line) < 160 and line.isprintable()


def test_two_population_columns_are_fine_when_population_is_not_needed():
    gdf, report = read("two_population_columns.csv")
    assert "population" not in report.columns
    assert report.ambiguous == {"population": ["常住人口", "户籍人口"]}
    assert "could each be the population; none used" in report.summary()
    assert {"常住人口", "户籍人口"} <= set(gdf.columns)
    gdf, report = read("two_population_columns.csv", columns={"population": "户籍人口"},
                       required_columns=("population",))
    assert report.columns["population"] == "户籍人口" and gdf["population"].dtype == float


def test_bad_rows_dropped_on_request(truth):
    gdf, report = read("bad_values.csv", on_bad_rows="drop",
                       required_columns=("population",))
    assert sorted(r for r, _ in report.rejected) == [6, 11]
    assert list(gdf.index) == [r for r in range(2, 32) if r not in (6, 11)]


# --- the corpus script -----------------------------------------------------------------------


def test_corpus_script_writes_the_committed_files(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_corpus", CORPUS.parent / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.build(tmp_path / "corpus")
    assert [f.name for f in files] == sorted(f.name for f in CORPUS.iterdir())
    assert (tmp_path / "corpus" / "clean.csv").read_bytes() == (CORPUS / "clean.csv").read_bytes()
    assert sum(f.stat().st_size for f in CORPUS.iterdir()) < 1_000_000


# --- cases built here ------------------------------------------------------------------------


def test_swapped_points_in_western_china_are_recognised(tmp_path):
    """Swapped but still within ±90: only the China box tells (Xinjiang, 80–88°E)."""
    lon, lat = np.array([80.1, 84.3, 87.6]), np.array([41.2, 43.8, 43.8])
    path = tmp_path / "xj.csv"
    pd.DataFrame({"经度": lat, "纬度": lon}).to_csv(path, index=False)
    with pytest.raises(LayerValidationError, match="look swapped.*--lon-column '纬度'"):
        read_user_layer(path)


def test_one_swapped_row_is_a_bad_row(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("lon,lat\n106.5,29.5\n106.6,29.6\n29.7,106.7\n", encoding="utf-8")
    with pytest.raises(LayerValidationError, match=r"row 4: coordinates \(29\.7, 106\.7\) are "
                                                   r"outside ±180/±90; longitude and latitude "
                                                   r"look swapped"):
        read_user_layer(path)
    gdf, report = read_user_layer(path, on_bad_rows="drop")
    assert list(gdf.index) == [2, 3]


def test_cgcs2000_gauss_kruger_shapefile_with_prj(tmp_path):
    lon, lat = np.array([106.577, 107.39]), np.array([29.56, 29.55])
    src = gpd.GeoDataFrame({"名称": ["a", "b"]}, geometry=gpd.points_from_xy(lon, lat),
                           crs=4490).to_crs(4545)
    src.to_file(tmp_path / "gk.shp", encoding="UTF-8")
    assert "Gauss" in (tmp_path / "gk.prj").read_text() or "CM_108E" in (
        tmp_path / "gk.prj").read_text()
    gdf, report = read_user_layer(tmp_path / "gk.shp")
    np.testing.assert_allclose(gdf.geometry.x, lon, atol=1e-7)
    np.testing.assert_allclose(gdf.geometry.y, lat, atol=1e-7)
    assert list(gdf["name"]) == ["a", "b"]


def test_zipped_workbook_sheet_and_gbk_member_names(tmp_path):
    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"说明": ["x"], "备注": ["y"]}).to_excel(xl, sheet_name="说明", index=False)
        pd.DataFrame({"名称": ["a"], "经度": [106.5], "纬度": [29.5]}).to_excel(
            xl, sheet_name="设施", index=False)
    path = tmp_path / "pack.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("abcd.xlsx", book.read_bytes())
        zf.writestr("readme.md", "notes")
    # Chinese Windows writes member names in GBK without the UTF-8 flag
    gbk = "表格.xlsx".encode("gbk")
    assert len(gbk) == len(b"abcd.xlsx")
    path.write_bytes(path.read_bytes().replace(b"abcd.xlsx", gbk))
    with zipfile.ZipFile(path) as zf:
        assert "表格.xlsx" not in zf.namelist()  # what Python alone makes of the name
    with pytest.raises(LayerValidationError, match=r"表格\.xlsx in the zip: holds 2 sheets"):
        read_user_layer(path)
    gdf, report = read_user_layer(path, layer="设施")  # one member: the layer is its sheet
    assert list(gdf["name"]) == ["a"] and report.layer == "设施"
    gdf, _ = read_user_layer(path, layer="表格:设施")
    assert gdf.geometry.x.iloc[0] == 106.5


def test_zip_without_layers_lists_what_it_holds(tmp_path):
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/readme.md", "x")
    with pytest.raises(LayerValidationError, match=r"no table or GIS layer \(found readme.md\)"):
        read_user_layer(path)


def test_shapefile_outside_a_zip_gets_the_detected_encoding(tmp_path):
    with zipfile.ZipFile(CORPUS / "shp_gbk_no_cpg_nested.zip") as zf:
        zf.extractall(tmp_path)
    shp = next(tmp_path.rglob("*.shp"))
    target = tmp_path / "flat"
    target.mkdir()
    for f in shp.parent.iterdir():
        shutil.copy(f, target / f.name)
    gdf, report = read_user_layer(target / shp.name)
    assert report.encoding == "GB18030" and gdf["name"].str.contains("号").all()


def test_wkt_lines_keep_their_shape(tmp_path):
    line = shapely.LineString([(106.5, 29.5), (106.6, 29.55)])
    path = tmp_path / "roads.csv"
    pd.DataFrame({"名称": ["路"], "geometry": [line.wkt]}).to_csv(path, index=False)
    gdf, report = read_user_layer(path, geometry_types=("LineString",))
    assert gdf.geometry.iloc[0].equals(line) and report.columns["wkt"] == "geometry"
    path.write_text("name,wkt\na,POINT (106.5 29.5)\nb,POINT (oops)\n", encoding="utf-8")
    with pytest.raises(LayerValidationError, match=r"row 3: geometry 'POINT \(oops\)' in column "
                                                   r"'wkt' is not WKT"):
        read_user_layer(path)


def test_zip_members_sharing_a_stem_are_named_by_path(tmp_path):
    from layers.formats import zip_layer_names

    path = tmp_path / "pack.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/facilities.csv", "lon,lat\n106.5,29.5\n")
        zf.writestr("b/facilities.csv", "lon,lat\n106.6,29.6\n")
        zf.writestr("__MACOSX/a/._facilities.csv", "junk")
    assert zip_layer_names(path) == ["a/facilities.csv", "b/facilities.csv"]
    gdf, report = read_user_layer(path, layer="b/facilities.csv")
    assert gdf.geometry.x.iloc[0] == 106.6 and report.layer == "b/facilities.csv"


def test_swapped_axes_in_a_gis_file(tmp_path):
    path = tmp_path / "latlon.geojson"
    gpd.GeoDataFrame({"n": [1, 2]}, geometry=gpd.points_from_xy([29.5, 29.6], [106.5, 106.6]),
                     crs=4326).to_file(path)
    with pytest.raises(LayerValidationError, match=r"x and y look swapped: the file stores "
                                                   r"latitude as x .*longitude as x"):
        read_user_layer(path)


def test_workbook_with_one_filled_sheet_needs_no_choice(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame().to_excel(xl, sheet_name="空白", index=False)
        pd.DataFrame({"名称": ["a"], "X坐标": [106.5], "Y坐标": [29.5]}).to_excel(
            xl, sheet_name="点", index=False)
    gdf, report = read_user_layer(path)
    assert report.layer == "点" and report.columns["lon"] == "X坐标"
    assert list(gdf.index) == [2]  # Excel row 2 (the header is row 1)


def test_tables_without_geometry_in_gis_containers(tmp_path, truth):
    import pyogrio

    pyogrio.write_dataframe(truth.rename(columns={"lon": "经度", "lat": "纬度"}),
                            tmp_path / "attr.gpkg", layer="pts", driver="GPKG")
    gdf, report = read_user_layer(tmp_path / "attr.gpkg")
    assert report.format == "table" and report.columns["lon"] == "经度"
    assert_same(gdf, truth)
    truth.to_parquet(tmp_path / "plain.parquet")  # no 'geo' metadata: a plain table
    gdf, report = read_user_layer(tmp_path / "plain.parquet")
    assert report.format == "parquet"
    assert_same(gdf, truth)
