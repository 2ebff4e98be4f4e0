"""Overview map: every layer and district present, offline assets, legends."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_app.maps.base import classify, district_colours, overview_map
from geo_app.maps.offline import (
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
    import geo_app.maps.offline as offline

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


# ---------------------------------------------------------------- coverage map

def _page(result, **kw) -> str:
    """The coverage map's page as the browser reads it (JSON and HTML escapes decoded)."""
    import html

    from geo_app.maps.coverage import coverage_map

    return html.unescape(readable(render_offline(coverage_map(result, **kw))))


def _counts(result, category):
    fac = result.facilities["category"].astype(str)
    gaps = int((result.gaps["category"] == category).sum())
    iso = int((result.isochrones["category"] == category).sum())
    return int((fac == category).sum()), int((fac != category).sum()), gaps, iso


def test_coverage_map_of_a_category(helsinki_coverage):
    r = helsinki_coverage
    html = _page(r, category="market")
    own, other, gaps, iso = _counts(r, "market")
    assert own > 0 and gaps > 0 and iso == own
    for label in (f"居民点 · 步行时间 · 菜市场与生鲜超市 ({len(r.demand):,})",
                  f"服务缺口(按人口排序) · 菜市场与生鲜超市 ({gaps})",
                  f"步行等时圈 · 菜市场与生鲜超市 ({iso})",
                  f"设施(按类别) · 菜市场与生鲜超市 ({own})", f"其他类别设施 ({other})",
                  f"生活圈(社区服务站) ({len(r.life_circles)})", "空白底图(离线)",
                  "OpenStreetMap(需联网)"):
        assert label in html, label
    # the legend: minute classes up to the market's 10-minute level, then the rest
    for row in ("菜市场与生鲜超市 · 步行时间(分钟)", "≤ 5 分钟", "5–10 分钟", "未覆盖 (> 10 分钟)",
                "距路网过远", "社区卫生服务 (7)", "幼儿园与托育 (0)"):
        assert row in html, row
    assert "15 分钟" not in html
    assert html.count('L.DomUtil.create("div", "cq-legend")') == 2  # classes; categories
    assert "L.control.scale" in html and "L.control.layers" in html
    assert external_refs(html) == []
    assert html.count('"type": "Feature"') < len(r.demand) + len(r.facilities) + gaps + iso + 20


def test_coverage_map_draws_the_service_area_by_default(helsinki_inputs, helsinki_coverage):
    from geo_app.workflows.coverage import run

    r = run(helsinki_inputs)  # isochrones="category": one service area per category
    assert len(r.isochrones) == 0 and list(r.service_areas["category"]) == r.categories
    html = _page(r, category="market")
    assert "步行服务范围 · 菜市场与生鲜超市" in html and "步行等时圈 ·" not in html
    # the service area is the union of the facilities' isochrones (within the 10 m raster)
    own = helsinki_coverage.isochrones
    union = shapely.union_all(own[own["category"] == "market"].to_crs(3067).geometry.values)
    area = r.service_areas.set_index("category").to_crs(3067).geometry["market"]
    assert area.symmetric_difference(union).area < 0.05 * union.area


def test_coverage_map_of_the_basket(helsinki_coverage):
    r = helsinki_coverage
    html = _page(r, category="basket")
    for label in (f"居民点 · 可达设施类别数 · 全部设施(整篮) ({len(r.demand):,})",
                  f"设施(按类别) ({len(r.facilities)})", "0–2 类", "9–11 类", "12 类 (全部)"):
        assert label in html, label
    assert "步行等时圈 ·" not in html  # isochrones belong to one category
    assert "其他类别设施" not in html
    assert external_refs(html) == []


def test_coverage_map_in_english(helsinki_coverage):
    html = _page(helsinki_coverage, category="bus_stop", lang="en", tiles="osm")
    for label in ("Residents · walking time · bus stop", "Walking isochrones · bus stop",
                  "Coverage gaps (ranked by residents) · bus stop", "Not covered (> 5 min)",
                  "Life circles (community hubs)", "Facilities of other categories"):
        assert label in html, label
    own = int((helsinki_coverage.isochrones["category"] == "bus_stop").sum())
    assert own > 40  # more than MAX_ISOCHRONE_TOOLTIPS: drawn dissolved, one tooltip
    assert html.count('"facilities_n": ') == 1


def test_coverage_map_rejects_unknown_category(helsinki_coverage):
    from geo_app.maps.coverage import coverage_map

    with pytest.raises(ValueError, match="unknown category 'pharmacy'"):
        coverage_map(helsinki_coverage, category="pharmacy")


