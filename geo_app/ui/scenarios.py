"""Siting scenarios kept in the session's projects: save, list, reopen, compare side by side;
projects made, downloaded as one file and uploaded again (see :mod:`geo_app.ui.served`)."""

from __future__ import annotations

import html

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo_app.io.project import (
    SUFFIX,
    Scenario,
    delete_scenario,
    list_scenarios,
    load_scenario,
    save_scenario,
)
from geo_app.labels import t
from geo_app.ui.common import LOAD_ERRORS, L, show_error, study_area
from geo_app.ui.served import heavy_run, local_time, md, settings, store
from geo_app.workflows import runs
from geo_app.workflows.inputs import hide_paths
from geo_app.workflows.proposals import proposal_sites, proposal_summary

# widget keys of the siting page and the parameter each one sets
WIDGETS = {"site_objective": "objective", "site_n": "n_sites", "site_minutes": "minutes",
           "site_category": "category", "site_target": "target_share",
           "site_capacity": "capacity", "site_time_limit": "time_limit"}


def current_project() -> str:
    """Name of the project the session works in (the newest of its store, or a first one)."""
    names = store().names()
    name = st.session_state.get("project_pick")
    if name not in names:
        name = names[0] if names else f"{t('projects', L())} 1"
    return name


def project_path() -> str:
    """The file of the current project (never shown: users see names only)."""
    return str(store().path(current_project()))


def _create_project() -> None:
    from geo_app.io.project_store import project_name

    wanted = st.session_state.get("project_new_name", "")
    try:
        name = store().create(project_name(wanted))
    except ValueError:
        st.session_state["project_msg"] = ("error", t("project_name_bad", L()))
        return
    except LOAD_ERRORS as exc:
        st.session_state["project_msg"] = ("error", hide_paths(str(exc)))
        return
    st.session_state["project_pick"] = name
    st.session_state["project_new_name"] = ""
    st.session_state["project_msg"] = ("success", f"{t('project_created', L())}: {md(name)}")


def _import_project(upload) -> None:
    try:
        name = store().import_upload(upload)
    except (ValueError, OSError) as exc:
        st.session_state["project_msg"] = ("error", hide_paths(str(exc)))
        return
    st.session_state["project_pick"] = name
    st.session_state["project_msg"] = ("success", f"{t('project_imported', L())}: {md(name)}")


def project_panel() -> str:
    """Choose, make, download and upload projects; the current project's name."""
    lang = L()
    s = settings()
    names = store().names()
    name = current_project()
    st.session_state["project_pick"] = name
    cols = st.columns([2, 2, 1], vertical_alignment="bottom")
    cols[0].selectbox(t("project_pick", lang), names if name in names else [name, *names],
                      key="project_pick")
    cols[1].text_input(t("project_new_name", lang), key="project_new_name", max_chars=60)
    cols[2].button(t("project_create", lang), key="project_create", on_click=_create_project)
    done = st.session_state.pop("project_msg", None)
    if done:
        getattr(st, done[0])(done[1])
    st.caption(t("project_store_note" if s.sign_in == "none" else "project_signed_in", lang)
               + " · " + t("times_in", lang).format(
                   zone=t("tz_beijing", lang) if s.timezone == "Asia/Shanghai" else s.timezone))
    if name in names:
        st.download_button(t("project_download", lang), key="project_download",
                           data=lambda: store().export_bytes(name), on_click="ignore",
                           file_name=f"{name}{SUFFIX}", mime="application/vnd.sqlite3")
    f = st.file_uploader(t("project_upload", lang), type=["sqlite", "db"], key="project_upload")
    if f is not None:
        upload_preview(f)
    return name


def upload_preview(f) -> None:
    """An uploaded project file, checked in memory: its scenarios, and a button to import."""
    from geo_app.io.project_store import read_upload

    lang = L()
    try:
        upload = read_upload(f.name, f.getvalue(), int(settings().max_project_mb * 2**20))
    except (ValueError, OSError) as exc:
        st.error(f"{t('project_upload_bad', lang)}:\n\n```\n{hide_paths(str(exc))}\n```")
        return
    st.caption(t("project_preview", lang))
    shown = upload.scenarios.assign(updated=[local_time(v) for v in upload.scenarios["updated"]])
    st.dataframe(shown.rename(columns={c: t(f"sc_{c}", lang) for c in shown.columns}),
                 width="stretch", hide_index=True)
    st.button(t("project_import", lang), key="project_import", on_click=_import_project,
              args=(upload,))


def _saved_params(params: dict) -> dict:
    """Parameters as saved: file names the user gave, never the server's folders."""
    return {k: hide_paths(v) if isinstance(v, str) else v for k, v in params.items()}


