"""Streamlit AppTest: every page and its widgets run without exceptions."""

from __future__ import annotations

import pytest
import shapely.geometry
from streamlit.testing.v1 import AppTest

from tests.conftest import APP


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
    assert "离线样例:赫尔辛基(OSM,非重庆数据)" in [c.value for c in app.caption]
    assert [i.value for i in app.info] == ["设置输入和参数后点击“运行分析”。"]
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert table.shape[0] == 12 + 1  # the basket's 12 categories and the basket itself
    assert list(table["category"])[-1] == "basket"
    assert table["覆盖人口"].iloc[-1] <= table["覆盖人口"].iloc[:-1].min()
    assert any("人口为估算值" in i.value for i in app.info)  # residents estimated from buildings
    assert "没有“幼儿园与托育”设施" in app.warning[0].value  # Helsinki's OSM tags lack them
    info = app.dataframe[-1].value  # run information: Chinese keys, plain values, no folders
    assert list(info.columns) == ["项目", "数值"] and "路网节点数" in set(info["项目"])
    assert not any("/" in v or v in ("buildings", "True") for v in info["数值"])
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
    assert set(app.dataframe[0].value["Threshold (min)"]) == {"20", "—"}  # "—": the basket
    # a slower walker: fewer residents reach each service, with that walker's graph
    covered = app.dataframe[0].value.set_index("category")["Residents covered"]
    app.sidebar.selectbox(key="cov_profile").set_value("wheelchair").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    slower = app.dataframe[0].value.set_index("category")["Residents covered"]
    # (per category it can differ a little: a facility whose nearest street is a stair joins
    # the next street for a wheelchair)
    assert slower.sum() < 0.98 * covered.sum()
    assert app.sidebar.selectbox(key="cov_profile").value == "wheelchair"


def test_data_page_uploads_and_limits(app, tmp_path):
    from geo_app.ui.assets import save_upload

    app.sidebar.radio(key="page").set_value("data").run()
    app.radio(key="data_source").set_value("upload").run()
    assert not app.exception
    assert app.radio(key="upl_kind").value == "facilities"  # any input on its own
    with pytest.raises(ValueError, match="not a network file"):
        save_upload("network", "roads.dwg", b"x", tmp_path)
    with pytest.raises(ValueError, match="over the 200 MB limit"):
        save_upload("demand", "people.csv", b"x" * (200 * 1024 * 1024 + 1), tmp_path)
    a = save_upload("facilities", "../商店 list.csv", b"lon,lat,category\n", tmp_path)
    assert a.name == "商店_list.csv" and a.read_bytes() == b"lon,lat,category\n"
    b = save_upload("facilities", "b.csv", b"lon,lat,category\n", tmp_path)
    assert b.parent == a.parent  # stored under the content's hash: the path is a cache key


def test_coverage_inputs_fail_with_the_file_named(tmp_path):
    from geo_app.workflows.coverage import load_inputs

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
    import geo_app.workflows.coverage

    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protocol buffer")
    monkeypatch.setattr(geo_app.workflows.coverage, "sample_path", lambda: broken)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio(key="page").set_value("coverage").run()
    at.sidebar.button(key="cov_run").click().run()
    assert not at.exception  # a message, not a traceback
    assert len(at.error) == 1
    assert "输入数据有误" in at.error[0].value and "broken.osm.pbf" in at.error[0].value
    assert "not" not in at.error[0].value  # English only in the folded details
    assert "not a readable OSM PBF file" in at.expander[0].code[0].value
    assert not at.dataframe


def _table(at, item_label: str) -> dict:
    """The siting summary table as {item: value}."""
    table = at.table[0].value
    return dict(zip(table[item_label], table.iloc[:, 1]))


def _status(at) -> str:
    """The siting page's status line (one line of fixed height above the map)."""
    return "".join(m.value for m in at.markdown if "cq-edit-status" in m.value)