def test_demand_classes():
    from geo_app.maps.coverage import demand_classes, minute_classes

    assert minute_classes(15) == [5, 10, 15]
    assert minute_classes(30) == [5, 10, 15, 30]
    assert minute_classes(12) == [5, 10, 12]
    d = pd.DataFrame({"t_clinic": [60.0, 300.0, 301.0, 899.0, np.nan, np.nan],
                      "on_network": [True, True, True, True, True, False],
                      "n_covered": [12, 11, 9, 3, 0, 0]})
    cls, colours, labels = demand_classes(d, "clinic", 15.0, 12, "en")
    assert list(cls) == [0, 0, 1, 2, 3, 4]
    assert labels == ["≤ 5 min", "5–10 min", "10–15 min", "Not covered (> 15 min)",
                      "Off the network"]
    assert len(colours) == len(labels)
    cls, colours, labels = demand_classes(d, "basket", None, 12, "zh")
    assert list(cls) == [4, 3, 3, 1, 0, 5]
    assert labels[0] == "0–2 类" and labels[-2] == "12 类 (全部)" and labels[-1] == "距路网过远"


def test_demand_grid_weights_by_population():
    import geopandas as gpd
    import shapely

    from geo_app.workflows.coverage import demand_grid

    # three points in one 250 m cell of UTM 35N and one in the next cell east
    x = np.array([385_010.0, 385_100.0, 385_200.0, 385_300.0])
    y = np.full(4, 6_672_010.0)
    pts = gpd.GeoSeries(shapely.points(x, y), crs="EPSG:32635").to_crs(4326)
    d = gpd.GeoDataFrame({"population": [1.0, 3.0, 0.0, 0.0]}, geometry=pts.values, crs=4326)
    cells = demand_grid(d, np.array([1.0, 0.0, 1.0, 1.0]), "EPSG:32635")
    cells = cells.sort_values("points", ascending=False).reset_index(drop=True)
    assert list(cells["points"]) == [3, 1]
    assert cells.loc[0, "value"] == pytest.approx(0.25)  # weighted by residents
    assert cells.loc[1, "value"] == 1.0  # nobody lives there: the plain mean
    assert cells.to_crs("EPSG:32635").area.round().tolist() == [62_500.0, 62_500.0]


