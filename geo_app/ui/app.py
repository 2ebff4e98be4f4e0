"""The Streamlit app: the language, the page choice, and the page.

``streamlit run`` needs a script file: the checkout's ``streamlit_app.py`` and the launcher that
``geo-app serve`` writes under the user's data folder both only call :func:`main`. Streamlit serves
the ``static/`` folder beside that script (Leaflet and its plugins, copied from folium-offline).
Only the shown page's module is imported, so the first page draws before the heavy libraries
(geopandas, folium) of the others load.
"""

from __future__ import annotations

from importlib import import_module

# page key -> (module under geo_app.ui, function drawing it)
PAGES = {"overview": ("overview", "overview_page"), "data": ("data", "data_page"),
         "coverage": ("coverage", "coverage_page"), "indicators": ("indicators", "indicators_page"),
         "siting": ("siting", "siting_page"), "scorecards": ("scorecard", "scorecard_page"),
         "cluster_maps": ("clusters", "clusters_page")}


def main() -> None:
    """Draw one run of the app (called by the entry script on every rerun)."""
    import streamlit as st

    st.set_page_config(page_title="重庆15分钟生活圈 · Chongqing life circles", layout="wide")

    from geo_app.labels import LANGS, t
    from geo_app.ui.state import chinese_widgets, keep_widgets, run_finished

    keep_widgets()  # widget values kept across pages, reruns and a language switch
    lang = st.sidebar.radio("语言 / Language", LANGS, horizontal=True, key="lang",
                            format_func=lambda k: {"zh": "中文", "en": "English"}[k])
    chinese_widgets(lang)  # Streamlit's own words in the file uploader, in the session's language
    from geo_app.ui.served import start_session, store

    store()  # sign-in first where configured; a session's own project store otherwise
    start_session()  # its upload folder kept fresh; old folders and stores swept
    page = st.sidebar.radio(t("page", lang), list(PAGES), key="page",
                            format_func=lambda k: t(k, lang))
    st.title(t("title", lang))
    from geo_app.ui.common import area_caption

    area_caption(page)
    if page != "overview":
        st.header(t(page, lang))
    module, function = PAGES[page]
    getattr(import_module(f"geo_app.ui.{module}"), function)()
    run_finished()  # a run cut short (a click while it drew) has its values set again
