"""The indicators page in headless Chromium, with the network cut off: coverage first, then
the indicator table, the bar chart against targets and the map of failing units.

The screenshot goes to test-artifacts/app_indicators.png for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser import MAP_FRAME, page_link, screenshot_offline, wait_for_map

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")


def test_app_indicators_page_offline(offline_page, app_url, artifacts):
    page = offline_page
    page.goto(app_url)
    page_link(page, "覆盖分析").click()
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数")
    page_link(page, "指标").click()
    # the first indicator that some units meet and some fail
    wait_for_map(page, "社区便民商业服务设施覆盖率 · 未达标")
    frame = page.frame_locator(MAP_FRAME)
    legend = frame.locator(".cq-legend").inner_text()
    assert "达标" in legend and "未达标" in legend
    assert page.get_by_text("指标值与参考目标(研究范围)").count() == 1
    assert page.locator("[data-testid='stVegaLiteChart'], .vega-embed").count() >= 1
    assert page.get_by_role("button", name="下载指标表(Excel)").count() == 1
    # the park indicator is measured on residential land
    box = page.get_by_role("combobox", name="地图显示的指标")
    box.click()
    page.keyboard.type("公园绿地")  # the select filters its options as one types
    page.get_by_role("option", name="公园绿地服务半径覆盖率").click()
    wait_for_map(page, "公园绿地服务半径覆盖率 · 居住用地覆盖比例", 30_000)
    screenshot_offline(page, frame, artifacts / "app_indicators.png")
    page.set_viewport_size({"width": 1400, "height": 3200})
    page.screenshot(path=str(artifacts / "app_indicators_full.png"))
