"""The study area: choices, drawings, townships, GeoJSON and clipping the data to it."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_app.workflows import study_area as sa
from geo_app.workflows.study_area import StudyArea

# A hand-written OSM XML with two townships (admin_level 8 and 9) sharing an edge in 渝中区.
TOWNSHIPS_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="29.550" lon="106.570" version="1"/>
  <node id="2" lat="29.550" lon="106.590" version="1"/>
  <node id="3" lat="29.565" lon="106.590" version="1"/>
  <node id="4" lat="29.565" lon="106.570" version="1"/>
  <node id="5" lat="29.550" lon="106.610" version="1"/>
  <node id="6" lat="29.565" lon="106.610" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
  <way id="12" version="1"><nd ref="2"/><nd ref="5"/><nd ref="6"/><nd ref="3"/></way>
  <way id="13" version="1"><nd ref="3"/><nd ref="2"/></way>
  <relation id="100" version="1">
    <member type="way" ref="10" role="outer"/><member type="way" ref="11" role="outer"/>
    <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/>
    <tag k="admin_level" v="8"/><tag k="name" v="解放碑街道"/>
    <tag k="name:en" v="Jiefangbei Subdistrict"/>
  </relation>
  <relation id="101" version="1">
    <member type="way" ref="12" role="outer"/><member type="way" ref="13" role="outer"/>
    <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/>
    <tag k="admin_level" v="9"/><tag k="name" v="某社区"/>
  </relation>
</osm>
"""

NO_BOUNDARY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="29.550" lon="106.570" version="1"/>
  <node id="2" lat="29.551" lon="106.571" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
