"""The overview page: districts, business circles, logistics bases and clusters."""

from __future__ import annotations

import streamlit as st

from geo_app.labels import t
from geo_app.maps.base import CHOROPLETH_VARIABLES, overview_map
from geo_app.ui.common import L, base_layers, show_map, tiles_choice
from geo_app.workflows.base_layers import layer_summary, table_for_display


def overview_page() -> None:
    lang = L()
    base = base_layers()
    st.sidebar.header(t("layers_heading", lang))
    shown = [key for key in base.places
             if st.sidebar.checkbox(t(key, lang), value=True, key=f"show_{key}")]
    choropleth = st.sidebar.selectbox(t("choropleth", lang), CHOROPLETH_VARIABLES,
                                      format_func=lambda k: t(k, lang), key="choropleth")
    tiles = tiles_choice()
    st.caption(t("data_note", lang))
    show_map(overview_map(base.districts, {k: base.places[k] for k in shown},
                          choropleth=choropleth, lang=lang, tiles=tiles),
             "chongqing_overview.html", "overview_map")

    table_keys = ["districts", *base.places]
    table_key = st.selectbox(t("show_table", lang), table_keys, format_func=lambda k: t(k, lang),
                             key="table_layer")
    st.subheader(f"{t('table_of', lang)} · {t(table_key, lang)}")
    st.dataframe(table_for_display(base.get(table_key)), width="stretch", hide_index=True)

    with st.expander(t("source", lang)):
        st.dataframe(layer_summary(base, lang), width="stretch", hide_index=True)
