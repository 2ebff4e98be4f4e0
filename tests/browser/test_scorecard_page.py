"""The 区县评比 / Scorecards page in headless Chromium, with the network cut off: coverage of
the sample first, then life circles of the 10-minute level, the scorecard of the 38 districts,
bar chart, small-multiple maps and target progress, all drawn offline by the bundled Vega.

The screenshots go to test-artifacts/app_scorecard.png (districts) and
app_scorecard_circles.png (the circles as zones) for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser import page_link, wait_for_map

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

CHARTS = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(800)


def test_app_scorecard_page_offline(offline_page, app_url, artifacts):
    page = offline_page
    page.goto(app_url)
    page_link(page, "覆盖分析").click()
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数")
    page_link(page, "区县评比").click()
    page.get_by_text("区县评比表(38个区县)").wait_for(timeout=60_000)
    page.get_by_role("combobox", name="生活圈层级").click()
    page.get_by_role("option", name="10分钟生活圈").click()
    page.wait_for_timeout(800)
    _set_number(page, "人口下限", 2000)
    _set_number(page, "人口上限", 6000)
    page.get_by_role("button", name="划定生活圈并评比").click()
    page.get_by_text("生活圈与达标情况").wait_for(timeout=120_000)
    page.wait_for_function("(sel) => document.querySelectorAll(sel).length >= 3", arg=CHARTS,
                           timeout=60_000)
    page.mouse.move(5, 5)
    page.set_viewport_size({"width": 1400, "height": 4200})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "app_scorecard.png"))
    assert page.get_by_text("2027年规划空间目标进度").count() == 1
    assert page.get_by_text("15分钟高品质生活服务圈", exact=False).count() >= 1
    assert page.get_by_role("button", name="下载评比表(Excel)").count() == 1
    # the circles drawn as the zones compared: coverage shares per circle
    page.get_by_text("已划定的生活圈").click()
    page.get_by_text("分区评比表").wait_for(timeout=60_000)
    page.wait_for_timeout(2500)
    page.screenshot(path=str(artifacts / "app_scorecard_circles.png"))
    assert page.external == []
    assert [e for e in page.errors if "favicon" not in e] == []
