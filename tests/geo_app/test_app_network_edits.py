"""The coverage page's network edits (AppTest) on the Helsinki sample: a footbridge given as
if drawn, before and after for the elderly with the walk's change in the table; the line's
kind kept across a page switch; "clear all" forgets the kinds too."""

from __future__ import annotations

import numpy as np

from tests.conftest import open_app

# a footbridge over the block south-west of the centre: elderly residents come within
# 5 minutes of a community service station, nobody loses (compare_edits on the sample)
BRIDGE = {"type": "Feature", "properties": {},
          "geometry": {"type": "LineString",
                       "coordinates": [[24.936844, 60.168762], [24.935994, 60.167813]]}}


def _coverage_with_edits(monkeypatch, tmp_path):
    app = open_app(monkeypatch, tmp_path)
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.selectbox(key="cov_profile").set_value("elderly").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    app.toggle(key="ec_open").set_value(True).run()
    app.session_state["ec_lines"] = [BRIDGE]  # as the map sends a drawn line back
    app.run()
    return app


def test_before_and_after_for_the_elderly_with_the_walks_change(monkeypatch, tmp_path):
    app = _coverage_with_edits(monkeypatch, tmp_path)
    app.selectbox(key="ec_kind_0").set_value("stairs").run()
    app.sidebar.radio(key="page").set_value("overview").run()  # away and back: kind kept
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.toggle(key="ec_open").set_value(True).run()
    assert app.selectbox(key="ec_kind_0").value == "stairs"
    app.selectbox(key="ec_kind_0").set_value("footbridge").run()
    app.button(key="ec_run").click().run()
    assert not app.exception and not app.error
    done = next(iter(app.session_state["ec_results"].values()))
    row = done.summary.set_index("category").loc["community_service"]
    assert done.profile == "elderly" and row["gain"] > 100 and (done.summary["lose"] == 0).all()
    assert row["farther"] == 0 and row["mean_change_s"] <= 0  # a bridge only helps
    dt = done.time_change["community_service"].to_numpy()
    assert (dt[~np.isnan(dt)] <= 1e-6).all()  # nobody's walk got longer
    table = app.dataframe[-1].value
    assert list(table.columns)[-2:] == ["步行时间缩短的人口", "平均步行时间变化(分钟)"]
    shown = table.set_index("类别").loc["社区服务(渝邻汇)"]
    assert shown["新增可达人口"] == f"{row['gain']:,.0f}"
    assert shown["平均步行时间变化(分钟)"].startswith(("-", "0", "—"))


def test_clear_forgets_the_lines_and_their_kinds(monkeypatch, tmp_path):
    app = _coverage_with_edits(monkeypatch, tmp_path)
    app.selectbox(key="ec_kind_0").set_value("closed").run()
    app.button(key="ec_clear").click().run()
    assert not app.exception
    assert "ec_lines" not in app.session_state or not app.session_state["ec_lines"]
    app.session_state["ec_lines"] = [BRIDGE]  # a new line 1 is drawn
    app.run()
    assert app.selectbox(key="ec_kind_0").value == "footbridge"  # the first kind, not "closed"
