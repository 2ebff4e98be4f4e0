"""In headless Chromium, offline: a coverage run's threshold and result stay after leaving the
page, coming back and switching the language; the base-map select follows the language at once;
the landing panel leads to the pages; Streamlit's own uploader words are Chinese."""

from __future__ import annotations

import pytest

from tests.browser.test_browser import page_link, wait_for_map
from tests.browser.test_walkthrough import _settle as settle

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")


def test_threshold_and_result_survive_pages_and_language(offline_page, app_url, artifacts):
    page = offline_page
    page.goto(app_url)
    page.get_by_text("从这里开始").wait_for(timeout=30_000)
    page.get_by_text("赫尔辛基的 OSM 路网").wait_for()  # the sample named as Helsinki's
    assert page.get_by_text("不是重庆数据").count() >= 1
    page.get_by_role("button", name="进行覆盖分析").click()  # the landing panel's step 2
    minutes = page.get_by_label("统一步行时间门槛(分钟,留空则按设施分级)")
    minutes.wait_for(timeout=30_000)
    settle(page)  # typed while the page still runs, the value was lost once in the suite
    minutes.fill("10")
    minutes.press("Enter")
    settle(page)
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数", 120_000)

    page_link(page, "选址").click()
    page.get_by_role("button", name="运行选址").wait_for(timeout=60_000)
    page_link(page, "覆盖分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数")  # the kept result, no prompt to run again
    playwright.expect(minutes).to_have_value("10.00", timeout=30_000)  # still redrawing
    assert page.get_by_text("设置输入和参数后点击“运行分析”。").count() == 0

    page.get_by_text("English", exact=True).click()
    wait_for_map(page, "Residents · categories within reach")
    threshold = page.get_by_label("One threshold for all (min; blank = each category's level)")
    playwright.expect(threshold).to_have_value("10.00", timeout=30_000)
    shown = page.get_by_test_id("stSidebar").evaluate("""s => [...s.querySelectorAll(
        '[data-testid="stSelectbox"]')].map(b => [b.innerText, ...[...b.querySelectorAll(
        'input')].map(i => i.value + ' ' + (i.getAttribute('aria-label') || ''))].join(' '))""")
    assert any("Base map from your data (offline)" in box for box in shown)  # at once in English
    assert not any("底图" in box for box in shown)
    assert page.get_by_role("radio", name="English").is_checked()
    page.screenshot(path=str(artifacts / "state_after_switch.png"))
    assert page.external == []


def _type_on(page, page_name: str, label: str, value: str):
    """Open a page, type a value into its field and wait for the rerun; returns the field."""
    page_link(page, page_name).click()
    field = page.get_by_label(label)
    field.wait_for(timeout=60_000)
    settle(page)
    field.fill(value)
    field.press("Enter")
    settle(page)
    return field


def test_a_value_survives_another_page_s_reruns_and_quick_switches(offline_page, app_url):
    """The threshold set on 覆盖分析 is shown again after 选址 has rerun (a value put back while
    its widget was away was drawn blank) and after clicking 选址 then 覆盖分析 at once, while the
    first page still draws or the browser has not caught up (the browser sends, then drops, the
    value of a widget the last run did not draw)."""
    page = offline_page
    page.goto(app_url)
    minutes = _type_on(page, "覆盖分析", "统一步行时间门槛(分钟,留空则按设施分级)", "20")
    n_sites = _type_on(page, "选址", "新增站点数 N", "7")
    page_link(page, "覆盖分析").click()
    settle(page)
    playwright.expect(minutes).to_have_value("20.00", timeout=30_000)
    for pause_ms in (0, 150, 300, 0, 150, 300):
        page_link(page, "选址").click()
        page.wait_for_timeout(pause_ms)
        page_link(page, "覆盖分析").click()
        settle(page)
        playwright.expect(minutes).to_have_value("20.00", timeout=30_000)
    playwright.expect(n_sites).to_have_count(0)
    page_link(page, "选址").click()
    playwright.expect(n_sites).to_have_value("7", timeout=60_000)


def test_uploader_words_in_chinese(offline_page, app_url):
    page = offline_page
    page.goto(app_url)
    page_link(page, "研究范围与数据").click()
    page.get_by_text("上传文件", exact=True).click()
    zone = page.get_by_test_id("stFileUploaderDropzone").first
    zone.wait_for(timeout=60_000)
    shown = zone.evaluate("""z => [...z.querySelectorAll('*')].map(e => {
        const s = getComputedStyle(e), a = getComputedStyle(e, '::after');
        const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
        return (parseFloat(s.fontSize) > 0 ? own : '') + (a.content !== 'none' ? a.content : '');
    }).join(' ')""")
    assert "选择文件" in shown and "MB" in shown
    for english in ("Upload", "per file", "Browse files", "Drag and drop"):
        assert english not in shown, english


def test_a_page_switched_to_another_language_while_away_keeps_its_values(offline_page,
                                                                         app_url):
    """Siting's numbers set in Chinese, the language switched on another page, siting again in
    English: the numbers are the Chinese page's, not the widgets' minimums (the browser shows
    a value only when the app sets it in the run that draws the relabelled widget)."""
    page = offline_page
    page.goto(app_url)
    page_link(page, "选址").click()
    n_sites = page.get_by_label("新增站点数 N")
    n_sites.wait_for(timeout=60_000)
    n_sites.fill("7")
    n_sites.press("Enter")
    playwright.expect(n_sites).to_have_value("7", timeout=30_000)
    page_link(page, "覆盖分析").click()
    page.get_by_role("button", name="运行分析").wait_for(timeout=60_000)
    page.get_by_text("English", exact=True).click()
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
    page_link(page, "Siting").click()
    playwright.expect(page.get_by_label("Number of new sites N")).to_have_value(
        "7", timeout=30_000)
    playwright.expect(page.get_by_label("Threshold (min)")).to_have_value("15.00")
    playwright.expect(page.get_by_label("Grid spacing (m)")).to_have_value("200.00")
