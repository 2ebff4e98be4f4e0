"""Street-front joining against networkx on a network with the join points inserted as
nodes by hand (random networks with slopes, stairs, lifts and waits; the Helsinki sample;
real central Chengdu), and the nearest-node join kept for comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from analysis.graph import build_profile_graph, build_walk_graph, profile_segments
from analysis.join import join_points, split_graph
from analysis.paths import nearest_times_s
from analysis.snap import snap_points
from analysis.walk_network import WalkNetwork
from tests.analysis.test_profiles import (
    CONNECTORS,
    PROFILES,
    network_arrays,
    oracle_graph,
    oracle_times,
    random_network,
)


def oracle_join(net: WalkNetwork, profile, px, py, max_dist):
    """Each point's nearest segment walkable both ways and not a connector boarded only at
    its ends (lifts, escalators, footbridges, underpasses) — shapely distance to every one —
    the fraction along it and the distance; -1 beyond ``max_dist``."""
    times = oracle_times(net, profile, CONNECTORS)
    ends_only = {"elevator", "escalator", "footbridge", "underpass"}
    ok = np.array([math.isfinite(f) and math.isfinite(b) and net.kinds[k] not in ends_only
                   for (_, _, f, b), k in zip(times, net.kind)])
    lines = shapely.linestrings(np.stack([np.column_stack([net.x[net.u], net.y[net.u]]),
                                          np.column_stack([net.x[net.v], net.y[net.v]])], 1))
    seg, frac, dist = [], [], []
    for x, y in zip(px, py):
        p = shapely.Point(x, y)
        d = np.where(ok, shapely.distance(lines, p), np.inf)
        k = int(np.argmin(d))  # the first of equally near segments
        seg.append(k if d[k] <= max_dist else -1)
        frac.append(lines[k].project(p, normalized=True) if lines[k].length > 0 else 0.0)
        dist.append(d[k])
    return np.array(seg), np.array(frac), np.array(dist)


def split_by_hand(net: WalkNetwork, seg, frac):
    """The network with a node at each (segment, fraction), made segment by segment: the
    pieces keep the segment's kind, direction and incline, with length, steps and way
    share in proportion and elevations interpolated. Returns it and each point's node."""
    x, y, z = list(net.x), list(net.y), list(net.z)
    lift, node_id = list(net.lift), list(net.node_id)
    cols = {c: [] for c in ("u", "v", "length_m", "kind", "direction", "incline", "steps",
                            "way_share")}
    node = np.full(len(seg), -1)
    by_seg = {}
    for i, (k, t) in enumerate(zip(seg, frac)):
        if k < 0:
            continue
        if t <= 0:
            node[i] = net.u[k]
        elif t >= 1:
            node[i] = net.v[k]
        else:
            by_seg.setdefault(int(k), {}).setdefault(float(t), []).append(i)
    for k in range(net.n_segments):
        a, b = int(net.u[k]), int(net.v[k])
        stops = [(0.0, a)]
        for t in sorted(by_seg.get(k, {})):
            x.append(net.x[a] + t * (net.x[b] - net.x[a]))
            y.append(net.y[a] + t * (net.y[b] - net.y[a]))
            z.append(net.z[a] + t * (net.z[b] - net.z[a]))
            lift.append(False)
            node_id.append(-len(x))
            for i in by_seg[k][t]:
                node[i] = len(x) - 1
            stops.append((t, len(x) - 1))
        stops.append((1.0, b))
        for (t0, p), (t1, q) in zip(stops[:-1], stops[1:]):
            span = t1 - t0
            for c, val in (("u", p), ("v", q), ("length_m", net.length_m[k] * span),
                           ("kind", net.kind[k]), ("direction", net.direction[k]),
                           ("incline", net.incline[k]), ("steps", net.steps[k] * span),
                           ("way_share", net.way_share[k] * span)):
                cols[c].append(val)
    out = WalkNetwork(x=np.array(x), y=np.array(y), crs=net.crs, node_id=np.array(node_id),
                      z=np.array(z), lift=np.array(lift), kinds=net.kinds,
                      **{c: np.array(v) for c, v in cols.items()})
    return out, node


def times_by_hand(net, profile, fx, fy, dx, dy, max_dist):
    """Seconds from each resident to its nearest facility: networkx on the network split
    at every join point by hand, straight access walks at the profile's flat speed."""
    import networkx as nx

    px, py = np.r_[fx, dx], np.r_[fy, dy]
    seg, frac, dist = oracle_join(net, profile, px, py, max_dist)
    split, node = split_by_hand(net, seg, frac)
    g = oracle_graph(oracle_times(split, profile, CONNECTORS), split.n_nodes).reverse()
    access = dist / profile.flat_m_s
    nf = len(fx)
    g.add_node("S")
    for i in range(nf):
        if node[i] >= 0 and (not g.has_edge("S", node[i]) or g["S"][node[i]]["w"] > access[i]):
            g.add_edge("S", int(node[i]), w=float(access[i]))
    to = nx.single_source_dijkstra_path_length(g, "S", weight="w")
    out = np.array([to.get(int(node[nf + j]), math.inf) + access[nf + j] if node[nf + j] >= 0
                    else math.inf for j in range(len(dx))])
    return out, seg, dist