def by_category(state: dict, sites: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Coverage before and after by facility category, for the comparison (None when the
    inputs cannot give it: the scenario is saved without it)."""
    key = (tuple(state["proposal"]), len(state["run"].candidates))
    made = state.get("report_extras", {}).get(key)  # a report asked for made it already
    if made is not None:
        return made["before_after"]
    try:
        return before_after_queued(state, sites)
    except (*LOAD_ERRORS, runs.RunRefused):  # the scenario is saved without it
        return None


class _Quiet:
    """A slot for :func:`heavy_run` in a button's callback, where nothing can be drawn."""

    def info(self, *_):
        pass

    def empty(self):
        pass


def before_after_queued(state: dict, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Coverage before and after ``sites`` by category (two coverage runs), in the served
    app's line of heavy runs like every other run. Raises ``runs.RunRefused``."""
    from geo_app.workflows.before_after import HUB_CATEGORIES, coverage_before_after

    inputs, run = state["inputs"], state["run"]
    cats = {*(inputs.categories or inputs.facilities["category"].unique()), *HUB_CATEGORIES}
    need = runs.coverage_bytes(len(inputs.network.edges), len(inputs.demand),
                               len(inputs.facilities) + len(sites) * len(HUB_CATEGORIES),
                               len(cats))
    with heavy_run("coverage", need, _Quiet()):
        return coverage_before_after(inputs, sites, graph=run.graph, join=run.join)


def save_current(state: dict) -> None:
    """Save the proposal as it stands, under the name typed (or a numbered default)."""
    lang = L()
    path = project_path()
    try:
        known = list_scenarios(path)
        name = st.session_state.get("site_scenario_name", "").strip() or \
            f"{t('scenario', lang)} {len(known) + 1}"
        run, result, proposal = state["run"], state["result"], list(state["proposal"])
        summary = proposal_summary(run, result, proposal, state["params"]["objective"])
        sites = proposal_sites(run, result, proposal)
        area = study_area()
        params = {**_saved_params(state["params"]), "study_area": area.to_geojson()}
        tables = {"summary": summary}
        cats = by_category(state, sites)
        if cats is not None:
            tables["by_category"] = cats
        save_scenario(path, Scenario(name=name, kind="siting", params=params, sites=sites,
                                     tables=tables, profile=state["params"].get("profile"),
                                     edits=state.get("edits")))
    except LOAD_ERRORS as exc:
        st.session_state["site_saved"] = ("error", hide_paths(str(exc)))
        return
    st.session_state.setdefault("site_runs", {})[name] = (run, state["existing"], proposal)
    st.session_state["site_scenario_name"] = ""
    st.session_state["site_saved"] = ("ok", name)
    state["saved"] = tuple(proposal)
    state["reopened"] = None


def scenario_form(state: dict) -> None:
    lang = L()
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].text_input(t("scenario_name", lang), key="site_scenario_name",
                       placeholder=t("scenario", lang))
    cols[1].button(t("save_scenario", lang), key="site_save", on_click=save_current,
                   args=(state,))
    done = st.session_state.pop("site_saved", None)
    if done and done[0] == "ok":
        st.success(f"{t('saved', lang)}: {md(done[1])}")
    elif done:
        show_error(done[1])


def reopen(path: str, name: str) -> None:
    """Put a saved scenario's parameters back into the widgets; the page then re-runs it."""
    try:
        sc = load_scenario(path, name)
    except LOAD_ERRORS as exc:
        st.session_state["site_saved"] = ("error", hide_paths(str(exc)))
        return
    p = sc.params
    for key, param in WIDGETS.items():
        if param in p and p[param] is not None:
            st.session_state[key] = p[param]
    cand = str(p.get("candidates", ""))
    if cand.startswith("grid:"):
        st.session_state["site_cand"] = "grid"
        st.session_state["site_spacing"] = float(cand.split(":", 1)[1])
    elif cand == "osm":
        st.session_state["site_cand"] = "osm"
    if "study_area" in p:  # the scenario's own study area comes back with it
        from geo_app.workflows.study_area import StudyArea

        st.session_state["study_area"] = StudyArea.from_geojson(p["study_area"])
    st.session_state["site_reopen"] = sc


def saved_panel(tiles: str) -> None:
    """The project's scenarios: reopen or delete one, compare two side by side."""
    lang = L()
    st.subheader(t("scenarios", lang))
    project_panel()
    path = project_path()
    try:
        table = list_scenarios(path)
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    if len(table) == 0:
        st.caption(t("no_scenarios", lang))
        return
    shown = table.assign(created=[local_time(v) for v in table["created"]],
                         updated=[local_time(v) for v in table["updated"]],
                         kind=[t(str(k), lang) for k in table["kind"]])
    st.dataframe(shown.rename(columns={c: t(f"sc_{c}", lang) for c in shown.columns}),
                 width="stretch", hide_index=True)
    names = list(table["name"])
    cols = st.columns([3, 1, 1], vertical_alignment="bottom")
    pick = cols[0].selectbox(t("scenario", lang), names, index=len(names) - 1, key="site_pick")
    cols[1].button(t("reopen", lang), key="site_reopen_btn", on_click=reopen, args=(path, pick))
    if cols[2].button(t("delete", lang), key="site_delete"):
        delete_scenario(path, pick)
        st.rerun()
    if len(names) < 2:
        st.caption(t("need_two", lang))
        return
    picks = st.columns(2)
    chosen = [picks[i].selectbox(t(label, lang), names, index=index, key=f"site_cmp_{side}")
              for i, (side, label, index) in enumerate((("left", "cmp_pick_a", len(names) - 2),
                                                        ("right", "cmp_pick_b", len(names) - 1)))]
    try:
        a, b = (load_scenario(path, n) for n in chosen)
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    from geo_app.ui.scenario_compare import compare_both, compare_one

    for col, sc, side in zip(st.columns(2), (a, b), ("left", "right")):
        with col:
            compare_one(sc, tiles, side)
    compare_both(a, b, tiles)


def sites_only_map(sites: gpd.GeoDataFrame, lang: str, tiles: str):
    import folium

    from geo_app.maps.base import finish_map, new_map

    m = new_map(tiles, lang, "100%")
    disc = ('<div class="cq-site" style="width:22px;height:22px;border-radius:50%;'
            'background:#6a3d9a;color:#fff;font:bold 12px/22px sans-serif;text-align:center">'
            '{}</div>')
    for row in sites.itertuples():  # names are the user's text: escaped, never markup
        folium.Marker([row.geometry.y, row.geometry.x], tooltip=html.escape(str(row.name)),
                      icon=folium.DivIcon(html=disc.format(
                          html.escape(str(getattr(row, "order", "")))))).add_to(m)
    b = sites.total_bounds
    pad = 0.005
    finish_map(m, [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad], collapsed=True)
    return m
