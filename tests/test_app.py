"""Streamlit AppTest: the overview page and its widgets run without exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture()
def app():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


def test_opens_on_overview_in_chinese(app):
    assert app.title[0].value == "重庆15分钟生活圈规划工具"
    assert [c.label for c in app.sidebar.checkbox] == ["商圈", "物流基地", "服务业集聚区"]
    assert app.dataframe[0].value.shape[0] == 38  # district table under the map


def test_every_widget(app):
    app.sidebar.radio(key="lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Chongqing 15-minute life-circle planner"
    for value in ("density_per_km2", "region_group", "pop_2020"):
        app.sidebar.selectbox(key="choropleth").set_value(value).run()
        assert not app.exception
    app.sidebar.selectbox(key="tiles").set_value("osm").run()
    for key in ("show_business_circles", "show_logistics_bases", "show_clusters"):
        app.sidebar.checkbox(key=key).uncheck().run()
        assert not app.exception
    for key, rows in (("business_circles", 14), ("logistics_bases", 17), ("clusters", 25)):
        app.selectbox(key="table_layer").set_value(key).run()
        assert not app.exception
        assert app.dataframe[0].value.shape[0] == rows
