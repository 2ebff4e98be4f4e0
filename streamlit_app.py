"""Streamlit front end: the language, the page choice, and the page (see geo_app/ui)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="重庆15分钟生活圈 · Chongqing life circles", layout="wide")

from geo_app.labels import LANGS, t  # noqa: E402  (after set_page_config)
from geo_app.ui import clusters, coverage, data, overview, siting  # noqa: E402
from geo_app.ui.common import area_caption  # noqa: E402

PAGES = {"overview": overview.overview_page, "data": data.data_page,
         "coverage": coverage.coverage_page, "siting": siting.siting_page,
         "cluster_maps": clusters.clusters_page}

lang = st.sidebar.radio("语言 / Language", LANGS, format_func=lambda k: {"zh": "中文", "en": "English"}[k],
                        horizontal=True, key="lang")
page = st.sidebar.radio(t("page", lang), list(PAGES), key="page",
                        format_func=lambda k: f"{t(k, 'zh')} / {t(k, 'en')}")
area_caption()
st.title(t("title", lang))
if page != "overview":
    st.header(t(page, lang))
PAGES[page]()
