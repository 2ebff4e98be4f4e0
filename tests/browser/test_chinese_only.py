"""In Chinese, every page and view shows Chinese only: after a coverage, a siting and a
cluster run, the visible text of each page (and of its map frames: legends, layer control)
holds no Latin-script word outside units, proper names and the sample's own place names.

Screenshots go to test-artifacts/zh_only_*.png. Words found that belong to another area of
the app are listed in the xfail reason ("owned by …") for the integrator.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser import page_link, wait_for_map

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")

# units, proper names, formats and methods a Chinese planner reads as they are
ALLOWED = {
    "GB", "OSM", "GCJ-02", "GCJ", "WGS-84", "WGS", "BD-09", "BD", "EPSG", "UTM", "H3", "Gi",
    "DBSCAN", "HDBSCAN", "Huff", "PDF", "CSV", "GeoPackage", "GeoJSON", "GeoTIFF", "GeoParquet",
    "HTML", "PNG", "Excel", "KML", "KMZ", "SQLite", "DEM", "POI", "km", "m", "min", "s", "h",
    "N", "MCLP", "HiGHS", "TD", "T", "Leaflet", "OpenStreetMap", "pbf", "osm", "gpkg", "csv",
    "xlsx", "geojson", "tif", "zip", "shp", "txt", "html", "png", "pdf", "json", "parquet",
    "English", "Language",  # the language switch names both languages
    "lon", "lat", "name",  # column names a file must have
    "E2SFCA", "2SFCA", "G2SFCA", "Gini", "Theil", "Palma", "Tobler", "A", "B", "x", "CC",
    "BY-SA", "ODbL", "Kelly", "p", "z", "FDR", "AMap", "MB", "ZIP", "GPKG", "GEOJSON", "JSON",
    "PBF", "XLSX", "XLS", "SHP", "TIF", "TIFF", "SQLITE", "CQPROJ", "P", "A4",
}
# phrases of other areas' strings, with their owner (listed in this area's report)
OWNED = {
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9*'-]*")

VISIBLE_TEXT = """() => {
    // rendered text nodes only: no scripts or styles, no icon ligatures, nothing hidden
    const skip = 'script,style,noscript,template,[data-testid="stIconMaterial"],' +
                 '[data-testid="stSkipLink"],.material-icons,.material-symbols-rounded';
    function texts(doc) {
        const out = [];
        const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const el = n.parentElement;
            if (!el || el.closest(skip) || !n.textContent.trim()) continue;
            const r = el.getBoundingClientRect();
            const st = doc.defaultView.getComputedStyle(el);
            if (r.width < 2 || r.height < 2 || r.right < 0 || r.bottom < 0
                || st.visibility === 'hidden' || st.display === 'none') continue;
            out.push(n.textContent);
        }
        for (const f of doc.querySelectorAll('iframe')) {
            try {
                if (f.contentDocument && f.contentDocument.body) out.push(...texts(f.contentDocument));
            } catch (e) { /* another origin: not ours */ }
        }
        return out;
    }
    return texts(document).join('\\n');
}"""


@pytest.fixture(scope="module")
def sample_names() -> set[str]:
    """Words of the sample's own names (streets, places, facilities, shops): proper names."""
    from geo_app.workflows.clusters import default_places, load_pois
    from geo_app.workflows.coverage import load_inputs, sample_path

    path = sample_path()
    pois = load_pois(path)
    texts = [*pois.get("name", []), *default_places(str(path), pois)["name"]]
    inputs = load_inputs(path)
    texts += list(inputs.facilities.get("name", []))
    return {w for s in texts if isinstance(s, str) for w in WORD.findall(s)}


FILE_NAME = re.compile(r"[\w./-]+\.(csv|xlsx|gpkg|geojson|json|osm|pbf|sqlite|zip|tif|html|pdf)\b")


def _latin(text: str, names: set[str]) -> set[str]:
    text = FILE_NAME.sub("", text.replace("Gi*", "Gi"))  # file names are names
    return {w for w in WORD.findall(text) if w not in ALLOWED and w not in names
            and w.rstrip("-") not in ALLOWED}


def _settle(page) -> None:
    """Wait until Streamlit has finished the rerun (no running indicator)."""
    page.wait_for_timeout(800)
    page.wait_for_function("""() => !document.querySelector('[data-testid="stStatusWidget"]')""",
                           timeout=120_000)
    page.wait_for_timeout(500)


def _look(page, name: str, names: set[str], found: dict, artifacts) -> None:
    _settle(page)
    page.mouse.move(5, 5)
    page.screenshot(path=str(artifacts / f"zh_only_{name}.png"), full_page=True)
    text = page.evaluate(VISIBLE_TEXT)
    for phrase, owner in OWNED.items():
        pattern = phrase if phrase.startswith("\\b") else re.escape(phrase)
        if re.search(pattern, text):
            found.setdefault("others", set()).add(f"{phrase.strip(' /')!r} ({owner})")
            text = re.sub(pattern, "", text)
    words = _latin(text, names)
    if words:
        found[name] = sorted(words)


def _open(page, label: str) -> None:
    page_link(page, label).click()


def test_chinese_pages_show_no_latin_words(offline_page, app_url, artifacts, sample_names):
    page, found = offline_page, {}
    page.goto(app_url)
    page_link(page, "总览").wait_for(timeout=60_000)
    _look(page, "overview", sample_names, found, artifacts)
    _open(page, "研究范围与数据")
    _look(page, "data", sample_names, found, artifacts)

    _open(page, "覆盖分析")
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "居民点 · 可达设施类别数", timeout_ms=180_000)
    page.get_by_text("运行参数与来源").click()  # the run information, opened
    _look(page, "coverage", sample_names, found, artifacts)

    _open(page, "指标")
    _look(page, "indicators", sample_names, found, artifacts)
    _open(page, "区县评比")
    _look(page, "scorecards", sample_names, found, artifacts)

    _open(page, "选址")
    page.get_by_role("button", name="运行选址").click()
    wait_for_map(page, "拟建站点 (5)", timeout_ms=180_000)
    _look(page, "siting", sample_names, found, artifacts)

    _open(page, "聚集分析")
    page.get_by_role("button", name="运行分析").click()
    wait_for_map(page, "聚集区范围", timeout_ms=180_000)
    _look(page, "clusters", sample_names, found, artifacts)
    for view in ("冷热点与核密度", "商圈客源(Huff)", "物流基地驾车圈"):
        page.get_by_text(view).click()
        _look(page, f"view_{view[:4]}", sample_names, found, artifacts)
    assert page.external == []

    others = sorted(found.pop("others", ()))
    assert not found, f"Latin words in the Chinese UI: {found}"
    if others:
        pytest.xfail("owned by other areas: " + "; ".join(others))
