"""The siting page: choose hub sites, edit them on the map, save and compare scenarios."""

from __future__ import annotations

import numpy as np
import streamlit as st

from geo_app.io.export import geojson_bytes
from geo_app.io.render import find_chromium, html_to_png
from geo_app.io.report import proposal_report_html, proposal_report_pdf, proposal_zip_bytes
from geo_app.labels import facility_label, t
from geo_app.maps.siting import siting_map
from geo_app.ui.assets import upload_types
from geo_app.ui.common import (
    LOAD_ERRORS,
    L,
    data_choice,
    data_inputs,
    reach_m,
    saved_upload,
    show_error,
    show_map,
    study_inputs,
    tiles_choice,
)
from geo_app.ui.scenarios import saved_panel, scenario_form
from geo_app.ui.served import heavy_run, md, show_refused
from geo_app.workflows import runs
from geo_app.workflows.before_after import coverage_before_after
from geo_app.workflows.coverage import to_metres
from geo_app.workflows.proposals import (
    add_candidate_points,
    proposal_sites,
    proposal_summary,
    sites_table,
    summary_rows,
    toggle_site,
)
from geo_app.workflows.siting import (
    OBJECTIVES,
    evaluate,
    existing_of,
    prepare_run,
    siting_view,
    solve,
)

KEPT_RUNS = 3  # prepared siting runs kept in the session, newest last
PREPARE_KEYS = ("network", "facilities", "demand", "datum", "category", "candidates", "minutes")


def siting_parameters(inputs, datum: str) -> dict | None:
    """The siting widgets; the parameters they set (None while a candidate file is missing)."""
    lang = L()
    cats = sorted(inputs.facilities["category"].astype(str).unique())
    options = ["", *cats]
    if st.session_state.get("site_category") not in options:
        default = "community_service" if "community_service" in cats else ""
        st.session_state["site_category"] = default
    category = st.sidebar.selectbox(
        t("existing_category", lang), options, key="site_category",
        format_func=lambda c: facility_label(c, lang) if c else t("no_existing", lang))
    st.sidebar.header(t("parameters", lang))
    source = st.sidebar.radio(t("candidates_source", lang), ("grid", "osm", "file"),
                              format_func=lambda k: t(f"cand_{k}", lang), key="site_cand")
    if source == "grid":
        spacing = st.sidebar.number_input(t("grid_spacing", lang), min_value=50.0,
                                          max_value=5000.0, value=200.0, step=50.0,
                                          key="site_spacing")
        candidates = f"grid:{spacing:g}"
    elif source == "osm":
        candidates = "osm"
    else:
        f = st.sidebar.file_uploader(t("candidates_file", lang), type=upload_types("candidates"),
                                     key="site_upload_candidates")
        # without a file here, the candidates checked on the data page
        candidates = saved_upload("candidates", f) if f is not None else \
            data_choice().get("candidates")
        if candidates is None:
            if f is None:
                st.info(t("need_candidates", lang))
            return None
    objective = st.sidebar.radio(t("objective", lang), OBJECTIVES, key="site_objective",
                                 format_func=lambda k: t(k, lang))
    params = {**inputs.sources, "datum": datum, "category": category, "candidates": candidates,
              "objective": objective,
              "n_sites": int(st.sidebar.number_input(t("n_sites", lang), min_value=1,
                                                     max_value=500, value=5, key="site_n"))}
    if objective == "cover":
        params["target_share"] = st.sidebar.slider(t("target_share", lang), 0.05, 1.0, 0.9,
                                                   step=0.05, key="site_target")
    params["minutes"] = st.sidebar.number_input(t("minutes", lang), min_value=1.0,
                                                max_value=120.0, value=15.0, step=5.0,
                                                key="site_minutes")
    if objective == "mclp":
        params["capacity"] = st.sidebar.number_input(t("capacity", lang), min_value=1.0,
                                                     value=None, step=500.0, key="site_capacity")
    params["time_limit"] = st.sidebar.number_input(t("time_limit", lang), min_value=1.0,
                                                   max_value=600.0, value=10.0, step=5.0,
                                                   key="site_time_limit")
    return params


