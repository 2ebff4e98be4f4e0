"""The coverage page: walking-time coverage of residents by facility category."""

from __future__ import annotations

import streamlit as st

from geo_app.io.display import on_screen, people_csv, run_info_table
from geo_app.io.export import geojson_bytes
from geo_app.labels import facility_label, t
from geo_app.labels.engine import step_text, warning_text
from geo_app.maps.coverage import coverage_map
from geo_app.ui.common import (
    L,
    area_id,
    data_choice,
    data_inputs,
    reach_m,
    show_error,
    show_map,
    study_area,
    study_inputs,
    tiles_choice,
)
from geo_app.ui.served import heavy_run, md, show_refused, shown_run_info
from geo_app.ui.state import RunProgress
from geo_app.workflows import runs
from geo_app.workflows.coverage import geopackage_bytes, run, summary_table

KEPT_RESULTS = 3  # coverage results kept in the session, newest last


@st.cache_resource(show_spinner=False, max_entries=4)
def walk_graph_of(_inputs, key: tuple, speed_m_s: float, dem: str | None = None,
                  profile: str | None = None, dem_partial: bool = False):
    """The walk graph of the clipped inputs; ``key`` names them (data, datum, area, reach);
    ``dem``: the elevation raster the data page holds (slopes in walking times; with
    ``dem_partial``, level where it has no height);
    ``profile``: a walker of data/gis/walker_profiles.csv (None: the plain walk)."""
    from geo_app.workflows.graphs import walk_graph_for, walk_graph_from_network

    if profile is not None:
        return walk_graph_for(_inputs.network, profile=profile, dem=dem, dem_partial=dem_partial)
    return walk_graph_from_network(_inputs.network, speed_m_s=speed_m_s, dem=dem,
                                   dem_partial=dem_partial)


def coverage_page() -> None:
    lang = L()
    paths, datum = data_inputs("cov")
    st.sidebar.header(t("parameters", lang))
    minutes = st.sidebar.number_input(t("minutes_input", lang), min_value=1.0, max_value=120.0,
                                      value=None, step=5.0, key="cov_minutes")
    speed = st.sidebar.number_input(t("speed", lang), min_value=0.3, max_value=3.0, value=1.0,
                                    step=0.1, key="cov_speed")
    area_type = st.sidebar.radio(t("area_type", lang), ("urban", "rural"), horizontal=True,
                                 format_func=lambda k: t(k, lang), key="cov_area_type")
    walker = st.sidebar.selectbox(t("walker_profile", lang),
                                  ("plain", "adult", "elderly", "child", "wheelchair"),
                                  format_func=lambda k: t(f"profile_{k}", lang), key="cov_profile")
    profile = None if walker == "plain" else walker
    dem = data_choice().get("dem")
    dem_partial = dem is not None and st.sidebar.checkbox(
        t("dem_partial_box", lang), key="cov_dem_partial", help=t("dem_partial_help", lang))
    tiles = tiles_choice()
    pressed = st.sidebar.button(t("run", lang), type="primary", key="cov_run",
                                disabled=paths is None)
    if paths is None:
        return

    results = st.session_state.setdefault("cov_results", {})
    key = (*paths, datum, minutes, speed, area_type, area_id(study_area()),
           dem, dem_partial, walker)
    slot = st.empty()  # always there, so that the elements below keep their places
    if pressed:
        bar = RunProgress("running_coverage", slot)  # stays for the whole run (ui/state.py)
        try:
            # one reach for every threshold up to 30 min, so that the clipped inputs and
            # their walk graph are reused when only the threshold or area type changes
            reach = reach_m(max(minutes or 0.0, 30.0), speed_m_s=speed)
            inputs = study_inputs(paths, datum, reach)
            cats = inputs.categories or inputs.facilities["category"].unique()
            need = runs.coverage_bytes(len(inputs.network.edges), len(inputs.demand),
                                       len(inputs.facilities), len(cats))
            with heavy_run("coverage", need, slot) as ticket:
                bar = RunProgress("running_coverage", slot, bar.started)
                graph = walk_graph_of(inputs, (*paths, datum, area_id(study_area()), reach),
                                      speed, dem, profile, dem_partial)

                def progress(f, what):  # a run whose session has gone stops here
                    ticket.check()
                    bar.progress(min(max(f, 0.0), 1.0), text=step_text(what, lang))

                result = run(inputs, minutes=minutes, speed_m_s=speed, area_type=area_type,
                             graph=graph, profile=profile, progress=progress,
                             dem=dem, dem_partial=dem_partial)  # named in the run information
            result.run_info = shown_run_info(result.run_info)
        except runs.RunRefused as exc:
            slot.empty()
            show_refused(exc)
            return
        except ValueError as exc:  # LayerValidationError names the file, row and column
            slot.empty()
            show_error(exc)
            return
        slot.empty()
        results.pop(key, None)
        results[key] = {"result": result, "gpkg": geopackage_bytes(result),
                        "demand_csv": people_csv(result.demand),
                        "summary_csv": people_csv(result.summary, lang=lang)}
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
        st.warning("\n".join(f"- {md(warning_text(w, lang))}" for w in result.warnings))
    st.dataframe(**on_screen(summary_table(result, lang), hide=("category",)))
    cols = st.columns(4)
    for col, (label, data, name, mime) in zip(cols, (
            ("download_gpkg", entry["gpkg"], "coverage.gpkg", "application/geopackage+sqlite3"),
            ("download_demand", entry["demand_csv"], "coverage_demand.csv", "text/csv"),
            ("download_summary", entry["summary_csv"], "coverage_summary.csv", "text/csv"),
            ("download_gaps_geojson", lambda: geojson_bytes(result.gaps), "coverage_gaps.geojson",
             "application/geo+json"))):
        col.download_button(t(label, lang), data=data, file_name=name, mime=mime, key=label,
                            on_click="ignore")
    with st.expander(t("run_info", lang)):
        st.dataframe(run_info_table(result.run_info, lang), width="stretch", hide_index=True)

    from geo_app.ui.edit_compare import edits_section
    from geo_app.ui.walkers import walkers_section

    reach = reach_m(max(minutes or 0.0, 30.0), speed_m_s=speed)
    clipped = study_inputs(paths, datum, reach)
    graph_key = (*paths, datum, area_id(study_area()), reach)
    walkers_section(clipped, key, minutes=minutes, area_type=area_type, dem=dem,
                    dem_partial=dem_partial, tiles=tiles,
                    graph_of=lambda w: walk_graph_of(clipped, graph_key, speed, dem, w,
                                                     dem_partial))
    edits_section(clipped, key, result=result, minutes=minutes,
                  area_type=area_type, profile=profile, dem=dem, dem_partial=dem_partial,
                  tiles=tiles)
