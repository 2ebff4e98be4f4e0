"""The data page's uploads (issue 12, the app): any input replaced on its own, a datum, layer or
sheet, columns and category mapping per upload, a preview and a validation table in the
session's language — and the same outcome as the clean file.

AppTest drives the real page (streamlit.testing.v1); the oracles are the clean files read by
the same readers the pages use, and the coordinates the awkward files were made from.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers import wgs84_to_gcj02
from tests.conftest import open_app

# Latin words a Chinese page may show: units, formats, standards and proper names
ALLOWED = {w.lower() for w in (
    "OSM OpenStreetMap GPS WGS GCJ BD CGCS EPSG UTM CSV TXT TSV Excel GeoJSON GeoPackage "
    "Shapefile KML KMZ GeoParquet OSM DEM WKT km csv txt tsv xlsx xls geojson json gpkg zip kml "
    "kmz parquet pbf osm xml tif tiff prj GBK GB UTF").split()}


@pytest.fixture()
def app(monkeypatch, tmp_path):
    """The app on its data page, uploads offered; uploads and projects under ``tmp_path``."""
    monkeypatch.setenv("GEO_APP_CACHE_DIR", str(tmp_path / "cache"))
    at = open_app(monkeypatch, tmp_path)
    at.sidebar.radio(key="page").set_value("data").run()
    at.radio(key="data_source").set_value("upload").run()
    assert not at.exception
    return at


def upload(at, kind: str, name: str, data: bytes, **choices) -> None:
    """Upload ``data`` as ``kind``, set the widgets in ``choices`` (key → value) and check."""
    at.radio(key="upl_kind").set_value(kind).run()
    at.file_uploader(key=f"upl_file_{kind}").set_value((name, data, "application/octet-stream"))
    at.run()
    assert not at.exception
    for key, value in choices.items():
        at.selectbox(key=key).set_value(value).run()
    at.button(key=f"upl_check_{kind}").click().run()
    assert not at.exception


def read_copy(at, kind: str) -> gpd.GeoDataFrame:
    """The checked copy the pages read for ``kind``."""
    return gpd.read_file(at.session_state["data"][kind])


def page_texts(at) -> list[str]:
    """Every text the main area shows: messages, labels, options and table cells."""
    main = at.main
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader",
                 "header", "title"):
        out += [str(e.value) for e in getattr(main, kind)]
    for kind in ("selectbox", "radio"):
        for w in getattr(main, kind):
            out += [w.label, *map(str, w.options)]
    out += [b.label for b in main.button] + [f.label for f in main.file_uploader]
    out += [w.label for w in main.text_input]
    for d in main.dataframe:
        frame = d.value
        out += [str(c) for c in frame.columns]
        out += [str(v) for v in frame.to_numpy().ravel() if isinstance(v, str)]
    return out


def english(texts: list[str], exclude: tuple[str, ...] = ()) -> set[str]:
    """Latin words (two letters or more) outside :data:`ALLOWED` and the user's own text."""
    found = set()
    for text in texts:
        for x in exclude:
            text = text.replace(x, " ")
        found |= {w for w in re.findall(r"[A-Za-z]{2,}", text) if w.lower() not in ALLOWED}
    return found


# ---------------------------------------------------------------- files


