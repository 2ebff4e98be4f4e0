"""The proposal report and package of a siting run on the Helsinki sample, and the
coverage before/after by category of a scenario."""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import os
import re
import stat
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_app.io import report as report_module
from geo_app.io.render import html_to_png
from geo_app.io.report import (
    proposal_package,
    proposal_report_html,
    proposal_report_pdf,
    proposal_zip_bytes,
)
from geo_app.maps.offline import external_refs, render_offline
from geo_app.maps.siting import siting_map
from geo_app.workflows.before_after import HUB_CATEGORIES, coverage_before_after
from geo_app.workflows.coverage import CoverageInputs
from geo_app.workflows.proposals import (
    proposal_sites,
    proposal_summary,
    site_name,
    solver_label,
    toggle_site,
)
from geo_app.workflows.siting import evaluate, siting_view
from layers.network import StreetNetwork
from tests.geo_app.test_maps import readable
from tests.geo_app.test_render import colours, pdf_pages


@pytest.fixture(scope="module")
def edited(helsinki_siting):
    """The solver's three sites and one more, clicked on a resident left uncovered."""
    s = helsinki_siting
    gap = s.run.demand.geometry[evaluate(s.run, s.result.sites).uncovered].iloc[0]
    done = toggle_site(s.result.sites, s.run, gap.x, gap.y)
    assert done.action == "added"
    ev = evaluate(done.run, done.proposal)
    map_html = render_offline(siting_map(siting_view(done.run, done.proposal, evaluation=ev),
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
                  f"{row['newly_covered']:,.0f}", f"{100 * row['share_after']:.1f}%",
                  f"{row['value']:,.0f}", f"{100 * row['gap']:.1f}%",
                  solver_label(row["solver"])):  # persons whole, shares with one decimal
        assert value in text, value
    for name in run.candidates["name"].iloc[ev.sites["site"]]:
        assert f"<td>{site_name(name)}</td>" in page  # "grid 20" as 网格点 20
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


def test_package_files(helsinki_siting, edited, tmp_path, no_chromium):
    run, ev, map_html = edited
    paths = proposal_package(run, helsinki_siting.result, ev, folder=tmp_path, lang="en",
                             parameters=helsinki_siting.params, map_html=map_html)
    assert {k: p.name for k, p in paths.items()} == {
        "gpkg": "proposal.gpkg", "csv": "proposal_sites.csv", "html": "proposal_report.html",
        "readme": "README.txt"}
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


def test_package_files_have_the_mode_of_a_new_file(helsinki_siting, edited, tmp_path,
                                                   no_chromium):
    """Readable by colleagues when copied to a shared folder: 0666 less the umask, not 0600."""
    run, ev, map_html = edited
    old = os.umask(0o022)
    try:
        paths = proposal_package(run, helsinki_siting.result, ev, folder=tmp_path, lang="en",
                                 parameters=helsinki_siting.params, map_html=map_html,
                                 map_png=b"\x89PNG\r\n\x1a\n")
    finally:
        os.umask(old)
    assert set(paths) == {"gpkg", "csv", "html", "png", "readme"}
    assert {k: stat.S_IMODE(p.stat().st_mode) for k, p in paths.items()} == {
        k: 0o644 for k in paths}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())


def test_package_as_zip_without_chromium(helsinki_siting, edited, no_chromium):
    run, ev, map_html = edited
    data = proposal_zip_bytes(run, helsinki_siting.result, ev,
                              parameters=helsinki_siting.params, map_html=map_html)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["README.txt", "proposal.gpkg", "proposal_report.html",
                                        "proposal_sites.csv"]
        page = z.read("proposal_report.html").decode("utf-8")
        assert "新增覆盖" in page and "<iframe" in page and "<img" not in page
        readme = z.read("README.txt").decode("utf-8")
        assert "未包含PDF报告和地图图片:no Chromium found: install chromium" in readme
        assert "proposal.gpkg: GeoPackage" in readme


# --- coverage before/after by category, map image, PDF and the package with Chromium ---

@pytest.fixture
def no_chromium(monkeypatch):
    monkeypatch.setattr(report_module, "find_chromium", lambda: None)


@pytest.fixture(scope="module")
def before_after(helsinki_inputs, helsinki_siting, edited):
    """The edited proposal's effect, at the siting run's 15 minutes and on its graph."""
    run, ev, _ = edited
    sites = proposal_sites(run, helsinki_siting.result, list(ev.sites["site"]))
    return coverage_before_after(helsinki_inputs, sites, minutes=15.0, graph=run.graph)


@pytest.fixture(scope="module")
def map_png(chromium_path, edited) -> bytes:
    return html_to_png(edited[2])


