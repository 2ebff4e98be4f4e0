"""The study area and data page: where to work, and on which data (sample, uploads, OSM)."""

from __future__ import annotations

import json

import folium
import streamlit as st
from branca.element import MacroElement
from folium.plugins import Draw
from jinja2 import Template

from geo_app.labels import t
from geo_app.maps.base import Legend, finish_map, new_map
from geo_app.ui import uploads
from geo_app.ui.assets import upload_types
from geo_app.ui.common import (
    INPUT_KINDS,
    LOAD_ERRORS,
    L,
    base_layers,
    data_choice,
    network_of,
    sample_data,
    saved_upload,
    show_error,
    show_map,
    study_area,
)
from geo_app.ui.state import progress_run
from geo_app.workflows import inputs

AREA_KINDS = ("data_extent", "municipality", "region_group", "district", "township", "drawn")


@st.cache_resource(show_spinner=False)
def area_choices():
    from geo_app.workflows import study_area as sa

    return {"municipality": [sa.municipality()], "region_group": sa.region_groups(),
            "district": sa.districts()}


@st.cache_resource(show_spinner=False, max_entries=4)
def townships_of(path: str, name_column: str | None, datum: str):
    from geo_app.workflows import study_area as sa

    if name_column is None:
        return sa.townships_from_osm(path)
    return sa.townships_from_file(path, name_column, datum)


class DrawWords(MacroElement):
    """Leaflet.draw's tooltips and buttons in the session's language (``L.drawLocal``)."""

    _template = Template("""{% macro script(this, kwargs) %}
    (function (src, dst) {
        function merge(a, b) { for (var k in a) {
            if (typeof a[k] === "object") { b[k] = b[k] || {}; merge(a[k], b[k]); }
            else { b[k] = a[k]; } } }
        if (dst) { merge(src, dst); }
    })({{ this.words }}, window.L && L.drawLocal);
{% endmacro %}""")

    def __init__(self, lang: str) -> None:
        super().__init__()
        w = {k: t(f"draw_{k}", lang) for k in (
            "cancel", "cancel_title", "finish", "finish_title", "undo", "undo_title", "polygon",
            "rectangle", "circle", "poly_start", "poly_cont", "poly_end", "rect_start",
            "circle_start", "release", "radius", "error", "polyline")}
        shape = {"tooltip": {"start": w["poly_start"], "cont": w["poly_cont"],
                             "end": w["poly_end"]}}
        self.words = json.dumps({"draw": {
            "toolbar": {"actions": {"title": w["cancel_title"], "text": w["cancel"]},
                        "finish": {"title": w["finish_title"], "text": w["finish"]},
                        "undo": {"title": w["undo_title"], "text": w["undo"]},
                        "buttons": {"polygon": w["polygon"], "rectangle": w["rectangle"],
                                    "circle": w["circle"], "polyline": w["polyline"]}},
            "handlers": {"circle": {"tooltip": {"start": w["circle_start"]},
                                    "radius": w["radius"]},
                         "polygon": shape,
                         "polyline": {"error": w["error"], "tooltip": shape["tooltip"]},
                         "rectangle": {"tooltip": {"start": w["rect_start"]}},
                         "simpleshape": {"tooltip": {"end": w["release"]}}}}},
            ensure_ascii=False)


def area_map(area, lang: str) -> folium.Map:
    """The districts, the chosen area and a drawing tool (rectangle, polygon, circle)."""
    from geo_app.maps.clusters import districts_outline

    m = new_map("blank", lang, "100%")
    districts_outline(m, base_layers().districts, lang)
    folium.GeoJson(area.geometry.__geo_interface__, name=t("study_area", lang),
                   style_function=lambda f: {"color": "#d7301f", "weight": 3, "fill": True,
                                             "fillOpacity": 0.08}).add_to(m)
    DrawWords(lang).add_to(m)  # before the tool: its buttons take their words when built
    Draw(export=False, position="topleft",
         draw_options={"polyline": False, "marker": False, "circlemarker": False},
         edit_options={"edit": False, "remove": False}).add_to(m)
    Legend(t("study_area", lang), [("#d7301f", area.label(lang)),
                                   ("#555555", t("districts", lang))]).add_to(m)
    finish_map(m, area.geometry.bounds)
    return m


