"""Editing the siting proposal on the map, in a fragment: a click, a removed or dragged site
reruns only this part of the page; the map frame stays and only its changing layers are sent
again (see :func:`geo_app.maps.siting.edit_layers`). Undo and redo step through the edits."""

from __future__ import annotations

import html
import time

import folium
import streamlit as st
from streamlit_folium import st_folium

from geo_app.io.display import fmt_metres, fmt_persons, fmt_share, fmt_signed
from geo_app.io.export import geojson_bytes
from geo_app.labels import t
from geo_app.maps.siting import edit_base_map, edit_layers
from geo_app.ui.assets import serve_locally
from geo_app.ui.common import L, current_tiles, with_local_base
from geo_app.workflows.proposals import (
    OffNetworkClick,
    move_site,
    proposal_sites,
    proposal_summary,
    remove_site,
    site_name,
    sites_table,
    summary_rows,
    toggle_site,
    zero_gain_reason,
)
from geo_app.workflows.siting import evaluate, siting_view

EDIT_KEY = "site_map"  # st_folium leaves the latest edit sent from the map here
DONE_KEY = "site_edit_done"  # the id of the last edit applied, whichever run it edited
HISTORY = 50  # edits kept for undo


def _gain_words(state: dict, site: int, lang: str) -> str:
    """Why ``site`` gains nobody, in words."""
    why = zero_gain_reason(state["run"], state["proposal"], site)
    minutes = f"{state['run'].threshold_s / 60:g}"
    return t(why.reason, lang).format(persons=fmt_persons(why.persons), minutes=minutes)


def apply_edit(state: dict, value: dict | None, lang: str) -> None:
    """Apply one edit sent by the map (each is applied once: its ``id`` is remembered)."""
    if not value or value.get("id") is None or value["id"] == st.session_state.get(DONE_KEY):
        return  # nothing sent, or applied already (to this run or an earlier one)
    st.session_state[DONE_KEY] = value["id"]
    t0 = time.perf_counter()
    run, proposal = state["run"], list(state["proposal"])
    before = evaluate(run, proposal).newly_covered
    kind, prefix = value.get("kind", "click"), "point"  # shown as 新增点 N / added N
    try:
        if kind in ("remove", "move") and int(value["site"]) not in proposal:
            return  # a marker of a proposal that has changed since
        if kind == "remove":
            done = remove_site(proposal, run, int(value["site"]))
        elif kind == "move":
            done = move_site(proposal, run, int(value["site"]), float(value["lng"]),
                             float(value["lat"]), prefix=prefix)
        else:
            done = toggle_site(proposal, run, float(value["lng"]), float(value["lat"]),
                               prefix=prefix)
    except OffNetworkClick as exc:
        state["message"] = ("warn", t("click_off_network", lang).format(
            dist=fmt_metres(exc.dist_m), max=fmt_metres(exc.max_m)))
        return
    except (ValueError, KeyError, TypeError):
        state["message"] = ("warn", t("click_error", lang))
        return
    if done.proposal == proposal:  # a site dropped where it was
        return
    state.setdefault("undo", []).append(proposal)
    del state["undo"][:-HISTORY]
    state.update(proposal=done.proposal, run=done.run, redo=[], reopened=None)
    ev = evaluate(done.run, done.proposal)
    after = ev.newly_covered
    name = site_name(done.run.candidates["name"].iloc[done.site], lang)
    text = (f"{t('site_' + done.action, lang)} {name} · {t('newly_covered', lang)} "
            f"{fmt_persons(before)} → {fmt_persons(after)} ({fmt_signed(after - before)})")
    own = ev.sites.loc[ev.sites["site"] == done.site, "unique_gain"]
    if done.action != "removed" and len(own) and round(float(own.iloc[0])) == 0:
        text += f" · {t('why_zero', lang)}: {_gain_words(state, done.site, lang)}"
    state["message"] = ("ok", text)
    state["edit_seconds"] = time.perf_counter() - t0


def _step(state: dict, back: bool) -> None:
    """Undo (``back``) or redo one edit."""
    src, dst = ("undo", "redo") if back else ("redo", "undo")
    if not state.get(src):
        return
    state.setdefault(dst, []).append(list(state["proposal"]))
    state["proposal"] = state[src].pop()
    state["reopened"] = None
    state["message"] = ("ok", t("edit_undone" if back else "edit_redone", L()))