def _line_case(sites_at: list[int]) -> tuple[CoverageInputs, gpd.GeoDataFrame]:
    """A straight street of 11 nodes 100 m apart (lengths set, so 100 s at 1 m/s);
    residents 10, 20 and 40 at nodes 0, 5 and 10; community service and clinic at node 0,
    markets at nodes 0 and 5; proposed sites at ``sites_at``."""
    lon = 106.55 + 0.001 * np.arange(11)
    lat = np.full(11, 29.56)
    nodes = pd.DataFrame({"node_id": np.arange(11), "lon": lon, "lat": lat})
    edges = gpd.GeoDataFrame(
        {"u": np.arange(10), "v": np.arange(1, 11), "length_m": 100.0, "highway": "footway"},
        geometry=[shapely.LineString([(lon[i], 29.56), (lon[i + 1], 29.56)]) for i in range(10)],
        crs=4326)

    def points(at, **cols):
        return gpd.GeoDataFrame(cols, geometry=shapely.points(lon[at], lat[at]), crs=4326)

    facilities = points([0, 0, 0, 5], category=["community_service", "clinic", "market", "market"],
                        name=["cs", "clinic", "m0", "m5"])
    demand = points([0, 5, 10], population=[10.0, 20.0, 40.0])
    inputs = CoverageInputs(StreetNetwork(nodes, edges, "line"), facilities, demand, {}, None,
                            {"network": "line"})
    return inputs, points(sites_at, name=[f"site {i}" for i in sites_at])


def test_before_after_by_hand():
    # one site at node 6, 2.5 min = 150 s: it reaches node 5 (100 s), not 0 (600 s) or 10 (400 s)
    inputs, sites = _line_case([6])
    f = coverage_before_after(inputs, sites, ["community_service", "clinic", "childcare"],
                              minutes=2.5).set_index("category")
    expected = {  # (before, after) in persons
        "community_service": (10, 30), "clinic": (10, 30), "childcare": (0, 20),
        "market": (30, 30),  # not in the hub: unchanged
        "basket": (0, 20),  # node 5 now has all four; nobody had childcare before
    }
    assert sorted(f.index) == sorted(expected)
    assert list(f.index)[-1] == "basket"
    for cat, (before, after) in expected.items():
        row = f.loc[cat]
        assert (row["covered_before"], row["covered_after"], row["gain"]) == pytest.approx(
            (before, after, after - before)), cat
        assert (row["share_before"], row["share_after"]) == pytest.approx(
            (before / 70, after / 70)), cat
        assert row["residents"] == 70
        assert row["in_hub"] == (cat in ("community_service", "clinic", "childcare"))
    assert f.loc["market", "threshold_min"] == 2.5 and np.isnan(f.loc["basket", "threshold_min"])


def test_before_after_at_each_categorys_level():
    # default thresholds: each category's life-circle level, default hub categories,
    # one site at node 10
    inputs, sites = _line_case([10])
    f = coverage_before_after(inputs, sites).set_index("category")
    assert set(HUB_CATEGORIES) <= set(f.index)
    assert f.loc["community_service", "threshold_min"] == 5.0  # GB 50180 5-min level
    assert f.loc["market", "threshold_min"] == 10.0
    # 5 min = 300 s: the node-0 facility reaches node 0 only; the site adds node 10
    assert f.loc["community_service", ["covered_before", "covered_after"]].tolist() == [10, 50]
    # sports is at the 10-min level (600 s): the site also reaches node 5 (500 s)
    assert f.loc["sports", ["covered_before", "covered_after"]].tolist() == [0, 60]
    assert f.loc["market", "gain"] == 0
    with pytest.raises(ValueError, match="no hub categories"):
        coverage_before_after(inputs, sites, [])


