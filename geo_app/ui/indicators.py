"""The indicators page: 城市体检 / GB 50180 indicators and standards compliance of the
coverage result the coverage page made last."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_app.io.display import on_screen
from geo_app.io.indicators import (
    compliance_display,
    definitions_display,
    display_table,
    xlsx_bytes,
)
from geo_app.labels import facility_label, t
from geo_app.maps.indicators import indicator_map, mapped_indicators
from geo_app.ui.common import L, saved_upload, show_error, show_map, tiles_choice
from geo_app.workflows.indicators import load_inputs, run_indicators

KEPT = 3  # indicator results kept in the session
LAND_UPLOADS = ("residential_land", "parks", "greenways")


def current_coverage() -> tuple[object, str] | tuple[None, None]:
    """The coverage result the coverage page made last and its network file (the first
    part of the key the page keeps it under), or (None, None) before any run."""
    results = st.session_state.get("cov_results") or {}
    if not results:
        return None, None
    key, entry = list(results.items())[-1]
    return entry["result"], str(key[0])


def _land_choices(network: str, lang: str) -> dict:
    """Sidebar: the residential land, parks and greenways to measure on."""
    osm = network.lower().endswith((".pbf", ".osm", ".xml"))
    use_osm = st.sidebar.checkbox(t("ind_land_osm", lang), value=osm, disabled=not osm,
                                  key="ind_land_osm")
    from_osm = network if use_osm and osm else None
    specs = {"residential_land": from_osm, "parks": from_osm, "greenways": None}
    labels = {"residential_land": "ind_upload_land", "parks": "ind_upload_parks",
              "greenways": "ind_upload_greenways"}
    for kind in LAND_UPLOADS:
        f = st.sidebar.file_uploader(t(labels[kind], lang), key=f"ind_{kind}",
                                     type=["geojson", "json", "gpkg", "csv", "pbf", "osm"])
        if f is not None:
            path = saved_upload("candidates", f)
            if path is not None:
                specs[kind] = path
    return specs


def _compute(result, year, specs: dict, lang: str):
    """The indicator result for these choices, computed once and kept in the session."""
    kept = st.session_state.setdefault("ind_results", {})
    key = (id(result), year, tuple(sorted((k, str(v)) for k, v in specs.items())), lang)
    if key not in kept:
        datum = (st.session_state.get("data") or {}).get("datum", "wgs84")
        inputs = load_inputs(result, **specs, datum=datum)
        kept[key] = run_indicators(inputs, year=year, lang=lang)
        while len(kept) > KEPT:
            kept.pop(next(iter(kept)))
    return kept[key]


def _first_mixed(ind, options: list[str]) -> str:
    """The first indicator some units meet and some fail (a map worth looking at first)."""
    values = ind.study_area().set_index("indicator")["value_pct"]
    mixed = [i for i in options if 0 < values.get(i, 0) < 100]
    return (mixed or options)[0]


def _chart(area: pd.DataFrame, lang: str) -> None:
    """Bars of the study area's values with a tick at each reference target."""
    import altair as alt

    name = "name_zh" if lang == "zh" else "name_en"
    data = pd.DataFrame({"name": area[name], "value": area["value_pct"],
                         "target": area["target_pct"]}).dropna(subset=["value"])
    y = alt.Y("name:N", sort=None, title=None,
              axis=alt.Axis(labelLimit=360, labelOverlap=False))
    bars = alt.Chart(data).mark_bar(color="#4575b4").encode(
        x=alt.X("value:Q", title=t("ind_value", lang), scale=alt.Scale(domain=[0, 100])),
        y=y, tooltip=["name", "value", "target"])
    ticks = alt.Chart(data.dropna(subset=["target"])).mark_tick(
        color="#d73027", thickness=3, size=18).encode(x="target:Q", y=y)
    st.altair_chart((bars + ticks).properties(height=alt.Step(26)), width="stretch")


def _percent_columns(lang: str) -> dict:
    """The indicator table's columns already in percent (one decimal on screen)."""
    return {t("ind_value", lang): "percent", t("ind_target", lang): "percent"}


