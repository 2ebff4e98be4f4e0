"""The 区县评比 / Scorecards page: life circles drawn on the coverage page's last result and
counted against the plan's target, the scorecard of all 38 districts (or uploaded zones) with
bar charts and small-multiple maps, the 2027 targets' progress, and the downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_app.io.scorecard import scorecard_xlsx_bytes
from geo_app.labels import t
from geo_app.labels.engine import warning_text
from geo_app.maps.scorecard import circles_chart
from geo_app.ui.common import LOAD_ERRORS, L, saved_upload, show_error
from geo_app.ui.scorecard_parts import card_section, screen_view, targets_section
from geo_app.ui.served import md
from geo_app.workflows import life_circles as lc
from geo_app.workflows.scorecard import build_scorecard, read_zones
from geo_app.workflows.targets import empty_marks, project_inputs, save_marks


def current_coverage():
    """The coverage page's last result and its key (None, None before any run)."""
    results = st.session_state.get("cov_results") or {}
    if not results:
        return None, None
    key, entry = list(results.items())[-1]
    return entry["result"], key


def _graph(key):
    """The walk graph the coverage page built for its last run (cached there), or None when
    the study area has changed since."""
    from geo_app.ui.common import area_id, reach_m, study_area, study_inputs
    from geo_app.ui.coverage import walk_graph_of

    if not isinstance(key, tuple) or len(key) < 9:
        return None, None
    paths, datum, minutes, speed, area, dem = key[:3], key[3], key[4], key[5], key[7], key[8]
    if area != area_id(study_area()):
        return None, None
    reach = reach_m(max(minutes or 0.0, 30.0), speed_m_s=speed)
    inputs = study_inputs(paths, datum, reach)
    return walk_graph_of(inputs, (*paths, datum, area, reach), speed, dem), inputs


def _tier_defaults() -> None:
    """Floor, ceiling and walk follow the level until the user changes them."""
    tier = st.session_state.get("card_tier", 15)
    if st.session_state.get("card_tier_seen") != tier:
        p = lc.circle_params(tier)
        st.session_state.update(card_min_pop=int(p.min_pop), card_max_pop=int(p.max_pop),
                                card_minutes=float(p.max_minutes), card_tier_seen=tier)


def circle_sidebar(lang: str) -> lc.CircleParams:
    st.sidebar.header(t("card_circle_params", lang))
    st.sidebar.selectbox(t("card_tier", lang), (15, 10, 5), key="card_tier",
                         format_func=lambda k: t("card_tier_n", lang).format(n=k))
    _tier_defaults()
    cols = st.sidebar.columns(2)
    cols[0].number_input(t("card_floor", lang), min_value=0, step=1000, key="card_min_pop")
    cols[1].number_input(t("card_ceiling", lang), min_value=1, step=1000, key="card_max_pop")
    st.sidebar.number_input(t("card_max_minutes", lang), min_value=1.0, max_value=120.0,
                            step=1.0, key="card_minutes")
    st.sidebar.slider(t("card_min_share", lang), 0.5, 1.0, lc.MIN_SHARE, 0.05,
                      key="card_min_share")
    mode = st.sidebar.radio(t("card_mode", lang), lc.MODES, horizontal=True, key="card_mode",
                            format_func=lambda k: t(f"card_mode_{k}", lang))
    s = st.session_state
    return lc.circle_params(int(s["card_tier"]), min_pop=float(s["card_min_pop"]),
                            max_pop=float(max(s["card_max_pop"], s["card_min_pop"])),
                            max_minutes=float(s["card_minutes"]),
                            min_share=float(s["card_min_share"]), mode=mode)


def _zones(lang: str, circles):
    """The zoning: the 38 districts, the life circles drawn, or uploaded polygons with a
    name column."""
    kind = st.sidebar.radio(t("card_zoning", lang), ("district", "circles", "upload"),
                            key="card_zoning", format_func=lambda k: t(f"card_zoning_{k}", lang))
    if kind == "circles" and circles is not None:
        c = circles.circles
        named = c[["geometry"]].assign(name=[t("card_circle_n", lang).format(n=n)
                                             for n in c["circle"]])
        return (named, "name"), f"circles:{id(circles)}:{lang}"
    if kind != "upload":
        return None, "district"
    f = st.sidebar.file_uploader(t("card_zones_file", lang), key="card_zones_file",
                                 type=["geojson", "json", "gpkg", "zip", "kml", "kmz"])
    name = st.sidebar.text_input(t("card_zone_name", lang), "name", key="card_zone_name")
    if f is None:
        return None, "district"
    path = saved_upload("candidates", f)
    if path is None:
        return None, "district"
    try:
        return (read_zones(path, name), name), f"{f.name}:{name}"
    except LOAD_ERRORS as exc:
        show_error(exc)
        return None, "district"


def _project():
    from geo_app.ui.scenarios import project_path

    return project_path()


