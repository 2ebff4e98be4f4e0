"""Ten browser sessions at once run a coverage analysis on the running app (loopback only)."""

from __future__ import annotations

import time

import pytest

from tests.browser.test_browser import MAP_FRAME, page_link

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

SESSIONS = 10


def test_ten_concurrent_coverage_runs(chromium_path, app_url, artifacts):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        pages = []
        for _ in range(SESSIONS):
            page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            page.errors = []
            page.on("pageerror", lambda e, page=page: page.errors.append(str(e)))
            page.goto(app_url)
            page_link(page, "覆盖分析").click()
            pages.append(page)
        for page in pages:
            page.get_by_role("button", name="运行分析").wait_for(timeout=120_000)
        started = time.monotonic()
        for page in pages:  # every session asks before any has finished
            page.get_by_role("button", name="运行分析").click()
        for i, page in enumerate(pages):
            page.get_by_role("button", name="下载结果(GeoPackage)").wait_for(timeout=300_000)
            page.wait_for_function("""(sel) => {
                const f = document.querySelector(sel);
                return f && f.contentDocument && f.contentDocument.querySelector(".cq-legend");
            }""", arg=MAP_FRAME, timeout=120_000)
            assert page.get_by_test_id("stException").count() == 0, f"session {i}"
            assert page.errors == [], f"session {i}: {page.errors}"
        elapsed = time.monotonic() - started
        pages[-1].screenshot(path=str(artifacts / "load_last_session.png"))
        print(f"{SESSIONS} concurrent coverage runs finished in {elapsed:.1f} s")
        browser.close()
