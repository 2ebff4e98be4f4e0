"""The siting page: choose hub sites, edit them on the map, save and compare scenarios."""

from __future__ import annotations

import numpy as np
import streamlit as st

from geo_app.labels import facility_label, t
from geo_app.ui.assets import upload_types
from geo_app.ui.common import (
    LOAD_ERRORS,
    L,
    data_choice,
    data_inputs,
    reach_m,
    saved_upload,
    show_error,
    study_inputs,
    tiles_choice,
)
from geo_app.ui.proposal_editor import proposal_editor
from geo_app.ui.scenarios import WIDGETS, saved_panel, scenario_form
from geo_app.ui.served import heavy_run, show_refused
from geo_app.workflows import runs
from geo_app.workflows.coverage import to_metres
from geo_app.workflows.proposals import add_candidate_points
from geo_app.workflows.siting import OBJECTIVES, existing_of, prepare_run, solve

KEPT_RUNS = 3  # prepared siting runs kept in the session, newest last
PREPARE_KEYS = ("network", "facilities", "demand", "datum", "category", "candidates", "minutes",
                "profile", "network_edits")


KEPT = "site_kept"  # the siting widgets' values, kept while the page is away (not widget keys)
DEFAULTS = {"site_cand": "grid", "site_spacing": 200.0, "site_objective": "mclp", "site_n": 5,
            "site_target": 0.9, "site_minutes": 15.0, "site_capacity": None,
            "site_time_limit": 10.0, "site_profile": "plain", "site_use_edits": False}
WALKERS = ("plain", "adult", "elderly", "child", "wheelchair")


def remember(key: str, default=None) -> None:
    """Give widget ``key`` its kept value (or ``default``) when the page comes back: Streamlit
    forgets a widget's value while its page is not shown."""
    kept = st.session_state.setdefault(KEPT, {})
    if key not in st.session_state:
        st.session_state[key] = kept.get(key, DEFAULTS.get(key, default))


def keep(*keys: str) -> None:
    """Copy the widgets' values to the kept ones (after the widgets are drawn)."""
    kept = st.session_state.setdefault(KEPT, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]


def siting_parameters(inputs, datum: str) -> dict | None:
    """The siting widgets; the parameters they set (None while a candidate file is missing)."""
    lang = L()
    cats = sorted(inputs.facilities["category"].astype(str).unique())
    options = ["", *cats]
    for key in DEFAULTS:
        remember(key)
    remember("site_category", "community_service" if "community_service" in cats else "")
    if st.session_state.get("site_category") not in options:
        st.session_state["site_category"] = ("community_service" if "community_service" in cats
                                             else "")
    category = st.sidebar.selectbox(
        t("existing_category", lang), options, key="site_category",
        format_func=lambda c: facility_label(c, lang) if c else t("no_existing", lang))
    st.sidebar.header(t("parameters", lang))
    source = st.sidebar.radio(t("candidates_source", lang), ("grid", "osm", "file"),
                              format_func=lambda k: t(f"cand_{k}", lang), key="site_cand")
    if source == "grid":
        spacing = st.sidebar.number_input(t("grid_spacing", lang), min_value=50.0,
                                          max_value=5000.0, step=50.0, key="site_spacing")
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
            keep("site_category", "site_cand")
            if f is None:
                st.info(t("need_candidates", lang))
            return None
    objective = st.sidebar.radio(t("objective", lang), OBJECTIVES, key="site_objective",
                                 format_func=lambda k: t(k, lang))
    params = {**inputs.sources, "datum": datum, "category": category, "candidates": candidates,
              "objective": objective,
              "n_sites": int(st.sidebar.number_input(t("n_sites", lang), min_value=1,
                                                     max_value=500, key="site_n"))}
    if objective == "cover":
        params["target_share"] = st.sidebar.slider(t("target_share", lang), 0.05, 1.0,
                                                   step=0.05, key="site_target")
    params["minutes"] = st.sidebar.number_input(t("minutes", lang), min_value=1.0,
                                                max_value=120.0, step=5.0, key="site_minutes")
    if objective == "mclp":
        params["capacity"] = st.sidebar.number_input(t("capacity", lang), min_value=1.0,
                                                     step=500.0, key="site_capacity")
    params["time_limit"] = st.sidebar.number_input(t("time_limit", lang), min_value=1.0,
                                                   max_value=600.0, step=5.0,
                                                   key="site_time_limit")
    walker = st.sidebar.selectbox(t("walker_profile", lang), WALKERS, key="site_profile",
                                  format_func=lambda k: t(f"profile_{k}", lang))
    params["profile"] = None if walker == "plain" else walker
    params["network_edits"] = None
    from geo_app.ui.edit_compare import current_edits, edits_id

    edits = current_edits()
    if edits is not None and st.sidebar.checkbox(
            t("site_use_edits", lang).format(n=len(edits.lines)), key="site_use_edits"):
        params["network_edits"] = edits_id(edits)
        st.session_state["site_edits"] = edits
    keep("site_category", *DEFAULTS)
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
            edits = st.session_state.get("site_edits") if params.get("network_edits") else None
            run = prepared.pop(key, None) or prepare_run(
                inputs, category=params["category"], candidates=params["candidates"],
                minutes=params["minutes"], datum=params["datum"],
                profile=params.get("profile"), edits=edits)
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
    old = st.session_state.get("site_state")
    if old is not None and unsaved_edits(old):  # never dropped silently: kept, and said so
        st.session_state["site_kept_proposal"] = old
    st.session_state["site_state"] = {
        "params": params, "run": run, "run0": run, "result": result,
        "proposal": list(result.sites), "existing": existing_of(inputs, params["category"]),
        "message": None, "inputs": inputs, "undo": [], "redo": [], "edits": edits}


