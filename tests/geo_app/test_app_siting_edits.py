"""The siting page in AppTest: edits from the map with undo and redo, parameters and an
unsaved edited proposal kept across page and language switches and a new run, and two
saved scenarios compared (A − B)."""

from __future__ import annotations

import pytest

from geo_app.workflows.siting import evaluate
from tests.conftest import open_app


@pytest.fixture()
def siting(monkeypatch, tmp_path):
    """The siting page after a run with N = 3 on the sample."""
    at = open_app(monkeypatch, tmp_path)
    at.sidebar.radio(key="page").set_value("siting").run()
    at.sidebar.number_input(key="site_n").set_value(3)
    at.sidebar.button(key="site_run").click().run()
    assert not at.exception and not at.error
    return at


def _status(at) -> str:
    return "".join(m.value for m in at.markdown if "cq-edit-status" in m.value)


def _proposal(at) -> list[int]:
    return list(at.session_state["site_state"]["proposal"])


def _send(at, **edit) -> None:
    """An edit as the map sends it (st_folium leaves it under the map's key)."""
    at.session_state["site_map"] = edit
    at.run()
    assert not at.exception


def _gap(at):
    state = at.session_state["site_state"]
    run = state["run"]
    return run.demand.geometry[evaluate(run, state["proposal"]).uncovered].iloc[0]


def test_edits_undo_redo(siting):
    at = siting
    solved = _proposal(at)
    assert "单击地图新增站点" in _status(at)
    gap = _gap(at)
    _send(at, id="1", kind="click", lat=gap.y, lng=gap.x)
    added = _proposal(at)
    assert len(added) == 4 and added[:3] == solved
    assert "已新增站点 新增点 1 · 新增覆盖" in _status(at) and "(+" in _status(at)
    at.run()  # the same edit is not applied twice
    assert _proposal(at) == added
    _send(at, id="2", kind="remove", site=solved[0], lat=0, lng=0)
    assert _proposal(at) == added[1:] and "已移除站点" in _status(at)
    at.button(key="site_undo").click().run()
    assert _proposal(at) == added and "已撤销上一步修改" in _status(at)
    at.button(key="site_undo").click().run()
    assert _proposal(at) == solved
    assert at.button(key="site_undo").disabled
    at.button(key="site_redo").click().run()
    at.button(key="site_redo").click().run()
    assert _proposal(at) == added[1:] and at.button(key="site_redo").disabled
    # a site dragged onto a gap: it takes the place of the one moved, in the same order
    _send(at, id="3", kind="move", site=added[1], lat=gap.y + 0.003, lng=gap.x)
    moved = _proposal(at)
    assert len(moved) == 3 and moved[0] != added[1] and "已移动站点" in _status(at)
    # a click far from every street is refused in words, nothing changes
    _send(at, id="4", kind="click", lat=gap.y + 1.0, lng=gap.x)
    assert _proposal(at) == moved and "此处无法新增站点:距最近道路" in _status(at)
    assert "from the nearest street" not in _status(at)


def test_state_survives_page_and_language_switches(siting):
    at = siting
    gap = _gap(at)
    _send(at, id="1", kind="click", lat=gap.y, lng=gap.x)
    edited = _proposal(at)
    at.sidebar.radio(key="page").set_value("coverage").run()
    at.sidebar.radio(key="page").set_value("siting").run()
    assert not at.exception
    assert at.sidebar.number_input(key="site_n").value == 3
    assert _proposal(at) == edited
    assert [m.value for m in at.metric if m.label == "方案站点数"] == ["4"]
    assert not [i for i in at.info if "参数已更改" in i.value]  # same parameters: no warning
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert at.sidebar.number_input(key="site_n").value == 3
    assert [m.value for m in at.metric if m.label == "Sites in the proposal"] == ["4"]
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert _proposal(at) == edited

    # other parameters, not run yet: the edited proposal stays, and the page says so
    at.sidebar.number_input(key="site_n").set_value(2).run()
    assert [i.value for i in at.info if "参数已更改" in i.value] == [
        "参数已更改:下方仍是按原参数求得的方案(含未保存的手动修改)。点击“运行选址”按新参数求解。"]
    assert _proposal(at) == edited
    # a new run keeps the unsaved proposal aside; it can come back with its parameters
    at.sidebar.button(key="site_run").click().run()
    assert len(_proposal(at)) == 2
    assert any("先前未保存的手动修改方案(4 个站点)已保留" in i.value for i in at.info)
    at.button(key="site_restore").click().run()
    assert not at.exception
    assert _proposal(at) == edited and at.sidebar.number_input(key="site_n").value == 3
    assert not [i for i in at.info if "参数已更改" in i.value]
    # the proposal replaced by the restore had no edits: nothing more is kept
    assert "site_kept_proposal" not in at.session_state
    assert not any("已保留" in i.value for i in at.info)


def test_two_scenarios_side_by_side_with_differences(siting):
    at = siting
    gap = _gap(at)
    _send(at, id="1", kind="click", lat=gap.y, lng=gap.x)  # 4 sites, N = 3
    at.text_input(key="site_scenario_name").input("甲")
    at.button(key="site_save").click().run()
    assert at.success[-1].value == "已保存方案: 甲"
    at.sidebar.number_input(key="site_n").set_value(2)
    at.sidebar.button(key="site_run").click().run()
    at.text_input(key="site_scenario_name").input("乙")
    at.button(key="site_save").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.selectbox if s.key in ("site_cmp_left", "site_cmp_right")] == [
        "甲", "乙"]
    captions = [c.value for c in at.caption if c.value.startswith("优化目标")]
    assert any("新增站点数 N: 4" in c for c in captions), captions  # the sites saved
    assert any("新增站点数 N: 2" in c for c in captions), captions
    table = next(d.value for d in at.dataframe if "A − B" in d.value.columns)
    rows = table.set_index(["指标", "设施类别"])
    assert rows.loc[("方案站点数", "全部(本方案)"), "A − B"] == "+2"
    assert rows.loc[("方案站点数", "全部(本方案)"), "A · 甲"] == "4"
    newly = rows.loc[("新增覆盖", "全部(本方案)"), "A − B"]
    assert newly.startswith("+") and newly != "+0"
    share = rows.loc[("实施后覆盖率", "社区服务(渝邻汇)"), "A − B"]
    assert share.endswith("个百分点")
    assert len(table) > 10  # the whole proposal and every category
    assert not any(w in table.to_string() for w in ("community_service", "nan", "-0 "))


def test_a_site_that_gains_nobody_says_why(siting):
    at = siting
    state = at.session_state["site_state"]
    run, proposal = state["run"], list(state["proposal"])
    before = evaluate(run, proposal).newly_covered
    idle = next(c for c in range(len(run.candidates)) if c not in proposal
                and run.cand_snap.on_network[c]
                and round(evaluate(run, [*proposal, c]).newly_covered - before) == 0)
    p = run.candidates.geometry.iloc[idle]
    _send(at, id="z", kind="click", lat=p.y, lng=p.x)
    assert _proposal(at) == [*proposal, idle]
    status = _status(at)
    assert "(0)" in status and "(-0)" not in status and "零增益原因:" in status, status
    assert "位于另一片不相连的路网上" in status  # the sample's uncovered residents: apart
    sites = at.dataframe[0].value
    assert sites["零增益原因"].iloc[-1].startswith("附近")
    assert (sites["零增益原因"].iloc[:-1] == "").all()
    reason, name = sites["零增益原因"].iloc[-1], sites["名称"].iloc[-1]
    assert f"零增益原因 · {name}: {reason}" in [c.value for c in at.caption]  # whole, below