def run_siting(inputs, params: dict) -> None:
    """Prepare (or reuse) the run for ``params``, solve, and keep it as the current proposal."""
    lang = L()
    prepared = st.session_state.setdefault("site_prepared", {})
    key = tuple(params[k] for k in PREPARE_KEYS)
    slot = st.empty()
    try:
        with heavy_run("siting", siting_need(inputs, params), slot) as ticket:
            bar = slot.progress(0.0, text=t("preparing", lang))
            run = prepared.pop(key, None) or prepare_run(
                inputs, category=params["category"], candidates=params["candidates"],
                minutes=params["minutes"], datum=params["datum"])
            prepared[key] = run  # newest last
            while len(prepared) > KEPT_RUNS:
                prepared.pop(next(iter(prepared)))
            ticket.check()  # a run whose session has gone stops here
            bar.progress(0.5, text=t("solving", lang))
            result = solve(run, n=params["n_sites"], objective=params["objective"],
                           target_share=params.get("target_share", 0.9),
                           capacity=params.get("capacity"), time_limit_s=params["time_limit"])
    except runs.RunRefused as exc:
        show_refused(exc)
        return
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    finally:
        slot.empty()
    st.session_state["site_state"] = {
        "params": params, "run": run, "result": result, "proposal": list(result.sites),
        "existing": existing_of(inputs, params["category"]), "message": None,
        "inputs": inputs}


def siting_need(inputs, params: dict) -> int:
    """Memory (bytes) a siting run on ``inputs`` is expected to need."""
    km2 = runs.bbox_km2(inputs.demand.total_bounds)
    cand = str(params["candidates"])
    n = (km2 * 1e6 / float(cand.split(":", 1)[1]) ** 2 if cand.startswith("grid:")
         else runs.UNCOUNTED_CANDIDATES)
    return runs.siting_bytes(len(inputs.network.edges), int(n), len(inputs.demand),
                             params["minutes"] * 60 * 1.2, km2)


def apply_click(state: dict, map_value: dict | None) -> None:
    """Add or remove a site where the map was clicked (``map_value``: what st_folium reported)."""
    lang = L()
    click = (map_value or {}).get("last_clicked")
    if not click:
        return
    before = evaluate(state["run"], state["proposal"]).newly_covered
    try:
        done = toggle_site(state["proposal"], state["run"], click["lng"], click["lat"],
                           prefix=t("added_prefix", lang))
    except ValueError as exc:
        state["message"] = ("warning", f"{t('click_error', lang)}: {md(exc)}")
        return
    state.update(proposal=done.proposal, run=done.run)
    after = evaluate(done.run, done.proposal).newly_covered
    name = done.run.candidates["name"].iloc[done.site]
    state["message"] = ("success", f"{t('site_' + done.action, lang)} {md(name)} · "
                                   f"{t('newly_covered', lang)} {before:,.0f} → {after:,.0f} "
                                   f"({after - before:+,.0f})")


