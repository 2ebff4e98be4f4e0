"""Two saved siting scenarios compared: each side's parameters, summary and map, then A − B
for each metric and category and a map of the sites that differ."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo_app.io.display import fmt_persons, fmt_share, fmt_signed
from geo_app.labels import t
from geo_app.ui.common import L, show_map
from geo_app.ui.scenarios import sites_only_map
from geo_app.ui.served import md
from geo_app.workflows.inputs import hide_paths
from geo_app.workflows.proposals import summary_rows


def difference_rows(a, b, lang: str) -> pd.DataFrame:
    """The comparison table for people: metric, category, A, B and A − B, formatted."""
    from geo_app.labels import facility_label
    from geo_app.workflows.scenario_compare import compare_table

    table = compare_table(a, b)
    names = {"n_proposed": "n_proposed", "residents_total": "residents_total",
             "covered_before": "covered_before", "newly_covered": "newly_covered",
             "covered_after": "cmp_covered_after", "share_after": "cmp_share_after"}

    def value(v: float, unit: str) -> str:
        return "—" if pd.isna(v) else fmt_share(v) if unit == "share" else fmt_persons(v)

    def diff(v: float, unit: str) -> str:
        if pd.isna(v):
            return "—"
        if unit == "share":
            pp = round(100 * v, 1) + 0.0
            return f"{pp:+.1f} {t('cmp_points', lang)}" if pp else f"0.0 {t('cmp_points', lang)}"
        return fmt_signed(v)

    return pd.DataFrame({
        t("cmp_metric", lang): [t(names[m], lang) for m in table["metric"]],
        t("cmp_category", lang): [facility_label(c, lang) if c else t("cmp_all", lang)
                                  for c in table["category"]],
        f"A · {a.name}": [value(v, u) for v, u in zip(table["a"], table["unit"])],
        f"B · {b.name}": [value(v, u) for v, u in zip(table["b"], table["unit"])],
        t("cmp_diff", lang): [diff(v, u) for v, u in zip(table["diff"], table["unit"])]})


def compare_both(a, b, tiles: str) -> None:
    """A − B for each metric and category, and a map of the sites that differ."""
    from geo_app.maps.siting import difference_map
    from geo_app.workflows.scenario_compare import sites_difference

    lang = L()
    st.subheader(t("cmp_title", lang))
    st.dataframe(difference_rows(a, b, lang), width="stretch", hide_index=True,
                 key="site_cmp_table")
    for sc in (a, b):
        if "by_category" not in sc.tables:
            st.caption(f"{md(sc.name)}: {t('cmp_no_category', lang)}")
    st.markdown(f"**{t('cmp_map_title', lang)}**")
    diff = sites_difference(a.sites, b.sites)
    show_map(difference_map(diff, names=(a.name, b.name), lang=lang, tiles=tiles), None,
             "site_cmp_diff_map", height=420)


def compare_one(sc, tiles: str, side: str) -> None:
    lang = L()
    p = sc.params
    shown = {"objective": t(str(p.get("objective")), lang),
             "n_sites": fmt_persons(len(sc.sites)),  # the sites saved, edits included
             "minutes": f"{float(p.get('minutes') or 0):g} {t('minutes_unit', lang)}",
             "candidates": candidates_text(p.get("candidates"), lang)}
    st.caption(" · ".join(f"{t(k, lang)}: {v}" for k, v in shown.items()))
    if "summary" in sc.tables:
        st.table(summary_rows(sc.tables["summary"], lang), hide_index=True)
    kept = st.session_state.get("site_runs", {}).get(sc.name)
    if kept is not None:
        from geo_app.maps.siting import siting_map
        from geo_app.workflows.siting import siting_view

        run, existing, proposal = kept
        m = siting_map(siting_view(run, proposal), existing=existing, lang=lang, tiles=tiles,
                       compact=True)
    else:  # saved in an earlier session: the sites, without recomputing coverage
        m = sites_only_map(sc.sites, lang, tiles)
    show_map(m, None, f"site_cmp_map_{side}", height=380)


def candidates_text(spec, lang: str) -> str:
    """Where the candidates came from, in words (a grid and its spacing, OSM, a file)."""
    spec = hide_paths(str(spec or ""))
    if spec.startswith("grid:"):
        return f"{t('cand_grid', lang)} {float(spec.split(':', 1)[1]):g} m"
    if spec == "osm":
        return t("cand_osm", lang)
    return f"{t('cand_file', lang)} {spec}" if spec else "—"