def test_before_after_on_the_sample_matches_the_siting_run(before_after, edited, helsinki_siting):
    run, ev, _ = edited
    f = before_after.set_index("category")
    hub = f["in_hub"]
    assert set(f.index[hub]) == set(HUB_CATEGORIES)
    assert (f.loc[hub, "covered_after"] >= f.loc[hub, "covered_before"] - 1e-9).all()
    assert f.loc[hub, "gain"].sum() > 0
    assert (f.loc[~hub & (f.index != "basket"), "gain"] == 0).all()
    assert f["residents"].to_numpy() == pytest.approx(run.weights.sum())
    # The siting run covers within 15 min at 1 m/s on the same graph, snapping and demand,
    # with community services as existing facilities: its numbers are this category's
    # at 15 min. (At each category's level the hub's threshold is 5 min: not comparable.)
    cs = f.loc["community_service"]
    assert cs["threshold_min"] == 15.0 == helsinki_siting.params["minutes"]
    assert cs["covered_before"] == pytest.approx(ev.already_covered)
    assert cs["gain"] == pytest.approx(ev.newly_covered)
    row = proposal_summary(run, helsinki_siting.result, list(ev.sites["site"]), "mclp").iloc[0]
    assert cs["share_after"] == pytest.approx(row["share_after"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_has_the_before_after_table_and_the_image(helsinki_siting, edited, before_after,
                                                         lang):
    run, ev, map_html = edited
    fake_png = b"\x89PNG\r\n\x1a\n not really an image"
    page = proposal_report_html(run, helsinki_siting.result, ev, lang=lang,
                                parameters=helsinki_siting.params, map_html=map_html,
                                map_png=fake_png, before_after=before_after)
    text = html.unescape(page)
    heading, hub, label, yes = {
        "zh": ("方案实施前后各类设施覆盖", "纳入渝邻汇", "社区服务(渝邻汇)", "是"),
        "en": ("Coverage before/after by category", "In the hub (渝邻汇)",
               "community service station", "yes")}[lang]
    for word in (heading, hub, label, "数据来源与参数" if lang == "zh" else
                 "Data sources and parameters"):
        assert word in text, word
    cs = before_after.set_index("category").loc["community_service"]
    row = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", text).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells == [yes, "15", f"{cs['covered_before']:,.0f}", f"{100 * cs['share_before']:.1f} %",
                     f"{cs['covered_after']:,.0f}", f"{100 * cs['share_after']:.1f} %",
                     f"{cs['gain']:,.0f}"]
    assert f"<tr><td>{html.escape(report_module.facility_label('basket', lang))}</td>" in page
    img = re.search(r'<img class="map" alt="[^"]+" src="data:image/png;base64,([^"]+)">', page)
    assert base64.b64decode(img.group(1)) == fake_png
    assert page.index("<img") < page.index("<iframe")  # the image, then the live map
    assert "Helsinki.osm.pbf" in text and external_refs(page) == []


def test_pdf_page_has_the_image_and_no_iframe(helsinki_siting, edited, before_after,
                                              monkeypatch):
    run, ev, map_html = edited
    seen = {}
    monkeypatch.setattr(report_module, "html_to_png", lambda h, **kw: seen.setdefault("map", h)
                        and b"PNG")
    monkeypatch.setattr(report_module, "html_to_pdf", lambda h, **kw: seen.setdefault("page", h)
                        and b"%PDF")
    assert proposal_report_pdf(run, helsinki_siting.result, ev, parameters=helsinki_siting.params,
                               map_html=map_html, before_after=before_after) == b"%PDF"
    assert seen["map"] == map_html
    assert "<iframe" not in seen["page"] and base64.b64encode(b"PNG").decode() in seen["page"]
    assert "方案实施前后各类设施覆盖" in seen["page"] and "@page{size:A4" in seen["page"]


def test_report_pdf(helsinki_siting, edited, before_after, map_png):
    run, ev, map_html = edited
    pdf = proposal_report_pdf(run, helsinki_siting.result, ev, parameters=helsinki_siting.params,
                              map_html=map_html, map_png=map_png, before_after=before_after)
    assert pdf.startswith(b"%PDF-") and pdf_pages(pdf) >= 1
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+NotoSans\w*CJK", pdf)
    assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]", pdf)  # A4 in points
    assert re.search(rb"/Subtype /Image", pdf)  # the map


def test_package_with_chromium(helsinki_siting, edited, before_after, tmp_path, chromium_path):
    run, ev, map_html = edited
    paths = proposal_package(run, helsinki_siting.result, ev, folder=tmp_path, lang="en",
                             parameters=helsinki_siting.params, map_html=map_html,
                             before_after=before_after)
    assert {k: p.name for k, p in paths.items()} == {
        "gpkg": "proposal.gpkg", "csv": "proposal_sites.csv", "html": "proposal_report.html",
        "pdf": "proposal_report.pdf", "png": "map.png", "readme": "README.txt"}
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")
    size, n, _ = colours(paths["png"].read_bytes())
    assert size == (1200, 800) and n > 500
    page = paths["html"].read_text(encoding="utf-8")
    assert base64.b64encode(paths["png"].read_bytes()).decode() in page and "<iframe" in page
    assert "Coverage before/after by category" in page
    readme = paths["readme"].read_text(encoding="utf-8")
    assert "proposal_report.pdf: Report (PDF)" in readme and "No PDF" not in readme


def test_package_when_chromium_fails(helsinki_siting, edited, monkeypatch):
    run, ev, map_html = edited
    monkeypatch.setattr(report_module, "find_chromium", lambda: "/usr/bin/chromium")

    def broken(html, **kw):
        raise RuntimeError("Chromium (/usr/bin/chromium) failed (exit 1) to write page.png: oops")

    monkeypatch.setattr(report_module, "html_to_png", broken)
    data = proposal_zip_bytes(run, helsinki_siting.result, ev, lang="en",
                              parameters=helsinki_siting.params, map_html=map_html)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "proposal_report.pdf" not in z.namelist() and "map.png" not in z.namelist()
        assert "No PDF report or map image: Chromium (/usr/bin/chromium) failed" in \
            z.read("README.txt").decode("utf-8")


def test_package_with_a_given_image_but_no_chromium(helsinki_siting, edited, no_chromium):
    run, ev, map_html = edited
    data = proposal_zip_bytes(run, helsinki_siting.result, ev, parameters=helsinki_siting.params,
                              map_html=map_html, map_png=b"\x89PNG given")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read("map.png") == b"\x89PNG given" and "proposal_report.pdf" not in z.namelist()
        assert "<img" in z.read("proposal_report.html").decode("utf-8")
