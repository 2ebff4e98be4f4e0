"""One end-to-end walk through the app as a new planner would take it, in headless Chromium
with the network cut off, on its own server whose log is read at the end.

In Chinese (1400×900): every page of the sidebar; coverage with a 15-minute threshold, its
map downloaded as PNG and PDF; a siting run and one click on the map adding a site; the
proposal saved as a scenario and reopened; clusters; indicators and scorecards; the data
page. Then the language switch to English and every page again. A full-page screenshot of
each page in each language goes to test-artifacts/walk_<lang>_<page>.png, the exported map
to test-artifacts/walk_export_map.png (and .pdf); the figures to walk_timing.txt.

Each Chinese view (with the coverage run's information opened and the cluster page's three
other views) shows Chinese only: no Latin-script word outside units, formats, methods and the
sample's own names (:mod:`tests.browser.zh_text`).

At the end: no "Traceback", "Exception" or "Error" line in the server log, no script or
console error in the page, no request that left the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from tests.browser import zh_text
from tests.browser.test_browser import MAP_FRAME, UNCOVERED, page_link, wait_for_map
from tests.conftest import start_app, stop_app

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

# page key -> its name in the sidebar, per language (geo_app.ui.app.PAGES, in order)
PAGES = {
    "overview": ("总览", "Overview"),
    "data": ("研究范围与数据", "Study area and data"),
    "coverage": ("覆盖分析", "Coverage"),
    "indicators": ("指标", "Indicators"),
    "siting": ("选址", "Siting"),
    "scorecards": ("区县评比", "Scorecards"),
    "cluster_maps": ("聚集分析", "Cluster maps"),
}
BAD_LOG_LINE = re.compile(r"Traceback|Exception|Error")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RAISED = re.compile(r"^[A-Za-z_.]*(Error|Exception)\b")  # the last line of a traceback
# bugs this walk found in code owned by others: the final line of their traceback -> where
KNOWN: dict[str, str] = {}  # none left: the cluster table and the kept values are mended
SCENARIO = "走查方案"
# parameters set or left in Chinese, read back in English: page -> (what, label, value)
KEPT = {
    "coverage": [("threshold", "One threshold for all", "15.00")],
    "siting": [("N", "Number of new sites N", "5"), ("threshold", "Threshold (min)", "15.00"),
               ("grid spacing", "Grid spacing (m)", "200.00")],
}


@pytest.fixture(scope="module")
def walk_server(tmp_path_factory):
    """The app on its own server for this walk; yields its URL and the path of its log."""
    home = tmp_path_factory.mktemp("walk")
    # as deployed: the source is not watched (other work editing the checkout during the
    # walk would re-import modules under the running session)
    proc, url, log = start_app(home, "--server.fileWatcherType", "none")
    yield url, home / "streamlit.log"
    stop_app(proc, log)


def _settle(page) -> None:
    """Wait until Streamlit has finished its rerun (no running indicator, nothing left of
    the page before, greyed as stale, for a second) and every map frame has drawn."""
    page.wait_for_timeout(600)
    page.evaluate("() => { window.__cqQuietSince = null; }")
    page.wait_for_function("""() => {
        const busy = document.querySelector('[data-testid="stStatusWidget"]')
            || document.querySelector('[data-stale="true"]');
        if (busy) { window.__cqQuietSince = null; return false; }
        if (window.__cqQuietSince === null) window.__cqQuietSince = Date.now();
        return Date.now() - window.__cqQuietSince > 1000;
    }""", timeout=180_000, polling=100)
    page.wait_for_function("""(sel) => [...document.querySelectorAll(sel)].every(f =>
        f.contentDocument && f.contentDocument.querySelector('.leaflet-container'))""",
                           arg=MAP_FRAME, timeout=60_000)
    page.wait_for_timeout(400)


def _shoot(page, path, crashed: dict | None = None) -> None:
    """A screenshot of the whole page: the app scrolls inside its main section, so the
    window is made as tall as that content for the picture, then set back to 1400×900."""
    page.mouse.move(5, 5)  # no tooltip left open under the pointer
    shown = page.locator('[data-testid="stException"]')
    if crashed is not None and shown.count():  # an exception drawn in the page
        crashed[path.stem] = shown.first.inner_text()[:200]
    height = page.evaluate("""() => Math.max(document.body.scrollHeight,
        ...[...document.querySelectorAll('section, [data-testid="stMain"]')].map(
            e => e.scrollHeight))""")
    page.set_viewport_size({"width": 1400, "height": int(min(max(height, 900), 8000))})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def _visit(page, lang: int, key: str) -> None:
    """Open a page from the sidebar (0: Chinese names, 1: English) and let it draw."""
    page_link(page, PAGES[key][lang]).click()
    if key != "overview":  # the overview has no header of its own
        page.get_by_role("heading", name=PAGES[key][lang], exact=True).first.wait_for(
            timeout=60_000)
    if key in ("overview", "data"):  # maps drawn whatever has been run
        page.locator(MAP_FRAME).first.wait_for(timeout=60_000)
    _settle(page)


def _log_problems(log_path) -> tuple[list[str], set[str]]:
    """Lines of the server log naming an error, outside tracebacks of known bugs; and the
    known bugs seen. A traceback runs from its "Traceback" line to the exception's line."""
    lines = [ANSI.sub("", x).rstrip() for x in
             log_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    unknown, known, block = [], set(), None
    for line in lines:
        if "Traceback" in line:
            block = [line]
        elif block is not None:
            block.append(line)
            if RAISED.match(line):
                bug = next((v for k, v in KNOWN.items() if k in line), None)
                if bug:
                    known.add(bug)
                else:
                    unknown += [x for x in block if BAD_LOG_LINE.search(x)]
                block = None
        elif BAD_LOG_LINE.search(line):
            unknown.append(line)
    if block is not None:  # a traceback cut off
        unknown += [x for x in block if BAD_LOG_LINE.search(x)]
    return unknown, known


def _check_exports(page, artifacts) -> dict[str, int]:
    """Download the coverage map's PNG and PDF (buttons under the map) and look at them."""
    sizes = {}
    png, pdf = artifacts / "walk_export_map.png", artifacts / "walk_export_map.pdf"
    for button, out in (("下载地图图片(PNG)", png), ("下载地图(PDF,A4横向)", pdf)):
        with page.expect_download(timeout=120_000) as dl:
            page.get_by_role("button", name=button).click()
        dl.value.save_as(out)
        sizes[out.suffix] = out.stat().st_size
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and sizes[".png"] > 20_000
    assert pdf.read_bytes()[:5] == b"%PDF-" and sizes[".pdf"] > 20_000
    if shutil.which("pdftoppm"):  # its first page as a picture, where poppler is installed
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(artifacts / "walk_export_pdf_page1")],
                       check=True, timeout=60)
    # the PNG opened in the browser, as a planner would, and photographed
    viewer = page.context.browser.new_page()
    viewer.set_viewport_size({"width": 1400, "height": 1000})
    viewer.goto(png.as_uri())
    w, h = viewer.evaluate("() => [document.images[0].naturalWidth, "
                           "document.images[0].naturalHeight]")
    assert w >= 800 and h >= 500
    viewer.screenshot(path=str(artifacts / "walk_export_png_opened.png"))
    viewer.close()
    return sizes