def show_proposal(state: dict, tiles: str, map_value: dict | None) -> None:
    lang = L()
    apply_click(state, map_value)
    run, result, proposal, params = (state[k] for k in ("run", "result", "proposal", "params"))
    view = siting_view(run, proposal)
    ev = view.evaluation
    st.caption(t("click_hint", lang))
    if state["message"]:
        getattr(st, state["message"][0])(state["message"][1])
    standalone = show_map(siting_map(view, existing=state["existing"],
                                     lang=lang, tiles=tiles),
                          "siting_map.html", "site_map", returned_objects=("last_clicked",))
    st.caption(f"{t('eval_time', lang)} {1000 * ev.seconds:.1f} ms")

    st.subheader(t("site_summary", lang))
    summary = proposal_summary(run, result, proposal, params["objective"])
    row, solver = summary.iloc[0], proposal_summary(run, result, result.sites, params["objective"])
    cols = st.columns(4)
    cols[0].metric(t("covered_before", lang), f"{row['covered_before']:,.0f}")
    cols[1].metric(t("newly_covered", lang), f"{row['newly_covered']:,.0f}",
                   delta=f"{row['newly_covered'] - solver['newly_covered'].iloc[0]:+,.0f}"
                   if row["edited"] else None)
    cols[2].metric(t("share_after", lang), f"{100 * row['share_after']:.1f} %")
    cols[3].metric(t("n_proposed", lang), f"{int(row['sites'])}")
    if row["edited"]:
        st.info(t("edited_note", lang))
    st.table(summary_rows(summary, lang), hide_index=True)
    st.subheader(t("sites_table", lang))
    sites = proposal_sites(run, result, proposal)
    st.dataframe(sites_table(sites, lang), width="stretch", hide_index=True)
    st.download_button(t("download_sites_geojson", lang), data=geojson_bytes(sites),
                       file_name="proposed_sites.geojson", mime="application/geo+json",
                       key="site_geojson", on_click="ignore")

    report = dict(lang=lang, parameters=params, map_html=standalone)
    extras = report_extras(state, standalone)
    cols = st.columns(3)
    cols[0].download_button(t("download_package", lang), on_click="ignore",
                            data=lambda: proposal_zip_bytes(run, result, ev, **report, **extras()),
                            file_name="siting_proposal.zip", mime="application/zip",
                            key="site_zip")
    cols[1].download_button(t("download_report", lang), on_click="ignore",
                            data=lambda: proposal_report_html(run, result, ev, **report,
                                                              **extras()),
                            file_name="siting_report.html", mime="text/html", key="site_report")
    if find_chromium():
        cols[2].download_button(t("download_pdf", lang), on_click="ignore",
                                data=lambda: proposal_report_pdf(run, result, ev, **report,
                                                                 **extras()),
                                file_name="siting_report.pdf", mime="application/pdf",
                                key="site_pdf")
    scenario_form(state, summary)


def report_extras(state: dict, map_html: str):
    """A function giving the report's map image and coverage before/after by category
    (computed once per proposal, when a download is first asked for)."""
    def extras() -> dict:
        key = (tuple(state["proposal"]), len(state["run"].candidates))
        cached = state.setdefault("report_extras", {})
        if key not in cached:
            png = None
            if find_chromium():
                try:
                    png = html_to_png(map_html)
                except RuntimeError:
                    png = None  # the report still has the interactive map
            sites = proposal_sites(state["run"], state["result"], list(state["proposal"]))
            table = coverage_before_after(state["inputs"], sites, graph=state["run"].graph)
            cached.clear()
            cached[key] = {"map_png": png, "before_after": table}
        return cached[key]
    return extras


def apply_reopen(inputs, params: dict) -> None:
    """Re-run a reopened scenario and put its saved sites back as the proposal."""
    sc = st.session_state.pop("site_reopen", None)
    if sc is None:
        return
    run_siting(inputs, params)
    state = st.session_state.get("site_state")
    if state is None:
        return
    proposal, run = [], state["run"]
    cx, cy = to_metres(run.candidates, run.graph.crs)
    sx, sy = to_metres(sc.sites, run.graph.crs)
    for x, y, name in zip(sx, sy, sc.sites["name"]):
        d = np.hypot(cx - x, cy - y)
        if len(d) and d.min() < 1.0:
            proposal.append(int(d.argmin()))
        else:
            run, (site,) = add_candidate_points(run, sc.sites[sc.sites["name"] == name].iloc[:1])
            cx, cy = to_metres(run.candidates, run.graph.crs)
            proposal.append(site)
    state.update(run=run, proposal=proposal,
                 message=("success", f"{t('reopened', L())}: {md(sc.name)}"))


def siting_page() -> None:
    lang = L()
    map_value = st.session_state.pop("site_map", None)  # a click is handled once, or dropped
    paths, datum = data_inputs("site")
    if paths is None:
        return
    try:
        with st.spinner(t("loading", lang)):
            inputs = study_inputs(paths, datum, reach_m(30.0))
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    params = siting_parameters(inputs, datum)
    tiles = tiles_choice()
    pressed = st.sidebar.button(t("run_siting", lang), type="primary", key="site_run",
                                disabled=params is None)
    if params is None:
        return
    if pressed:
        run_siting(inputs, params)
    apply_reopen(inputs, params)
    state = st.session_state.get("site_state")
    if state is None or state["params"] != params:
        st.info(t("press_run_siting", lang))
    else:
        show_proposal(state, tiles, map_value)
    saved_panel(tiles)
