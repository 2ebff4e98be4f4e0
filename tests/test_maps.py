"""Overview map: every layer and district present, offline assets, legends."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from geo_app.maps import classify, district_colours, overview_map
from geo_app.offline import (
    OfflineAssetError,
    external_refs,
    inline_assets,
    localize_links,
    render_offline,
    save_offline_html,
)


def readable(html: str) -> str:
    """The page with JSON \\uXXXX escapes decoded, as the browser shows it."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


@pytest.fixture(scope="module")
def overview_html(base_layers) -> str:
    m = overview_map(base_layers.districts, base_layers.places, choropleth="pop_2020", lang="zh")
    return readable(render_offline(m))


def test_html_names_every_layer_and_district(overview_html, base_layers):
    for label in ("区县 · 常住人口(2020普查)", "商圈 (14)", "物流基地 (17)", "服务业集聚区 (24)"):
        assert label in overview_html
    for name in base_layers.districts["name_zh"]:
        assert name in overview_html, name
    for gdf in base_layers.places.values():
        for name in gdf.loc[gdf.geometry.notna(), "name_zh"]:
            assert name in overview_html, name


def test_unlocated_point_is_counted_not_dropped(overview_html):
    assert "1 无坐标未显示" in overview_html  # CL11 has no coordinate


def test_html_needs_no_network(overview_html):
    assert external_refs(overview_html) == []
    assert "L.map(" in overview_html
    # Leaflet itself is inlined
    assert re.search(r"<script>\s*/\*\s*@preserve\s*\* Leaflet 1\.9", overview_html)


def test_english_labels(base_layers):
    m = overview_map(base_layers.districts, base_layers.places, choropleth="region_group",
                     lang="en")
    html = readable(render_offline(m))
    for label in ("Business circles (14)", "Central urban", "Yuzhong", "Blank (offline)"):
        assert label in html


def test_inline_refuses_unknown_cdn():
    with pytest.raises(OfflineAssetError, match="no offline copy"):
        inline_assets('<script src="https://cdn.example.com/x.js"></script>')


def test_save_is_atomic(tmp_path, base_layers, monkeypatch):
    out = tmp_path / "map.html"
    m = overview_map(base_layers.districts, {}, lang="zh")
    save_offline_html(m, out)
    before = out.read_bytes()
    import geo_app.offline as offline

    def broken(_m):
        raise RuntimeError("render failed")

    monkeypatch.setattr(offline, "render_offline", broken)
    with pytest.raises(RuntimeError):
        offline.save_offline_html(m, out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_localize_links_writes_local_copies(tmp_path, base_layers):
    m = overview_map(base_layers.districts, base_layers.places)
    urls = localize_links(m, tmp_path, "/app/static/")
    assert urls and all(u.startswith("/app/static/") for u in urls)
    names = {p.name for p in tmp_path.iterdir()}
    assert any(n.endswith("leaflet.js") for n in names)
    assert any(n.endswith("leaflet.css") for n in names)
    js = next(p for p in tmp_path.iterdir() if p.name.endswith("leaflet.js")).read_text()
    assert "Leaflet" in js and len(js) > 100_000


def test_classify_quantiles():
    cls, breaks = classify(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan]), n=5)
    assert breaks[0] == 1 and breaks[-1] == 10
    assert cls[-1] == -1
    assert list(cls[:10]) == sorted(cls[:10])
    assert set(cls[:10]) == {0, 1, 2, 3, 4}


def test_choropleth_colours_and_legend(base_layers):
    colours, rows = district_colours(base_layers.districts, "pop_2020", "zh")
    assert len(colours) == 38
    assert colours.count("#d9d9d9") == 5  # the five units without a census figure
    assert rows[-1][1] == "无数据 (5)"
    colours, rows = district_colours(base_layers.districts, "region_group", "zh")
    assert len(set(colours)) == 4 and len(rows) == 4
    with pytest.raises(ValueError, match="expected one of"):
        district_colours(base_layers.districts, "gdp", "zh")