</osm>
"""


def feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def box_feature(w, s, e, n) -> dict:
    return feature({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})


def district(name: str) -> StudyArea:
    return next(a for a in sa.districts() if a.label_zh == name)


# --- Chongqing choices ------------------------------------------------------------------------

def test_region_groups_partition_the_municipality():
    whole, groups = sa.municipality(), sa.region_groups()
    assert whole.kind == "municipality" and whole.label("zh") == "重庆市"
    assert [g.key for g in groups] == ["中心城区", "主城新区", "渝东北三峡库区城镇群",
                                       "渝东南武陵山区城镇群"]
    assert all(g.kind == "region_group" and g.geometry.is_valid for g in groups)
    total = sum(g.area_km2 for g in groups)
    assert abs(total - whole.area_km2) <= 1e-3 * whole.area_km2
    assert 80_000 < whole.area_km2 < 84_000  # Chongqing is ~82,400 km²
    assert groups[0].label("en") == "Central urban"


def test_districts_match_load_districts():
    from layers.districts import load_districts

    d = load_districts()
    areas = sa.districts()
    assert [a.key for a in areas] == list(d["adcode"])
    for a, row in zip(areas, d.itertuples()):
        assert a.kind == "district" and a.label_zh == row.name_zh
        assert a.label("en") == row.name_pinyin
        assert shapely.equals(a.geometry, row.geometry)
        assert a.area_km2 == pytest.approx(row.area_km2, rel=1e-5)


def test_geojson_round_trip():
    circle = sa.from_drawing(feature({"type": "Point", "coordinates": [106.55, 29.56]},
                                     radius=300.0))
    for area in (district("渝中区"), sa.region_groups()[0], circle):
        saved = json.loads(json.dumps(area.to_geojson(), ensure_ascii=False))
        back = StudyArea.from_geojson(saved)
        assert back == area
        assert back.area_km2 == pytest.approx(area.area_km2, rel=1e-12)
    with pytest.raises(ValueError, match="not a saved study area"):
        StudyArea.from_geojson({"type": "Feature", "geometry": None})
    with pytest.raises(ValueError, match="kind must be one of"):
        StudyArea("city", "x", "x", "x", shapely.box(0, 0, 1, 1))


# --- drawings ---------------------------------------------------------------------------------

def test_drawn_polygon_and_rectangle():
    poly = sa.from_drawing(feature({"type": "Polygon", "coordinates": [[
        [106.55, 29.55], [106.58, 29.55], [106.57, 29.58], [106.55, 29.55]]]}))
    assert poly.kind == "drawn" and poly.key.startswith("drawn:")
    rect = sa.from_drawing(box_feature(106.55, 29.55, 106.58, 29.57))
    # 0.03° × 0.02° at 29.56° N: 2,905 m × 2,216 m
    expected = (0.03 * 111_320 * math.cos(math.radians(29.56))) * (0.02 * 110_850) / 1e6
    assert rect.area_km2 == pytest.approx(expected, rel=0.01)
    assert "km²" in rect.label("en") and "km²" in rect.label("zh")
    # a bare geometry and all_drawings (a list of Features) are read too
    assert sa.from_drawing(box_feature(106.55, 29.55, 106.58, 29.57)["geometry"]) == rect
    both = sa.from_drawing([box_feature(106.55, 29.55, 106.56, 29.56),
                            box_feature(106.57, 29.55, 106.58, 29.56)])
    assert both.geometry.geom_type == "MultiPolygon"


@pytest.mark.parametrize("radius", [60.0, 800.0, 5000.0])
def test_drawn_circle_is_buffered_in_metres(radius):
    area = sa.from_drawing(feature({"type": "Point", "coordinates": [106.55, 29.56]},
                                   radius=radius, _leaflet_id=12))
    assert area.area_km2 == pytest.approx(math.pi * radius ** 2 / 1e6, rel=0.01)
    assert area.geometry.contains(shapely.Point(106.55, 29.56))


@pytest.mark.parametrize("drawing, message", [
    (feature({"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.6, 29.6], [106.6, 29.5],
                                                  [106.5, 29.6], [106.5, 29.5]]]}),
     "crosses itself"),
    (box_feature(106.55, 29.55, 106.5505, 29.5505), "too small"),
    (box_feature(100.0, 25.0, 110.0, 35.0), "too large"),
    (feature({"type": "Point", "coordinates": [106.55, 29.56]}), "not an area"),
    (feature({"type": "Point", "coordinates": [106.55, 29.56]}, radius=-5), "radius"),
    (feature({"type": "Point", "coordinates": [106.55, 29.56]}, radius=0.5), "too small"),
    (feature({"type": "LineString", "coordinates": [[106.5, 29.5], [106.6, 29.6]]}),
     "not an area"),
    (feature({"type": "Polygon", "coordinates": []}), "empty"),
    (feature({"type": "Polygon", "coordinates": "abc"}), "cannot be read"),
    (box_feature(500.0, 29.5, 506.0, 29.6), "longitude/latitude"),
    ({"type": "Feature", "properties": {}, "geometry": None}, "no geometry"),
    ({}, "no geometry"),
    ([], "empty"),
    ([box_feature(106.55, 29.55, 106.58, 29.57),
      feature({"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.6, 29.6], [106.6, 29.5],
                                                   [106.5, 29.6], [106.5, 29.5]]]})],
     "crosses itself"),
    ("POLYGON ((0 0, 1 0, 1 1, 0 0))", "not a drawing"),
    (None, "not a drawing"),
])
def test_bad_drawings_are_refused(drawing, message):
    with pytest.raises(ValueError, match=message):
        sa.from_drawing(drawing)


# --- townships --------------------------------------------------------------------------------

def test_townships_from_the_helsinki_sample_are_none():
    from geo_app.workflows.coverage import sample_path

    assert sa.townships_from_osm(sample_path()) == []  # no boundaries; no warning escapes


def test_townships_from_osm_xml(tmp_path):
    path = tmp_path / "townships.osm"
    path.write_text(TOWNSHIPS_OSM, encoding="utf-8")
    eight = sa.townships_from_osm(path)
    assert [(a.kind, a.key, a.label("zh"), a.label("en")) for a in eight] == [
        ("township", "osm:relation/100", "解放碑街道", "Jiefangbei Subdistrict")]
    assert eight[0].geometry.equals(shapely.box(106.57, 29.55, 106.59, 29.565))
    both = sa.townships_from_osm(path, levels=(8, 9))
    assert sorted(a.label_zh for a in both) == ["某社区", "解放碑街道"]
    empty = tmp_path / "streets.osm"
    empty.write_text(NO_BOUNDARY_OSM, encoding="utf-8")
    assert sa.townships_from_osm(empty) == []


def test_townships_from_file(tmp_path):
    from layers import LayerValidationError

    path = tmp_path / "streets.geojson"
    gpd.GeoDataFrame({"街道": ["解放碑街道", "朝天门街道"]},
                     geometry=[shapely.box(106.57, 29.55, 106.58, 29.56),
                               shapely.box(106.58, 29.55, 106.59, 29.56)],
                     crs=4326).to_file(path)
    areas = sa.townships_from_file(path, "街道")
    assert sorted(a.label_zh for a in areas) == ["朝天门街道", "解放碑街道"]
    assert all(a.kind == "township" and a.key.startswith("streets.geojson:") for a in areas)
    with pytest.raises(LayerValidationError, match="name"):
        sa.townships_from_file(path, "name")


# --- data extent, clipping, mismatch ----------------------------------------------------------

def test_data_extent_holds_the_network(helsinki_inputs):
    net = helsinki_inputs.network
    area = sa.data_extent(net)
    assert area.kind == "data_extent" and area.label("en") == "Extent of the data"
    pts = shapely.points(net.nodes[["lon", "lat"]].to_numpy())
    assert shapely.contains(area.geometry, pts).all()
    assert sa.data_extent(helsinki_inputs) == area
    # the hull grown by 200 m: every boundary vertex lies 200 m from the hull
    hull = shapely.convex_hull(shapely.multipoints(pts))
    utm = "EPSG:32635"
    ring = gpd.GeoSeries(shapely.points(shapely.get_coordinates(area.geometry.exterior)),
                         crs=4326).to_crs(utm)
    d = ring.distance(gpd.GeoSeries([hull], crs=4326).to_crs(utm).iloc[0])
    assert d.min() == pytest.approx(200, abs=2) and d.max() == pytest.approx(200, abs=2)


def test_clip_points_and_overlaps(helsinki_inputs):
    demand = helsinki_inputs.demand
    w, s, e, n = demand.total_bounds
    west = shapely.box(w - 0.001, s - 0.001, (w + e) / 2, n + 0.001)
    inside = sa.clip_points(demand, west)
    assert 0 < len(inside) < len(demand)
    assert inside.intersects(west).all() and inside.index.isin(demand.index).all()
    wider = sa.clip_points(demand, west, buffer_m=300)
    assert len(wider) > len(inside)
    utm = demand.to_crs("EPSG:32635")
    west_m = gpd.GeoSeries([west], crs=4326).to_crs("EPSG:32635").iloc[0]
    dist = utm.distance(west_m)
    assert set(wider.index) == set(dist.index[dist <= 300])
    assert sa.overlaps(west, demand.total_bounds)
    assert not sa.overlaps(district("渝中区"), demand.total_bounds)
    assert not sa.overlaps(west, [np.nan] * 4)


def _part_of_helsinki(inputs) -> StudyArea:
    """A polygon drawn over the north-west of the Helsinki sample's residents."""
    w, s, e, n = inputs.demand.total_bounds
    return sa.from_drawing(box_feature(w - 0.001, s + 0.5 * (n - s), w + 0.4 * (e - w),
                                       n + 0.001))


