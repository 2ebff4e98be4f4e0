"""AppTest: widget values and results kept across page switches and a language switch; the
landing panel; the base-map select after a switch (it once returned its label)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page(at, page):
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception


def test_landing_panel_names_the_sample_and_leads_to_pages(app):
    assert [b.label for b in app.button][:3] == ["设置范围与数据", "进行覆盖分析", "进行选址"]
    assert any("赫尔辛基" in i.value and "不是重庆数据" in i.value for i in app.info)
    captions = [c.value for c in app.sidebar.caption]
    assert any(c.startswith("总览地图:重庆市") for c in captions)
    assert not any(c.startswith("研究范围") for c in captions)  # not a Helsinki area over Chongqing
    app.button(key="start_coverage").click().run()
    assert not app.exception
    assert app.sidebar.radio(key="page").value == "coverage"
    assert app.header[0].value == "覆盖分析"


def test_coverage_threshold_and_result_survive_pages_and_language(app):
    _page(app, "coverage")
    app.sidebar.number_input(key="cov_minutes").set_value(10.0)
    app.sidebar.radio(key="cov_area_type").set_value("rural")
    app.sidebar.selectbox(key="tiles").set_value("osm")
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    rows = app.dataframe[0].value.shape[0]
    _page(app, "overview")
    _page(app, "siting")
    _page(app, "coverage")
    assert app.sidebar.number_input(key="cov_minutes").value == 10.0
    assert app.sidebar.radio(key="cov_area_type").value == "rural"
    assert app.sidebar.selectbox(key="tiles").value == "osm"
    assert "设置输入和参数后点击“运行分析”。" not in [i.value for i in app.info]
    assert app.dataframe[0].value.shape[0] == rows  # the kept result, not a prompt
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.sidebar.number_input(key="cov_minutes").value == 10.0
    assert app.sidebar.radio(key="cov_area_type").value == "rural"
    assert app.sidebar.selectbox(key="tiles").value == "osm"
    assert app.sidebar.selectbox(key="tiles").options == [
        "Base map from your data (offline)", "Blank (offline)", "OpenStreetMap (online)"]
    assert app.dataframe[0].value.shape[0] == rows


def test_overview_choices_kept_across_language_and_pages(app):
    app.sidebar.selectbox(key="choropleth").set_value("region_group").run()
    app.sidebar.checkbox(key="show_clusters").uncheck().run()
    app.sidebar.selectbox(key="tiles").set_value("osm").run()
    for _ in range(2):  # zh -> en -> zh
        lang = "en" if app.sidebar.radio(key="lang").value == "zh" else "zh"
        app.sidebar.radio(key="lang").set_value(lang).run()
        assert not app.exception
        assert app.sidebar.selectbox(key="tiles").value == "osm"
        assert app.sidebar.selectbox(key="choropleth").value == "region_group"
        assert app.sidebar.checkbox(key="show_clusters").value is False
    _page(app, "data")
    _page(app, "overview")
    assert app.sidebar.selectbox(key="choropleth").value == "region_group"
    assert app.sidebar.checkbox(key="show_clusters").value is False
    assert app.sidebar.selectbox(key="tiles").value == "osm"


def test_tiles_select_never_returns_a_label(app):
    """A label left in the select's state (the old crash: unknown tiles '空白底图(离线)') is
    dropped for the default key; after a switch the select offers the new language's labels."""
    app.session_state["tiles"] = "空白底图(离线)"
    app.run()
    assert not app.exception
    assert app.sidebar.selectbox(key="tiles").value == "blank"  # the label read as its key
    app.sidebar.selectbox(key="tiles").set_value("osm").run()
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    tiles = app.sidebar.selectbox(key="tiles")
    assert tiles.value == "osm" and tiles.options == [
        "Base map from your data (offline)", "Blank (offline)", "OpenStreetMap (online)"]


def _progress_script():
    import streamlit as st

    from geo_app.ui.state import RunProgress, progress_run

    if st.session_state.get("finish"):
        with progress_run("running_coverage") as say:
            say(0.5, "loading")
        st.write("done")
    else:
        RunProgress("running_coverage")(0.5, "loading")


def test_progress_status_in_the_sessions_language():
    at = AppTest.from_function(_progress_script).run()
    assert not at.exception
    status = at.main.children[0]
    assert type(status).__name__ == "Status" and status.icon == "spinner"
    assert status.label.startswith("正在进行覆盖分析 · 50% · 已用")
    assert at.get("progress")[0].proto.text == "读取数据"  # a step key, in Chinese
    at.session_state["finish"] = True
    at.run()
    assert not at.get("progress")  # gone when the work ends
    assert "Status" not in [type(c).__name__ for c in at.main.children.values()]
