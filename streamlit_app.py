"""Streamlit front end: widgets and session state only; everything else is in geo_app."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo_app.labels import LANGS, t
from geo_app.maps import CHOROPLETH_VARIABLES, TILES, overview_map
from geo_app.offline import render_offline
from geo_app.pipeline import layer_summary, load_base_layers, table_for_display
from geo_app.webapp import serve_locally

st.set_page_config(page_title="重庆15分钟生活圈 · Chongqing life circles", layout="wide")


@st.cache_resource(show_spinner=False)
def base_layers():
    return load_base_layers()


lang = st.sidebar.radio("语言 / Language", LANGS, format_func=lambda k: {"zh": "中文", "en": "English"}[k],
                        horizontal=True, key="lang")
base = base_layers()
st.sidebar.header(t("layers_heading", lang))
shown = [key for key in base.places
         if st.sidebar.checkbox(t(key, lang), value=True, key=f"show_{key}")]
choropleth = st.sidebar.selectbox(t("choropleth", lang), CHOROPLETH_VARIABLES,
                                  format_func=lambda k: t(k, lang), key="choropleth")
tiles = st.sidebar.selectbox(t("basemap", lang), TILES, format_func=lambda k: t(k, lang),
                             key="tiles")

st.title(t("title", lang))
st.caption(t("data_note", lang))
m = overview_map(base.districts, {k: base.places[k] for k in shown}, choropleth=choropleth,
                 lang=lang, tiles=tiles)
standalone = render_offline(m)  # before the links are pointed at the app's static folder
st_folium(serve_locally(m, st.get_option("server.baseUrlPath")), height=620,
          width=None, returned_objects=[], key="overview_map")

st.download_button(t("download_html", lang), data=standalone.encode("utf-8"),
                   file_name="chongqing_overview.html", mime="text/html")

table_keys = ["districts", *base.places]
table_key = st.selectbox(t("show_table", lang), table_keys, format_func=lambda k: t(k, lang),
                         key="table_layer")
st.subheader(f"{t('table_of', lang)} · {t(table_key, lang)}")
st.dataframe(table_for_display(base.get(table_key)), width="stretch", hide_index=True)

with st.expander(t("source", lang)):
    st.dataframe(layer_summary(base, lang), width="stretch", hide_index=True)