@pytest.mark.parametrize("minutes, max_snap_m", [(15.0, 500.0), (10.0, 50.0), (5.0, 100.0)])
def test_clipped_coverage_equals_full_coverage(helsinki_inputs, minutes, max_snap_m):
    """Oracle: walking times of residents inside the area are the same whether the run
    sees all the data or only the clipped data (network cut to area + reach + snap)."""
    from geo_app.workflows.coverage import run
    from layers.crs import metric_crs

    full = helsinki_inputs
    area = _part_of_helsinki(full)
    reach = minutes * 60 * 1.0 * 1.2
    cut = sa.clip_inputs(full, area, reach_m=reach, max_snap_m=max_snap_m)
    # demand: exactly the residents inside, in their order
    inside = full.demand.intersects(area.geometry).to_numpy()
    assert 0 < inside.sum() < len(full.demand) and len(cut.demand) == inside.sum()
    assert cut.demand.geometry.values.tolist() == full.demand.geometry.values[inside].tolist()
    # facilities: all within area + reach, and all of those kept
    crs = metric_crs(area.geometry.centroid)
    a_m = gpd.GeoSeries([area.geometry], crs=4326).to_crs(crs).iloc[0]
    d_fac = full.facilities.to_crs(crs).distance(a_m)
    assert len(cut.facilities) == int((d_fac <= sa.MARGIN * reach).sum())
    assert (cut.facilities.to_crs(crs).distance(a_m) <= sa.MARGIN * reach).all()
    assert cut.zones is full.zones and cut.categories == full.categories
    assert area.label_zh in cut.sources["study_area"]
    if minutes < 15:  # the sample is ~1.5 km across: only shorter reaches cut its network
        assert len(cut.network.nodes) < len(full.network.nodes)
    if minutes == 5.0:
        assert len(cut.network.nodes) < 0.8 * len(full.network.nodes)
        assert len(cut.facilities) < 0.8 * len(full.facilities)
    kept = set(cut.network.nodes["node_id"])
    assert set(cut.network.edges["u"]) <= kept and set(cut.network.edges["v"]) <= kept

    a = run(full, minutes=minutes, isochrones=False, max_snap_m=max_snap_m).demand
    b = run(cut, minutes=minutes, isochrones=False, max_snap_m=max_snap_m).demand
    a = a.loc[inside].reset_index(drop=True)
    times = [c for c in a.columns if c.startswith("t_")]
    assert len(times) >= 10
    assert np.isfinite(a[times].to_numpy(float)).any()
    for c in times:
        np.testing.assert_allclose(b[c].to_numpy(float), a[c].to_numpy(float),
                                   rtol=1e-9, atol=1e-6, err_msg=c)
    assert (b["basket_covered"] == a["basket_covered"]).all()
    np.testing.assert_allclose(b["snap_m"], a["snap_m"], rtol=1e-9)