def scorecard_page() -> None:
    lang = L()
    result, key = current_coverage()
    params = circle_sidebar(lang)
    target = st.sidebar.number_input(t("card_target", lang), min_value=1, value=100, step=10,
                                     key="card_target")
    try:
        proposals_all, marks = project_inputs(_project())
    except LOAD_ERRORS as exc:
        show_error(exc)
        proposals_all, marks = [], empty_marks()
    names = [p.name for p in proposals_all]
    chosen = st.sidebar.multiselect(t("card_scenarios", lang), names, default=names,
                                    key="card_scenarios",
                                    placeholder=t("choose_options", lang))
    proposals = [p for p in proposals_all if p.name in chosen]
    pressed = st.sidebar.button(t("card_run", lang), type="primary", key="card_run",
                                disabled=result is None)
    if result is None:
        st.info(t("card_no_coverage", lang))
    elif pressed:
        _draw_circles(result, key, params, proposals, lang)
    kept = st.session_state.get("card_circles")
    circles = kept["circles"] if kept and result is not None and kept["result"] == id(
        result) else None
    if circles is not None:
        _circle_section(circles, kept.get("effect"), float(target), lang)
    zones, zkey = _zones(lang, circles)
    card_key = (id(result), id(circles), zkey, tuple(chosen), len(marks),
                pd.util.hash_pandas_object(marks.astype(str)).sum() if len(marks) else 0)
    store = st.session_state.setdefault("card_cache", {})
    if card_key not in store:
        store.clear()
        with st.spinner(t("loading", lang)):
            store[card_key] = build_scorecard(
                [result] if result is not None else [], zones=zones,
                circles=[circles.circles] if circles is not None else [],
                proposals=proposals, marks=marks)
    card = store[card_key]
    card_section(card, result, lang)
    targets_section(card, marks, lang, save=lambda m: save_marks(_project(), m))
    _downloads(card, lang)


def _draw_circles(result, key, params, proposals, lang: str) -> None:
    from geo_app.workflows.coverage_data import from_result

    try:
        with st.spinner(t("card_drawing", lang)):
            graph, inputs = _graph(key)
            data = from_result(result)
            if graph is None:  # not the coverage page's cached graph: the run's network file
                graph = lc.walk_graph_of(data)
            circles = lc.delineate_circles(data, graph, params)
            effect = None
            sites = [p.sites for p in proposals if p.category in ("", "community_service")]
            if sites and inputs is not None:
                from geo_app.workflows.circle_effects import circles_before_after

                allsites = pd.concat(sites, ignore_index=True)
                effect = circles_before_after(
                    inputs, allsites, params, graph=graph, minutes=key[4],
                    speed_m_s=float(key[5]), target=float(st.session_state["card_target"]))
                circles = effect.after
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    st.session_state["card_circles"] = {"result": id(result), "circles": circles,
                                        "effect": effect}


def _circle_section(circles, effect, target: float, lang: str) -> None:
    c = circles.circles
    st.subheader(t("card_circles_heading", lang))
    met = int(c["meets_standard"].sum())
    cols = st.columns(4)
    cols[0].metric(t("card_circles", lang), len(c))
    cols[1].metric(t("card_circles_meeting", lang), met)
    cols[2].metric(t("card_within_bounds", lang), int(c["within_bounds"].sum()))
    cols[3].metric(t("card_target", lang), f"{target:g}")
    st.progress(min(met / target, 1.0), text=t("card_progress_text", lang).format(
        achieved=met, needed=f"{target:g}", pct=f"{100 * met / target:.1f}"))
    if circles.warnings:
        st.warning("\n".join(f"- {md(warning_text(w, lang))}"
                             for w in circles.warnings if w.key))
    st.altair_chart(circles_chart(c, lang), width="content")
    shown = c.drop(columns=[c.geometry.name, "lacking", "centre_lon", "centre_lat", "mode",
                            "floor", "ceiling", "max_minutes"], errors="ignore")
    st.dataframe(**screen_view(pd.DataFrame(shown), lang))
    if effect is not None:
        st.markdown(f"**{t('card_before_after', lang)}**")
        st.dataframe(**screen_view(effect.counts, lang))
        if len(effect.flips):
            st.dataframe(**screen_view(effect.flips, lang))
        else:
            st.caption(t("card_no_flips", lang))


def _downloads(card, lang: str) -> None:
    from geo_app.io.report import scorecard_report_html

    cols = st.columns(2)
    cols[0].download_button(t("card_download_xlsx", lang), on_click="ignore",
                            data=lambda: scorecard_xlsx_bytes(card, lang),
                            file_name="scorecard.xlsx", key="card_xlsx",
                            mime="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    cols[1].download_button(t("card_download_report", lang), on_click="ignore",
                            data=lambda: scorecard_report_html(card, lang=lang),
                            file_name="scorecard_report.html", mime="text/html",
                            key="card_report")

