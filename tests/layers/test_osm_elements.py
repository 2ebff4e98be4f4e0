"""The OSM element reader: XML files and Overpass JSON read alike, street tables and their
cache, features (points, lines, areas, multipolygons)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import shapely

from layers import osm_elements as oe
from layers.network import WALK_TAGS, read_network

# nodes on a 0.001° grid; way 10 runs 1-2-2-3-4 (a repeated node), way 11 is a closed
# building, way 12 a closed highway loop (a ring, not an area), way 13 runs through a node
# the data lacks, way 14 has no highway
_NODES = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (3, 0), 5: (0, 1), 6: (1, 1), 7: (1, 2),
          8: (0, 2), 9: (5, 5)}
_WAYS = [(10, [1, 2, 2, 3, 4], {"highway": "residential", "name": "A & B"}),
         (11, [5, 6, 7, 8, 5], {"building": "yes", "building:levels": "3"}),
         (12, [1, 5, 6, 2, 1], {"highway": "footway"}),
         (13, [4, 99, 9], {"highway": "path"}),
         (14, [3, 9], {"waterway": "ditch"})]
_RELATIONS = [(20, [("way", 21, "outer"), ("way", 22, "outer"), ("way", 23, "inner")],
               {"type": "multipolygon", "amenity": "school", "name": "S"})]
# relation 20: a square of 0.01° from two open outer ways, with a closed inner hole
_EXTRA_NODES = {31: (10, 10), 32: (20, 10), 33: (20, 20), 34: (10, 20),
                35: (14, 14), 36: (16, 14), 37: (16, 16), 38: (14, 16)}
_EXTRA_WAYS = [(21, [31, 32, 33], {}), (22, [33, 34, 31], {}), (23, [35, 36, 37, 38, 35], {})]


def _xy(i):
    x, y = {**_NODES, **_EXTRA_NODES}[i]
    return 106.5 + 0.001 * x, 29.5 + 0.001 * y


def _xml(path, tagged_node=True):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i in {**_NODES, **_EXTRA_NODES}:
        lon, lat = _xy(i)
        if i == 9 and tagged_node:
            lines.append(f'<node id="{i}" lat="{lat}" lon="{lon}"><tag k="shop" v="bakery"/>'
                         '</node>')
        else:
            lines.append(f'<node id="{i}" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in _WAYS + _EXTRA_WAYS:
        lines.append(f'<way id="{wid}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                     + "".join(f'<tag k="{k}" v="{v.replace("&", "&amp;")}"/>'
                               for k, v in tags.items()) + "</way>")
    for rid, members, tags in _RELATIONS:
        lines.append(f'<relation id="{rid}">'
                     + "".join(f'<member type="{t}" ref="{r}" role="{role}"/>'
                               for t, r, role in members)
                     + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
                     + "</relation>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _json():
    elements = []
    for i in {**_NODES, **_EXTRA_NODES}:
        lon, lat = _xy(i)
        e = {"type": "node", "id": i, "lat": lat, "lon": lon}
        if i == 9:
            e["tags"] = {"shop": "bakery"}
        elements.append(e)
    elements += [{"type": "way", "id": w, "nodes": r, "tags": t} for w, r, t in _WAYS + _EXTRA_WAYS]
    elements += [{"type": "relation", "id": r, "tags": t,
                  "members": [{"type": a, "ref": b, "role": c} for a, b, c in m]}
                 for r, m, t in _RELATIONS]
    return {"version": 0.6, "elements": elements}


def test_xml_and_overpass_json_read_alike(tmp_path):
    a = oe.read_xml(_xml(tmp_path / "a.osm"))
    b = oe.from_overpass_json(json.loads(json.dumps(_json())))
    for field in ("node_id", "lon", "lat", "way_id", "refs", "ref_start"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.way_tags == b.way_tags and a.node_tags == b.node_tags == {9: {"shop": "bakery"}}
    assert a.relations == b.relations
    assert a.way_tag("name").tolist() == ["A & B", None, None, None, None, None, None, None]


def test_street_tables_segments(tmp_path):
    el = oe.read_xml(_xml(tmp_path / "a.osm"))
    _, edges = oe.street_tables(el, WALK_TAGS)
    pairs = list(zip(edges["u"].tolist(), edges["v"].tolist()))
    # the repeated node counts once, the closed loop gives 4 segments, the segments
    # touching the missing node 99 are dropped, the waterway is no street
    assert pairs == [(1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 2), (2, 1)]
    assert edges["way_id"].tolist() == [10, 10, 10, 12, 12, 12, 12]
    assert edges["highway"].tolist() == ["residential"] * 3 + ["footway"] * 4
    assert set(WALK_TAGS) <= set(edges.columns) and edges.crs.to_epsg() == 4326
    # 0.001° of longitude at 29.5° N
    assert edges["length"].iloc[0] == pytest.approx(96.8, abs=0.1)
    # with a polygon: segments with both nodes inside or on the edge
    box = shapely.box(*_xy(1), *_xy(6))
    _, cut = oe.street_tables(el, WALK_TAGS, box)
    assert list(zip(cut["u"], cut["v"])) == [(1, 2), (1, 5), (5, 6), (6, 2), (2, 1)]


def test_street_ways_cache_round_trip(tmp_path):
    el = oe.read_xml(_xml(tmp_path / "a.osm"))
    box = shapely.box(106.4995, 29.4995, 106.5025, 29.5015)  # nodes 1, 2, 3, 5, 6, not 4
    ways, nodes = oe.street_ways(el, WALK_TAGS, box)
    assert ways["way_id"].tolist() == [10, 12] and ways["nodes"].tolist() == ["1 2 3",
                                                                             "1 5 6 2 1"]
    assert json.loads(ways["other_tags"].iloc[0]) == {"name": "A & B"}
    assert not isinstance(ways["other_tags"].iloc[1], str)  # no other tags
    assert sorted(nodes["node_id"]) == [1, 2, 3, 5, 6]
    np.testing.assert_array_equal(shapely.get_coordinates(ways.geometry.values[:1]),
                                  [_xy(1), _xy(2), _xy(3)])
    path = oe.write_street_tables(ways, nodes, tmp_path / "s.gpkg")
    assert oe.is_street_tables(path) and not oe.is_street_tables(tmp_path / "a.osm")
    back = oe.read_street_tables(path)
    _, want = oe.street_tables(el, WALK_TAGS, box)
    _, again = oe.street_tables(back, WALK_TAGS)  # the same segments, lengths to the bit
    assert list(zip(again["u"], again["v"])) == list(zip(want["u"], want["v"]))
    np.testing.assert_array_equal(again["length"], want["length"])
    assert again["highway"].tolist() == want["highway"].tolist()
    net = read_network(path)
    assert list(zip(net.edges["u"], net.edges["v"])) == list(zip(want["u"], want["v"]))
    assert len(read_network(path, mode="drive").edges) == 2  # the footway is no road
    assert back.way_tag("name").tolist() == ["A & B", None]
    assert back.way_tag_dicts()[0] == {"highway": "residential", "name": "A & B"}


def test_a_way_cut_in_two_is_two_pieces(tmp_path):
    el = oe.from_overpass_json({"elements": [
        *({"type": "node", "id": i, "lat": 29.5, "lon": 106.5 + 0.001 * i} for i in range(1, 7)),
        {"type": "node", "id": 7, "lat": 29.6, "lon": 106.503},
        {"type": "way", "id": 1, "nodes": [1, 2, 3, 7, 4, 5, 6], "tags": {"highway": "primary"}},
    ]})
    ways, _ = oe.street_ways(el, ("highway",), shapely.box(106.0, 29.0, 107.0, 29.55))
    assert ways["way_id"].tolist() == [1, 1] and ways["nodes"].tolist() == ["1 2 3", "4 5 6"]


def test_features(tmp_path):
    el = oe.read_xml(_xml(tmp_path / "a.osm"))
    f = oe.features(el, lambda t: bool({"building", "amenity", "shop", "highway"} & set(t)))
    got = {(k, i): g.geom_type for k, i, g in zip(f["osm_type"], f["id"], f.geometry)}
    assert got == {("node", 9): "Point", ("way", 10): "LineString",
                   ("way", 11): "Polygon",  # a closed building is an area
                   ("way", 12): "LineString",  # a closed footway is a ring
                   ("relation", 20): "Polygon"}  # way 13 lacks a node
    school = f.set_index("id").loc[20]
    assert school["amenity"] == "school" and school["type"] == "multipolygon"
    assert len(school.geometry.interiors) == 1  # two open outer ways joined, one hole
    assert school.geometry.area == pytest.approx(0.01 ** 2 - 0.002 ** 2)
    assert f.set_index("id").loc[11, "building:levels"] == "3"
    # only what meets the polygon
    near = oe.features(el, lambda t: "shop" in t or "amenity" in t,
                       shapely.box(106.504, 29.504, 106.506, 29.506))
    assert near["id"].tolist() == [9]
    # a relation with a member way missing from the data is no area
    el2 = oe.from_overpass_json({"elements": [e for e in _json()["elements"]
                                              if not (e["type"] == "way" and e["id"] == 22)]})
    assert 20 not in set(oe.features(el2, lambda t: "amenity" in t)["id"])
    empty = oe.features(el, lambda t: "craft" in t)
    assert len(empty) == 0 and {"osm_type", "id", "geometry"} <= set(empty.columns)


def test_area_rules():
    assert oe.is_area({"building": "yes"}) and oe.is_area({"amenity": "parking"})
    assert not oe.is_area({"highway": "footway"}) and oe.is_area({"highway": "rest_area"})
    assert not oe.is_area({"building": "yes", "area": "no"})
    assert oe.is_area({"natural": "wood"}) and not oe.is_area({"natural": "coastline"})
    assert oe.is_area({"highway": "pedestrian", "area": "yes"})


def test_broken_xml_errors(tmp_path):
    bad = tmp_path / "b.osm"
    bad.write_text("<osm><node id='1'")
    with pytest.raises(ET.ParseError):
        oe.read_xml(bad)
    bad.write_text("<osm><node id='1' lon='1'/></osm>")
    with pytest.raises(KeyError):
        oe.read_xml(bad)
    from layers import LayerValidationError

    with pytest.raises(LayerValidationError, match="not a readable OSM XML file: missing "
                                                   "attribute 'lat'"):
        read_network(bad)
    none = tmp_path / "n.osm"
    none.write_text("<osm><node id='1' lat='1' lon='1'/></osm>")
    with pytest.raises(LayerValidationError, match="the file has no streets"):
        read_network(none)


def test_great_circle_is_osmnx_formula():
    from osmnx.distance import great_circle

    rng = np.random.default_rng(0)
    lat1, lat2 = rng.uniform(-80, 80, (2, 1000))
    lon1, lon2 = rng.uniform(-180, 180, (2, 1000))
    np.testing.assert_array_equal(oe.great_circle_m(lat1, lon1, lat2, lon2),
                                  great_circle(lat1, lon1, lat2, lon2))
