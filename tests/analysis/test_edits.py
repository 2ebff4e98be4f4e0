"""Network edits: an added footbridge shortens exactly the walks that cross it, a closed
stretch is never walked (networkx on networks edited by hand), stairs and lifts drawn by a
planner serve the right walkers, and bad edit files are refused by file, row and column."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from analysis.edits import EditRefused, apply_edits
from analysis.graph import build_profile_graph
from analysis.paths import nearest_times_s
from analysis.walk_network import WalkNetwork
from layers import LayerValidationError
from layers.edits import edit_arrays, read_edits, refusal
from tests.analysis.test_join import oracle_join, split_by_hand
from tests.analysis.test_profiles import CONNECTORS, PROFILES, oracle_graph, oracle_times

CRS = "EPSG:32648"
X0, Y0 = 660_000.0, 3_270_000.0  # UTM 48N, by the Yangtze in 九龙坡
TO_WGS = Transformer.from_crs(CRS, 4326, always_xy=True)


def grid(nx_=8, ny=6, step=100.0, river=3, bridges=(0,), slope=0.0) -> WalkNetwork:
    """Streets on a grid; a river between columns ``river`` and ``river + 1`` crossed only
    on rows ``bridges``. ``slope``: ground rising eastwards (rise/run)."""
    ids = np.arange(nx_ * ny).reshape(nx_, ny)
    x = (X0 + np.repeat(np.arange(nx_), ny) * step).astype(float)
    y = (Y0 + np.tile(np.arange(ny), nx_) * step).astype(float)
    u, v = [], []
    for i in range(nx_):
        for j in range(ny):
            if i + 1 < nx_ and (i != river or j in bridges):
                u.append(ids[i, j])
                v.append(ids[i + 1, j])
            if j + 1 < ny:
                u.append(ids[i, j])
                v.append(ids[i, j + 1])
    u, v = np.array(u), np.array(v)
    m = len(u)
    return WalkNetwork(x=x, y=y, crs=CRS, node_id=np.arange(len(x)) + 1,
                       z=100 + slope * (x - X0), lift=np.zeros(len(x), bool), u=u, v=v,
                       length_m=np.hypot(x[u] - x[v], y[u] - y[v]),
                       kind=np.zeros(m, np.int64), kinds=("street",),
                       direction=np.zeros(m, np.int8), incline=np.zeros(m, np.int8),
                       steps=np.full(m, np.nan), way_share=np.ones(m))


def hand_added(net: WalkNetwork, line: np.ndarray, kind: str) -> tuple[WalkNetwork, tuple]:
    """``line`` added by hand: its two ends moved to their nearest street points (which
    become nodes), one straight segment of ``kind`` between them."""
    seg, frac, _ = oracle_join(net, PROFILES["adult"], line[[0, -1], 0], line[[0, -1], 1],
                               1e9)
    split, node = split_by_hand(net, seg, frac)
    a, b = (int(n) for n in node)
    kinds = split.kinds if kind in split.kinds else (*split.kinds, kind)
    length = math.hypot(split.x[a] - split.x[b], split.y[a] - split.y[b])
    cols = {c: np.r_[getattr(split, c), val] for c, val in (
        ("u", a), ("v", b), ("length_m", length), ("kind", kinds.index(kind)),
        ("direction", 0), ("incline", 0), ("steps", np.nan), ("way_share", 1.0))}
    cols["direction"] = cols["direction"].astype(np.int8)
    cols["incline"] = cols["incline"].astype(np.int8)
    out = WalkNetwork(x=split.x, y=split.y, crs=split.crs, node_id=split.node_id, z=split.z,
                      lift=split.lift, kinds=kinds, **cols)
    return out, (a, b)


def nx_tree(net: WalkNetwork, source: int):
    g = oracle_graph(oracle_times(net, PROFILES["adult"], CONNECTORS), net.n_nodes)
    return nx.single_source_dijkstra(g.reverse(), source, weight="w")


@pytest.mark.parametrize("slope", [0.0, 0.06])
def test_added_footbridge_shortens_exactly_the_walks_that_cross_it(slope):
    net = grid(slope=slope)
    line = np.array([[X0 + 300.0, Y0 + 310.0], [X0 + 400.0, Y0 + 320.0]])
    edited = apply_edits(net, [line], ["footbridge"])
    assert edited.gap_m.shape == (1, 2) and np.allclose(edited.gap_m, 0)
    before = nearest_times_s(build_profile_graph(net, PROFILES["adult"], CONNECTORS), [5])
    after = nearest_times_s(build_profile_graph(edited.network, PROFILES["adult"], CONNECTORS),
                            [5])[: net.n_nodes]
    hand, (a, b) = hand_added(net, line, "footbridge")
    dist, paths = nx_tree(hand, 5)
    want = np.array([dist.get(i, np.inf) for i in range(net.n_nodes)])
    np.testing.assert_allclose(after, want, rtol=0, atol=1e-6)
    crossing = np.array([any({p, q} == {a, b} for p, q in zip(paths[i][:-1], paths[i][1:]))
                         for i in range(net.n_nodes)])
    shorter = after < before - 1e-9
    assert crossing.any() and (~crossing).any()
    np.testing.assert_array_equal(shorter, crossing)
    np.testing.assert_allclose(after[~crossing], before[~crossing], rtol=0, atol=1e-9)


def test_a_closed_stretch_is_never_walked():
    net = grid(river=-1)  # no river: a plain grid
    # close the middle of the street from node (2, 2) to (3, 2), drawn 2 m off it
    line = np.array([[X0 + 230.0, Y0 + 202.0], [X0 + 270.0, Y0 + 202.0]])
    edited = apply_edits(net, [line], ["closed"])
    assert len(edited.closed) == 1
    np.testing.assert_allclose(edited.closed[0], [[X0 + 230, Y0 + 200], [X0 + 270, Y0 + 200]])
    g = build_profile_graph(edited.network, PROFILES["adult"], CONNECTORS)
    after = nearest_times_s(g, [14])[: net.n_nodes]  # node (2, 2)
    hand_keep = ~((net.u == 14) & (net.v == 20))
    hand = WalkNetwork(**{**net.__dict__, **net.segment_rows(hand_keep)})
    dist, paths = nx_tree(hand, 14)
    np.testing.assert_allclose(after, [dist[i] for i in range(net.n_nodes)], atol=1e-6)
    assert after[20] == pytest.approx(300.0)  # around the block
    # no edge of the graph runs along the closed part; walks from west to east go round
    coo = g.time.tocoo()
    mid_x = (g.x[coo.row] + g.x[coo.col]) / 2
    on_closed = (np.abs(g.y[coo.row] - (Y0 + 200)) < 1e-6) & (np.abs(g.y[coo.col] - (Y0 + 200))
                                                           < 1e-6) & (mid_x > X0 + 230) & (
        mid_x < X0 + 270)
    assert not on_closed.any()
    # two closures at once, one drawn with three points
    both = apply_edits(net, [line, np.array([[X0 + 510, Y0 + 98], [X0 + 550, Y0 + 99],
                                             [X0 + 590, Y0 + 98]])], ["closed", "closed"])
    assert len(both.closed) == 2
    # a status 'closed' on any kind closes as well
    again = apply_edits(net, [line], ["stairs"], closed=[True])
    assert again.network.n_segments == edited.network.n_segments


def test_drawn_stairs_serve_walkers_and_a_drawn_lift_serves_wheelchairs():
    net = grid(nx_=4, ny=2, river=1, bridges=())  # two banks, no bridge
    line = np.array([[X0 + 100.0, Y0 + 50.0], [X0 + 200.0, Y0 + 50.0]])
    for kind, wheelchair in (("stairs", False), ("elevator", True), ("escalator", False),
                             ("footbridge", True), ("passage", True)):
        edited = apply_edits(net, [line], [kind])
        for name, profile in PROFILES.items():
            g = build_profile_graph(edited.network, profile, CONNECTORS)
            t = nearest_times_s(g, [0])[: net.n_nodes]
            far = np.isfinite(t[[4, 5, 6, 7]]).all()
            assert far == (wheelchair if name == "wheelchair" else True), (kind, name)
    # an escalator drawn westwards, running forward only: east to west, not back
    esc = apply_edits(net, [line[::-1]], ["escalator"], direction=["forward"]).network
    g = build_profile_graph(esc, PROFILES["adult"], CONNECTORS)
    assert np.isfinite(nearest_times_s(g, [0])[7]) and np.isinf(nearest_times_s(g, [7])[0])
    # 30 counted steps up the drawing: 30 × 0.30 m at 0.5 m/s (adult, climbing)
    steps = apply_edits(net, [line], ["stairs"], incline=["up"], step_count=[30]).network
    g = build_profile_graph(steps, PROFILES["adult"], CONNECTORS)
    k = np.flatnonzero(steps.kind == steps.kinds.index("steps"))
    assert steps.steps[k].sum() == pytest.approx(30)
    t = nearest_times_s(g, [int(steps.v[k[-1]])])
    assert t[int(steps.u[k[0]])] == pytest.approx(30 * 0.3 / 0.5)


def test_a_footbridge_of_three_lines_joins_only_at_its_feet():
    net = grid(nx_=3, ny=3, river=-1)
    # stairs up from the street at y=0, a deck over the street at y=100, stairs down at y=200
    up = np.array([[X0 + 50.0, Y0 + 0.0], [X0 + 50.0, Y0 + 60.0]])
    deck = np.array([[X0 + 50.0, Y0 + 60.0], [X0 + 50.0, Y0 + 140.0]])
    down = np.array([[X0 + 50.0, Y0 + 140.0], [X0 + 50.0, Y0 + 200.0]])
    edited = apply_edits(net, [up, deck, down], ["stairs", "footbridge", "stairs"])
    e = edited.network
    assert np.allclose(edited.gap_m[1], 0) and np.allclose(edited.gap_m, 0)
    added = edited.added
    ends = np.r_[e.u[added], e.v[added]]
    on_street_100 = np.abs(e.y[ends] - (Y0 + 100)) < 1e-6
    assert not on_street_100.any()  # the deck passes over the street at y=100
    g = build_profile_graph(e, PROFILES["adult"], CONNECTORS)
    foot_up, deck_a, deck_b = (int(n) for n in e.u[added])
    foot_down = int(e.v[added[-1]])
    assert deck_a == int(e.v[added[0]]) and deck_b == int(e.v[added[1]])  # the junctions
    t = nearest_times_s(g, [foot_up])  # walking to the foot of the first stairs
    assert t[deck_a] == pytest.approx(60 / 0.5) and t[deck_b] == pytest.approx(120 + 80)
    assert t[foot_down] == pytest.approx(50 + 200 + 50)  # the streets round are quicker
    cut = WalkNetwork(**{**e.__dict__, **e.segment_rows(np.isin(np.arange(e.n_segments),
                                                                added))})
    t = nearest_times_s(build_profile_graph(cut, PROFILES["adult"], CONNECTORS), [foot_up])
    assert t[foot_down] == pytest.approx(120 + 80 + 120)  # the bridge alone


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for geom, props in features]},
        ensure_ascii=False), encoding="utf-8")
    return path


def _wgs(xy):
    lon, lat = TO_WGS.transform(np.asarray(xy)[:, 0], np.asarray(xy)[:, 1])
    return np.column_stack([lon, lat]).tolist()


def test_edit_files_read_and_refused_by_row_and_column(tmp_path):
    net = grid()
    bridge = {"type": "LineString", "coordinates": _wgs([[X0 + 300, Y0 + 310],
                                                          [X0 + 400, Y0 + 320]])}
    good = _geojson(tmp_path / "good.geojson", [(bridge, {"kind": "天桥", "status": "开放"})])
    edits = read_edits(good)
    assert list(edits.lines["kind"]) == ["footbridge"] and not edits.lines["closed"].any()
    got = apply_edits(net, **edit_arrays(edits, CRS))
    want = apply_edits(net, [np.array([[X0 + 300, Y0 + 310], [X0 + 400, Y0 + 320]])],
                       ["footbridge"])
    np.testing.assert_allclose(got.network.length_m[got.added], want.network.length_m[want.added],
                               atol=1e-3)
    point = {"type": "Point", "coordinates": _wgs([[X0, Y0]])[0]}
    bad = _geojson(tmp_path / "bad.geojson", [
        (bridge, {"kind": "footbridge"}), (bridge, {"kind": "tunnel boring machine"}),
        (point, {"kind": "stairs"}), (bridge, {"kind": "stairs", "status": "maybe",
                                               "step_count": "12.5"})])
    with pytest.raises(LayerValidationError) as err:
        read_edits(bad)
    text = str(err.value)
    assert "bad.geojson" in text and "4 problem(s)" in text
    assert "row 2, column 'kind': kind 'tunnel boring machine' is not one of" in text
    assert "row 3, column 'geometry': not a line (Point)" in text
    assert "row 4, column 'status'" in text and "row 4, column 'step_count'" in text
    nokind = _geojson(tmp_path / "nokind.geojson", [(bridge, {"type": "bridge"})])
    with pytest.raises(LayerValidationError, match="no 'kind' column"):
        read_edits(nokind)
    with pytest.raises(LayerValidationError, match="file not found"):
        read_edits(tmp_path / "missing.geojson")
    # lines the network refuses: one 2 km away, a closure over no street
    far = {"type": "LineString", "coordinates": _wgs([[X0 + 3000, Y0 + 3000],
                                                       [X0 + 3100, Y0 + 3000]])}
    off = {"type": "LineString", "coordinates": _wgs([[X0 + 20, Y0 + 40], [X0 + 80, Y0 + 40]])}
    path = _geojson(tmp_path / "far.geojson", [(bridge, {"kind": "footbridge"}),
                                               (far, {"kind": "elevator"})])
    edits = read_edits(path)
    with pytest.raises(EditRefused) as refused:
        apply_edits(net, **edit_arrays(edits, CRS))
    message = str(refusal(edits, refused.value.problems))
    assert "far.geojson" in message and "row 2, column 'geometry': its start is" in message
    assert "from the network (at most 50 m)" in message and "its end is" in message
    path = _geojson(tmp_path / "shut.geojson", [(off, {"kind": "closed"})])
    with pytest.raises(EditRefused, match="covers no street segment"):
        apply_edits(net, **edit_arrays(read_edits(path), CRS))


def test_edits_in_a_projected_file_are_converted(tmp_path):
    import geopandas as gpd

    line = shapely.LineString([[X0 + 300, Y0 + 310], [X0 + 400, Y0 + 320]])
    gdf = gpd.GeoDataFrame({"kind": ["footbridge"]}, geometry=[line], crs=CRS)
    gdf.to_file(tmp_path / "e.gpkg", driver="GPKG", engine="pyogrio")
    edits = read_edits(tmp_path / "e.gpkg")
    xy = edit_arrays(edits, CRS)["lines"][0]
    np.testing.assert_allclose(xy, [[X0 + 300, Y0 + 310], [X0 + 400, Y0 + 320]], atol=1e-3)


def _with_signals(net: WalkNetwork, signal_nodes, crossing_segments=()) -> WalkNetwork:
    """``net`` with signalled crossing nodes and some segments of kind crossing_signals."""
    from dataclasses import replace

    signal = np.zeros(net.n_nodes, bool)
    signal[list(signal_nodes)] = True
    kinds = (*net.kinds, "crossing_signals")
    kind = net.kind.copy()
    kind[list(crossing_segments)] = len(kinds) - 1
    return replace(net, signal=signal, kinds=kinds, kind=kind)


def _oracle_with_signals(net: WalkNetwork, profile) -> nx.DiGraph:
    """networkx with the rule written out: half the signal wait at each signal end of every
    segment but the crossing_signals ones (their way pays the wait already)."""
    half = CONNECTORS["crossing_signals"].wait_s / 2
    n_sig = 0 if net.signal is None else len(net.signal)
    sig = [i < n_sig and bool(net.signal[i]) for i in range(net.n_nodes)]
    times = []
    for k, (a, b, fwd, back) in enumerate(oracle_times(net, profile, CONNECTORS)):
        extra = 0.0
        if net.kinds[net.kind[k]] != "crossing_signals":
            extra = half * (sig[a] + sig[b])
        times.append((a, b, fwd + extra, back + extra))
    return oracle_graph(times, net.n_nodes)


@pytest.mark.parametrize("profile", ["adult", "elderly", "wheelchair"])
def test_signal_nodes_cost_their_wait_like_networkx(profile):
    net = _with_signals(grid(slope=0.02), signal_nodes=[7, 8, 20, 33],
                        crossing_segments=[3, 10])
    assert CONNECTORS["crossing_signals"].wait_s > 0
    walker = PROFILES[profile]
    g = build_profile_graph(net, walker, CONNECTORS)
    plain = build_profile_graph(grid(slope=0.02), walker, CONNECTORS)
    oracle = _oracle_with_signals(net, walker)
    for source in (0, 21, 40):
        got = nearest_times_s(g, [source])
        want = np.full(net.n_nodes, np.inf)
        for node, d in nx.single_source_dijkstra_path_length(oracle.reverse(), source,
                                                             weight="w").items():
            want[node] = d
        assert np.allclose(got, want, atol=1e-6)
    assert np.any(nearest_times_s(g, [0]) > nearest_times_s(plain, [0]) + 1)


def test_signal_waits_survive_edits_and_splits():
    """Edit nodes (appended past the signal array) are no signals; the waits stay right."""
    net = _with_signals(grid(), signal_nodes=[8, 14])
    line = np.array([[X0 + 250.0, Y0 + 220.0], [X0 + 450.0, Y0 + 220.0]])
    edited = apply_edits(net, [line], ["footbridge"]).network
    assert edited.n_nodes > len(edited.signal)
    g = build_profile_graph(edited, PROFILES["adult"], CONNECTORS)
    oracle = _oracle_with_signals(edited, PROFILES["adult"])
    got = nearest_times_s(g, [5])
    want = np.full(edited.n_nodes, np.inf)
    for node, d in nx.single_source_dijkstra_path_length(oracle.reverse(), 5,
                                                         weight="w").items():
        want[node] = d
    assert np.allclose(got, want, atol=1e-6)
