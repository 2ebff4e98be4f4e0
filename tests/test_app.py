"""Streamlit AppTest: the overview page and its widgets run without exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture()
def app():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


def test_opens_on_overview_in_chinese(app):
    assert app.title[0].value == "重庆15分钟生活圈规划工具"
    assert [c.label for c in app.sidebar.checkbox] == ["商圈", "物流基地", "服务业集聚区"]
    assert app.dataframe[0].value.shape[0] == 38  # district table under the map


def test_every_widget(app):
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Chongqing 15-minute life-circle planner"
    for value in ("density_per_km2", "region_group", "pop_2020"):
        app.sidebar.selectbox(key="choropleth").set_value(value).run()
        assert not app.exception
    app.sidebar.selectbox(key="tiles").set_value("osm").run()
    for key in ("show_business_circles", "show_logistics_bases", "show_clusters"):
        app.sidebar.checkbox(key=key).uncheck().run()
        assert not app.exception
    for key, rows in (("business_circles", 14), ("logistics_bases", 17), ("clusters", 25)):
        app.selectbox(key="table_layer").set_value(key).run()
        assert not app.exception
        assert app.dataframe[0].value.shape[0] == rows


def test_coverage_page_on_the_sample(app):
    app.sidebar.radio(key="page").set_value("coverage").run()
    assert not app.exception
    assert app.sidebar.radio(key="cov_source").value == "sample"
    assert "离线样例:赫尔辛基(OSM,非重庆数据)" in [c.value for c in app.caption]
    assert [i.value for i in app.info] == ["设置输入和参数后点击“运行分析”。"]
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert table.shape[0] == 12 + 1  # the basket's 12 categories and the basket itself
    assert list(table["category"])[-1] == "basket"
    assert table["覆盖人口"].iloc[-1] <= table["覆盖人口"].iloc[:-1].min()
    assert any("人口为估算值" in i.value for i in app.info)  # residents estimated from buildings
    assert "no 'childcare' facilities" in app.warning[0].value  # Helsinki's OSM tags lack them
    labels = [b.label for b in app.get("download_button")]
    assert {"下载结果(GeoPackage)", "下载居民点(CSV)", "下载汇总表(CSV)",
            "下载地图(HTML,离线可用)"} <= set(labels)
    # another category on the map, and English: no new run, the same table
    for category in ("market", "bus_stop", "basket"):
        app.selectbox(key="cov_category").set_value(category).run()
        assert not app.exception
        assert app.dataframe[0].value.shape[0] == 13
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert "Residents covered" in app.dataframe[0].value.columns
    # other parameters are another result: nothing shown until Run
    app.sidebar.number_input(key="cov_minutes").set_value(20.0).run()
    assert [i.value for i in app.info] == ["Set the inputs and parameters, then press Run."]
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception
    assert set(app.dataframe[0].value["Threshold (min)"].dropna()) == {20.0}


def test_coverage_page_reports_bad_uploads(app, tmp_path):
    from geo_app.webapp import save_upload

    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.radio(key="cov_source").set_value("upload").run()
    assert not app.exception
    assert app.sidebar.button(key="cov_run").disabled  # no network yet
    assert [i.value for i in app.info] == ["请上传路网文件。"]
    with pytest.raises(ValueError, match="not a network file"):
        save_upload("network", "roads.shp.zip", b"x", tmp_path)
    with pytest.raises(ValueError, match="over the 200 MB limit"):
        save_upload("demand", "people.csv", b"x" * (200 * 1024 * 1024 + 1), tmp_path)
    a = save_upload("facilities", "../商店 list.csv", b"lon,lat,category\n", tmp_path)
    assert a.name == "商店_list.csv" and a.read_bytes() == b"lon,lat,category\n"
    b = save_upload("facilities", "b.csv", b"lon,lat,category\n", tmp_path)
    assert b.parent == a.parent  # stored under the content's hash: the path is a cache key


def test_coverage_inputs_fail_with_the_file_named(tmp_path):
    from geo_app.workflow import load_inputs

    bad = tmp_path / "facilities.csv"
    bad.write_text("lon,lat,category\n106.5,29.5,clinic\nnot a number,29.5,market\n")
    streets = tmp_path / "streets.geojson"
    streets.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                       '"properties": {}, "geometry": {"type": "LineString", "coordinates": '
                       '[[106.5, 29.5], [106.51, 29.5]]}}]}')
    with pytest.raises(ValueError, match="not an OSM file.*give a facility file"):
        load_inputs(streets)
    with pytest.raises(ValueError, match="facilities.csv"):
        load_inputs(streets, bad, bad)


def test_coverage_page_shows_input_errors(monkeypatch, tmp_path):
    import geo_app.workflow

    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protocol buffer")
    monkeypatch.setattr(geo_app.workflow, "sample_path", lambda: broken)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio(key="page").set_value("coverage").run()
    at.sidebar.button(key="cov_run").click().run()
    assert not at.exception  # a message, not a traceback
    assert len(at.error) == 1
    assert "输入数据有误" in at.error[0].value and "broken.osm.pbf" in at.error[0].value
    assert "not a readable OSM PBF file" in at.error[0].value
    assert not at.dataframe