def unsaved_edits(state: dict) -> bool:
    """Whether the proposal was edited by hand and not saved as it stands."""
    proposal = [int(s) for s in state["proposal"]]
    edited = sorted(proposal) != sorted(int(s) for s in state["result"].sites)
    return edited and tuple(proposal) != state.get("saved")


def siting_need(inputs, params: dict) -> int:
    """Memory (bytes) a siting run on ``inputs`` is expected to need."""
    km2 = runs.bbox_km2(inputs.demand.total_bounds)
    cand = str(params["candidates"])
    n = (km2 * 1e6 / float(cand.split(":", 1)[1]) ** 2 if cand.startswith("grid:")
         else runs.UNCOUNTED_CANDIDATES)
    return runs.siting_bytes(len(inputs.network.edges), int(n), len(inputs.demand),
                             params["minutes"] * 60 * 1.2, km2)


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
    state.update(run=run, proposal=proposal, reopened=sc.name, saved=tuple(proposal),
                 message=None)


def kept_proposal_panel() -> None:
    """An earlier proposal edited by hand and not saved, replaced by a new run: bring it
    back or let it go."""
    kept = st.session_state.get("site_kept_proposal")
    if kept is None:
        return
    lang = L()
    st.info(t("kept_proposal", lang).format(n=len(kept["proposal"])))
    cols = st.columns([1, 1, 3])
    cols[0].button(t("restore_proposal", lang), key="site_restore", on_click=_restore)
    cols[1].button(t("drop_proposal", lang), key="site_drop",
                   on_click=lambda: st.session_state.pop("site_kept_proposal", None))


def _restore() -> None:
    """The kept proposal back as the current one (and the current one kept in its place when
    it has unsaved edits), its parameters back in the widgets."""
    kept = st.session_state.pop("site_kept_proposal", None)
    if kept is None:
        return
    now = st.session_state.get("site_state")
    if now is not None and unsaved_edits(now):
        st.session_state["site_kept_proposal"] = now
    kept["message"] = None
    st.session_state["site_state"] = kept
    put_params_back(kept["params"])


def put_params_back(p: dict) -> None:
    """Parameters into the siting widgets (and their kept values)."""
    values = {key: p[param] for key, param in WIDGETS.items() if p.get(param) is not None}
    cand = str(p.get("candidates", ""))
    if cand.startswith("grid:"):
        values.update(site_cand="grid", site_spacing=float(cand.split(":", 1)[1]))
    elif cand == "osm":
        values["site_cand"] = "osm"
    st.session_state.setdefault(KEPT, {}).update(values)
    for key, value in values.items():
        st.session_state[key] = value


def siting_page() -> None:
    lang = L()
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
    if params is not None and pressed:
        run_siting(inputs, params)
    if params is not None:
        apply_reopen(inputs, params)
    kept_proposal_panel()
    state = st.session_state.get("site_state")
    if state is None:
        if params is not None:
            st.info(t("press_run_siting", lang))
    else:
        if params is None or state["params"] != params:
            st.info(t("params_changed", lang).format(
                edited=t("params_changed_edited", lang) if unsaved_edits(state) else ""))
        proposal_editor(tiles)
        scenario_form(state)
    saved_panel(tiles)