def test_too_tight_a_cut_would_change_times(helsinki_inputs):
    """The oracle above can fail: cutting the network at a third of the reach (and keeping
    no facility outside the area) changes some times."""
    import dataclasses

    from geo_app.workflows.coverage import run

    full = helsinki_inputs
    area = _part_of_helsinki(full)
    cut = sa.clip_inputs(full, area, reach_m=720.0, max_snap_m=100.0)
    tight = dataclasses.replace(cut, network=sa.clip_network(full.network, area,
                                                             distance_m=240.0),
                                facilities=sa.clip_points(full.facilities, area))
    inside = full.demand.intersects(area.geometry).to_numpy()
    a = run(full, minutes=10, isochrones=False, max_snap_m=100.0).demand.loc[inside]
    b = run(tight, minutes=10, isochrones=False, max_snap_m=100.0).demand
    times = [c for c in a.columns if c.startswith("t_")]
    assert not np.allclose(a[times].to_numpy(float), b[times].to_numpy(float), equal_nan=True)


def test_empty_area_says_where_the_data_are(helsinki_inputs):
    with pytest.raises(ValueError, match=r"渝中区 \(Yuzhong\) holds no residents") as err:
        sa.clip_inputs(helsinki_inputs, district("渝中区"), reach_m=1080)
    assert "lon 24.9" in str(err.value) and "outside Chongqing" in str(err.value)


def test_mismatch_between_yuzhong_and_helsinki(helsinki_inputs):
    yuzhong = district("渝中区")
    note = sa.describe_mismatch(yuzhong, helsinki_inputs.demand)
    assert "渝中区" in note and "lon 24.9" in note and "lat 60.1" in note
    assert "outside Chongqing" in note
    assert "重庆市以外" in sa.describe_mismatch(yuzhong, helsinki_inputs.network, lang="zh")
    assert sa.describe_mismatch(yuzhong, helsinki_inputs.demand.total_bounds) is not None
    assert sa.describe_mismatch(yuzhong, helsinki_inputs.network.nodes) is not None
    assert sa.describe_mismatch(sa.data_extent(helsinki_inputs), helsinki_inputs.demand) is None
    # Chongqing data in another district: the note names the district they are in
    jiangbei = district("江北区").geometry
    pts = gpd.GeoDataFrame(geometry=[jiangbei.representative_point()] * 3, crs=4326)
    note = sa.describe_mismatch(yuzhong, pts)
    assert "江北区 (Jiangbei)" in note
    assert sa.describe_mismatch(sa.municipality(), pts) is None
