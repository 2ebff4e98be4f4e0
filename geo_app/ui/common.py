"""What every page shares: the language, cached inputs, maps, errors and uploads."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo_app.labels import t
from geo_app.maps import TILES
from geo_app.offline import render_offline
from geo_app.pipeline import load_base_layers
from geo_app.webapp import save_upload, serve_locally, upload_types
from geo_app import workflow

DATUMS = ("wgs84", "gcj02", "bd09", "cgcs2000")
LOAD_ERRORS = (ValueError, RuntimeError, OSError)  # LayerValidationError is a ValueError


def L() -> str:  # noqa: N802 — short on purpose: every label call uses it
    """The language this session chose ("zh" until it picks another)."""
    return st.session_state.get("lang", "zh")


@st.cache_resource(show_spinner=False)
def base_layers():
    return load_base_layers()


@st.cache_resource(show_spinner=False, max_entries=4)
def coverage_inputs(network: str, facilities: str | None, demand: str | None, datum: str):
    return workflow.load_inputs(network, facilities, demand, datum=datum)


def show_map(m, standalone_name: str | None, key: str, *, height: int = 620,
             returned_objects: tuple[str, ...] = ()) -> str | None:
    """The map in the page, served offline, and a download of it as standalone HTML.

    Returns the standalone HTML (None without ``standalone_name``: no download).
    """
    lang = L()
    # the standalone page is rendered before the links point at the app's static folder
    standalone = None if standalone_name is None else render_offline(m)
    st_folium(serve_locally(m, st.get_option("server.baseUrlPath")), height=height,
              width=None, returned_objects=list(returned_objects), key=key)
    if standalone is not None:
        st.download_button(t("download_html", lang), data=standalone.encode("utf-8"),
                           file_name=standalone_name, mime="text/html", key=f"{key}_html")
    return standalone


def tiles_choice() -> str:
    lang = L()
    return st.sidebar.selectbox(t("basemap", lang), TILES, format_func=lambda k: t(k, lang),
                                key="tiles")


def show_error(exc: Exception) -> None:
    lang = L()
    st.error(f"{t('input_error', lang)}:\n\n```\n{exc}\n```")


def saved_upload(kind: str, f) -> str | None:
    """Path of an uploaded file saved for the loaders; None (and a message) if refused."""
    try:
        return str(save_upload(kind, f.name, f.getvalue()))
    except ValueError as exc:
        show_error(exc)
        return None


def uploaded_inputs(prefix: str) -> tuple[str, str | None, str | None] | None:
    """Paths of the uploaded network, facilities and demand; None until a network is given."""
    lang = L()
    files = {kind: st.sidebar.file_uploader(t(f"{kind}_file", lang), type=upload_types(kind),
                                            key=f"{prefix}_upload_{kind}")
             for kind in ("network", "facilities", "demand")}
    st.sidebar.caption(t("upload_note", lang))
    if files["network"] is None:
        st.info(t("need_network", lang))
        return None
    paths = {kind: None if f is None else saved_upload(kind, f) for kind, f in files.items()}
    if any(paths[kind] is None for kind, f in files.items() if f is not None):
        return None
    return paths["network"], paths["facilities"], paths["demand"]


def data_inputs(prefix: str) -> tuple[tuple[str, str | None, str | None] | None, str]:
    """The data choice of the coverage and siting pages: the Helsinki sample or uploads.

    Returns the paths of network, facilities and demand (None until uploaded) and the datum.
    """
    lang = L()
    source = st.sidebar.radio(t("inputs", lang), ("sample", "upload"),
                              format_func=lambda k: t(k, lang), key=f"{prefix}_source")
    if source == "sample":
        st.sidebar.caption(t("sample_note", lang))
        st.caption(t("sample", lang))
        return (str(workflow.sample_path()), None, None), "wgs84"
    paths = uploaded_inputs(prefix)
    datum = st.sidebar.selectbox(t("datum", lang), DATUMS, format_func=lambda k: t(k, lang),
                                 key=f"{prefix}_datum")
    return paths, datum
