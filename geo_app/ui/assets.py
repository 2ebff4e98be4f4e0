"""Helpers the Streamlit app calls: map assets served locally, layer choices, labels."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import folium

from geo_app.config import Settings
from geo_app.maps.offline import localize_links


def static_dir() -> Path:
    """The ``static/`` folder beside the running entry script: Streamlit serves it at
    ``/app/static/`` (never a folder inside the installed package)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not ctx.main_script_path:
        raise RuntimeError("static_dir() is only known inside a running Streamlit app")
    return Path(ctx.main_script_path).resolve().parent / "static"


def static_url_prefix(base_url_path: str = "") -> str:
    """URL at which Streamlit serves the app's static folder."""
    base = base_url_path.strip("/")
    return f"/{base}/app/static/" if base else "/app/static/"


def serve_locally(m: folium.Map, base_url_path: str = "") -> folium.Map:
    """Make the map load Leaflet from the app's own static folder (no CDN)."""
    localize_links(m, static_dir(), static_url_prefix(base_url_path))
    return m


UPLOAD_SUFFIXES = {
    "network": (".osm.pbf", ".pbf", ".osm", ".xml", ".geojson", ".json", ".gpkg"),
    "facilities": (".csv", ".geojson", ".json", ".gpkg", ".osm.pbf", ".pbf", ".osm"),
    "demand": (".csv", ".geojson", ".json", ".gpkg", ".tif", ".tiff"),
    "candidates": (".csv", ".geojson", ".json", ".gpkg", ".osm.pbf", ".pbf", ".osm"),
}


def upload_types(kind: str) -> list[str]:
    """File endings (without the dot) the uploader of ``kind`` offers."""
    return sorted({s.rsplit(".", 1)[-1] for s in UPLOAD_SUFFIXES[kind]})


def save_upload(kind: str, name: str, data: bytes, directory: str | Path | None = None, *,
                settings: Settings | None = None) -> Path:
    """Save an uploaded file for the loaders and return its path.

    ``kind`` is one of {"network", "facilities", "demand", "candidates"}. Files are stored under the
    hash of their content in ``directory`` (default :meth:`Settings.uploads_path`, in the user's
    cache folder), so the path identifies the content (a cache key) and the same upload is written
    once, atomically. ``settings``: default :meth:`Settings.from_env`. Raises ``ValueError`` for a
    file type the loader of ``kind`` does not read or a file over ``settings.max_upload_mb``
    megabytes.
    """
    from geo_app.io.files import write_atomic

    settings = Settings.from_env() if settings is None else settings
    max_mb = settings.max_upload_mb
    allowed = UPLOAD_SUFFIXES[kind]
    safe = re.sub(r"[^\w.-]", "_", Path(name).name) or "upload"
    if not safe.lower().endswith(allowed):
        raise ValueError(f"{name}: not a {kind} file this app reads (expected "
                         f"{', '.join(allowed)})")
    if len(data) > max_mb * 1024 * 1024:
        raise ValueError(f"{name}: {len(data) / 1024 / 1024:,.0f} MB is over the "
                         f"{max_mb:g} MB limit")
    folder = settings.uploads_path() if directory is None else Path(directory)
    target = folder / hashlib.sha1(data).hexdigest()[:16] / safe
    if not target.exists():
        write_atomic(target, data)
    return target