def area_picker() -> None:
    """Choose the study area; it is kept in the session and drives every page."""
    lang = L()
    st.subheader(t("study_area", lang))
    current = study_area()
    kind = st.radio(t("area_kind", lang), AREA_KINDS, key="area_kind", horizontal=True,
                    format_func=lambda k: t(f"area_{k}", lang))
    picked = None
    if kind == "data_extent":
        from geo_app.ui.common import data_extent_of

        picked = data_extent_of(data_choice()["network"])
    elif kind in ("municipality", "region_group", "district"):
        options = area_choices()[kind]
        picked = st.selectbox(t(f"area_{kind}", lang), options, key=f"area_pick_{kind}",
                              format_func=lambda a: a.label(lang))
    elif kind == "township":
        picked = township_picker()
    if kind == "drawn":
        st.caption(t("draw_hint", lang))
    show_map(area_map(current, lang), None, "area_map", height=460,
             returned_objects=("last_active_drawing",), data_base=False)
    if kind == "drawn":
        drawing = (st.session_state.get("area_map") or {}).get("last_active_drawing")
        if drawing:
            from geo_app.workflows.study_area import from_drawing

            try:
                picked = from_drawing(drawing)
            except ValueError as exc:
                show_error(exc)
    if st.button(t("use_area", lang), key="area_apply", disabled=picked is None, type="primary"):
        st.session_state["study_area"] = picked
        st.rerun()
    describe_area(current)


def township_picker():
    lang = L()
    data = data_choice()
    f = st.file_uploader(t("townships_file", lang), type=upload_types("demand"),
                         key="area_township_upload")
    name_col = st.text_input(t("name_column", lang), "name", key="area_township_name")
    try:
        if f is not None:
            path = saved_upload("demand", f)
            options = [] if path is None else townships_of(path, name_col, data["datum"])
        elif data["network"].lower().endswith((".pbf", ".osm")):
            options = townships_of(data["network"], None, "wgs84")
        else:
            options = []
    except LOAD_ERRORS as exc:
        show_error(exc)
        return None
    if not options:
        st.info(t("no_townships", lang))
        return None
    return st.selectbox(t("area_township", lang), options, key="area_pick_township",
                        format_func=lambda a: a.label(lang))


def describe_area(area) -> None:
    from geo_app.workflows.study_area import describe_mismatch

    lang = L()
    st.caption(f"{t('current_area', lang)}: **{area.label(lang)}** · {area.area_km2:,.1f} km²")
    try:
        note = describe_mismatch(area, network_of(data_choice()["network"]), lang)
    except LOAD_ERRORS:
        note = None
    if note:
        st.warning(note)


def data_picker() -> None:
    """Choose the data: the offline sample, OSM online, and any input replaced by an upload
    (checked first); the rest stays the sample's or the download's."""
    lang = L()
    st.subheader(t("data_heading", lang))
    data = data_choice()
    if data["source"] == "sample":
        st.info(t("sample", lang))
    uploads.in_use()
    uploads.remember("data_source", "sample")
    source = st.radio(t("data_source", lang), ("sample", "upload", "osm"), key="data_source",
                      horizontal=True, format_func=lambda k: t(f"data_{k}", lang))
    uploads.keep("data_source")
    if source == "sample":
        if data["source"] != "sample" and st.button(t("use_sample", lang), key="data_use_sample"):
            st.session_state["data"] = sample_data()
            st.session_state.pop("uploads", None)
            st.session_state.pop("study_area", None)
            st.rerun()
        return
    if source == "osm":
        osm_fetch()
        return
    uploads.upload_panel()


def osm_fetch() -> None:
    lang = L()
    area = study_area()
    st.caption(f"{t('osm_for_area', lang)}: {area.label(lang)} ({area.area_km2:,.1f} km²)")
    if not st.button(t("fetch_osm", lang), key="data_fetch", type="primary"):
        return
    try:
        with progress_run("running_download") as say:  # stays for the whole download
            say(0.0, "fetching")
            paths = inputs.download_area(area.geometry, progress=say)
    except inputs.offline_error() as exc:
        # the reader's own words are English: shown in the English interface only
        st.error(t("offline", lang) if lang == "zh" else f"{t('offline', lang)}\n\n{exc}")
        return
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    # the download is the new default; inputs the user uploaded stay
    defaults = {k: None for k in INPUT_KINDS} | {
        "network": str(paths["network"]), "facilities": str(paths["facilities"]),
        "demand": str(paths["buildings"]), "pois": str(paths["pois"])}
    data = data_choice()
    names = data.get("names", {})
    st.session_state["data"] = {
        **data, "source": "upload" if names else "osm", "base": "osm", "defaults": defaults,
        "datum": "wgs84", "category_column": "category",
        **{k: v for k, v in defaults.items() if k not in names}}
    if "network" not in names:
        st.session_state.pop("study_area", None)
    st.success(t("data_ready", lang))


def data_page() -> None:
    area_picker()
    data_picker()
