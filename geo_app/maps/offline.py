"""Serve Leaflet and its plugins from an installed package instead of public CDNs.

folium writes ``<script src="https://cdn…">`` tags; offline (government intranets,
unreliable CDNs from mainland China) such a page shows nothing ("L is not defined").
The ``folium-offline`` package (PyPI, MIT) ships the same files keyed by their CDN
URL; this module inlines them into exported HTML and, for the Streamlit app, writes
them to Streamlit's static folder and points the map's links there.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import folium
from branca.element import Figure

from geo_app.io.files import write_atomic

_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>')
_CSS = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>')
_EXTERNAL = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)="(https?://[^"]+)"')


class OfflineAssetError(RuntimeError):
    """A map needs a web resource that no installed package provides."""


@lru_cache(maxsize=1)
def _assets() -> dict[str, str]:
    from offlinefolium.elements import _res  # folium-offline's embedded copies

    return dict(_res)


def asset_text(url: str) -> str:
    """Content of the JS/CSS file folium would load from ``url``, from folium-offline."""
    try:
        return _assets()[url]
    except KeyError:
        raise OfflineAssetError(
            f"no offline copy of {url}: folium-offline does not ship it, so a map using it "
            "would need the internet") from None


def inline_assets(html: str) -> str:
    """Replace every CDN ``<script src>`` and stylesheet ``<link>`` with the file's content.

    Raises :class:`OfflineAssetError` if an external script or stylesheet is left.
    """
    def script(m: re.Match[str]) -> str:
        return "<script>" + asset_text(m.group(1)).replace("</script", "<\\/script") + "</script>"

    def css(m: re.Match[str]) -> str:
        return "<style>" + asset_text(m.group(1)) + "</style>"

    out = _CSS.sub(css, _SCRIPT.sub(script, html))
    left = external_refs(out)
    if left:
        raise OfflineAssetError(f"external resources left in the page: {', '.join(left)}")
    return out


def external_refs(html: str) -> list[str]:
    """URLs of scripts and stylesheets a page would fetch from the network."""
    return _EXTERNAL.findall(html)


def render_offline(m: folium.Map) -> str:
    """The map as one self-contained HTML page that needs no network."""
    root = m.get_root()
    assert isinstance(root, Figure)
    return inline_assets(root.render())


def save_offline_html(m: folium.Map, path: str | Path) -> Path:
    """Save the map as a standalone HTML file that works with no internet (written atomically,
    with the permissions of a new file, by :func:`geo_app.io.files.write_atomic`)."""
    return write_atomic(path, render_offline(m))


def _elements(node):  # every element of a map tree
    yield node
    for child in getattr(node, "_children", {}).values():
        yield from _elements(child)


def _local_name(url: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", url.rstrip("/").rsplit("/", 1)[-1]) or "asset"
    if not base.endswith((".js", ".css")):
        base += ".css" if "css" in base.lower() else ".js"
    return hashlib.sha1(url.encode()).hexdigest()[:10] + "-" + base


def localize_links(m: folium.Map, static_dir: str | Path, url_prefix: str) -> list[str]:
    """Point every JS/CSS link of the map's elements at local copies in ``static_dir``.

    The copies come from folium-offline and are written once; ``url_prefix`` is the
    URL the folder is served at (``/app/static/`` for Streamlit's static serving).
    Returns the local URLs. Used by the Streamlit app, whose map component loads
    these links itself.
    """
    static_dir = Path(static_dir)
    static_dir.mkdir(parents=True, exist_ok=True)
    urls = []
    for elem in _elements(m):
        for attr in ("default_js", "default_css"):
            links = getattr(elem, attr, None)
            if not links:
                continue
            local = []
            for name, url in links:
                if url.startswith(url_prefix):
                    local.append((name, url))
                    continue
                fname = _local_name(url)
                target = static_dir / fname
                if not target.exists():
                    write_atomic(target, asset_text(url))
                local.append((name, url_prefix + fname))
            setattr(elem, attr, local)
            urls.extend(u for _, u in local)
    return urls
