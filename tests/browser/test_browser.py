"""The running app and the exported map in headless Chromium, with the network cut off.

Every request that leaves the machine is aborted and counted: the pages must draw
everything from the app itself (Leaflet is served from the installed folium-offline).
Screenshots are saved in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

N_POINTS = 14 + 17 + 24  # located business circles, logistics bases, clusters




def _check_map(frame, lang_labels):
    frame.locator(".leaflet-container").wait_for(timeout=30_000)
    frame.locator(".cq-label").first.wait_for(timeout=30_000)
    paths = frame.locator("path.leaflet-interactive")
    assert paths.count() >= 38 + N_POINTS  # district polygons + circle markers
    assert frame.locator(".cq-label").count() == 38
    control = frame.locator(".leaflet-control-layers").text_content()  # collapsed: hidden
    for label in lang_labels:
        assert label in control
    legends = "\n".join(frame.locator(".cq-legend").all_inner_texts())
    assert "常住人口" in legends and "商圈" in legends  # the choropleth and the point layers
    assert frame.locator(".leaflet-control-scale").count() == 1


def test_exported_html_draws_offline(offline_page, tmp_path, artifacts):
    out = tmp_path / "overview.html"
    r = subprocess.run([sys.executable, "-m", "geo_app.cli", "map", "overview", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    offline_page.goto(out.as_uri())
    _check_map(offline_page, ["商圈 (14)", "物流基地 (17)", "服务业集聚区 (24)"])
    # every name is on the page; crowded ones wait for a closer zoom (test_map_labels.py)
    assert "渝中区" in offline_page.locator(".leaflet-container").text_content()
    offline_page.screenshot(path=str(artifacts / "overview_export.png"))
    assert offline_page.external == []
    assert offline_page.errors == []


def test_app_draws_map_offline(offline_page, app_url, artifacts):
    offline_page.goto(app_url)
    offline_page.get_by_text("重庆15分钟生活圈规划工具").wait_for(timeout=60_000)
    frame = offline_page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    _check_map(frame, ["商圈 (14)", "物流基地 (17)", "服务业集聚区 (24)", "空白底图(离线)"])
    labels = frame.locator(".leaflet-container").text_content()  # hidden ones included
    assert "渝中区" in labels and "江北区" in labels
    # hover a district: the Chinese tooltip appears
    box = frame.locator(".cq-label", has_text="城口县").bounding_box()
    offline_page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert "城口县" in tooltip.inner_text() and "常住人口" in tooltip.inner_text()
    offline_page.screenshot(path=str(artifacts / "app_overview.png"), full_page=True)
    assert offline_page.external == []
    assert [e for e in offline_page.errors if "favicon" not in e] == []


MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
UNCOVERED = "#d73027"  # the siting map's residents still uncovered


def wait_for_map(page, layer_text: str, timeout_ms: int = 60_000) -> None:
    """Wait until the page shows exactly one map whose layer control lists ``layer_text``.

    When the map changes, streamlit-folium briefly shows the old and the new frame.
    """
    page.wait_for_function("""([sel, text]) => {
        const frames = document.querySelectorAll(sel);
        if (frames.length !== 1 || !frames[0].contentDocument) return false;
        const control = frames[0].contentDocument.querySelector(".leaflet-control-layers");
        return !!control && control.textContent.includes(text)
            && !!frames[0].contentDocument.querySelector(".cq-legend");
    }""", arg=[MAP_FRAME, layer_text], timeout=timeout_ms)


def page_link(page, label: str):
    """The sidebar's entry of a page, by its name in the session's language."""
    return page.locator('section[data-testid="stSidebar"]').get_by_text(label, exact=True)


def _run_page(page, app_url: str, page_label: str, button: str, layer_text: str):
    """Open a page of the app, press its run button and wait for the map; returns its frame."""
    page.goto(app_url)
    page_link(page, page_label).click()
    page.get_by_role("button", name=button).click()
    wait_for_map(page, layer_text)
    return page.frame_locator(MAP_FRAME)


def screenshot_offline(page, frame, path) -> None:
    """Screenshot the page tall enough for what is under the map (the app scrolls inside
    itself); nothing may have been fetched from elsewhere and no script may have failed."""
    page.mouse.move(5, 5)  # no tooltip left open under the pointer
    page.set_viewport_size({"width": 1400, "height": 1500})
    frame.locator(".cq-legend").first.wait_for()
    page.screenshot(path=str(path))
    assert page.external == []
    assert [e for e in page.errors if "favicon" not in e] == []


def test_app_coverage_page_offline(offline_page, app_url, artifacts):
    """The coverage page runs the Helsinki sample and draws it, with the network cut off."""
    page = offline_page
    frame = _run_page(page, app_url, "覆盖分析", "运行分析", "居民点 · 可达设施类别数")
    control = frame.locator(".leaflet-control-layers").text_content()  # collapsed: hidden
    rows = frame.locator(".leaflet-control-layers label").all_text_contents()
    counts = {name: int(n.replace(",", "")) for name, n in
              (re.match(r"^\s*(.+?) \(([\d,]+)\)\s*$", r).groups() for r in rows
               if re.match(r"^\s*(.+?) \(([\d,]+)\)\s*$", r))}
    residents = counts["居民点 · 可达设施类别数 · 全部设施(整篮)"]
    gaps = counts["服务缺口(按人口排序) · 全部设施(整篮)"]
    assert residents > 300 and gaps >= 1 and counts["生活圈(社区服务站)"] >= 1
    paths = frame.locator("path.leaflet-interactive")
    assert paths.count() >= residents + gaps  # one circle per resident point, the gaps
    assert frame.locator(".cq-facility").count() == counts["设施(按类别)"] > 100
    assert "空白底图(离线)" in control
    legends = "\n".join(frame.locator(".cq-legend").all_inner_texts())
    for row in ("全部设施(整篮) · 可达类别数", "12 类 (全部)", "距路网过远",
                "菜市场与生鲜超市 (8)", "轨道交通站"):
        assert row in legends, row
    assert frame.locator(".leaflet-control-scale").count() == 1
    assert page.get_by_text("离线样例:赫尔辛基(OSM,非重庆数据)").count() >= 1
    assert page.get_by_role("button", name="下载结果(GeoPackage)").count() == 1
    # another category: the map is redrawn from the kept result, without a new run
    page.get_by_role("combobox", name="地图显示类别").click()
    page.get_by_role("option", name="菜市场与生鲜超市").click()
    wait_for_map(page, "步行服务范围 · 菜市场与生鲜超市", 30_000)
    legends = "\n".join(frame.locator(".cq-legend").all_inner_texts())
    assert "菜市场与生鲜超市 · 步行时间(分钟)" in legends and "≤ 5 分钟" in legends
    screenshot_offline(page, frame, artifacts / "app_coverage.png")


def _metric(page, label: str) -> str:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id(
        "stMetricValue").inner_text()


def test_app_siting_page_offline(offline_page, app_url, artifacts):
    """The siting page solves the sample; a click in a gap adds a site and the gain grows."""
    page = offline_page
    frame = _run_page(page, app_url, "选址", "运行选址", "拟建站点 (5)")
    assert frame.locator(".cq-site").all_inner_texts() == ["1", "2", "3", "4", "5"]
    control = frame.locator(".leaflet-control-layers").text_content()  # collapsed: hidden
    for name in ("居民点 · 覆盖状态", "站点服务范围(步行等时圈) (15 分钟)", "候选点", "现有设施 (3)",
                 "空白底图(离线)"):
        assert name in control, name
    legend = frame.locator(".cq-legend").inner_text()
    for row in ("现有设施已覆盖", "新增覆盖", "仍未覆盖", "拟建站点", "站点服务范围"):
        assert row in legend, row
    assert frame.locator(".leaflet-control-scale").count() == 1
    before = int(_metric(page, "新增覆盖").replace(",", ""))
    # a resident still uncovered: a click there puts a new site on the spot
    # (force: a catchment drawn over it takes the same click)
    frame.locator(f'path.leaflet-interactive[fill="{UNCOVERED}"]').first.click(force=True)
    page.get_by_text("已新增站点 新增点 1").wait_for(timeout=60_000)
    wait_for_map(page, "拟建站点 (6)")
    after = int(_metric(page, "新增覆盖").replace(",", ""))
    assert after > before
    assert frame.locator(".cq-site").count() == 6
    page.get_by_text("增益重算用时").wait_for(timeout=30_000)  # drawn after the map
    screenshot_offline(page, frame, artifacts / "app_siting.png")
