"""Streamlit front end: widgets and session state only; everything else is in geo_app."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo_app.labels import LANGS, facility_label, t
from geo_app.maps import CHOROPLETH_VARIABLES, TILES, coverage_map, overview_map
from geo_app.offline import render_offline
from geo_app.pipeline import layer_summary, load_base_layers, table_for_display
from geo_app.webapp import save_upload, serve_locally, upload_types
from geo_app.workflow import (
    demand_csv,
    geopackage_bytes,
    load_inputs,
    run,
    sample_path,
    summary_csv,
    summary_table,
)

st.set_page_config(page_title="重庆15分钟生活圈 · Chongqing life circles", layout="wide")

PAGES = ("overview", "coverage")
DATUMS = ("wgs84", "gcj02", "bd09", "cgcs2000")
KEPT_RESULTS = 3  # coverage results kept in the session, newest last


@st.cache_resource(show_spinner=False)
def base_layers():
    return load_base_layers()


@st.cache_resource(show_spinner=False, max_entries=4)
def coverage_inputs(network: str, facilities: str | None, demand: str | None, datum: str):
    return load_inputs(network, facilities, demand, datum=datum)


def show_map(m, standalone_name: str, key: str) -> None:
    """The map in the page, served offline, and a download of it as standalone HTML."""
    standalone = render_offline(m)  # before the links are pointed at the app's static folder
    st_folium(serve_locally(m, st.get_option("server.baseUrlPath")), height=620,
              width=None, returned_objects=[], key=key)
    st.download_button(t("download_html", lang), data=standalone.encode("utf-8"),
                       file_name=standalone_name, mime="text/html", key=f"{key}_html")


def overview_page() -> None:
    base = base_layers()
    st.sidebar.header(t("layers_heading", lang))
    shown = [key for key in base.places
             if st.sidebar.checkbox(t(key, lang), value=True, key=f"show_{key}")]
    choropleth = st.sidebar.selectbox(t("choropleth", lang), CHOROPLETH_VARIABLES,
                                      format_func=lambda k: t(k, lang), key="choropleth")
    tiles = tiles_choice()
    st.caption(t("data_note", lang))
    show_map(overview_map(base.districts, {k: base.places[k] for k in shown},
                          choropleth=choropleth, lang=lang, tiles=tiles),
             "chongqing_overview.html", "overview_map")

    table_keys = ["districts", *base.places]
    table_key = st.selectbox(t("show_table", lang), table_keys, format_func=lambda k: t(k, lang),
                             key="table_layer")
    st.subheader(f"{t('table_of', lang)} · {t(table_key, lang)}")
    st.dataframe(table_for_display(base.get(table_key)), width="stretch", hide_index=True)

    with st.expander(t("source", lang)):
        st.dataframe(layer_summary(base, lang), width="stretch", hide_index=True)


def tiles_choice() -> str:
    return st.sidebar.selectbox(t("basemap", lang), TILES, format_func=lambda k: t(k, lang),
                                key="tiles")


def show_error(exc: Exception) -> None:
    st.error(f"{t('input_error', lang)}:\n\n```\n{exc}\n```")


def uploaded_inputs() -> tuple[str, str | None, str | None] | None:
    """Paths of the uploaded network, facilities and demand; None until a network is given."""
    files = {kind: st.sidebar.file_uploader(t(f"{kind}_file", lang), type=upload_types(kind),
                                            key=f"upload_{kind}")
             for kind in ("network", "facilities", "demand")}
    st.sidebar.caption(t("upload_note", lang))
    if files["network"] is None:
        st.info(t("need_network", lang))
        return None
    paths = {}
    for kind, f in files.items():
        try:
            paths[kind] = None if f is None else str(save_upload(kind, f.name, f.getvalue()))
        except ValueError as exc:
            show_error(exc)
            return None
    return paths["network"], paths["facilities"], paths["demand"]


def coverage_page() -> None:
    source = st.sidebar.radio(t("inputs", lang), ("sample", "upload"),
                              format_func=lambda k: t(k, lang), key="cov_source")
    if source == "sample":
        st.sidebar.caption(t("sample_note", lang))
        paths, datum = (str(sample_path()), None, None), "wgs84"
    else:
        paths = uploaded_inputs()
        datum = st.sidebar.selectbox(t("datum", lang), DATUMS, format_func=lambda k: t(k, lang),
                                     key="cov_datum")
    st.sidebar.header(t("parameters", lang))
    minutes = st.sidebar.number_input(t("minutes_input", lang), min_value=1.0, max_value=120.0,
                                      value=None, step=5.0, key="cov_minutes")
    speed = st.sidebar.number_input(t("speed", lang), min_value=0.3, max_value=3.0, value=1.0,
                                    step=0.1, key="cov_speed")
    area_type = st.sidebar.radio(t("area_type", lang), ("urban", "rural"), horizontal=True,
                                 format_func=lambda k: t(k, lang), key="cov_area_type")
    tiles = tiles_choice()
    pressed = st.sidebar.button(t("run", lang), type="primary", key="cov_run",
                                disabled=paths is None)
    if source == "sample":
        st.caption(t("sample", lang))
    elif paths is None:
        return

    results = st.session_state.setdefault("cov_results", {})
    key = (*paths, datum, minutes, speed, area_type)
    slot = st.empty()  # always there, so that the elements below keep their places
    if pressed:
        bar = slot.progress(0.0, text=t("loading", lang))
        try:
            inputs = coverage_inputs(*paths, datum)
            result = run(inputs, minutes=minutes, speed_m_s=speed, area_type=area_type,
                         progress=lambda f, what: bar.progress(min(max(f, 0.0), 1.0), text=what))
        except ValueError as exc:  # LayerValidationError names the file, row and column
            bar.empty()
            show_error(exc)
            return
        bar.empty()
        results.pop(key, None)
        results[key] = {"result": result, "gpkg": geopackage_bytes(result),
                        "demand_csv": demand_csv(result), "summary_csv": summary_csv(result)}
        while len(results) > KEPT_RESULTS:
            results.pop(next(iter(results)))
    entry = results.get(key)
    if entry is None:
        st.info(t("press_run", lang))
        return
    result = entry["result"]

    options = ["basket", *result.categories]
    if st.session_state.get("cov_category") not in options:
        st.session_state["cov_category"] = "basket"
    category = st.selectbox(t("map_category", lang), options,
                            format_func=lambda c: facility_label(c, lang), key="cov_category")
    show_map(coverage_map(result, category=category, lang=lang, tiles=tiles),
             f"coverage_{category}.html", "coverage_map")

    st.subheader(t("summary", lang))
    if result.info("population_is_estimate") == "True":
        st.info(t("estimate_note", lang))
    if result.warnings:
        st.warning("\n".join(f"- {w}" for w in result.warnings))
    st.dataframe(summary_table(result, lang), width="stretch", hide_index=True)
    cols = st.columns(3)
    for col, (label, data, name, mime) in zip(cols, (
            ("download_gpkg", entry["gpkg"], "coverage.gpkg", "application/geopackage+sqlite3"),
            ("download_demand", entry["demand_csv"], "coverage_demand.csv", "text/csv"),
            ("download_summary", entry["summary_csv"], "coverage_summary.csv", "text/csv"))):
        col.download_button(t(label, lang), data=data, file_name=name, mime=mime, key=label)
    with st.expander(t("run_info", lang)):
        st.dataframe(result.run_info, width="stretch", hide_index=True)


lang = st.sidebar.radio("语言 / Language", LANGS, format_func=lambda k: {"zh": "中文", "en": "English"}[k],
                        horizontal=True, key="lang")
page = st.sidebar.radio(t("page", lang), PAGES, key="page",
                        format_func=lambda k: f"{t(k, 'zh')} / {t(k, 'en')}")
st.title(t("title", lang))
if page == "overview":
    overview_page()
else:
    st.header(t("coverage", lang))
    coverage_page()
