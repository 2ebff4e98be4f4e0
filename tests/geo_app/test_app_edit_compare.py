"""The coverage page's network edits (AppTest): a footbridge drawn over the Helsinki sample,
coverage before and after for the elderly, the table and the map of who gains."""

from __future__ import annotations

from tests.conftest import open_app

BRIDGE = {"type": "Feature", "properties": {},
          "geometry": {"type": "LineString",
                       "coordinates": [[24.9385, 60.1695], [24.9410, 60.1700]]}}


def test_drawn_footbridge_before_and_after_for_the_elderly(monkeypatch, tmp_path):
    app = open_app(monkeypatch, tmp_path)
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.selectbox(key="cov_profile").set_value("elderly").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    assert app.subheader[-1].value == "路网改动情景:改动前后对比"
    app.toggle(key="ec_open").set_value(True).run()
    app.session_state["ec_lines"] = [BRIDGE]  # as the map sends a drawn line back
    app.run()
    app.selectbox(key="ec_kind_0").set_value("footbridge").run()
    assert "人行天桥" in app.selectbox(key="ec_kind_0").options
    app.button(key="ec_run").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[-1].value
    assert list(table.columns)[:4] == ["类别", "新增可达人口", "失去可达人口", "净变化(人)"]
    assert len(table) == 13 and table["类别"].iloc[-1] == "全部设施(整篮)"
    done = next(iter(app.session_state["ec_results"].values()))
    assert done.profile == "elderly" and done.after.info("network_edits") == "1"
    assert (done.summary["lose"] == 0).all()  # a bridge only adds a way
    assert "老年人" in " ".join(m.value for m in app.markdown)
    app.selectbox(key="ec_category").set_value("clinic").run()
    assert not app.exception
    # English: the same comparison, not run again
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert "Residents gaining reach" in list(app.dataframe[-1].value.columns)


def test_an_edit_far_from_the_streets_is_refused_in_chinese(monkeypatch, tmp_path):
    app = open_app(monkeypatch, tmp_path)
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.button(key="cov_run").click().run()
    far = {"type": "Feature", "properties": {},
           "geometry": {"type": "LineString", "coordinates": [[24.80, 60.10], [24.81, 60.10]]}}
    app.toggle(key="ec_open").set_value(True).run()
    app.session_state["ec_lines"] = [far]
    app.run()
    app.button(key="ec_run").click().run()
    assert not app.exception
    assert any("输入数据有误" in e.value for e in app.error)
    assert "ec_results" not in app.session_state or not app.session_state["ec_results"]


def test_siting_on_the_edited_network_for_a_walker_is_saved_with_both(monkeypatch, tmp_path):
    """Siting uses the coverage page's edits and the chosen walker when asked; the saved
    scenario keeps both, and the report names them in plain words."""
    from geo_app.io.project import list_scenarios, load_scenario
    from geo_app.io.report import _parameter_text

    app = open_app(monkeypatch, tmp_path)
    app.session_state["ec_lines"] = [BRIDGE]
    app.session_state["ec_kind_0"] = "footbridge"
    app.sidebar.radio(key="page").set_value("siting").run()
    app.sidebar.selectbox(key="site_profile").set_value("elderly").run()
    box = app.sidebar.checkbox(key="site_use_edits")
    assert box.label == "在改动后的路网上选址(1 处改动,来自覆盖分析页)"
    box.check().run()
    app.sidebar.button(key="site_run").click().run()
    assert not app.exception and not app.error
    state = app.session_state["site_state"]
    assert state["params"]["profile"] == "elderly"
    assert state["params"]["network_edits"].startswith("1:")
    assert len(state["edits"].lines) == 1 and state["run"].join == "street"
    assert _parameter_text("network_edits", state["params"]["network_edits"], "zh") == "共 1 处改动"
    assert _parameter_text("profile", "elderly", "zh") == "老年人"
    app.text_input(key="site_scenario_name").input("天桥方案").run()
    app.button(key="site_save").click().run()
    assert not app.exception
    files = [p for p in (tmp_path / "projects").rglob("*") if p.is_file() and p.name != ".session"]
    saved = [load_scenario(str(p), n) for p in files for n in list_scenarios(str(p))["name"]]
    (sc,) = [s for s in saved if s.name == "天桥方案"]
    assert sc.profile == "elderly" and list(sc.edits["kind"]) == ["footbridge"]
