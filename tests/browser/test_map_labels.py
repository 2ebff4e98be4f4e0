"""District names on the overview map never overlap: the most populous name is kept where
two would collide, and zooming in shows more of them (headless Chromium, offline)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

FRAME = 'iframe[title="streamlit_folium.st_folium"]'
VISIBLE = """() => {
    const els = [...document.querySelectorAll('.cq-label')]
        .filter(e => getComputedStyle(e).visibility !== 'hidden');
    const rects = els.map(e => e.getBoundingClientRect());
    let overlaps = 0;
    for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
        const a = rects[i], b = rects[j];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
    }
    return [els.map(e => e.textContent), overlaps];
}"""


def test_district_names_never_overlap_and_zooming_shows_more(offline_page, app_url, artifacts):
    page = offline_page
    page.goto(app_url)
    frame = page.frame_locator(FRAME).first
    frame.locator(".cq-label").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    names, overlaps = frame.locator("body").evaluate(VISIBLE)
    assert overlaps == 0 and 10 <= len(names) < 38, (len(names), overlaps)
    assert "渝中区" in names or "九龙坡区" in names or "渝北区" in names  # populous ones kept
    frame.locator(".leaflet-control-zoom-in").click()
    page.wait_for_timeout(600)
    frame.locator(".leaflet-control-zoom-in").click()
    page.wait_for_timeout(800)
    more, overlaps = frame.locator("body").evaluate(VISIBLE)
    assert overlaps == 0
    page.screenshot(path=str(artifacts / "overview_labels_zh.png"))
    # zoomed in on the centre, names hidden before come back (some go out of view)
    assert set(more) - set(names), (names, more)
    assert page.external == []
