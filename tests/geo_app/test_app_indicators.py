"""AppTest of the indicators page: it works on the coverage page's last result."""

from __future__ import annotations


def test_indicators_page_on_the_sample(app):
    app.sidebar.radio(key="page").set_value("indicators").run()
    assert not app.exception
    assert [i.value for i in app.info] == [
        "请先在“覆盖分析”页运行分析:指标基于当前的覆盖分析结果计算。"]
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    app.sidebar.radio(key="page").set_value("indicators").run()
    assert not app.exception and not app.error
    assert any("待核对原文" in i.value for i in app.info)
    table = app.dataframe[0].value
    names = list(table["指标"])
    assert "公园绿地服务半径覆盖率" in names and "完整居住社区覆盖率" in names
    # residential land and parks from the sample's OSM file: the park indicator has a value
    park = table[table["指标"] == "公园绿地服务半径覆盖率"].iloc[0]
    assert 0 <= float(park["数值(%)"].rstrip("%")) <= 100 and park["分母口径"] == "居住用地面积"
    greenway = table[table["指标"] == "城市绿道服务半径覆盖率"].iloc[0]
    assert greenway["数值(%)"] == "—"  # no greenways given: an empty value, never "None"
    labels = {b.label for b in app.get("download_button")}
    assert {"下载指标表(Excel)", "下载指标表(CSV)", "下载指标报告(HTML)"} <= labels
    # life circles as zones, another indicator on the map, English
    app.selectbox(key="ind_zone_type").set_value("life_circle").run()
    assert not app.exception
    assert set(app.dataframe[0].value["统计范围"]) == {"生活圈"}
    app.selectbox(key="ind_map_indicator").set_value("park_radius").run()
    assert not app.exception
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert "Value (%)" in app.dataframe[0].value.columns
    # an earlier year: definitions not yet in force are left out
    app.sidebar.number_input(key="ind_year").set_value(2019).run()
    assert not app.exception
    ids = set(app.dataframe[0].value["Indicator"])
    assert "complete residential community coverage" not in ids
    assert "5-minute level facilities met" in ids
