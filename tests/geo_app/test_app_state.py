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


def test_a_finished_run_records_the_widgets_it_drew(app):
    """What keep_widgets trusts: the keys of the widgets the last finished run drew, read from
    Streamlit's own bookkeeping (empty, every value would be set again in every run)."""
    from geo_app.ui.state import DRAWN, RUNNING

    _page(app, "coverage")
    drawn = app.session_state[DRAWN]
    assert {"lang", "page", "cov_minutes", "cov_speed"} <= drawn
    assert app.session_state[RUNNING] is False
    _page(app, "siting")
    assert "cov_minutes" not in app.session_state[DRAWN]


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


class _Recorded(dict):
    """A session state that records which keys the app sets."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.set_keys = set()

    def __setitem__(self, key, value):
        self.set_keys.add(key)
        super().__setitem__(key, value)


def _keep(monkeypatch, state: dict, *, sent: set, widgets: set) -> tuple[set, dict]:
    """Run ``keep_widgets`` on ``state`` with the browser having sent ``sent`` and the last
    run having drawn ``widgets`` (read from the state); returns the widget keys it set and
    the state."""
    from types import SimpleNamespace

    from geo_app.ui import state as kept

    ss = _Recorded(state)
    monkeypatch.setattr(kept, "st", SimpleNamespace(session_state=ss))
    monkeypatch.setattr(kept, "sent_back", lambda: set(sent))
    monkeypatch.setattr(kept, "value_widgets", lambda: {k: "double_value" for k in widgets})
    kept.keep_widgets()
    return {k for k in ss.set_keys if not k.startswith("_kept")}, ss


def test_kept_values_are_set_again_where_the_browser_may_not_show_them(monkeypatch):
    """Each rule of keep_widgets: what the browser shows is left alone; a value it did not send,
    or sent though the last run did not draw the widget, is set again; after a run cut short
    or a language switch every value is; a page's setting of a widget away wins."""
    from geo_app.ui.state import DRAWN, LAST_LANG, RUNNING, STORE

    def state(**extra):
        return {STORE: {"a": 1.0, "b": 2.0, "lang": "zh"}, DRAWN: {"a", "lang"},
                LAST_LANG: "zh", RUNNING: False, "lang": "zh", "a": 5.0, **extra}

    shown_a = {"a", "lang"}
    done, ss = _keep(monkeypatch, state(), sent=shown_a, widgets={"a", "lang"})
    assert done == {"b"} and ss["b"] == 2.0 and ss[STORE]["a"] == 5.0  # b was away
    done, _ = _keep(monkeypatch, state(**{DRAWN: {"lang"}}), sent=shown_a, widgets={"a", "lang"})
    assert done == {"a", "b"}  # a sent, but the last run did not draw it
    done, _ = _keep(monkeypatch, state(**{RUNNING: True}), sent=shown_a, widgets={"a", "lang"})
    assert done == {"a", "b"}  # the last run was cut short
    done, _ = _keep(monkeypatch, state(**{LAST_LANG: "en"}), sent=shown_a, widgets={"a", "lang"})
    assert done == {"a", "b"}  # the language switched
    done, ss = _keep(monkeypatch, state(b=9.0), sent=shown_a, widgets={"a", "lang"})
    assert ss["b"] == 9.0 and ss[STORE]["b"] == 9.0  # set by a page while b was away
    assert ss[RUNNING] is True
