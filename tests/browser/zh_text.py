"""What the Chinese UI may show in Latin script, and how the visible text of a page (and
of its map frames) is read, for the walk-through's check that Chinese pages show Chinese only:
units, proper names (the sample's own place, street and facility names), formats and methods
a Chinese planner reads as they are."""

from __future__ import annotations

import re

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


def latin_words(text: str, names: set[str]) -> set[str]:
    """Latin-script words of ``text`` that are not units, formats, file names or
    ``names``."""
    text = FILE_NAME.sub("", text.replace("Gi*", "Gi"))  # file names are names
    return {w for w in WORD.findall(text) if w not in ALLOWED and w not in names
            and w.rstrip("-") not in ALLOWED}