def chongqing_points(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 points in 渝中区 (the oracle the GCJ-02 file is made from)."""
    rng = np.random.default_rng(7)
    return rng.uniform(106.555, 106.585, n), rng.uniform(29.550, 29.565, n)


CATEGORIES = [("幼儿园", "childcare"), ("养老院", "elderly_care"), ("菜市场", "market"),
              ("公交站", "bus_stop"), ("小学", "primary_school"), ("社区小卖部", "market")]


def facility_files(lon, lat) -> tuple[bytes, bytes]:
    """(clean, awkward): a UTF-8 WGS-84 CSV with basket keys, and the same facilities as an
    Amap-style export: GBK, Chinese headers and names, GCJ-02 coordinates."""
    zh = [CATEGORIES[i % len(CATEGORIES)][0] for i in range(len(lon))]
    keys = [CATEGORIES[i % len(CATEGORIES)][1] for i in range(len(lon))]
    names = [f"设施{i}" for i in range(len(lon))]
    clean = pd.DataFrame({"name": names, "category": keys, "lon": lon, "lat": lat})
    glon, glat = wgs84_to_gcj02(lon, lat)
    awkward = pd.DataFrame({"名称": names, "类别": zh, "经度": glon, "纬度": glat})
    return (clean.to_csv(index=False).encode("utf-8"),
            awkward.to_csv(index=False, float_format="%.9f").encode("gbk"))


# ---------------------------------------------------------------- the tests


def test_gbk_gcj02_facilities_over_the_sample_network(app):
    """A GBK, Chinese-header, GCJ-02 facility file gives the clean WGS-84 file's facilities;
    the network stays the sample; a value outside the basket is mapped in the table."""
    lon, lat = chongqing_points()
    clean, awkward = facility_files(lon, lat)
    upload(app, "facilities", "clean.csv", clean, upl_datum_facilities="wgs84")
    reference = read_copy(app, "facilities")
    assert len(reference) == len(lon) and not app.error

    upload(app, "facilities", "高德设施.csv", awkward)
    assert app.selectbox(key="upl_datum_facilities").value == "gcj02"  # a table's default
    assert {r: app.selectbox(key=f"upl_col_facilities_{r}").value
            for r in ("lon", "lat", "name", "category")} == {
        "lon": "经度", "lat": "纬度", "name": "名称", "category": "类别"}
    # 社区小卖部 matches no basket category: listed with its count, then mapped
    assert any("社区小卖部(2)" in w.value for w in app.warning)
    key = next(s.key for s in app.selectbox if s.key.startswith("upl_cat_facilities_"))
    assert app.selectbox(key=key).label == "社区小卖部(2 行)"
    app.selectbox(key=key).set_value("market").run()
    assert any("点击“检查并使用”后生效" in i.value for i in app.info)
    app.button(key="upl_check_facilities").click().run()
    assert not app.exception and not app.error
    assert not any("社区小卖部" in w.value for w in app.warning)

    data = app.session_state["data"]
    from geo_app.workflows.coverage import sample_path

    assert data["network"] == str(sample_path())  # the sample network is kept
    assert data["names"] == {"facilities": "高德设施.csv"}
    got = read_copy(app, "facilities")
    assert list(got["name"]) == list(reference["name"])
    assert list(got["category"]) == list(reference["category"])
    d = np.hypot(got.geometry.x - reference.geometry.x, got.geometry.y - reference.geometry.y)
    assert d.max() < 1e-7  # degrees: the GCJ-02 shift (~500 m) undone to ~1 cm
    raw_shift = np.hypot(*(np.array(wgs84_to_gcj02(lon, lat)) - np.array([lon, lat])))
    assert raw_shift.min() > 2e-3  # the file really was shifted
    table = app.dataframe[0].value
    assert table.loc[table["数据"] == "公共服务设施", "文件"].item() == "高德设施.csv"
    assert table.loc[table["数据"] == "路网", "来源"].item() == "离线样例(赫尔辛基)"


def test_facilities_over_the_sample_give_the_clean_files_coverage(app):
    """The awkward file on the coverage page gives the clean file's coverage table."""
    from geo_app.workflows.coverage import sample_path
    from geo_app.workflows.inputs import street_network

    nodes = street_network(sample_path()).nodes.sample(24, random_state=3)
    clean, awkward = facility_files(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    tables = []
    for name, data, datum in (("clean.csv", clean, "wgs84"), ("设施.csv", awkward, "gcj02")):
        app.sidebar.radio(key="page").set_value("data").run()
        upload(app, "facilities", name, data, upl_datum_facilities=datum)
        mapping = [s.key for s in app.selectbox if s.key.startswith("upl_cat_facilities_")]
        if name != "clean.csv":  # 社区小卖部 → market, as in the clean file
            app.selectbox(key=mapping[0]).set_value("market").run()
            app.button(key="upl_check_facilities").click().run()
        app.sidebar.radio(key="page").set_value("coverage").run()
        app.sidebar.button(key="cov_run").click().run()
        assert not app.exception and not app.error, [e.value for e in app.error]
        tables.append(app.dataframe[0].value)
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert list(tables[0]["category"]) == ["childcare", "elderly_care", "market", "bus_stop",
                                           "primary_school", "basket"]
    assert list(tables[0]["设施数"]) == [4, 4, 8, 4, 4, 24]


def test_two_layer_geopackage_and_two_sheet_workbook_need_the_picker(app, tmp_path):
    lon, lat = chongqing_points(7)
    first = gpd.GeoDataFrame({"名称": list("甲乙丙"), "类别": "幼儿园"},
                             geometry=shapely.points(lon[:3], lat[:3]), crs=4326)
    second = gpd.GeoDataFrame({"名称": list("丁戊己庚"), "类别": "养老院"},
                              geometry=shapely.points(lon[3:], lat[3:]), crs=4326).to_crs(4545)
    gpkg = tmp_path / "two.gpkg"
    first.to_file(gpkg, layer="幼儿园")
    second.to_file(gpkg, layer="养老")
    upload(app, "facilities", "two.gpkg", gpkg.read_bytes())
    picker = app.selectbox(key="upl_layer_facilities")
    assert picker.options == ["幼儿园", "养老"] and picker.value == "幼儿园"
    assert len(read_copy(app, "facilities")) == 3
    picker.set_value("养老").run()
    datum = app.selectbox(key="upl_datum_facilities")
    assert datum.value == "file"  # the layer's own CRS, shown
    assert datum.options[0] == "文件自带:CGCS2000 高斯-克吕格投影(EPSG:4545)"
    app.button(key="upl_check_facilities").click().run()
    assert not app.exception and not app.error
    got = read_copy(app, "facilities")
    assert list(got["name"]) == list("丁戊己庚") and set(got["category"]) == {"elderly_care"}
    assert np.allclose(got.geometry.x, lon[3:], atol=1e-7)
    assert np.allclose(got.geometry.y, lat[3:], atol=1e-7)

    # residents only, from the second sheet of a workbook (X坐标/Y坐标 in GCJ-02)
    glon, glat = wgs84_to_gcj02(lon, lat)
    book = tmp_path / "居民.xlsx"
    with pd.ExcelWriter(book) as w:
        pd.DataFrame({"说明": ["人口来自街道统计"]}).to_excel(w, sheet_name="说明", index=False)
        pd.DataFrame({"小区名称": [f"小区{i}" for i in range(7)], "X坐标": glon,
                      "Y坐标": glat, "常住人口": [120, 80, 60, 40, 300, 220, 10]}
                     ).to_excel(w, sheet_name="居民", index=False)
    upload(app, "demand", "居民.xlsx", book.read_bytes(), upl_layer_demand="居民")
    assert not app.error, [e.value for e in app.error]
    residents = read_copy(app, "demand")
    assert residents["population"].sum() == 830
    assert np.allclose(residents.geometry.x, lon, atol=1e-7)
    data = app.session_state["data"]
    assert set(data["names"]) == {"facilities", "demand"}


def test_bad_files_give_one_chinese_line(app, tmp_path):
    rng = np.random.default_rng(1)
    upload(app, "facilities", "设施.csv", bytes(rng.integers(0, 256, 4000, dtype=np.uint8)))
    assert len(app.error) == 1
    line = app.error[0].value
    assert "\n" not in line and line.startswith("设施.csv:") and "无法读取" in line
    assert str(tmp_path) not in line and "uploads" not in line  # no server folder
    assert not english([line], ("设施.csv",)), line
    assert any("未使用" in w.value for w in app.warning)
    assert "data" not in app.session_state  # the pages keep the sample

    upload(app, "facilities", "无坐标.csv", "名称,类别\n甲,幼儿园\n".encode("gbk"))
    line = app.error[0].value
    assert "\n" not in line and line.startswith("无坐标.csv:"), line
    assert "字段对应" in line and not english([line], ("无坐标.csv",)), line
    app.sidebar.radio(key="lang").set_value("en").run()
    assert app.error[0].value.startswith("无坐标.csv: ")
    assert str(tmp_path) not in app.error[0].value and "uploads" not in app.error[0].value


def test_state_kept_and_no_english_in_chinese(app):
    lon, lat = chongqing_points(6)
    rows = ["名称,类别,经度,纬度", *(f"点{i},幼儿园,{x:.6f},{y:.6f}" for i, (x, y)
                                     in enumerate(zip(lon, lat))), "坏行,幼儿园,,29.5"]
    upload(app, "facilities", "设施.csv", "\n".join(rows).encode("gbk"),
           upl_datum_facilities="wgs84")
    assert app.dataframe[1].value.iloc[0].tolist()[2:5] == [7, 6, 1]  # read, kept, rejected
    assert app.dataframe[2].value.iloc[0].tolist() == [8, "坐标不是数字('', '29.5')"]
    exclude = ("设施.csv", "点", "坏行")
    assert not english(page_texts(app), exclude), english(page_texts(app), exclude)

    # another page and back: the upload, its settings and its check are still there
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.radio(key="page").set_value("data").run()
    assert app.radio(key="data_source").value == "upload"
    assert app.radio(key="upl_kind").value == "facilities"
    assert "当前文件:设施.csv(重新上传即可替换)" in [c.value for c in app.caption]
    assert app.selectbox(key="upl_datum_facilities").value == "wgs84"
    assert app.session_state["data"]["names"] == {"facilities": "设施.csv"}
    assert app.dataframe[1].value.iloc[0].tolist()[2:5] == [7, 6, 1]

    # English, and back: the same check in each language
    app.sidebar.radio(key="lang").set_value("en").run()
    assert list(app.dataframe[1].value.columns[:3]) == ["Data", "File", "Rows read"]
    assert app.dataframe[2].value.iloc[0, 1].startswith("coordinates ('', '29.5')")
    app.sidebar.radio(key="lang").set_value("zh").run()
    assert not english(page_texts(app), exclude), english(page_texts(app), exclude)

    # back to the default facilities
    app.button(key="upl_reset_facilities").click().run()
    assert app.session_state["data"]["names"] == {}
    assert app.session_state["data"]["facilities"] is None


# ---------------------------------------------------------------- checks without the app


def test_validate_upload_layer_columns_and_category_map(tmp_path):
    from layers.uploads import validate_upload

    lon, lat = chongqing_points(4)
    path = tmp_path / "f.csv"
    pd.DataFrame({"站名": list("甲乙丙丁"), "设施类型": ["卫生站", "卫生站", "小学", "x"],
                  "东经": lon, "北纬": lat}).to_csv(path, index=False)
    check = validate_upload("facilities", path, columns={"category": "设施类型", "name": "站名"},
                            category_map={"卫生站": "clinic", "x": "park"})
    assert check.ok, check.error
    assert list(check.data["category"]) == ["clinic", "clinic", "primary_school", "park"]
    assert check.summary["unmatched"] == {"卫生站": 2, "x": 1}  # before the mapping
    assert np.allclose(check.data.geometry.x, lon)

    gpkg = tmp_path / "two.gpkg"
    for name, n in (("a", 1), ("b", 3)):
        gpd.GeoDataFrame({"category": ["clinic"] * n}, geometry=shapely.points(
            lon[:n], lat[:n]), crs=4326).to_file(gpkg, layer=name)
    assert not validate_upload("facilities", gpkg).ok
    assert validate_upload("facilities", gpkg, layer="b").rows_kept == 3


def test_dem_check_and_hidden_paths(tmp_path):
    from geo_app.io.export import write_geotiff
    from layers.uploads import hide_paths, validate_upload

    z = np.array([[200.0, 210.0], [np.nan, 250.0]])
    path = write_geotiff(z, (106.50, 0.001, 0, 29.56, 0, -0.001), 4326, tmp_path / "dem.tif",
                         nodata=np.nan)
    check = validate_upload("dem", path)
    assert check.ok and (check.summary["z_min"], check.summary["z_max"]) == (200.0, 250.0)
    assert check.summary["size"] == (2, 2) and 90 < check.summary["cell_m"] < 100
    assert check.bounds == pytest.approx((106.50, 29.558, 106.502, 29.56))
    bad = validate_upload("dem", tmp_path / "missing.tif")
    assert not bad.ok and str(tmp_path) not in bad.error and "missing.tif" in bad.error
    assert hide_paths("/home/u/.cache/geo-app/uploads/ab/x.csv: row 2; ±180/±90 a/b") == \
        "x.csv: row 2; ±180/±90 a/b"


@pytest.mark.parametrize(("line", "expected"), [
    ("x.csv: holds 2 layers (a, b); say which one to read (--layer NAME)",
     "文件含 2 个图层或工作表(a、b):请在“图层/工作表”中选择"),
    ("no lon column: expected a column named 'lon' or '经度' or 'x'", "找不到经度/X坐标字段"),
    ("row 3, column 'category': empty", "第 3 行“category”字段:为空"),
    ("row 4: coordinates ('a', '29.5') in columns 'lon', 'lat' are not numbers",
     "第 4 行:坐标不是数字('a', '29.5')"),
    ("row 5: geometry is a LineString, expected Point", "第 5 行:几何类型为线,应为点"),
    ("coordinates exceed ±180/±90, so they are not degrees", "EPSG:4544、4545、4546"),
    ("something nobody foresaw", "文件检查未通过(详细原因可切换到英文界面查看)"),
])
def test_reader_lines_in_chinese(line, expected):
    from geo_app.workflows.upload_text import problem_text

    zh = problem_text(line, "zh")
    assert expected in zh
    assert not english([zh], ("category", "a", "lon", "lat")), zh
    assert problem_text(line, "en") == line


def test_datum_warning_in_chinese(tmp_path):
    """Amap points declared WGS-84 are named as GCJ-02 in the session's language."""
    from geo_app.workflows.upload_text import warnings_of
    from layers import load_districts
    from layers.uploads import validate_upload

    yuzhong = load_districts().set_index("name_zh").geometry["渝中区"]
    x, y = np.meshgrid(np.linspace(106.560, 106.590, 13), np.linspace(29.548, 29.566, 13))
    inside = shapely.contains_xy(yuzhong, x.ravel(), y.ravel())
    lon, lat = wgs84_to_gcj02(x.ravel()[inside], y.ravel()[inside])
    path = tmp_path / "amap.csv"
    pd.DataFrame({"名称": [f"点{i}" for i in range(len(lon))], "类别": "社区卫生服务",
                  "区县": "渝中区", "经度": lon, "纬度": lat}).to_csv(path, index=False)
    check = validate_upload("facilities", path, datum="wgs84")
    zh = warnings_of(check, "zh")
    assert len(zh) == 1 and "GCJ-02(高德、腾讯)" in zh[0] and not english(zh), zh
    assert "GCJ02" in warnings_of(check, "en")[0]
    assert validate_upload("facilities", path, datum="gcj02").warnings == []
