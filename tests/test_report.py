"""The proposal report and package of a siting run on the Helsinki sample."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_app.maps import siting_map
from geo_app.offline import external_refs, render_offline
from geo_app.proposals import proposal_summary, toggle_site
from geo_app.report import proposal_package, proposal_report_html, proposal_zip_bytes
from geo_app.siting import evaluate
from tests.test_maps import readable


@pytest.fixture(scope="module")
def edited(helsinki_siting):
    """The solver's three sites and one more, clicked on a resident left uncovered."""
    s = helsinki_siting
    gap = s.run.demand.geometry[evaluate(s.run, s.result.sites).uncovered].iloc[0]
    done = toggle_site(s.result.sites, s.run, gap.x, gap.y)
    assert done.action == "added"
    ev = evaluate(done.run, done.proposal)
    map_html = render_offline(siting_map(done.run, done.proposal, evaluation=ev,
                                         existing=s.existing))
    return done.run, ev, map_html


def report(helsinki_siting, edited, lang="zh", **params):
    run, ev, map_html = edited
    return proposal_report_html(run, helsinki_siting.result, ev, lang=lang,
                                parameters={**helsinki_siting.params, **params},
                                map_html=map_html)


def test_report_has_the_numbers_and_the_sites(helsinki_siting, edited):
    run, ev, _ = edited
    page = report(helsinki_siting, edited)
    row = proposal_summary(run, helsinki_siting.result, list(ev.sites["site"]), "mclp").iloc[0]
    assert row["edited"]
    text = html.unescape(page)
    for value in (f"{row['residents']:,.0f}", f"{row['covered_before']:,.0f}",
                  f"{row['newly_covered']:,.0f}", f"{100 * row['share_after']:.1f} %",
                  f"{row['value']:,.1f}", f"{100 * row['gap']:.2f} %", row["solver"]):
        assert value in text, value
    for name in run.candidates["name"].iloc[ev.sites["site"]]:
        assert f"<td>{name}</td>" in page
    for gain in ev.sites["gain_alone"]:
        assert f"{gain:,.0f}" in text
    for label in ("15分钟生活圈服务站选址方案", "生成日期", "数据来源与参数", "最优性差距", "求解器",
                  "现有设施已覆盖", "新增覆盖", "方案实施后覆盖率", "社区服务(渝邻汇)", "最大覆盖(MCLP)",
                  "赫尔辛基样例数据", "方案已在求解结果上手动修改", "Helsinki.osm.pbf"):
        assert label in text, label
    assert '<html lang="zh-CN">' in page


def test_report_loads_nothing_from_the_network(helsinki_siting, edited):
    page = report(helsinki_siting, edited)
    assert external_refs(page) == []
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert external_refs(inner) == [] and "L.map(" in inner
    assert "拟建站点 (4)" in readable(inner)
    assert not re.search(r'<(?:img|iframe)[^>]+src="https?:', page)


def test_report_in_english_without_the_sample_note(helsinki_siting, edited):
    page = html.unescape(report(helsinki_siting, edited, "en", network="streets.osm.pbf",
                                facilities="streets.osm.pbf"))
    for label in ("15-minute life-circle hub siting proposal", "Data sources and parameters",
                  "Newly covered", "Share covered after", "Optimality gap",
                  "Maximal covering (MCLP)", "edited by hand"):
        assert label in page, label
    assert "Helsinki sample" not in page and "赫尔辛基" not in page
    assert '<html lang="en">' in page


def test_report_escapes_names(helsinki_siting, edited):
    run, ev, map_html = edited
    cand = run.candidates.copy()
    cand.loc[int(ev.sites["site"].iloc[0]), "name"] = "<b>x</b>"
    page = proposal_report_html(dataclasses.replace(run, candidates=cand), helsinki_siting.result,
                                ev, parameters=helsinki_siting.params, map_html=map_html)
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_package_files(helsinki_siting, edited, tmp_path):
    run, ev, map_html = edited
    paths = proposal_package(run, helsinki_siting.result, ev, folder=tmp_path, lang="en",
                             parameters=helsinki_siting.params, map_html=map_html)
    assert {k: p.name for k, p in paths.items()} == {
        "gpkg": "proposal.gpkg", "csv": "proposal_sites.csv", "html": "proposal_report.html"}
    assert all(p.is_file() for p in paths.values())
    assert set(pyogrio.list_layers(paths["gpkg"])[:, 0]) == {"sites", "summary", "uncovered"}
    sites = gpd.read_file(paths["gpkg"], layer="sites")
    assert len(sites) == len(ev.sites) and sites.crs.to_epsg() == 4326
    assert list(sites["order"]) == [1, 2, 3, 4]
    summary = gpd.read_file(paths["gpkg"], layer="summary")
    assert summary["newly_covered"].iloc[0] == pytest.approx(ev.newly_covered)
    uncovered = gpd.read_file(paths["gpkg"], layer="uncovered")
    assert len(uncovered) == int(ev.uncovered.sum())
    assert paths["csv"].read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    table = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert list(table.columns[:4]) == ["order", "candidate", "lon", "lat"]
    assert table["lon"].to_numpy() == pytest.approx(shapely.get_x(sites.geometry.values))
    assert table["unique_gain"].to_numpy() == pytest.approx(ev.sites["unique_gain"].to_numpy())
    assert "Newly covered" in paths["html"].read_text(encoding="utf-8")


def test_package_as_zip(helsinki_siting, edited):
    run, ev, map_html = edited
    data = proposal_zip_bytes(run, helsinki_siting.result, ev,
                              parameters=helsinki_siting.params, map_html=map_html)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["proposal.gpkg", "proposal_report.html",
                                        "proposal_sites.csv"]
        assert "新增覆盖" in z.read("proposal_report.html").decode("utf-8")
