"""End to end in headless Chromium: study area → coverage → siting → click a site → save a
scenario → reload and find it → download the report; and the cluster maps page.

Requests leaving the machine are aborted (see tests/test_browser.py). Screenshots go to
test-artifacts/workbench_*.png for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser import (
    MAP_FRAME,
    UNCOVERED,
    page_link,
    screenshot_offline,
    wait_for_map,
)

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")


def _draw_rectangle(page, frame) -> None:
    """Drag a rectangle over the middle of the area map with Leaflet.draw's tool."""
    frame.locator(".leaflet-draw-draw-rectangle").click()
    box = page.locator(MAP_FRAME).bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.3
    x1, y1 = box["x"] + box["width"] * 0.65, box["y"] + box["height"] * 0.7
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()


def _run_when_idle(page) -> None:
    """Press Run once the view has redrawn: the old map gone, the prompt to press Run shown."""
    page.get_by_text('设置参数后点击侧栏"运行分析"。').wait_for(timeout=60_000)
    page.wait_for_function("(sel) => document.querySelectorAll(sel).length === 0",
                           arg=MAP_FRAME, timeout=60_000)
    page.wait_for_timeout(500)
    page.get_by_role("button", name="运行分析").click()


def test_study_area_to_saved_scenario_and_report(offline_page, app_url, artifacts, tmp_path):
    page = offline_page
    page.goto(app_url)
    # 1. study area: a rectangle drawn over the middle of the sample
    page_link(page, "研究范围与数据").click()
    page.get_by_text("在地图上绘制").click()
    wait_for_map(page, "研究范围")
    frame = page.frame_locator(MAP_FRAME)
    _draw_rectangle(page, frame)
    page.get_by_role("button", name="使用此范围").wait_for()
    page.wait_for_function("""() => [...document.querySelectorAll('button')].some(
        b => b.innerText.includes('使用此范围') && !b.disabled)""", timeout=90_000)
    page.get_by_role("button", name="使用此范围").click()
    caption = page.get_by_text("当前研究范围: 绘制范围")
    caption.wait_for(timeout=30_000)
    drawn_km2 = float(caption.inner_text().rsplit("·", 1)[1].replace("km²", "").replace(",", ""))
    assert 0.05 < drawn_km2 < 5
    wait_for_map(page, "研究范围")  # the page redrew: one map again
    screenshot_offline(page, frame, artifacts / "workbench_1_area.png")

    # 2. coverage inside the area
    page_link(page, "覆盖分析").click()
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数")
    frame = page.frame_locator(MAP_FRAME)
    screenshot_offline(page, frame, artifacts / "workbench_2_coverage.png")

    # 3. siting, then a click on a resident still uncovered adds a site
    page_link(page, "选址").click()
    page.get_by_role("button", name="运行选址").click()
    wait_for_map(page, "拟建站点 (5)")
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(f'path.leaflet-interactive[fill="{UNCOVERED}"]').first.click(force=True)
    page.get_by_text("已新增站点").wait_for(timeout=60_000)
    wait_for_map(page, "拟建站点 (6)")

    # 4. save the scenario in the project file
    page.get_by_label("方案名称").fill("端到端方案")
    page.get_by_role("button", name="保存方案", exact=True).click()
    page.get_by_text("已保存方案: 端到端方案").wait_for(timeout=30_000)
    wait_for_map(page, "拟建站点 (6)")
    screenshot_offline(page, frame, artifacts / "workbench_3_siting.png")

    # 5. the report of the scenario
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="下载报告(HTML)").click()
    report = tmp_path / "report.html"
    dl.value.save_as(report)
    text = report.read_text(encoding="utf-8")
    assert "15分钟生活圈服务站选址方案" in text and "站点与增益" in text
    assert "<img" in text or "<iframe" in text
    (artifacts / "workbench_report.html").write_text(text, encoding="utf-8")

    # 6. a new session (reload) finds the scenario in the project file
    page.reload()
    page_link(page, "选址").click()
    # listed in the project's table; reopening it brings back its area, sites and map
    page.get_by_text("端到端方案").first.wait_for(state="attached", timeout=60_000)
    page.get_by_role("button", name="重新打开").click()
    page.get_by_text("已重新打开方案: 端到端方案").wait_for(timeout=120_000)
    wait_for_map(page, "拟建站点 (6)")
    assert "绘制范围" in page.get_by_test_id("stSidebar").inner_text()
    page.screenshot(path=str(artifacts / "workbench_4_reloaded.png"), full_page=True)
    assert page.external == []


def test_cluster_maps_page(offline_page, app_url, artifacts):
    """Clusters, hot spots and catchments of the sample's POIs draw with legends."""
    page = offline_page
    page.goto(app_url)
    page_link(page, "聚集分析").click()
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "聚集区范围")
    frame = page.frame_locator(MAP_FRAME)
    legend = frame.locator(".cq-legend").inner_text()
    assert "服务聚集区(主导类别·最近地名)" in legend and "零散点" in legend
    screenshot_offline(page, frame, artifacts / "workbench_clusters.png")

    page.get_by_text("冷热点与核密度").click()
    _run_when_idle(page)
    wait_for_map(page, "冷热点 (Gi*")
    legends = "\n".join(frame.locator(".cq-legend").all_inner_texts())
    assert "热点(99%置信)" in legends and "核密度" in legends
    screenshot_offline(page, frame, artifacts / "workbench_hotspots.png")

    page.get_by_text("商圈客源(Huff)").click()
    page.get_by_text("识别出的服务聚集区").click()
    _run_when_idle(page)
    wait_for_map(page, "主导商圈")
    legends = "\n".join(frame.locator(".cq-legend").all_inner_texts())
    assert "预期客源" in legends
    screenshot_offline(page, frame, artifacts / "workbench_catchments.png")