def status_line(state: dict, lang: str) -> None:
    """One line of fixed height: the last edit, or what a click does (nothing moves below)."""
    message = state.pop("message", None)  # said once: the next redraw shows the hint again
    kind, text = message or ("hint", t("edit_hint", lang))
    if state.get("reopened") and message is None:
        kind, text = "ok", t("reopened_note", lang).format(name=state["reopened"])
    colour = {"ok": "#1a7f37", "warn": "#9a6700"}.get(kind, "#57606a")
    st.markdown(f'<div class="cq-edit-status" style="height:1.6em;line-height:1.6em;'
                f'overflow:hidden;white-space:nowrap;text-overflow:ellipsis;color:{colour}">'
                f'{html.escape(text)}</div>', unsafe_allow_html=True)


def metrics(state: dict, summary, lang: str) -> None:
    row = summary.iloc[0]
    solver = proposal_summary(state["run"], state["result"], state["result"].sites,
                              state["params"]["objective"]).iloc[0]
    cols = st.columns(4)
    cols[0].metric(t("covered_before", lang), fmt_persons(row["covered_before"]))
    change = row["newly_covered"] - solver["newly_covered"]  # the edits against the solver
    cols[1].metric(t("newly_covered", lang), fmt_persons(row["newly_covered"]),
                   delta=fmt_signed(change) if row["edited"] and round(change) != 0 else None)
    cols[2].metric(t("share_after", lang), fmt_share(row["share_after"]))
    cols[3].metric(t("n_proposed", lang), fmt_persons(row["sites"]))


@st.fragment
def proposal_editor(tiles: str) -> None:
    """The proposal's map, numbers and tables; edits on the map rerun only this."""
    state = st.session_state.get("site_state")
    if state is None:
        return
    lang = L()
    apply_edit(state, st.session_state.get(EDIT_KEY), lang)
    run, result, proposal, params = (state[k] for k in ("run", "result", "proposal", "params"))
    bar, map_slot, below = st.container(), st.container(), st.container()
    with bar:
        cols = st.columns([1, 1, 10], vertical_alignment="center")
        cols[0].button(t("edit_undo", lang), key="site_undo", on_click=_step, args=(state, True),
                       disabled=not state.get("undo"), width="stretch")
        cols[1].button(t("edit_redo", lang), key="site_redo", on_click=_step,
                       args=(state, False), disabled=not state.get("redo"), width="stretch")
        with cols[2]:
            status_line(state, lang)
    summary = proposal_summary(run, result, proposal, params["objective"])
    with below:  # the numbers first: they reach the browser before the map is drawn
        metrics(state, summary, lang)
    ev = evaluate(run, proposal)
    view = siting_view(run, proposal, evaluation=ev)
    with map_slot:
        base = edit_base_map(state.get("run0", run), lang=lang, tiles=tiles,
                             existing=state["existing"])
        if tiles == "local":  # the same base every click: the frame stays
            with_local_base(base, lang)
        st_folium(serve_locally(base, st.get_option("server.baseUrlPath")), key=EDIT_KEY,
                  height=620, width=None, returned_objects=[],
                  feature_group_to_add=edit_layers(view, lang),
                  layer_control=folium.LayerControl(collapsed=True))
    with below:
        tables(state, summary, ev, lang)


def full_map_html(state: dict, tiles: str, lang: str) -> str:
    """The proposal's map as one standalone page (for downloads and reports)."""
    from geo_app.maps.offline import render_offline
    from geo_app.maps.siting import siting_map

    view = siting_view(state["run"], list(state["proposal"]))
    return render_offline(siting_map(view, existing=state["existing"], lang=lang, tiles=tiles))