def test_coverage_map_aggregates_many_residents(helsinki_coverage, monkeypatch):
    import dataclasses

    import geopandas as gpd
    import shapely

    import geo_app.maps.coverage as maps

    r = helsinki_coverage
    n = len(r.demand)
    monkeypatch.setattr(maps, "AGGREGATE_ABOVE", n)
    assert "居民点 · 步行时间 · 菜市场与生鲜超市" in _page(r, category="market")
    monkeypatch.setattr(maps, "AGGREGATE_ABOVE", n - 1)
    html = _page(r, category="market")
    assert "居民覆盖率(网格汇总) · 菜市场与生鲜超市" in html
    assert "菜市场与生鲜超市 · 覆盖率 (250 m 网格)" in html and "80–100%" in html
    assert "居民点 · 步行时间" not in html
    html = _page(r, category="basket")
    assert "平均可达类别数(网格汇总) · 全部设施(整篮)" in html and "9–12 类" in html

    # the real threshold: 50,000 residents' points become a page of a few hundred kB
    monkeypatch.undo()
    k = -(-50_000 // n)
    rng = np.random.default_rng(0)
    big = pd.concat([r.demand] * k, ignore_index=True)
    xy = shapely.get_coordinates(big.geometry.values) + rng.normal(0, 3e-4, (len(big), 2))
    big = gpd.GeoDataFrame(big.drop(columns="geometry"), geometry=shapely.points(xy), crs=4326)
    html = _page(dataclasses.replace(r, demand=big), category="market")
    assert "居民覆盖率(网格汇总)" in html
    assert len(html) < 1_000_000


def test_coverage_map_escapes_names(helsinki_coverage):
    import dataclasses

    r = helsinki_coverage
    fac = r.facilities.copy()
    fac.loc[fac.index[0], "name"] = "<img src=x onerror=alert(1)>"
    from geo_app.maps.coverage import coverage_map

    page = readable(render_offline(coverage_map(dataclasses.replace(r, facilities=fac))))
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # tooltips are HTML: names are text
    assert "<img src=x" not in page


# ---------------------------------------------------------------- siting map

def _siting_page(s, sites=None, **kw) -> str:
    import html

    from geo_app.maps.siting import siting_map

    sites = s.result if sites is None else sites
    from geo_app.workflows.siting import siting_view

    view = siting_view(s.run, sites, aggregate_above=kw.pop("aggregate_above", 20_000))
    return html.unescape(readable(render_offline(siting_map(view, **kw))))


def test_siting_map_layers_and_numbered_sites(helsinki_siting):
    from geo_app.workflows.siting import evaluate

    s = helsinki_siting
    ev = evaluate(s.run, s.result.sites)
    html = _siting_page(s, existing=s.existing)
    for label in (f"居民点 · 覆盖状态 ({len(s.run.demand)})", f"候选点 ({len(s.run.candidates)})",
                  "现有设施 (3)", "站点服务范围(步行等时圈) (15 分钟)", "拟建站点 (3)",
                  "空白底图(离线)", "覆盖状态", "现有设施已覆盖", "新增覆盖", "仍未覆盖", "距路网过远"):
        assert label in html, label
    for k in (1, 2, 3):  # a numbered disc per site, in the order chosen (JSON-escaped HTML)
        assert f'text-align:center\\">{k}</div>' in html
    assert html.count('"className": "cq-site"') == 3
    assert '"bubblingMouseEvents": true' in html  # a click on a site reaches the app
    for col, v in (("gain_alone", ev.sites["gain_alone"].iloc[0]),
                   ("unique_gain", ev.sites["unique_gain"].iloc[0])):
        assert f'"{col}": "{v:,.0f}"' in html, col
    assert html.count('"area_km2"') == 3 + 1  # a catchment per site, and its tooltip field
    assert 'L.DomUtil.create("div", "cq-legend")' in html
    assert external_refs(html) == []


def test_siting_map_of_a_proposal_in_english(helsinki_siting):
    html = _siting_page(helsinki_siting, [5, 7], lang="en", compact=True)
    for label in ("Residents · coverage (390)", "Proposed sites (2)", "Candidate sites",
                  "Catchments (walking isochrones) (15 min)"):
        assert label in html, label
    assert "Existing facilities" not in html
    assert "cq-legend" not in html and '"collapsed": true' in html  # a small map
    assert "Proposed sites (0)" in _siting_page(helsinki_siting, [], lang="en")


def test_siting_map_aggregates_many_residents(helsinki_siting, monkeypatch):
    html = _siting_page(helsinki_siting, aggregate_above=len(helsinki_siting.run.demand) - 1)
    assert "居民覆盖状态(网格汇总,按多数着色)" in html and "居民点 · 覆盖状态" not in html


def test_siting_map_checks_the_evaluation(helsinki_siting):
    from geo_app.workflows.siting import evaluate, siting_view

    s = helsinki_siting
    with pytest.raises(ValueError, match="other sites"):
        siting_view(s.run, s.result, evaluation=evaluate(s.run, [0]))


def test_district_sized_page_stays_small(tmp_path, monkeypatch):
    """A 5 km × 5 km street grid (10,000 crossings, the size of 渝中区), 60,000 households
    and 1,500 facilities: the coverage map page stays well under 5 MB."""
    import tests.geo_app.test_cli_coverage as tc
    from geo_app.maps.coverage import coverage_map
    from geo_app.workflows.coverage import run_coverage
    from layers.facilities import load_basket
    from layers.network import read_network

    monkeypatch.setattr(tc, "STEP", 0.0005)  # streets 50 m apart
    net = read_network(tc.grid_network(tmp_path / "grid.geojson", n=100))
    rng = np.random.default_rng(0)
    span, n, m = 99 * 0.0005, 60_000, 1_500
    demand = gpd.GeoDataFrame(
        {"id": np.arange(n), "population": rng.integers(1, 30, n).astype(float),
         "estimate": False},
        geometry=gpd.points_from_xy(tc.LON0 + rng.uniform(0, span, n),
                                    tc.LAT0 + rng.uniform(0, span, n)), crs=4326)
    facilities = gpd.GeoDataFrame(
        {"category": rng.choice(list(load_basket()["category"]), m), "name": "设施",
         "osm_id": "", "source": "generated"},
        geometry=gpd.points_from_xy(tc.LON0 + rng.uniform(0, span, m),
                                    tc.LAT0 + rng.uniform(0, span, m)), crs=4326)
    result = run_coverage(net, facilities, demand, isochrones=False)
    for category in ("basket", "clinic"):
        size_mb = len(render_offline(coverage_map(result, category=category)).encode()) / 1e6
        assert size_mb < 5, (category, size_mb)


def test_maps_have_a_metric_scale_and_words_of_their_language():
    from geo_app.maps.base import new_map

    html = new_map("blank", "zh", "100%").get_root().render()
    assert "L.control.scale({metric: true, imperial: false})" in html
    assert html.count("L.control.scale(") == 1  # not folium's own, with feet and miles
    assert '"attribution": "blank"' not in html
    assert '"attribution": "' + json.dumps("空白底图(离线)")[1:] in html
