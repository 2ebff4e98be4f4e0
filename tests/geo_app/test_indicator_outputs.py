"""What an indicator result becomes: Excel, CSV and GeoPackage files, the map of failing
units, the report section (alone and in the siting proposal)."""

from __future__ import annotations

import html
import io

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from geo_app.errors import OutputError
from geo_app.io.indicators import display_table, write_indicators, xlsx_bytes
from geo_app.io.report import indicators_report_html, proposal_report_html
from geo_app.maps.indicators import indicator_map, mapped_indicators
from geo_app.maps.offline import external_refs, render_offline
from tests.geo_app.test_indicators_workflow import result  # noqa: F401  (the hand-built case)
from tests.geo_app.test_maps import readable


def test_files_of_every_kind(result, tmp_path):  # noqa: F811
    book = pd.read_excel(io.BytesIO(xlsx_bytes(result)), sheet_name=None)
    assert list(book)[:3] == ["indicators", "compliance", "coverage_groups"]
    assert {"lon", "lat", "ok_kids"} <= set(book["units"].columns)
    assert len(book["indicators"]) == len(result.table)
    (gpkg,) = write_indicators(result, tmp_path / "r.gpkg")
    assert {"indicators", "units", "residential_land"} <= set(pyogrio.list_layers(gpkg)[:, 0])
    land = gpd.read_file(gpkg, layer="residential_land")
    assert land["covered_m2_park_land"].round().tolist() == [10_000, 5_000, 0]
    csv, other = write_indicators(result, tmp_path / "r.csv")
    assert other.name == "r.compliance.csv" and csv.read_bytes()[:3] == b"\xef\xbb\xbf"
    with pytest.raises(OutputError, match="the extension decides the format"):
        write_indicators(result, tmp_path / "r.json")


def test_display_tables_in_both_languages(result):  # noqa: F811
    zh = display_table(result.study_area(), "zh")
    en = display_table(result.study_area(), "en")
    assert "数值(%)" in zh.columns and "Value (%)" in en.columns
    assert set(zh["分母口径"]) == {"人口", "居住单元(建筑)数", "居住用地面积"}
    kids = zh[zh["指标"] == "幼"].iloc[0]
    assert kids["参考目标(%)"] == "25" and kids["达到目标"] == "达标"


def test_map_of_failing_units_and_of_land(result):  # noqa: F811
    assert "two" in mapped_indicators(result) and "green" not in mapped_indicators(result)
    page = readable(render_offline(indicator_map(result, "two", lang="zh")))
    assert "双 · 未达标 (2)" in page and "双 · 达标 (3)" in page
    land = readable(render_offline(indicator_map(result, "park_land", lang="en")))
    assert "park land · Residential land covered (3)" in land and "parks (3)" in land
    assert external_refs(page) == [] and external_refs(land) == []
    with pytest.raises(ValueError, match="no per-unit or land result"):
        indicator_map(result, "green")


def test_report_section_alone_and_in_the_proposal(result, helsinki_siting):  # noqa: F811
    page = html.unescape(indicators_report_html(result, lang="zh"))
    assert "指标:城市体检、GB 50180 与目标" in page and "<svg" in page
    assert "待核对原文" in page and "GB 50180 配套设施达标情况" in page
    assert "60岁以上老年人" in page  # the groups beside the total
    assert "not computed: the coverage run stopped at 5 min" in page  # computed in English
    s = helsinki_siting
    from geo_app.workflows.siting import evaluate

    ev = evaluate(s.run, s.result.sites)
    with_section = proposal_report_html(s.run, s.result, ev, parameters=s.params,
                                        map_html="<p>map</p>", indicators=result)
    without = proposal_report_html(s.run, s.result, ev, parameters=s.params,
                                   map_html="<p>map</p>")
    assert "指标:城市体检" in html.unescape(with_section)
    assert "指标:城市体检" not in html.unescape(without)