def test_siting_page_on_the_sample(app):
    app.sidebar.radio(key="page").set_value("siting").run()
    assert not app.exception and not app.error
    assert "离线样例:赫尔辛基(OSM,非重庆数据)" in [c.value for c in app.caption]
    assert app.sidebar.selectbox(key="site_category").value == "community_service"
    assert app.sidebar.number_input(key="site_spacing").value == 200
    assert app.sidebar.number_input(key="site_n").value == 5
    assert [i.value for i in app.info] == ["设置输入和参数后点击“运行选址”。"]
    app.sidebar.number_input(key="site_spacing").set_value(300.0)
    app.sidebar.number_input(key="site_n").set_value(3)
    app.sidebar.button(key="site_run").click().run()
    assert not app.exception and not app.error
    summary = _table(app, "项目")
    assert summary["最优性差距"] == "0.0%" and summary["求解状态"] == "最优解"
    assert summary["求解器"] == "HiGHS 混合整数规划"
    assert summary["方案站点数"] == "3" and summary["居民总数"] == "25,479"
    sites = app.dataframe[0].value
    assert len(sites) == 3 and list(sites["序号"]) == [1, 2, 3]
    newly = int(summary["新增覆盖"].split()[0].replace(",", ""))
    # before any edit the solver's own answer shows no change (no "0" arrow)
    assert not [m.delta for m in app.metric if m.label == "新增覆盖"][0]
    assert sites["按序边际增益(人)"].sum() == pytest.approx(newly, abs=2)  # rounded each
    assert {"下载方案包(ZIP:GeoPackage + CSV + HTML报告)", "下载报告(HTML)",
            "下载地图(HTML,离线可用)"} <= {b.label for b in app.get("download_button")}

    # a click on the map, as st_folium reports it, in a gap: a site is added there
    state = app.session_state["site_state"]
    from geo_app.workflows.siting import evaluate

    gap = state["run"].demand.geometry[evaluate(state["run"], state["proposal"]).uncovered].iloc[0]
    app.session_state["site_map"] = {"id": "c1", "kind": "click", "lat": gap.y, "lng": gap.x}
    app.run()
    assert not app.exception
    assert "已新增站点 新增点 1 · 新增覆盖" in _status(app)
    after = _table(app, "项目")
    assert after["方案站点数"] == "4"
    assert int(after["新增覆盖"].split()[0].replace(",", "")) > newly
    assert any(c.value.startswith("增益重算用时") and c.value.endswith(" ms") for c in app.caption)
    assert [m.delta for m in app.metric if m.label == "新增覆盖"][0].startswith("+")
    assert len(app.dataframe[0].value) == 4
    # a rerun does not click again; the same point again removes the site
    app.run()
    assert _table(app, "项目")["方案站点数"] == "4"
    app.session_state["site_map"] = {"id": "c2", "kind": "click", "lat": gap.y, "lng": gap.x}
    app.run()
    assert _table(app, "项目")["方案站点数"] == "3"
    assert "已移除站点 新增点 1" in _status(app)

    # save, switch to set cover, run, save: the two side by side
    app.text_input(key="site_scenario_name").input("MCLP 3")
    app.button(key="site_save").click().run()
    assert app.success[-1].value == "已保存方案: MCLP 3"
    app.sidebar.radio(key="site_objective").set_value("cover").run()
    assert [i.value for i in app.info] == [  # the saved proposal stays on the page
        "参数已更改:下方仍是按原参数求得的方案。点击“运行选址”按新参数求解。"]
    app.sidebar.slider(key="site_target").set_value(0.85)
    app.sidebar.button(key="site_run").click().run()
    assert not app.exception and not app.error
    summary = _table(app, "项目")
    assert summary["优化目标"] == "集合覆盖(达到目标覆盖率的最少站点)"
    assert float(summary["方案实施后覆盖率"].rstrip("%")) >= 85
    app.button(key="site_save").click().run()
    assert app.success[-1].value == "已保存方案: 方案 2"
    assert [s.value for s in app.selectbox if s.key in ("site_cmp_left", "site_cmp_right")] == [
        "MCLP 3", "方案 2"]
    assert len(app.table) == 3  # the summary, and one a scenario
    assert _table(app, "项目")["优化目标"] != app.table[1].value.iloc[0, 1]
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert "Optimality gap" in list(app.table[0].value["Item"])


def test_siting_page_osm_candidates_and_errors(app):
    app.sidebar.radio(key="page").set_value("siting").run()
    app.sidebar.radio(key="site_cand").set_value("osm").run()  # community centres and the like
    app.sidebar.selectbox(key="site_category").set_value("").run()  # no existing facilities
    app.sidebar.button(key="site_run").click().run()
    assert not app.exception and not app.error
    assert _table(app, "项目")["现有设施已覆盖"].startswith("0 ")
    assert len(app.dataframe[0].value) == 5
    app.sidebar.number_input(key="site_n").set_value(500)  # more than there are candidates
    app.sidebar.button(key="site_run").click().run()
    assert not app.exception
    assert len(app.error) == 1 and "输入数据有误" in app.error[0].value
    assert "candidates can be reached" in app.expander[-1].code[0].value  # the details
    app.sidebar.radio(key="site_cand").set_value("file").run()
    assert not app.exception
    assert app.sidebar.button(key="site_run").disabled
    assert next(i.value for i in app.info) == "请上传候选点文件。"  # the proposal stays, said so


def test_study_area_choices(app):
    app.sidebar.radio(key="page").set_value("data").run()
    assert not app.exception
    assert "数据范围" in app.sidebar.caption[0].value  # the sample's extent until one is chosen
    for kind in ("municipality", "region_group", "district", "township", "drawn", "data_extent"):
        app.radio(key="area_kind").set_value(kind).run()
        assert not app.exception, kind
    app.radio(key="area_kind").set_value("drawn").run()
    assert app.button(key="area_apply").disabled  # nothing drawn yet
    app.radio(key="area_kind").set_value("township").run()
    assert any("没有乡镇街道边界" in i.value for i in app.info)  # Helsinki has none
    # a district of Chongqing: the Helsinki sample is not there, and the page says so
    app.radio(key="area_kind").set_value("district").run()
    options = app.selectbox(key="area_pick_district").options
    assert len(options) == 38 and "渝中区" in options
    app.selectbox(key="area_pick_district").set_value(
        next(a for a in app.selectbox(key="area_pick_district").options if a == "渝中区"))
    app.button(key="area_apply").click().run()
    assert not app.exception
    assert "渝中区" in app.sidebar.caption[0].value
    assert any("渝中区" in w.value and "重庆市以外" in w.value for w in app.warning)
    # pages on an area without data say so instead of failing
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and len(app.error) == 1 and "渝中区" in app.error[0].value
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception


