"""The scorecard page's tables and charts (:mod:`geo_app.ui.scorecard`): the zones side by
side with a bar chart and small-multiple maps, region groups, and the 2027 targets with their
progress bars, per-zone table and the editor of marked facilities."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_app.io.display import on_screen
from geo_app.io.scorecard import column_label, display, display_kinds
from geo_app.labels import t
from geo_app.maps.scorecard import MAP_METRICS, bar_chart, small_multiples
from geo_app.ui.common import LOAD_ERRORS, show_error
from geo_app.workflows.targets import empty_marks

CHART_METRICS = ("share_basket", "circles_meeting", "facilities_per_10k", "hubs_per_10k",
                 "residents", "residents_census", "business_circles", "logistics_bases",
                 "clusters")


def card_section(card, result, lang: str) -> None:
    """The scorecard table sorted by a chosen metric, its bars, region groups and maps."""
    z = card.views["scorecard"]
    st.subheader(t("card_table_heading", lang) if card.zone_kind == "district"
                 else t("card_table_heading_zones", lang))
    if result is not None and any(w.key == "warn_scorecard_outside" for w in card.warnings):
        st.info(t("card_outside_note", lang))
    options = [m for m in (*CHART_METRICS, *(f"share_{c}" for c in card.categories))
               if m in z.columns and z[m].notna().any()]
    if st.session_state.get("card_metric") not in options:  # one that tells zones apart
        varied = [m for m in options if z[m].nunique(dropna=True) > 1]
        st.session_state["card_metric"] = (varied or options)[0]
    metric = st.selectbox(t("card_metric", lang), options, key="card_metric",
                          format_func=lambda m: column_label(m, lang))
    order = z.sort_values(metric, ascending=False, na_position="last")
    shown = order.drop(columns=[c for c in order.columns if c.startswith("share_")
                                and c != "share_basket" and c != metric])
    st.dataframe(**screen_view(shown, lang), height=420)
    st.altair_chart(bar_chart(card, metric, lang), width="stretch")
    if "regions" in card.views:
        st.markdown(f"**{t('card_sheet_regions', lang)}**")
        st.caption(t("card_regions_note", lang))
        st.dataframe(**screen_view(card.views["regions"], lang))
    st.markdown(f"**{t('card_maps', lang)}**")
    metrics = [m for m in MAP_METRICS if m in z.columns and z[m].notna().any()]
    if metric not in metrics:
        metrics = [*metrics[:3], metric]
    tol = 0.01 if card.zone_kind == "district" else 0.0
    st.altair_chart(small_multiples(card, metrics, lang, tolerance=tol), width="content")


def screen_view(frame: pd.DataFrame, lang: str) -> dict:
    """``st.dataframe`` arguments of a scorecard view: labelled, numbers as a planner writes
    them, "—" for an empty value."""
    return on_screen(display(frame, lang), display_kinds(frame, lang))


def targets_section(card, marks: pd.DataFrame, lang: str, save) -> None:
    """Progress bars per target, the per-zone table, and the marked facilities."""
    st.subheader(t("card_targets_heading", lang))
    st.caption(t("card_targets_note", lang))
    tb = card.views["targets"]
    for r in tb.itertuples(index=False):
        name = r.name_zh if lang == "zh" else r.name_en
        text = t("card_target_line", lang).format(
            name=name, achieved=f"{r.achieved:g}", needed=f"{r.needed:g}", unit=r.unit_zh,
            proposed=f"{r.proposed:g}", candidates=f"{r.candidates:g}", section=r.section)
        st.progress(float(min(max(r.progress_with_proposed, 0.0), 1.0)), text=text)
    by = card.views["targets_by_zone"]
    if len(by):
        names = dict(zip(tb["id"], tb["name_zh" if lang == "zh" else "name_en"]))
        wide = by.assign(target=by["id"].map(names),
                         value=by["achieved"] + by["proposed"]).pivot_table(
            index="zone", columns="target", values="value", aggfunc="sum", fill_value=0)
        st.markdown(f"**{t('card_sheet_targets_by_zone', lang)}**")
        st.dataframe(wide.reset_index().rename(columns={"zone": column_label("zone", lang)}),
                     width="stretch", hide_index=True)
    with st.expander(t("card_marks_heading", lang)):
        st.caption(t("card_marks_note", lang))
        zones = list(card.views["scorecard"]["zone"].astype(str))
        editor = st.data_editor(
            marks if len(marks) else empty_marks(), num_rows="dynamic", key="card_marks_editor",
            width="stretch", column_config={
                "target": st.column_config.SelectboxColumn(
                    column_label("id", lang), options=list(tb["id"]), required=True),
                "status": st.column_config.SelectboxColumn(
                    column_label("status", lang), options=["built", "proposed"], required=True,
                    format_func=lambda k: t(f"mark_{k}", lang)),
                "district": st.column_config.SelectboxColumn(column_label("district", lang),
                                                             options=zones)})
        if st.button(t("card_marks_save", lang), key="card_marks_save"):
            try:
                save(editor.dropna(how="all"))
            except LOAD_ERRORS as exc:
                show_error(exc)
            else:
                st.session_state.pop("card_cache", None)
                st.rerun()
