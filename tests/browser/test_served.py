"""The served workbench in headless Chromium (issue 17): markup in user names stays text in the
browser, and with one heavy run allowed, sessions wait in line and are told their place.

Loopback only; requests leaving the machine are aborted (see tests/browser/test_browser.py).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.test_browser import page_link
from tests.conftest import REPO, free_port

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

XSS = "<img src=x onerror=alert(1)>"

# every tooltip of every GeoJSON layer, rendered as Leaflet would, and the layer control
_TOOLTIPS = """() => {
    const out = {tooltips: [], images: 0};
    for (const v of Object.values(window)) {
        if (!(v instanceof L.GeoJSON)) continue;
        const tt = v.getTooltip();
        if (!tt) continue;
        v.eachLayer(layer => {
            const c = tt._content;
            const el = typeof c === "function" ? c(layer) : null;
            if (el && el.nodeType) {
                out.images += el.querySelectorAll("img").length;
                out.tooltips.push(el.textContent);
            }
        });
    }
    const control = document.querySelector(".leaflet-control-layers");
    out.control = control ? control.textContent : "";
    out.legends = [...document.querySelectorAll(".cq-legend")].map(e => e.textContent);
    out.images += document.querySelectorAll("img[src='x']").length;
    return out;
}"""


def _shown(page, path) -> dict:
    page.goto(path.as_uri())
    page.locator(".leaflet-container").wait_for(timeout=30_000)
    found = page.evaluate(_TOOLTIPS)
    page.wait_for_timeout(500)  # an <img onerror> would have fired by now
    return found


def test_markup_in_names_is_text_in_the_browser(offline_page, helsinki_coverage, tmp_path):
    import pandas as pd

    from geo_app.maps.base import _features, _plain_layer, finish_map, new_map
    from geo_app.maps.coverage import coverage_map
    from geo_app.maps.offline import save_offline_html

    r = helsinki_coverage
    fac = r.facilities.copy()
    fac["name"] = fac["name"].astype(object)
    fac.loc[fac.index[:5], "name"] = XSS
    fac.loc[fac.index[5], "category"] = XSS
    coverage = save_offline_html(coverage_map(dataclasses.replace(r, facilities=fac)),
                                 tmp_path / "coverage.html")
    # a layer named after a user's category (the coverage page names layers so)
    m = new_map("blank", "zh", "100%")
    _plain_layer(_features(pd.DataFrame({"n": [1]}), fac.geometry.values[:1]), {},
                 f"服务缺口 · {XSS}", ["n"], "zh").add_to(m)
    finish_map(m, fac.total_bounds)
    named = save_offline_html(m, tmp_path / "named.html")
    dialogs = []
    offline_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    found = _shown(offline_page, coverage)
    assert sum(XSS in text for text in found["tooltips"]) >= 6  # 5 names, 1 category
    assert any(XSS in legend for legend in found["legends"])
    assert found["images"] == 0
    found = _shown(offline_page, named)
    assert f"服务缺口 · {XSS}" in found["control"]
    assert found["images"] == 0
    assert dialogs == [] and offline_page.errors == []


@pytest.fixture(scope="module")
def one_run_app(tmp_path_factory):
    """The app with one heavy run at a time (GEO_APP_MAX_HEAVY_RUNS=1), on loopback."""
    port = free_port()
    home = tmp_path_factory.mktemp("served")
    log = (home / "streamlit.log").open("w")
    env = {**os.environ, "GEO_APP_PROJECT_DIR": str(home / "projects"),
           "GEO_APP_CACHE_DIR": str(home / "cache"), "GEO_APP_MAX_HEAVY_RUNS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the app did not start within 60 s; see {log.name}")
    yield url, home
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_sessions_wait_in_line_and_see_their_place(browser, one_run_app, artifacts):
    url, home = one_run_app
    pages = []
    for _ in range(3):
        page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        page.goto(url)
        page_link(page, "覆盖分析").click()
        page.get_by_role("button", name="运行分析").wait_for(timeout=120_000)
        pages.append(page)
    stores = {parse_qs(urlparse(p.url).query)["ws"][0] for p in pages}
    assert len(stores) == 3  # each session its own project store
    for page in pages:
        page.get_by_role("button", name="运行分析").click()
    seen: dict[int, set[str]] = {i: set() for i in range(3)}
    done = set()
    deadline = time.monotonic() + 300
    while len(done) < 3 and time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if i in done:
                continue
            queued = page.get_by_text("您排在第")
            if queued.count():
                try:  # the line moves: the message may be gone by now (its run started)
                    seen[i].add(queued.first.inner_text(timeout=2_000))
                except playwright.TimeoutError:
                    continue
                page.screenshot(path=str(artifacts / f"served_queue_{i}.png"))
            if page.get_by_role("button", name="下载结果(GeoPackage)").count():
                done.add(i)
        time.sleep(0.1)
    assert done == {0, 1, 2}
    for page in pages:
        assert page.get_by_test_id("stException").count() == 0
    waited = [s for s in seen.values() if s]
    assert waited, "no session was told its place in line"
    assert all("最多同时运行 1 个分析" in text for s in waited for text in s)
    uploads = home / "cache" / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*.csv"))
