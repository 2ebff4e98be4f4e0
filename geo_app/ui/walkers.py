"""The 适老化 view on the coverage page: the same coverage for every walker side by side, the
categories where the elderly and wheelchair users fall behind, a chart, a map and a report."""

from __future__ import annotations

import streamlit as st

from geo_app.labels import facility_label, t
from geo_app.ui.common import L, show_error, show_map
from geo_app.ui.served import heavy_run, md, show_refused
from geo_app.ui.state import RunProgress
from geo_app.workflows import runs

RESULTS = "wk_results"  # run key -> (table, {walker: CoverageResult}), the newest only


def walkers_section(inputs, key: tuple, *, graph_of, minutes, area_type: str,
                    dem: str | None, dem_partial: bool, tiles: str) -> None:
    """``graph_of(walker)``: the page's cached walk graph of that walker."""
    lang = L()
    st.subheader(t("wk_heading", lang))
    st.caption(t("wk_intro", lang))
    results = st.session_state.setdefault(RESULTS, {})
    pressed = st.button(t("wk_run", lang), key="wk_run")
    slot = st.empty()
    if pressed and key not in results:
        _compare(inputs, key, results, slot, graph_of=graph_of, minutes=minutes,
                 area_type=area_type, dem=dem, dem_partial=dem_partial)
    done = results.get(key)
    if done is not None:
        _show(*done, tiles=tiles, lang=lang)


def _compare(inputs, key, results, slot, *, graph_of, **options) -> None:
    from geo_app.workflows.profile_compare import profile_runs, walker_names

    lang = L()
    names = walker_names()
    bar = RunProgress("wk_running", slot)
    cats = inputs.categories or inputs.facilities["category"].unique()
    need = runs.coverage_bytes(len(inputs.network.edges), len(inputs.demand),
                               len(inputs.facilities), len(cats))
    try:
        with heavy_run("coverage", need, slot) as ticket:
            bar = RunProgress("wk_running", slot, bar.started)

            def progress(f, _what):
                ticket.check()
                k = min(int(f * len(names)), len(names) - 1)
                bar.progress(min(max(f, 0.0), 1.0), text=t("wk_running_one", lang).format(
                    walker=t(f"profile_{names[k]}", lang), k=k + 1, n=len(names)))

            done = profile_runs(inputs, profiles=names, progress=progress, graphs=graph_of,
                                **options)
    except runs.RunRefused as exc:
        slot.empty()
        show_refused(exc)
        return
    except ValueError as exc:
        slot.empty()
        show_error(exc)
        return
    slot.empty()
    results.clear()
    results[key] = done


def _chart(table, lang: str):
    import altair as alt
    import pandas as pd

    from geo_app.io.walker_report import COLOURS, walkers_of

    walkers = walkers_of(table)
    rows = [{t("category", lang): facility_label(c, lang), t("wk_walker", lang):
             t(f"profile_{w}", lang), t("wk_share", lang): float(s)}
            for c, *shares in zip(table["category"], *(table[f"share_{w}"] for w in walkers))
            for w, s in zip(walkers, shares)]
    data = pd.DataFrame(rows)
    order = [t(f"profile_{w}", lang) for w in walkers]
    return alt.Chart(data, title=t("wk_chart", lang)).mark_bar().encode(
        y=alt.Y(f"{t('category', lang)}:N", sort=None, title=None),
        yOffset=alt.YOffset(f"{t('wk_walker', lang)}:N", sort=order),
        x=alt.X(f"{t('wk_share', lang)}:Q", axis=alt.Axis(format="%"), title=None,
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color(f"{t('wk_walker', lang)}:N", sort=order, title=None,
                        scale=alt.Scale(domain=order, range=[COLOURS.get(w, "#999")
                                                             for w in walkers]),
                        legend=alt.Legend(orient="top")),
        tooltip=[f"{t('category', lang)}:N", f"{t('wk_walker', lang)}:N",
                 alt.Tooltip(f"{t('wk_share', lang)}:Q", format=".1%")],
    ).properties(height=alt.Step(7))


def _show(table, by_walker: dict, *, tiles: str, lang: str) -> None:
    from geo_app.io.display import people_csv
    from geo_app.io.walker_report import display_table, largest_drops
    from geo_app.maps.edit_compare import reach_difference_map
    from geo_app.workflows.profile_compare import reach_difference

    st.info(md(largest_drops(table, lang)))
    st.dataframe(display_table(table, lang), hide_index=True, width="stretch")
    st.altair_chart(_chart(table, lang), width="stretch")
    slower = [w for w in by_walker if w != "adult"]
    cols = st.columns(2)
    options = [*next(iter(by_walker.values())).categories, "basket"]
    if st.session_state.get("wk_category") not in options:
        st.session_state["wk_category"] = "basket"
    category = cols[0].selectbox(t("map_category", lang), options,
                                 format_func=lambda c: facility_label(c, lang), key="wk_category")
    walker = cols[1].selectbox(t("wk_map_walker", lang), slower,
                               format_func=lambda w: t(f"profile_{w}", lang), key="wk_walker")
    status = reach_difference(by_walker, category, walker)[category].to_numpy()
    title = f"{t('wk_map', lang)} · {facility_label(category, lang)} · {t(f'profile_{walker}', lang)}"
    standalone = show_map(reach_difference_map(status, by_walker[walker].demand, category=category,
                                               walker=walker, lang=lang, tiles=tiles),
                          f"walkers_{category}_{walker}.html", "wk_map", title=title)
    _downloads(table, standalone, title, lang, people_csv)


def _downloads(table, standalone: str | None, title: str, lang: str, people_csv) -> None:
    from geo_app.io.render import find_chromium
    from geo_app.io.walker_report import walkers_report_html, walkers_report_pdf

    def picture():
        if standalone is None or not find_chromium():
            return None
        from geo_app.io.print_map import map_png

        try:
            return map_png(standalone, title=title, lang=lang)
        except RuntimeError:
            return None

    cols = st.columns(3)
    cols[0].download_button(t("wk_download_csv", lang), data=people_csv(table),
                            file_name="walkers.csv", mime="text/csv", key="wk_csv",
                            on_click="ignore")
    cols[1].download_button(t("wk_download_html", lang), on_click="ignore",
                            data=lambda: walkers_report_html(table, lang=lang,
                                                             map_png=picture()).encode("utf-8"),
                            file_name="walkers_report.html", mime="text/html", key="wk_html")
    if find_chromium():
        cols[2].download_button(t("wk_download_pdf", lang), on_click="ignore",
                                data=lambda: walkers_report_pdf(table, lang=lang,
                                                                map_png=picture()),
                                file_name="walkers_report.pdf", mime="application/pdf",
                                key="wk_pdf")
