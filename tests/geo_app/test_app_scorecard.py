"""AppTest of the 区县评比 / Scorecards page: the census scorecard before any coverage run, then
life circles drawn on the coverage page's result (the Helsinki sample), zones of the circles,
targets and downloads, in both languages."""

from __future__ import annotations

import pandas as pd


def test_scorecard_page(app):
    app.sidebar.radio(key="page").set_value("scorecards").run()
    assert not app.exception and not app.error
    assert any("尚无覆盖分析结果" in i.value for i in app.info)
    table = app.dataframe[0].value
    assert len(table) == 38 and {"区县/分区", "常住人口(2020年普查)", "商圈"} <= set(table.columns)
    # sorted by the first metric with values; an empty value reads "—", numbers have separators
    shown = table["常住人口(2020年普查)"].astype(str)
    census = pd.to_numeric(shown.str.replace(",", ""), errors="coerce").dropna()
    assert census.is_monotonic_decreasing and census.iloc[0] == 2_191_493  # 渝北区
    assert "None" not in set(table.astype(str).to_numpy().ravel())
    regions = app.dataframe[1].value
    assert sorted(regions["区县数"]) == [6, 9, 11, 12]
    subheaders = [s.value for s in app.subheader]
    assert "区县评比表(38个区县)" in subheaders and "2027年规划空间目标进度" in subheaders
    labels = {b.label for b in app.get("download_button")}
    assert {"下载评比表(Excel)", "下载评比报告(HTML)"} <= labels
    # coverage first, then circles of the 10-minute level with smaller bounds
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception
    app.sidebar.radio(key="page").set_value("scorecards").run()
    app.sidebar.selectbox(key="card_tier").set_value(10).run()
    assert app.sidebar.number_input(key="card_min_pop").value == 15000
    app.sidebar.number_input(key="card_min_pop").set_value(2000).run()
    app.sidebar.number_input(key="card_max_pop").set_value(6000).run()
    app.sidebar.button(key="card_run").click().run()
    assert not app.exception and not app.error
    metrics = {m.label: m.value for m in app.metric}
    assert int(metrics["生活圈数"]) > 3 and metrics["规划目标(达标生活圈数)"] == "100"
    assert any("赫尔辛基" in i.value for i in app.info)  # the sample is not in Chongqing
    # the circles as the zones compared
    app.sidebar.radio(key="card_zoning").set_value("circles").run()
    assert not app.exception and not app.error
    zones = [d.value for d in app.dataframe if "区县/分区" in d.value.columns][0]
    assert len(zones) == int(metrics["生活圈数"])
    assert zones["分析居民数"].sum() > 20_000
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert "Scorecard of the zones" in [s.value for s in app.subheader]
