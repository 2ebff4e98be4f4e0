"""Helpers the Streamlit app calls: map assets served locally, layer choices, labels."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import folium

from geo_app.config import Settings
from geo_app.labels import t
from geo_app.maps.offline import localize_links
from geo_app.workflows.sessions import check_upload, upload_dir


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


_TABLES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
_GIS = (".geojson", ".json", ".gpkg", ".zip", ".kml", ".kmz", ".parquet")
_OSM = (".osm.pbf", ".pbf", ".osm")
UPLOAD_SUFFIXES = {
    "network": (*_OSM, ".xml", *_GIS),
    "facilities": (*_TABLES, *_GIS, *_OSM),
    "demand": (*_TABLES, *_GIS, ".tif", ".tiff"),
    "candidates": (*_TABLES, *_GIS, *_OSM),
    "pois": (*_TABLES, *_GIS, *_OSM),
    "centres": (*_TABLES, *_GIS),
    "bases": (*_TABLES, *_GIS),
    "dem": (".tif", ".tiff"),
    "edits": _GIS,  # network edit lines
}


def upload_types(kind: str) -> list[str]:
    """File endings (without the dot) the uploader of ``kind`` offers."""
    return sorted({s.rsplit(".", 1)[-1] for s in UPLOAD_SUFFIXES[kind]})


def save_upload(kind: str, name: str, data: bytes, directory: str | Path | None = None, *,
                settings: Settings | None = None) -> Path:
    """Save an uploaded file for the loaders and return its path.

    ``kind`` is a key of :data:`UPLOAD_SUFFIXES`. Files are stored under the
    hash of their content in ``directory`` (default: inside a Streamlit session, the session's
    own folder, :func:`session_upload_dir`; outside, :meth:`Settings.uploads_path`), so the
    path identifies the content (a cache key) and the same upload is written once,
    atomically. ``settings``: default :meth:`Settings.from_env`. Raises ``ValueError`` for a
    file type the loader of ``kind`` does not read, a file over ``settings.max_upload_mb``
    megabytes, or a zip that is unsafe to unpack (absolute or ``..`` members, more members
    or more unpacked bytes than the settings allow; the file is removed again).
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
    if directory is None:
        folder = session_upload_dir(settings) if _in_session() else settings.uploads_path()
    else:
        folder = Path(directory)
    target = folder / hashlib.sha1(data).hexdigest()[:16] / safe
    if not target.exists():
        write_atomic(target, data)
    try:
        check_upload(target, settings)
    except ValueError as exc:  # layers.archives.ArchiveError
        target.unlink(missing_ok=True)
        key = getattr(exc, "key", None)
        if key is None:
            raise
        lang = _session_lang()
        raise ValueError(f"{Path(name).name}: " + t(key, lang).format(**exc.values)) from None
    return target


def _in_session() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True) is not None


def _session_lang() -> str:
    import streamlit as st

    return st.session_state.get("lang", "zh") if _in_session() else "en"


def session_upload_dir(settings: Settings | None = None) -> Path:
    """This browser session's own upload folder (created; removed by the sweep of
    :mod:`geo_app.workflows.sessions` once the session is over or the folder too old).
    Only inside a running Streamlit session."""
    from geo_app.ui.served import session_key

    settings = Settings.from_env() if settings is None else settings
    return upload_dir(session_key(), settings)