def tables(state: dict, summary, ev, lang: str) -> None:
    from geo_app.io.print_map import map_png
    from geo_app.io.render import find_chromium

    run, result, proposal = state["run"], state["result"], list(state["proposal"])
    seconds = state.get("edit_seconds")
    if seconds is not None:
        st.caption(f"{t('eval_time', lang)} {1000 * seconds:.1f} ms")
    if bool(summary["edited"].iloc[0]):
        st.info(t("edited_note", lang))
    st.subheader(t("site_summary", lang))
    st.table(summary_rows(summary, lang), hide_index=True)
    st.subheader(t("sites_table", lang))
    sites = proposal_sites(run, result, proposal)
    table = sites_table(sites, lang)
    zero = [i for i, g in enumerate(sites["unique_gain"]) if round(g) == 0]
    if zero:
        table[t("why_zero", lang)] = ""
        for i in zero:  # a few sites at most: each explained on its own
            why = zero_gain_reason(run, proposal, int(sites["candidate"].iloc[i]))
            table.loc[i, t("why_zero", lang)] = t(why.reason, lang).format(
                persons=fmt_persons(why.persons), minutes=f"{run.threshold_s / 60:g}")
    numbers = {t(c, lang): st.column_config.NumberColumn(format="localized")
               for c in ("gain", "gain_alone", "unique_gain", "overlap", "snap_m")}
    st.dataframe(table, width="stretch", hide_index=True, column_config=numbers)
    why = t("why_zero", lang)
    for i in zero:  # whole, under the table: a cell cuts a long reason at the table's edge
        st.caption(f"{why} · {table[t('name', lang)].iloc[i]}: {table[why].iloc[i]}")
    tiles = current_tiles()  # a key, never the select box's label
    cols = st.columns(3)
    cols[0].download_button(t("download_sites_geojson", lang), key="site_geojson",
                            data=lambda: geojson_bytes(proposal_sites(
                                state["run"], state["result"], list(state["proposal"]))),
                            file_name="proposed_sites.geojson", mime="application/geo+json",
                            on_click="ignore")
    cols[1].download_button(t("download_html", lang), key="site_map_html", on_click="ignore",
                            data=lambda: full_map_html(state, tiles, lang).encode("utf-8"),
                            file_name="siting_map.html", mime="text/html")
    if find_chromium():
        cols[2].download_button(t("download_map_png", lang), key="site_map_png",
                                on_click="ignore", file_name="siting_map.png", mime="image/png",
                                data=lambda: map_png(full_map_html(state, tiles, lang),
                                                     title=t("siting", lang), lang=lang))
    report_buttons(state, tiles, lang)


def report_buttons(state: dict, tiles: str, lang: str) -> None:
    """The proposal package and report downloads, made when asked for."""
    from geo_app.io.render import find_chromium
    from geo_app.io.report import proposal_report_html, proposal_report_pdf, proposal_zip_bytes

    def make(write, **more):
        def data():
            map_html = full_map_html(state, tiles, lang)
            run, result = state["run"], state["result"]
            ev = evaluate(run, list(state["proposal"]))
            return write(run, result, ev, lang=lang, parameters=state["params"],
                         map_html=map_html, **report_extras(state, map_html), **more)
        return data

    cols = st.columns(3)
    cols[0].download_button(t("download_package", lang), on_click="ignore",
                            data=make(proposal_zip_bytes, network_edits=state.get("edits"),
                                      walker_profile=state["params"].get("profile")),
                            file_name="siting_proposal.zip",
                            mime="application/zip", key="site_zip")
    cols[1].download_button(t("download_report", lang), on_click="ignore",
                            data=make(proposal_report_html), file_name="siting_report.html",
                            mime="text/html", key="site_report")
    if find_chromium():
        cols[2].download_button(t("download_pdf", lang), on_click="ignore",
                                data=make(proposal_report_pdf), file_name="siting_report.pdf",
                                mime="application/pdf", key="site_pdf")


def report_extras(state: dict, map_html: str) -> dict:
    """The report's map image and coverage before/after by category (computed once per
    proposal, when a download is first asked for)."""
    from geo_app.io.render import find_chromium, html_to_png
    from geo_app.ui.scenarios import before_after_queued
    from geo_app.workflows import runs

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
        try:
            table = before_after_queued(state, sites)
        except runs.RunRefused:  # the server is full: this report goes without the table
            return {"map_png": png, "before_after": None}
        cached.clear()
        cached[key] = {"map_png": png, "before_after": table}
    return cached[key]