def our_times(g, profile, fx, fy, dx, dy, max_dist, how="street"):
    j = join_points(g, [(fx, fy), (dx, dy)], how=how, speed_m_s=profile.flat_m_s,
                    max_dist_m=max_dist)
    f, d = j.points
    on = f.node >= 0
    t = nearest_times_s(j.graph, f.node[on], f.access_s[on])
    out = np.full(len(dx), np.inf)
    ok = d.node >= 0
    out[ok] = t[d.node[ok]] + d.access_s[ok]
    return out, j


def points_on(net: WalkNetwork, rng, n):
    """Random points around the network, some exactly on segments or nodes, some twice."""
    lo, hi = np.array([net.x.min(), net.y.min()]), np.array([net.x.max(), net.y.max()])
    p = rng.uniform(lo - 50, hi + 50, (n, 2))
    k = rng.integers(0, net.n_segments, n // 5)
    t = rng.choice([0.0, 0.5, 1.0, 0.25], n // 5)
    on = np.column_stack([net.x[net.u[k]] + t * (net.x[net.v[k]] - net.x[net.u[k]]),
                          net.y[net.u[k]] + t * (net.y[net.v[k]] - net.y[net.u[k]])])
    p = np.r_[p, on, p[: n // 10]]
    return p[:, 0], p[:, 1]


def check_against_hand_split(net, profile, rng, n_fac, n_dem, max_dist):
    fx, fy = points_on(net, rng, n_fac)
    dx, dy = points_on(net, rng, n_dem)
    g = build_profile_graph(net, profile, CONNECTORS)
    got, joined = our_times(g, profile, fx, fy, dx, dy, max_dist)
    want, seg, dist = times_by_hand(net, profile, fx, fy, dx, dy, max_dist)
    # the nearest segment (ties aside: the same distance) and the distance reported
    ours = np.r_[joined.points[0].dist_m, joined.points[1].dist_m]
    np.testing.assert_allclose(ours, dist, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-6)
    return got, joined


@pytest.mark.parametrize("name", ["adult", "wheelchair", "elderly"])
@pytest.mark.parametrize("seed", range(3))
def test_street_join_equals_networkx_on_hand_split_random_networks(name, seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng, n=150)
    got, joined = check_against_hand_split(net, PROFILES[name], rng, 25, 150, max_dist=120.0)
    assert np.isfinite(got).sum() > 30
    off = joined.points[1].node < 0
    assert off.any() and (joined.points[1].dist_m[off] > 120).all()  # reported, not used


def test_points_on_one_segment_reach_each_other_along_it():
    # one 100 m street: a facility at 20 m and a resident at 70 m, 5 m and 3 m off it
    g = build_walk_graph(np.array([0]), np.array([1]), np.array([100.0]),
                         x=np.array([0.0, 100.0]), y=np.zeros(2), crs="local")
    t, joined = our_times(g, PROFILES["adult"], np.array([20.0]), np.array([5.0]),
                          np.array([70.0]), np.array([-3.0]), 50.0)
    assert t[0] == pytest.approx(5 + 50 + 3)
    node, _ = our_times(g, PROFILES["adult"], np.array([20.0]), np.array([5.0]),
                        np.array([70.0]), np.array([-3.0]), 50.0, how="node")
    assert node[0] == pytest.approx(np.hypot(20, 5) + 100 + np.hypot(30, 3))
    assert joined.graph.n_nodes == 4 and (joined.graph.node_id[2:] < 0).all()
    assert joined.n_old == 2 and list(joined.split_t) == [0.2, 0.7]
    np.testing.assert_allclose(joined.graph.x[2:], 100 * joined.split_t)
    assert list(joined.split_u) == [0, 0] and list(joined.split_v) == [1, 1]


def test_partial_segments_keep_slope_stairs_and_lift_waits():
    # a 100 m street rising 10 m (u→v), then 40 counted steps, then a lift node
    x = np.array([0.0, 100.0, 130.0])
    net = WalkNetwork(x=x, y=np.zeros(3), crs="local", node_id=np.arange(3),
                      z=np.array([100.0, 110.0, 120.0]), lift=np.array([False, True, False]),
                      u=np.array([0, 1]), v=np.array([1, 2]), length_m=np.array([100.0, 30.0]),
                      kind=np.array([0, 1]), kinds=("street", "steps"),
                      direction=np.zeros(2, np.int8), incline=np.zeros(2, np.int8),
                      steps=np.array([np.nan, 40.0]), way_share=np.ones(2))
    adult = PROFILES["adult"]
    seg = profile_segments(net, adult, CONNECTORS)
    g = build_profile_graph(net, adult, CONNECTORS)
    # a resident 25 % along the street, a facility half-way up the stairs
    t, _ = our_times(g, adult, np.array([115.0]), np.array([0.0]), np.array([25.0]),
                     np.array([0.0]), 10.0)
    want = 0.75 * seg.travel_fwd_s[0] + 30.0 + 30.0 + 0.5 * seg.travel_fwd_s[1]
    assert t[0] == pytest.approx(want)
    assert 0.5 * seg.travel_fwd_s[1] == pytest.approx(20 * 0.3 / 0.5)  # 20 steps up
    back, _ = our_times(g, adult, np.array([25.0]), np.array([0.0]), np.array([115.0]),
                        np.array([0.0]), 10.0)
    assert back[0] == pytest.approx(0.5 * seg.travel_back_s[1] + 60 + 0.75 * seg.travel_back_s[0])


def test_split_graph_keeps_every_old_time_and_node_join_is_snap_points():
    rng = np.random.default_rng(5)
    net = random_network(rng, n=120)
    g = build_profile_graph(net, PROFILES["adult"], CONNECTORS)
    k = rng.integers(0, net.n_segments, 40)
    g2, node = split_graph(g, k, rng.uniform(0, 1, 40))
    src = rng.choice(g.n_nodes, 5, replace=False)
    np.testing.assert_allclose(nearest_times_s(g2, src)[: g.n_nodes], nearest_times_s(g, src),
                               rtol=0, atol=1e-9)
    assert (node >= g.n_nodes).all() and g2.n_nodes == g.n_nodes + len(np.unique(node))
    x, y = points_on(net, rng, 50)
    j = join_points(g, [(x, y)], how="node", speed_m_s=1.0, max_dist_m=80)
    want = snap_points(g, x, y, speed_m_s=1.0, max_dist_m=80)
    assert j.graph is g
    np.testing.assert_array_equal(j.points[0].node, want.node)
    with pytest.raises(ValueError, match="how must be"):
        join_points(g, [(x, y)], how="edge", speed_m_s=1.0)


def test_street_front_is_never_farther_than_the_nearest_node():
    rng = np.random.default_rng(9)
    net = random_network(rng, n=200, kinds=("street",), lifts=False)
    net = WalkNetwork(**{**net.__dict__, "direction": np.zeros(net.n_segments, np.int8)})
    g = build_profile_graph(net, PROFILES["adult"], CONNECTORS)
    x, y = points_on(net, rng, 300)
    street = join_points(g, [(x, y)], speed_m_s=1.0, max_dist_m=1e6).points[0]
    node = join_points(g, [(x, y)], how="node", speed_m_s=1.0, max_dist_m=1e6).points[0]
    assert (street.dist_m <= node.dist_m + 1e-9).all()
    assert np.median(node.dist_m - street.dist_m) > 1.0


def test_helsinki_street_join_equals_networkx():
    import geo_app as ga
    from layers.network import read_network

    net = network_arrays(read_network(ga.sample_path()))
    rng = np.random.default_rng(4)
    for name in ("adult", "wheelchair"):
        got, _ = check_against_hand_split(net, PROFILES[name], rng, 15, 300, max_dist=300.0)
        assert np.isfinite(got).mean() > 0.3


def test_chengdu_street_join_equals_networkx(raw_dir):
    """Real central Chengdu (OSM 2018): the street-front join on real streets."""
    from layers.network import read_network

    path = raw_dir / "chengdu_osm_eta" / "chengdu.osm"
    if not path.is_file():
        pytest.skip(f"the shared Chengdu extract is not at {path}")
    net = network_arrays(read_network(path))
    rng = np.random.default_rng(8)
    near = rng.choice(net.n_nodes, 400, replace=False)  # points by the streets, 0–100 m off
    pts = np.column_stack([net.x[near], net.y[near]]) + rng.normal(0, 40, (400, 2))
    adult = PROFILES["adult"]
    g = build_profile_graph(net, adult, CONNECTORS)
    got, _ = our_times(g, adult, pts[:12, 0], pts[:12, 1], pts[12:, 0], pts[12:, 1], 500.0)
    want, _, _ = times_by_hand(net, adult, pts[:12, 0], pts[:12, 1], pts[12:, 0],
                               pts[12:, 1], 500.0)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    assert ok.mean() > 0.9
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-6)
