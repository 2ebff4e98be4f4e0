"""The Streamlit app: the language, the page choice, and the page.

``streamlit run`` needs a script file: the checkout's ``streamlit_app.py`` and the launcher that
``geo-app serve`` writes under the user's data folder both only call :func:`main`. Streamlit serves
the ``static/`` folder beside that script (Leaflet and its plugins, copied from folium-offline).
"""

from __future__ import annotations


def main() -> None:
    """Draw one run of the app (called by the entry script on every rerun)."""
    import streamlit as st

    st.set_page_config(page_title="重庆15分钟生活圈 · Chongqing life circles", layout="wide")

    from geo_app.labels import LANGS, t
    from geo_app.ui import clusters, coverage, data, indicators, overview, scorecard, siting
    from geo_app.ui.common import area_caption

    pages = {"overview": overview.overview_page, "data": data.data_page,
             "coverage": coverage.coverage_page, "indicators": indicators.indicators_page,
             "siting": siting.siting_page, "scorecards": scorecard.scorecard_page,
             "cluster_maps": clusters.clusters_page}
    lang = st.sidebar.radio("语言 / Language", LANGS, horizontal=True, key="lang",
                            format_func=lambda k: {"zh": "中文", "en": "English"}[k])
    from geo_app.ui.served import start_session, store

    store()  # sign-in first where configured; a session's own project store otherwise
    start_session()  # its upload folder kept fresh; old folders and stores swept
    page = st.sidebar.radio(t("page", lang), list(pages), key="page",
                            format_func=lambda k: f"{t(k, 'zh')} / {t(k, 'en')}")
    area_caption()
    st.title(t("title", lang))
    if page != "overview":
        st.header(t(page, lang))
    pages[page]()