def test_walk_through_every_page_in_both_languages(walk_server, offline_page, artifacts):
    url, log_path = walk_server
    page = offline_page
    page.set_viewport_size({"width": 1400, "height": 900})
    started, timing, crashed = time.monotonic(), {}, {}

    def lap(name):
        timing[name] = round(time.monotonic() - started, 1)

    names, latin = zh_text.sample_names(), {}

    def chinese_only(view):  # the Latin words a Chinese view shows
        page.mouse.move(5, 5)
        words = zh_text.latin_words(page.evaluate(zh_text.VISIBLE_TEXT), names)
        if words:
            latin[view] = sorted(words)

    page.goto(url)
    page_link(page, "总览").wait_for(timeout=60_000)
    page.locator(MAP_FRAME).first.wait_for(timeout=60_000)  # Chongqing's districts
    _settle(page)
    _shoot(page, artifacts / "walk_zh_overview.png", crashed)
    chinese_only("overview")
    lap("zh overview")

    # the data page: the sample as study area
    _visit(page, 0, "data")
    _shoot(page, artifacts / "walk_zh_data.png", crashed)
    chinese_only("data")

    # coverage with one threshold for every facility type
    _visit(page, 0, "coverage")
    page.get_by_label("统一步行时间门槛(分钟,留空则按设施分级)").fill("15")
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数", timeout_ms=180_000)
    _settle(page)
    lap("zh coverage run")
    _shoot(page, artifacts / "walk_zh_coverage.png", crashed)
    page.get_by_text("运行参数与来源").click()  # the run information, opened
    _settle(page)
    chinese_only("coverage")
    sizes = _check_exports(page, artifacts)
    lap("zh exports")

    _visit(page, 0, "indicators")
    _shoot(page, artifacts / "walk_zh_indicators.png", crashed)
    chinese_only("indicators")
    _visit(page, 0, "scorecards")
    page.get_by_text("区县评比表(38个区县)").wait_for(timeout=60_000)
    _shoot(page, artifacts / "walk_zh_scorecards.png", crashed)
    chinese_only("scorecards")
    lap("zh indicators, scorecards")

    # siting, then one click on a resident still uncovered adds a site
    _visit(page, 0, "siting")
    page.get_by_role("button", name="运行选址").click()
    wait_for_map(page, "拟建站点 (5)", timeout_ms=180_000)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(f'path.leaflet-interactive[fill="{UNCOVERED}"]').first.click(force=True)
    page.get_by_text("已新增站点").first.wait_for(timeout=60_000)
    wait_for_map(page, "拟建站点 (6)")
    lap("zh siting + click")
    # saved as a scenario, and reopened
    page.get_by_label("方案名称").fill(SCENARIO)
    page.get_by_role("button", name="保存方案", exact=True).click()
    page.get_by_text(f"已保存方案: {SCENARIO}").wait_for(timeout=30_000)
    _settle(page)
    page.get_by_role("button", name="重新打开").click()
    page.get_by_text("已重新打开方案").first.wait_for(timeout=120_000)
    wait_for_map(page, "拟建站点 (6)", timeout_ms=120_000)
    _settle(page)
    lap("zh scenario saved, reopened")
    _shoot(page, artifacts / "walk_zh_siting.png", crashed)
    chinese_only("siting")

    _visit(page, 0, "cluster_maps")
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "聚集区范围", timeout_ms=180_000)
    _settle(page)
    _shoot(page, artifacts / "walk_zh_cluster_maps.png", crashed)
    chinese_only("cluster_maps")
    for view in ("冷热点与核密度", "商圈客源(Huff)", "物流基地驾车圈"):
        page.get_by_text(view).click()
        _settle(page)
        _shoot(page, artifacts / f"walk_zh_cluster_view_{view[:4]}.png", crashed)
        chinese_only(f"cluster view {view}")
    lap("zh clusters")

    # English: the language switch, then every page again
    page.locator('section[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page_link(page, "Overview").wait_for(timeout=60_000)
    _settle(page)
    lost = []  # parameters set in Chinese, no longer there in English
    for key in PAGES:
        _visit(page, 1, key)
        _shoot(page, artifacts / f"walk_en_{key}.png", crashed)
        for name, label, want in KEPT.get(key, ()):
            value = page.get_by_label(label).first.input_value()
            if value != want:
                lost.append(f"{key} {name}: {value!r}, not {want!r}")
    lap("en pages")

    timing["png bytes"], timing["pdf bytes"] = sizes[".png"], sizes[".pdf"]
    (artifacts / "walk_timing.txt").write_text(
        "".join(f"{k}: {v}\n" for k, v in timing.items()), encoding="utf-8")

    (artifacts / "walk_streamlit.log").write_text(  # kept for a person to read
        ANSI.sub("", log_path.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")
    problems, known = _log_problems(log_path)
    assert not problems, "server log:\n" + "\n".join(problems)
    assert [e for e in page.errors if "favicon" not in e] == []
    assert page.external == []
    assert not lost, f"parameters set in Chinese lost by the English visit: {lost}"
    assert not latin, f"Latin words in the Chinese UI: {latin}"
    if known:  # owned elsewhere, reported
        pytest.xfail(" | ".join(sorted(known))
                     + f" | pages drawing an exception: {sorted(crashed)}")
    assert not crashed, f"exceptions drawn in pages: {crashed}"