def indicators_page() -> None:
    lang = L()
    result, network = current_coverage()
    if result is None:
        st.info(t("ind_no_coverage", lang))
        return
    st.sidebar.header(t("parameters", lang))
    year = st.sidebar.number_input(t("ind_year_input", lang), min_value=1990, max_value=2100,
                                   value=None, step=1, key="ind_year")
    specs = _land_choices(network, lang)
    tiles = tiles_choice()
    try:
        ind = _compute(result, None if year is None else int(year), specs, lang)
    except ValueError as exc:  # a land file that fails its checks names file, row, column
        show_error(exc)
        return
    st.info(t("ind_verify_note", lang))

    st.subheader(t("ind_chart", lang))
    _chart(ind.study_area(), lang)

    st.subheader(t("ind_table", lang))
    kinds = list(dict.fromkeys(ind.table["zone_type"]))
    kind = st.selectbox(t("ind_zone_type", lang), kinds, key="ind_zone_type",
                        format_func=lambda k: t(f"zone_{k}", lang))
    st.dataframe(**on_screen(display_table(ind.table[ind.table["zone_type"] == kind], lang),
                             _percent_columns(lang)))

    st.subheader(t("ind_map", lang))
    options = mapped_indicators(ind)
    names = dict(zip(ind.definitions["id"],
                     ind.definitions["name_zh" if lang == "zh" else "name_en"]))
    if options:
        if st.session_state.get("ind_map_indicator") not in options:
            st.session_state["ind_map_indicator"] = _first_mixed(ind, options)
        chosen = st.selectbox(t("ind_map_indicator", lang), options, key="ind_map_indicator",
                              format_func=lambda k: names.get(k, k))
        show_map(indicator_map(ind, chosen, lang=lang, tiles=tiles),
                 f"indicator_{chosen}.html", "indicator_map")

    st.subheader(t("ind_compliance", lang))
    comp_kinds = list(dict.fromkeys(ind.compliance["zone_type"]))
    st.dataframe(**on_screen(compliance_display(ind.compliance, ind.standards, lang,
                                                kind if kind in comp_kinds else "study_area")))
    groups = ind.coverage_groups
    if len(groups) and (groups["group"] != "all").any():
        st.subheader(t("ind_coverage_groups", lang))
        area = groups[groups["zone_type"] == "study_area"]
        wide = area.pivot_table(index="category", columns="group", values="share_pct",
                                sort=False).reset_index()
        wide["category"] = [facility_label(c, lang) for c in wide["category"]]
        wide.columns = [t("category", lang) if c == "category" else t(f"group_{c}", lang)
                        for c in wide.columns]
        st.dataframe(**on_screen(wide, {c: "percent" for c in wide.columns[1:]}))
    with st.expander(t("ind_rule", lang) + " · " + t("ind_source", lang)):
        st.dataframe(definitions_display(ind.table, lang), width="stretch", hide_index=True)
    _downloads(ind, lang)


def _downloads(ind, lang: str) -> None:
    from geo_app.io.display import people_csv
    from geo_app.io.render import find_chromium
    from geo_app.io.report import indicators_report_html, indicators_report_pdf

    cols = st.columns(4)
    cols[0].download_button(t("ind_download_xlsx", lang), data=lambda: xlsx_bytes(ind),
                            file_name="indicators.xlsx", key="ind_xlsx", on_click="ignore",
                            mime="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    cols[1].download_button(t("ind_download_csv", lang), data=people_csv(ind.table),
                            file_name="indicators.csv", mime="text/csv", key="ind_csv",
                            on_click="ignore")
    cols[2].download_button(t("ind_download_report", lang), on_click="ignore",
                            data=lambda: indicators_report_html(ind, lang=lang),
                            file_name="indicators_report.html", mime="text/html",
                            key="ind_report")
    if find_chromium():
        cols[3].download_button(t("ind_download_pdf", lang), on_click="ignore",
                                data=lambda: indicators_report_pdf(ind, lang=lang),
                                file_name="indicators_report.pdf", mime="application/pdf",
                                key="ind_pdf")
