"""Network edits on the coverage page: draw a stair, lift, escalator, footbridge or passage (or
close a way), or upload a file of them; coverage before and after for the chosen walker, and
the residents who gain or lose reach."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from geo_app.io.display import fmt_minutes, fmt_persons, fmt_share, fmt_signed
from geo_app.labels import facility_label, t
from geo_app.ui.common import L, saved_upload, show_error, show_map
from geo_app.ui.served import heavy_run, show_refused
from geo_app.ui.state import RunProgress
from geo_app.workflows import runs

LINES = "ec_lines"  # the drawn lines (GeoJSON features, EPSG:4326), kept for the session
UPLOADED = "ec_file"  # (file name, path) of an uploaded edits file
RESULTS = "ec_results"  # run key -> EditComparison, the newest only
KINDS = ("footbridge", "stairs", "elevator", "escalator", "passage", "closed")


def _drawing_map(result, lang: str):
    import folium
    from folium.plugins import Draw

    from geo_app.maps.coverage import coverage_map
    from geo_app.ui.common import current_tiles
    from geo_app.ui.data import DrawWords

    m = coverage_map(result, category="basket", lang=lang, tiles=current_tiles())
    lines = st.session_state.get(LINES, [])
    if lines:
        # not in the layer control: coverage_map built it already, and a layer added
        # after it would be named there before it exists (a script error in the frame)
        folium.GeoJson({"type": "FeatureCollection", "features": lines},
                       name=t("ec_edits", lang), control=False,
                       style_function=lambda f: {"color": "#7b3294", "weight": 5}).add_to(m)
    DrawWords(lang).add_to(m)  # before the tool: its buttons take their words when built
    Draw(export=False, position="topleft",
         draw_options={"polyline": {"shapeOptions": {"color": "#7b3294", "weight": 5}},
                       "polygon": False, "rectangle": False, "circle": False,
                       "marker": False, "circlemarker": False},
         edit_options={"edit": False, "remove": False}).add_to(m)
    return m


def _take_drawings(drawn) -> None:
    """Lines the map sends back join the kept ones (each once, in drawing order)."""
    kept = st.session_state.setdefault(LINES, [])
    seen = {json.dumps(f["geometry"], sort_keys=True) for f in kept}
    for f in drawn or []:
        geom = f.get("geometry") or {}
        if geom.get("type") != "LineString":
            continue
        text = json.dumps(geom, sort_keys=True)
        if text not in seen:
            seen.add(text)
            kept.append({"type": "Feature", "properties": {}, "geometry": geom})


def _edits(lang: str):
    """The checked edits of the session (drawn lines with their kinds, or the uploaded file);
    None when there are none; a message and None when they are refused."""
    from geo_app.workflows.edit_compare import drawn_edits, file_edits

    uploaded = st.session_state.get(UPLOADED)
    try:
        if uploaded is not None:
            return file_edits(uploaded[1])
        lines = st.session_state.get(LINES, [])
        if not lines:
            return None
        kinds = [st.session_state.get(f"ec_kind_{i}", KINDS[0]) for i in range(len(lines))]
        return drawn_edits(lines, kinds)
    except ValueError as exc:
        show_error(exc)
        return None


def current_edits():
    """The session's checked edits for other pages (siting): None without any, or when they
    are refused (the coverage page says why)."""
    if not st.session_state.get(LINES) and st.session_state.get(UPLOADED) is None:
        return None
    from geo_app.workflows.edit_compare import drawn_edits, file_edits

    uploaded = st.session_state.get(UPLOADED)
    try:
        if uploaded is not None:
            return file_edits(uploaded[1])
        lines = st.session_state[LINES]
        return drawn_edits(lines, [st.session_state.get(f"ec_kind_{i}", KINDS[0])
                                   for i in range(len(lines))])
    except ValueError:
        return None


def edits_id(edits) -> str:
    """A short name of a set of edits, "<count>:<hash>" (the same lines and kinds give the
    same name; reports show the count)."""
    import hashlib

    digest = hashlib.sha1(edits.lines.to_json().encode("utf-8")).hexdigest()[:12]
    return f"{len(edits.lines)}:{digest}"


def _line_kinds(lang: str) -> None:
    lines = st.session_state.get(LINES, [])
    if not lines:
        return
    cols = st.columns(min(len(lines), 4))
    for i in range(len(lines)):
        cols[i % len(cols)].selectbox(t("ec_line", lang).format(n=i + 1), KINDS,
                                      format_func=lambda k: t(f"ec_kind_{k}", lang),
                                      key=f"ec_kind_{i}")


def _clear() -> None:
    from geo_app.ui.state import STORE, forget

    # forgotten in the kept widgets too, else a new line 1 comes back with the old kind
    kept_kinds = [k for k in st.session_state.get(STORE, {}) if str(k).startswith("ec_kind_")]
    forget(*{*kept_kinds, *(k for k in st.session_state if str(k).startswith("ec_kind_"))})
    st.session_state.pop(LINES, None)
    st.session_state.pop(UPLOADED, None)
    st.session_state.pop(RESULTS, None)


def _upload(lang: str) -> None:
    from geo_app.ui.assets import upload_types

    f = st.file_uploader(t("ec_upload", lang), type=upload_types("edits"), key="ec_upload")
    if f is None:
        return
    if st.session_state.get(UPLOADED, (None,))[0] != f.name:
        path = saved_upload("edits", f)
        if path is not None:
            st.session_state[UPLOADED] = (f.name, path)


def edits_section(inputs, key: tuple, *, result, minutes, area_type: str, profile: str | None,
                  dem: str | None, dem_partial: bool, tiles: str) -> None:
    """The section under the coverage results: ``inputs`` the page's clipped inputs, ``key``
    what they and the parameters are (for the kept comparison)."""
    from streamlit_folium import st_folium

    from geo_app.ui.assets import serve_locally

    lang = L()
    walker = profile or "adult"
    st.subheader(t("ec_heading", lang))
    # the drawing map is a second map of the results: drawn only when asked for
    if not st.toggle(t("ec_open", lang), key="ec_open"):
        return
    st.caption(t("ec_intro", lang).format(walker=t(f"profile_{walker}", lang)))
    ret = st_folium(serve_locally(_drawing_map(result, lang), st.get_option("server.baseUrlPath")),
                    height=480, width=None, returned_objects=["all_drawings"], key="ec_draw")
    _take_drawings((ret or {}).get("all_drawings"))
    _line_kinds(lang)
    _upload(lang)
    cols = st.columns([2, 1])
    pressed = cols[0].button(t("ec_run", lang), type="primary", key="ec_run")
    cols[1].button(t("ec_clear", lang), key="ec_clear", on_click=_clear)
    edits = _edits(lang)
    if edits is None:
        if pressed:
            st.info(t("ec_none", lang))
        return
    st.caption(t("ec_count", lang).format(n=len(edits.lines)))
    run_key = (*key, walker, edits.lines.to_json())
    results = st.session_state.setdefault(RESULTS, {})
    slot = st.empty()
    if pressed and run_key not in results:
        _compare(inputs, edits, run_key, results, slot, minutes=minutes, area_type=area_type,
                 walker=walker, dem=dem, dem_partial=dem_partial)
    done = results.get(run_key)
    if done is None:
        return
    _show(done, tiles, lang)


def _compare(inputs, edits, run_key, results, slot, **kw) -> None:
    from geo_app.labels.engine import step_text
    from geo_app.workflows.edit_compare import compare_edits

    lang = L()
    bar = RunProgress("ec_running", slot)
    cats = inputs.categories or inputs.facilities["category"].unique()
    need = 2 * runs.coverage_bytes(len(inputs.network.edges), len(inputs.demand),
                                   len(inputs.facilities), len(cats))
    try:
        with heavy_run("coverage", need, slot) as ticket:
            bar = RunProgress("ec_running", slot, bar.started)

            def progress(f, what):
                ticket.check()
                bar.progress(min(max(f, 0.0), 1.0), text=step_text(what, lang))

            done = compare_edits(inputs, edits, profile=kw["walker"], minutes=kw["minutes"],
                                 area_type=kw["area_type"], dem=kw["dem"],
                                 dem_partial=kw["dem_partial"], progress=progress)
    except runs.RunRefused as exc:
        slot.empty()
        show_refused(exc)
        return
    except ValueError as exc:  # edits the network refuses: the line (row) and the fix
        slot.empty()
        show_error(exc)
        return
    slot.empty()
    results.clear()
    results[run_key] = done


def summary_rows(done, lang: str) -> pd.DataFrame:
    """The comparison's summary for people, one row per category and the basket."""
    s = done.summary
    return pd.DataFrame({
        t("category", lang): [facility_label(c, lang) for c in s["category"]],
        t("ec_gain", lang): [fmt_persons(v) for v in s["gain"]],
        t("ec_lose", lang): [fmt_persons(v) for v in s["lose"]],
        t("ec_net", lang): [fmt_signed(v) for v in s["net"]],
        t("ec_share_before", lang): [fmt_share(v) for v in s["share_before"]],
        t("ec_share_after", lang): [fmt_share(v) for v in s["share_after"]],
        t("ec_nearer", lang): [fmt_persons(v) for v in s["nearer"]],
        t("ec_mean_change", lang): [_signed_minutes(v) for v in s["mean_change_s"]],
    })


