"""Network edits on the coverage page in headless Chromium (offline, the Helsinki sample): a
footbridge drawn with Leaflet.draw's own line tool (mouse clicks on the map), coverage before
and after for the elderly, the map of who gains reach. The map is saved as
/tmp/shots/edits_before_after_zh.png for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_browser import page_link

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

FRAMES = 'iframe[title="streamlit_folium.st_folium"]'
# a footbridge over the block south-west of the sample's centre: 142 elderly residents come
# within 5 minutes of a community service station, nobody loses (compare_edits on the sample)
BRIDGE = [(60.168762, 24.936844), (60.167813, 24.935994)]
SHOTS = Path("/tmp/shots")


def _frame_with(page, selector: str, timeout_ms: int = 60_000):
    """The index of the map frame that holds ``selector`` (the newest one while
    streamlit-folium swaps frames)."""
    handle = page.wait_for_function("""([frames, sel]) => {
        const all = [...document.querySelectorAll(frames)];
        const hits = all.map((f, i) => [i, f.contentDocument]).filter(
            ([i, d]) => d && d.querySelector(sel));
        return hits.length ? hits[hits.length - 1][0] + 1 : false;
    }""", arg=[FRAMES, selector], timeout=timeout_ms)
    return handle.json_value() - 1


def _draw_line(page, index: int, latlngs) -> None:
    """Draw a line on map frame ``index`` with the line tool: a click per vertex, then
    Leaflet.draw's finish button (its words in the session's language)."""
    frame_el = page.locator(FRAMES).nth(index)
    frame_el.scroll_into_view_if_needed()
    frame = page.frame_locator(FRAMES).nth(index)
    tool = frame.locator(".leaflet-draw-draw-polyline")
    assert tool.get_attribute("title") == "画线"  # the tool's tooltip in Chinese
    tool.click()
    points = frame.locator("body").evaluate("""(body, lls) => {
        const m = Object.keys(window).map(k => window[k]).find(v => v && v._container && v.latLngToContainerPoint);
        m.fitBounds(lls, {padding: [80, 80], animate: false});
        const box = m.getContainer().getBoundingClientRect();
        return lls.map(ll => { const p = m.latLngToContainerPoint(ll);
                               return [p.x + box.left, p.y + box.top]; });
    }""", [list(p) for p in latlngs])
    frame_box = frame_el.bounding_box()
    for x, y in points:
        page.mouse.click(frame_box["x"] + x, frame_box["y"] + y)
        page.wait_for_timeout(300)
    finish = frame.locator(".leaflet-draw-actions a", has_text="完成")
    finish.click()


def test_draw_a_footbridge_and_map_who_gains_for_the_elderly(offline_page, app_url):
    page = offline_page
    page.goto(app_url)
    page_link(page, "覆盖分析").click()
    page.get_by_role("combobox", name="步行人群").click()
    page.get_by_role("option", name="老年人").click()
    page.get_by_role("button", name="运行分析").click()
    heading = page.get_by_text("路网改动情景:改动前后对比")
    heading.wait_for(timeout=120_000)
    heading.scroll_into_view_if_needed()  # frames out of sight may wait to load
    page.get_by_text("画出或上传路网改动", exact=True).click()  # the section's toggle
    draw_at = _frame_with(page, ".leaflet-draw-draw-polyline", 120_000)
    _draw_line(page, draw_at, BRIDGE)
    kind = page.get_by_role("combobox", name="第 1 条线")
    kind.wait_for(timeout=60_000)  # the drawn line came back to the page
    page.get_by_text("共 1 处改动").wait_for()
    page.wait_for_timeout(1000)  # the rerun the drawing started has settled
    kind.click()
    closed = page.get_by_role("option", name="封闭路段")
    try:
        closed.wait_for(timeout=3000)
    except playwright.TimeoutError:  # the first click only took the focus from the map frame
        kind.click()
        closed.wait_for(timeout=10_000)
    options = page.get_by_role("option").all_inner_texts()
    assert options == ["人行天桥", "梯道", "电梯", "自动扶梯", "通道", "封闭路段"], options
    page.get_by_role("option", name="人行天桥").click()
    page.get_by_role("button", name="运行改动前后对比").click()
    page.get_by_text("改动前后对比(步行人群:老年人)").wait_for(timeout=120_000)
    table = page.locator('[data-testid="stDataFrame"]').last
    table.wait_for()
    # the map of who gains, for the community service stations
    boxes = page.get_by_role("combobox", name="地图显示类别")
    boxes.last.click()
    page.keyboard.type("社区服务")  # the select filters its options as one types
    page.get_by_role("option", name="社区服务(渝邻汇)").click()
    # several maps carry legends: the effect map is the one with these layers
    handle = page.wait_for_function("""(frames) => {
        const all = [...document.querySelectorAll(frames)];
        const i = all.findIndex(f => f.contentDocument && [...f.contentDocument.querySelectorAll(
            '.leaflet-control-layers')].some(c => c.textContent.includes('改动后新增可达 · 社区服务')));
        return i >= 0 ? i + 1 : false;
    }""", arg=FRAMES, timeout=60_000)
    effect_at = handle.json_value() - 1
    frame = page.frame_locator(FRAMES).nth(effect_at)
    control = frame.locator(".leaflet-control-layers").text_content()
    assert "改动后新增可达 · 社区服务(渝邻汇) (142 人)" in control, control
    assert "改动后失去可达 · 社区服务(渝邻汇) (0 人)" in control, control
    legend = "\n".join(frame.locator(".cq-legend").all_inner_texts())
    for row in ("改动后新增可达", "改动后失去可达", "不变", "人行天桥"):
        assert row in legend, row
    assert frame.locator(".leaflet-control-scale").count() == 1
    assert page.external == []
    assert [e for e in page.errors if "favicon" not in e] == []
    SHOTS.mkdir(exist_ok=True)
    page.mouse.move(5, 5)
    frame_el = page.locator(FRAMES).nth(effect_at)
    frame_el.scroll_into_view_if_needed()
    frame_el.screenshot(path=str(SHOTS / "edits_before_after_zh.png"))
