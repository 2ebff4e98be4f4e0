"""The overview page: where to start (three steps), then Chongqing's districts, business circles,
logistics bases and clusters."""

from __future__ import annotations

import streamlit as st

from geo_app.labels import t
from geo_app.ui.common import L, data_choice, network_is_sample

STEPS = (("start_step_data", "start_step_data_text", "start_go_data", "data"),
         ("start_step_analysis", "start_step_analysis_text", "start_go_coverage", "coverage"),
         ("start_step_plan", "start_step_plan_text", "start_go_siting", "siting"))


def _go(page: str) -> None:
    st.session_state["page"] = page


def landing() -> None:
    """The three steps, each with a button to its page, and what the analysis data is."""
    lang = L()
    st.subheader(t("start_heading", lang))
    for col, (title, text, go, page) in zip(st.columns(3), STEPS):
        with col.container(border=True):
            st.markdown(f"**{t(title, lang)}**")
            st.caption(t(text, lang))
            st.button(t(go, lang), key=f"start_{page}", on_click=_go, args=(page,),
                      type="primary" if page == "data" else "secondary")
    data = data_choice()
    if network_is_sample(data):
        st.info(t("start_sample_note", lang))
    else:
        st.info(t("start_own_data_note", lang).format(source=t("data_" + data["source"], lang)))


def overview_page() -> None:
    lang = L()
    landing()  # drawn before the map's libraries load: the first content within a second or two
    from geo_app.maps.base import CHOROPLETH_VARIABLES, overview_map
    from geo_app.ui.common import base_layers, show_map, tiles_choice
    from geo_app.workflows.base_layers import layer_summary, table_for_display

    base = base_layers()
    st.sidebar.header(t("layers_heading", lang))
    shown = [key for key in base.places
             if st.sidebar.checkbox(t(key, lang), value=True, key=f"show_{key}")]
    choropleth = st.sidebar.selectbox(t("choropleth", lang), CHOROPLETH_VARIABLES,
                                      format_func=lambda k: t(k, lang), key="choropleth")
    tiles = tiles_choice()
    st.caption(f"{t('overview_map_note', lang)} {t('data_note', lang)}")
    show_map(overview_map(base.districts, {k: base.places[k] for k in shown},
                          choropleth=choropleth, lang=lang, tiles=tiles),
             "chongqing_overview.html", "overview_map", data_base=False)

    table_keys = ["districts", *base.places]
    table_key = st.selectbox(t("show_table", lang), table_keys, format_func=lambda k: t(k, lang),
                             key="table_layer")
    st.subheader(f"{t('table_of', lang)} · {t(table_key, lang)}")
    st.dataframe(table_for_display(base.get(table_key)), width="stretch", hide_index=True)

    with st.expander(t("source", lang)):
        st.dataframe(layer_summary(base, lang), width="stretch", hide_index=True)