def _signed_minutes(seconds) -> str:
    """A change of the walk in minutes with its sign (-1.5, +0.3; 0 and — without one)."""
    text = fmt_minutes(seconds / 60.0)
    return text if text in (fmt_minutes(float("nan")), "0") or text.startswith("-") \
        else "+" + text


def _show(done, tiles: str, lang: str) -> None:
    from geo_app.io.display import people_csv
    from geo_app.io.export import geojson_bytes
    from geo_app.io.scenario_edits import edits_table
    from geo_app.maps.edit_compare import edit_effect_map

    walker = t(f"profile_{done.profile}", lang)
    st.markdown(f"**{t('ec_result', lang).format(walker=walker)}**")
    st.dataframe(summary_rows(done, lang), hide_index=True, width="stretch")
    options = done.categories
    if st.session_state.get("ec_category") not in options:
        st.session_state["ec_category"] = "basket"
    category = st.selectbox(t("map_category", lang), options,
                            format_func=lambda c: facility_label(c, lang), key="ec_category")
    show_map(edit_effect_map(done.status, done.after.demand, done.edits, category=category,
                             lang=lang, tiles=tiles),
             f"edit_effect_{category}.html", "ec_map",
             title=f"{t('ec_heading', lang)} · {facility_label(category, lang)} · {walker}")
    cols = st.columns(2)
    cols[0].download_button(t("ec_download_summary", lang), data=people_csv(done.summary),
                            file_name="edit_effect_summary.csv", mime="text/csv",
                            key="ec_summary_csv", on_click="ignore")
    cols[1].download_button(t("ec_download_edits", lang),
                            data=geojson_bytes(edits_table(done.edits)),
                            file_name="network_edits.geojson", mime="application/geo+json",
                            key="ec_edits_geojson", on_click="ignore")
