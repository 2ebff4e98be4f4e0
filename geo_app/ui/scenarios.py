"""Siting scenarios kept in the project file: save, list, reopen, compare side by side."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo_app.io.project import (
    Scenario,
    default_project_path,
    delete_scenario,
    list_scenarios,
    load_scenario,
    save_scenario,
)
from geo_app.labels import t
from geo_app.ui.common import LOAD_ERRORS, L, show_error, show_map, study_area
from geo_app.workflows.proposals import proposal_sites, summary_rows

# widget keys of the siting page and the parameter each one sets
WIDGETS = {"site_objective": "objective", "site_n": "n_sites", "site_minutes": "minutes",
           "site_category": "category", "site_target": "target_share",
           "site_capacity": "capacity", "site_time_limit": "time_limit"}


def project_path() -> str:
    """The project file the user chose (a path in a folder of their choice)."""
    lang = L()
    if "project_path" not in st.session_state:
        st.session_state["project_path"] = str(default_project_path())
    return st.text_input(t("project_file", lang), key="project_path",
                         help=t("project_file_help", lang))


def save_current(state: dict, summary: pd.DataFrame) -> None:
    """Save the proposal as it stands, under the name typed (or a numbered default)."""
    lang = L()
    path = st.session_state.get("project_path") or str(default_project_path())
    try:
        known = list_scenarios(path)
        name = st.session_state.get("site_scenario_name", "").strip() or \
            f"{t('scenario', lang)} {len(known) + 1}"
        run, result, proposal = state["run"], state["result"], list(state["proposal"])
        sites = proposal_sites(run, result, proposal)
        area = study_area()
        params = {**state["params"], "study_area": area.to_geojson()}
        save_scenario(path, Scenario(name=name, kind="siting", params=params, sites=sites,
                                     tables={"summary": summary}))
    except LOAD_ERRORS as exc:
        st.session_state["site_saved"] = ("error", str(exc))
        return
    st.session_state.setdefault("site_runs", {})[name] = (run, state["existing"], proposal)
    st.session_state["site_scenario_name"] = ""
    st.session_state["site_saved"] = ("ok", name)


def scenario_form(state: dict, summary: pd.DataFrame) -> None:
    lang = L()
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].text_input(t("scenario_name", lang), key="site_scenario_name",
                       placeholder=t("scenario", lang))
    cols[1].button(t("save_scenario", lang), key="site_save", on_click=save_current,
                   args=(state, summary))
    done = st.session_state.pop("site_saved", None)
    if done and done[0] == "ok":
        st.success(f"{t('saved', lang)}: {done[1]}")
    elif done:
        show_error(done[1])


def reopen(path: str, name: str) -> None:
    """Put a saved scenario's parameters back into the widgets; the page then re-runs it."""
    try:
        sc = load_scenario(path, name)
    except LOAD_ERRORS as exc:
        st.session_state["site_saved"] = ("error", str(exc))
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
    path = project_path()
    try:
        table = list_scenarios(path)
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    if len(table) == 0:
        st.caption(t("no_scenarios", lang))
        return
    shown = table.assign(created=table["created"].str[:19].str.replace("T", " "),
                         updated=table["updated"].str[:19].str.replace("T", " "))
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
    for col, side, index in zip(st.columns(2), ("left", "right"), (len(names) - 2, len(names) - 1)):
        with col:
            name = st.selectbox(t(side, lang), names, index=index, key=f"site_cmp_{side}")
            compare_one(path, name, tiles, side)


def compare_one(path: str, name: str, tiles: str, side: str) -> None:
    lang = L()
    try:
        sc = load_scenario(path, name)
    except LOAD_ERRORS as exc:
        show_error(exc)
        return
    p = sc.params
    st.caption(" · ".join(f"{t(k, lang)}: {t(str(p.get(k)), lang)}" for k in
                          ("objective", "n_sites", "minutes", "candidates")))
    if "summary" in sc.tables:
        st.table(summary_rows(sc.tables["summary"], lang), hide_index=True)
    kept = st.session_state.get("site_runs", {}).get(name)
    if kept is not None:
        from geo_app.maps.siting import siting_map
        from geo_app.workflows.siting import siting_view

        run, existing, proposal = kept
        m = siting_map(siting_view(run, proposal), existing=existing, lang=lang, tiles=tiles, compact=True)
    else:  # saved in an earlier session: the sites, without recomputing coverage
        m = sites_only_map(sc.sites, lang, tiles)
    show_map(m, None, f"site_cmp_map_{side}", height=380)


def sites_only_map(sites: gpd.GeoDataFrame, lang: str, tiles: str):
    import folium

    from geo_app.maps.base import finish_map, new_map

    m = new_map(tiles, lang, "100%")
    for row in sites.itertuples():
        folium.Marker([row.geometry.y, row.geometry.x], tooltip=str(row.name),
                      icon=folium.DivIcon(html=f'<div class="cq-site" style="width:22px;height:22px;'
                                               f'border-radius:50%;background:#6a3d9a;color:#fff;'
                                               f'font:bold 12px/22px sans-serif;text-align:center">'
                                               f'{getattr(row, "order", "")}</div>')).add_to(m)
    b = sites.total_bounds
    pad = 0.005
    finish_map(m, [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad], collapsed=True)
    return m