def test_drawn_area_limits_the_coverage_run(app):
    from geo_app.workflows.coverage import load_inputs, sample_path

    nodes = load_inputs(sample_path()).network.nodes
    lon, lat = nodes["lon"].median(), nodes["lat"].median()
    square = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
        [lon - 0.004, lat - 0.002], [lon + 0.004, lat - 0.002], [lon + 0.004, lat + 0.002],
        [lon - 0.004, lat + 0.002], [lon - 0.004, lat - 0.002]]]}}
    app.sidebar.radio(key="page").set_value("data").run()
    app.radio(key="area_kind").set_value("drawn").run()
    app.session_state["area_map"] = {"last_active_drawing": square}
    app.run()
    assert not app.button(key="area_apply").disabled
    app.button(key="area_apply").click().run()
    assert not app.exception and "绘制范围" in app.sidebar.caption[0].value
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    result = list(app.session_state["cov_results"].values())[-1]["result"]
    total = result.demand["population"].sum()
    assert 0 < total < 25_479 * 0.8  # fewer residents than the whole sample
    assert result.demand.geometry.within(shapely.geometry.shape(square["geometry"])).all()


def test_cluster_maps_page(app):
    app.sidebar.radio(key="page").set_value("cluster_maps").run()
    assert not app.exception
    app.sidebar.button(key="cl_clusters_run").click().run()
    assert not app.exception and not app.error
    assert [m.label for m in app.metric] == ["点数", "聚集区数", "零散点(未成簇)"]
    clusters = app.dataframe[0].value
    assert len(clusters) >= 3 and clusters["点数"].is_monotonic_decreasing
    app.sidebar.radio(key="cl_method").set_value("hdbscan").run()
    app.sidebar.button(key="cl_clusters_run").click().run()
    assert not app.exception and not app.error

    app.sidebar.radio(key="cl_view").set_value("cl_hotspots").run()
    app.sidebar.radio(key="cl_grid").set_value("square").run()
    app.sidebar.multiselect(key="cl_categories").select("现代商贸").run()
    app.sidebar.button(key="cl_hotspots_run").click().run()
    assert not app.exception and not app.error
    assert {"下载核密度 GeoTIFF", "下载 GeoJSON"} <= {b.label for b in app.get("download_button")}

    app.sidebar.radio(key="cl_view").set_value("cl_catchments").run()
    app.sidebar.radio(key="cl_centres").set_value("clusters").run()
    app.sidebar.radio(key="cl_cost").set_value("walk").run()
    app.sidebar.button(key="cl_catchments_run").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert table["客源占比"].sum() <= 100.0 + 1e-6 and table["预期客源(人)"].sum() > 0  # percent
    app.selectbox(key="cl_circle").set_value(app.selectbox(key="cl_circle").options[1]).run()
    assert not app.exception

    app.sidebar.radio(key="cl_view").set_value("cl_service").run()
    app.sidebar.button(key="cl_service_run").click().run()
    assert not app.exception  # the bundled bases are in Chongqing, not on Helsinki's streets
    assert len(app.error) == 1 and "none of the 17 bases" in app.expander[-1].code[0].value
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception


def test_saved_scenarios_survive_a_new_session(app, monkeypatch, tmp_path):
    app.sidebar.radio(key="page").set_value("siting").run()
    app.sidebar.number_input(key="site_n").set_value(2)
    app.sidebar.button(key="site_run").click().run()
    app.text_input(key="site_scenario_name").input("保留的方案")
    app.button(key="site_save").click().run()
    assert app.success[-1].value == "已保存方案: 保留的方案"
    sites = list(app.dataframe[0].value["名称"])
    # a new session at the same address (a reload or a bookmark): the project still has it
    fresh = AppTest.from_file(APP, default_timeout=300)
    fresh.query_params["ws"] = app.query_params["ws"]  # the session's project store id
    fresh.run()
    fresh.sidebar.radio(key="page").set_value("siting").run()
    assert not fresh.exception
    assert "保留的方案" in list(fresh.dataframe[0].value["方案"])
    fresh.button(key="site_reopen_btn").click().run()
    assert not fresh.exception and not fresh.error
    assert fresh.sidebar.number_input(key="site_n").value == 2
    assert list(fresh.dataframe[0].value["名称"]) == sites
    assert "已重新打开方案: 保留的方案" in _status(fresh)
