"""The running app and the exported map in headless Chromium, with the network cut off.

Every request that leaves the machine is aborted and counted: the pages must draw
everything from the app itself (Leaflet is served from the installed folium-offline).
Screenshots are saved in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}
N_POINTS = 14 + 17 + 24  # located business circles, logistics bases, clusters


@pytest.fixture(scope="module")
def browser(chromium_path):
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture()
def offline_page(browser):
    """A page whose requests to other hosts are aborted and recorded, with its errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.external, page.errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:", "file:")) or urlparse(url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            page.external.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: page.errors.append(f"console: {m.text}")
            if m.type == "error" else None)
    yield page
    page.close()


def _check_map(frame, lang_labels):
    frame.locator(".leaflet-container").wait_for(timeout=30_000)
    frame.locator(".cq-label").first.wait_for(timeout=30_000)
    paths = frame.locator("path.leaflet-interactive")
    assert paths.count() >= 38 + N_POINTS  # district polygons + circle markers
    assert frame.locator(".cq-label").count() == 38
    control = frame.locator(".leaflet-control-layers").inner_text()
    for label in lang_labels:
        assert label in control
    assert "常住人口" in frame.locator(".cq-legend").inner_text()
    assert frame.locator(".leaflet-control-scale").count() == 1


def test_exported_html_draws_offline(offline_page, tmp_path, artifacts):
    out = tmp_path / "overview.html"
    r = subprocess.run([sys.executable, "-m", "geo_app.cli", "map", "overview", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    offline_page.goto(out.as_uri())
    _check_map(offline_page, ["商圈 (14)", "物流基地 (17)", "服务业集聚区 (24)"])
    assert "渝中区" in offline_page.locator(".leaflet-container").inner_text()
    offline_page.screenshot(path=str(artifacts / "overview_export.png"))
    assert offline_page.external == []
    assert offline_page.errors == []


def test_app_draws_map_offline(offline_page, app_url, artifacts):
    offline_page.goto(app_url)
    offline_page.get_by_text("重庆15分钟生活圈规划工具").wait_for(timeout=60_000)
    frame = offline_page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    _check_map(frame, ["商圈 (14)", "物流基地 (17)", "服务业集聚区 (24)", "空白底图(离线)"])
    labels = frame.locator(".leaflet-container").inner_text()
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
