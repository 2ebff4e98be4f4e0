"""Walker profiles and connectors: edge times against a plain-Python reading of the rules,
walking times against networkx on the same rules (random networks, the Helsinki sample with
its lifts, escalators, stairs and crossings, real terrain of 九龙坡)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from analysis.graph import build_profile_graph, build_walk_graph, profile_segments
from analysis.paths import nearest_times_s
from analysis.profiles import Connector, WalkerProfile, connectors_from_table, profiles_from_table
from analysis.walk_network import WalkNetwork, walk_network
from layers.connectors import load_connectors, load_walker_profiles

PROFILES = profiles_from_table(load_walker_profiles())
CONNECTORS = connectors_from_table(load_connectors())


# ------------------------------------------------------------------------ the oracle

def tobler(slope: float) -> float:
    """Tobler's hiking speed relative to level ground, written out."""
    return 6.0 * math.exp(-3.5 * abs(slope + 0.05)) / (6.0 * math.exp(-3.5 * 0.05))


def oracle_times(net: WalkNetwork, profile: WalkerProfile, connectors) -> list[tuple]:
    """(u, v, seconds u→v, seconds v→u) of every segment, one at a time, by the rules of
    ``profile_segments``' docstring (``inf`` where not allowed)."""
    out = []
    lift_wait = connectors["elevator"].wait_s if "elevator" in connectors else 0.0
    for i in range(net.n_segments):
        a, b = int(net.u[i]), int(net.v[i])
        kind = net.kinds[net.kind[i]]
        c = connectors[kind]
        length = float(net.length_m[i])
        za, zb = float(net.z[a]), float(net.z[b])
        rise = zb - za if math.isfinite(za) and math.isfinite(zb) else 0.0
        slope = rise / length if length > 0 and c.slope else 0.0
        allowed = not (profile.step_free_only and not c.step_free)
        if kind == "steps":
            if profile.stairs_up_m_s is None or profile.step_free_only:
                allowed = False
                fwd = back = math.inf
            else:
                steps = float(net.steps[i])
                run = steps * c.tread_m if math.isfinite(steps) and c.tread_m else length
                climb = int(net.incline[i]) or (1 if rise > 0 else -1 if rise < 0 else 0)
                up, down = run / profile.stairs_up_m_s, run / profile.stairs_down_m_s
                if climb > 0:
                    fwd, back = up, down
                elif climb < 0:
                    fwd, back = down, up
                else:
                    fwd = back = up
        elif c.speed_m_s is not None:
            fwd = back = length / c.speed_m_s
        else:
            if profile.max_grade is not None and abs(slope) > profile.max_grade:
                allowed = False
            fwd = length / (profile.flat_m_s * tobler(slope))
            back = length / (profile.flat_m_s * tobler(-slope))
        extra = c.wait_s * float(net.way_share[i])
        extra += lift_wait / 2 * (int(net.lift[a]) + int(net.lift[b]))
        fwd, back = fwd + extra, back + extra
        if not allowed:
            fwd = back = math.inf
        if net.direction[i] == 1:
            back = math.inf
        elif net.direction[i] == -1:
            fwd = math.inf
        out.append((a, b, fwd, back))
    return out


def oracle_graph(times, n: int) -> nx.DiGraph:
    """networkx graph of the segment times, the cheapest of parallel edges kept."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, fwd, back in times:
        for s, t, w in ((a, b, fwd), (b, a, back)):
            if s != t and math.isfinite(w) and (not g.has_edge(s, t) or g[s][t]["w"] > w):
                g.add_edge(s, t, w=w)
    return g


def oracle_to_sources(g: nx.DiGraph, sources, offsets, n: int, limit=None) -> np.ndarray:
    """Seconds from every node to its nearest source (walking to it), networkx."""
    rev = g.reverse(copy=True)
    rev.add_node("S")
    for s, off in zip(sources, offsets):
        s = int(s)
        if not rev.has_edge("S", s) or rev["S"][s]["w"] > off:
            rev.add_edge("S", s, w=float(off))
    dist = nx.single_source_dijkstra_path_length(rev, "S", cutoff=limit, weight="w")
    out = np.full(n, np.inf)
    for node, d in dist.items():
        if node != "S":
            out[node] = d
    return out


# ------------------------------------------------------------------------ networks

def random_network(rng, n=250, kinds=None, z=True, lifts=True) -> WalkNetwork:
    """Random planar-ish network (Delaunay edges) with every connector kind, slopes,
    one-way connectors, inclines, step counts, shares of ways and elevator nodes."""
    from scipy.spatial import Delaunay

    xy = rng.uniform(0, 1500, (n, 2))
    tri = Delaunay(xy).simplices
    e = np.sort(np.r_[tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]], axis=1)
    e = np.unique(e, axis=0)
    e = e[rng.random(len(e)) < 0.7]
    dup = e[rng.choice(len(e), len(e) // 10)]  # parallel segments of another kind
    e = np.r_[e, dup]
    m = len(e)
    kinds = kinds or tuple(CONNECTORS)
    code = rng.choice(len(kinds), m, p=None)
    code[rng.random(m) < 0.5] = kinds.index("street") if "street" in kinds else 0
    length = np.hypot(*(xy[e[:, 0]] - xy[e[:, 1]]).T) * rng.uniform(1.0, 1.3, m)
    length[rng.random(m) < 0.02] = 0.0
    direction = np.where(rng.random(m) < 0.15, rng.choice([-1, 1], m), 0).astype(np.int8)
    incline = np.where(rng.random(m) < 0.4, rng.choice([-1, 1], m), 0).astype(np.int8)
    steps = np.where(rng.random(m) < 0.5, rng.integers(3, 80, m).astype(float), np.nan)
    share = np.where(rng.random(m) < 0.3, rng.uniform(0.1, 1, m), 1.0)
    # a hillside: grades mostly 0–15 %, some steeper, a few nodes unknown
    zz = (150 + 0.07 * xy[:, 0] + 25 * np.sin(xy[:, 1] / 150) + rng.normal(0, 2, n)) if z \
        else np.full(n, np.nan)
    if z:
        zz[rng.random(n) < 0.05] = np.nan  # unknown elevations: level
    return WalkNetwork(
        x=xy[:, 0], y=xy[:, 1], crs="local", node_id=np.arange(n) + 1000, z=zz,
        lift=(rng.random(n) < 0.05) if lifts else np.zeros(n, bool),
        u=e[:, 0].astype(np.int64), v=e[:, 1].astype(np.int64), length_m=length,
        kind=code.astype(np.int64), kinds=kinds, direction=direction, incline=incline,
        steps=steps, way_share=share)


def network_arrays(net, crs=None, z=None) -> WalkNetwork:
    """A layers StreetNetwork as a WalkNetwork in metres (as the workflows build it)."""
    from pyproj import Transformer

    from layers.crs import metric_crs

    nodes = net.nodes
    lon, lat = nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    crs = crs or metric_crs((lon, lat))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    index = pd.Index(nodes["node_id"].to_numpy(np.int64))
    u = index.get_indexer(net.edges["u"].to_numpy(np.int64))
    v = index.get_indexer(net.edges["v"].to_numpy(np.int64))
    assert (u >= 0).all() and (v >= 0).all()
    return walk_network(net.edges, u, v, x=np.asarray(x), y=np.asarray(y), crs=crs,
                        node_id=index.to_numpy(), z=z,
                        lift=nodes["lift"].to_numpy(bool) if "lift" in nodes else None)


def assert_same_as_oracle(net: WalkNetwork, profile: WalkerProfile, connectors, rng,
                          n_sources=6, limit=1800.0):
    segs = profile_segments(net, profile, connectors)
    want = oracle_times(net, profile, connectors)
    w = np.array([(f, b) for _, _, f, b in want])
    np.testing.assert_allclose(segs.fwd_s, w[:, 0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(segs.back_s, w[:, 1], rtol=1e-12, atol=1e-9)
    g = build_profile_graph(net, profile, connectors)
    sources = rng.choice(net.n_nodes, n_sources, replace=False)
    offsets = rng.uniform(0, 60, n_sources)
    got = nearest_times_s(g, sources, offsets, limit_s=limit)
    ref = oracle_to_sources(oracle_graph(want, net.n_nodes), sources, offsets, net.n_nodes,
                            limit)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=0, atol=1e-6)
    return got


# ------------------------------------------------------------------------ tests

@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("seed", range(3))
def test_profiles_equal_networkx_on_random_networks(name, seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng)
    assert set(net.kinds) == set(CONNECTORS)
    got = assert_same_as_oracle(net, PROFILES[name], CONNECTORS, rng)
    assert np.isfinite(got).sum() > 20


def test_adult_on_a_plain_network_is_the_old_walk_graph():
    rng = np.random.default_rng(7)
    net = random_network(rng, kinds=("street", "steps"), z=False, lifts=False)
    net = WalkNetwork(**{**net.__dict__, "direction": np.zeros(net.n_segments, np.int8),
                         "incline": np.zeros(net.n_segments, np.int8),
                         "steps": np.full(net.n_segments, np.nan),
                         "way_share": np.ones(net.n_segments)})
    new = build_profile_graph(net, PROFILES["adult"], CONNECTORS)
    old = build_walk_graph(net.u, net.v, net.length_m, x=net.x, y=net.y, crs="local",
                           is_steps=net.kind == net.kinds.index("steps"), speed_m_s=1.0,
                           steps_speed_m_s=0.5)
    assert (new.time != old.time).nnz == 0 and new.time.nnz == old.time.nnz


def two_levels(connector: str, lift_node: bool = False) -> WalkNetwork:
    """A lower street (nodes 0-1-2) and an upper street (3-4-5) joined only by one
    connector between 1 and 4 (or, with ``lift_node``, by a footway through an elevator
    node 6)."""
    x = np.array([0, 100, 200, 0, 100, 200, 100.0])
    y = np.array([0, 0, 0, 30, 30, 30, 15.0])
    z = np.array([160, 160, 160, 190, 190, 190, 175.0])
    u = [0, 1, 3, 4]
    v = [1, 2, 4, 5]
    kind = ["street"] * 4
    if lift_node:
        u, v, kind = u + [1, 6], v + [6, 4], kind + ["street", "street"]
    else:
        u, v, kind = u + [1], v + [4], kind + [connector]
    kinds = tuple(dict.fromkeys(kind))
    m = len(u)
    u, v = np.array(u), np.array(v)
    return WalkNetwork(x=x, y=y, crs="local", node_id=np.arange(7), z=z,
                       lift=np.arange(7) == 6 if lift_node else np.zeros(7, bool), u=u, v=v,
                       length_m=np.hypot(x[u] - x[v], y[u] - y[v]),
                       kind=np.array([kinds.index(k) for k in kind]), kinds=kinds,
                       direction=np.zeros(m, np.int8), incline=np.zeros(m, np.int8),
                       steps=np.full(m, np.nan), way_share=np.ones(m))


def test_only_stairs_between_levels_leave_the_upper_level_unreachable_for_wheelchairs():
    net = two_levels("steps")
    times = {}
    for name, profile in PROFILES.items():
        g = build_profile_graph(net, profile, CONNECTORS)
        times[name] = nearest_times_s(g, [0], [0.0])
    assert np.isinf(times["wheelchair"][[3, 4, 5]]).all()  # the far level: unreachable
    assert np.isfinite(times["wheelchair"][[1, 2]]).all()
    for name in ("adult", "elderly", "child"):
        assert np.isfinite(times[name][[3, 4, 5]]).all()
    # stairs climb 30 m over 30 m: the elderly take longer than adults on them
    assert times["elderly"][4] - times["elderly"][1] > times["adult"][4] - times["adult"][1]
    # an escalator is not step-free either; a lift is
    for connector, reachable in (("escalator", False), ("elevator", True)):
        g = build_profile_graph(two_levels(connector), PROFILES["wheelchair"], CONNECTORS)
        assert np.isfinite(nearest_times_s(g, [0], [0.0])[5]) == reachable, connector


def test_a_wheelchair_route_never_uses_steps():
    rng = np.random.default_rng(11)
    net = random_network(rng)
    g = build_profile_graph(net, PROFILES["wheelchair"], CONNECTORS)
    banned = np.isin(net.kind, [net.kinds.index(k) for k in ("steps", "escalator")])
    other = {(a, b) for a, b, bad in zip(net.u, net.v, banned) if not bad}
    coo = g.time.tocoo()
    edges = set(zip(coo.row.tolist(), coo.col.tolist()))
    for a, b in zip(net.u[banned], net.v[banned]):  # only a parallel usable segment remains
        for s, t in ((a, b), (b, a)):
            if (s, t) in edges:
                assert (s, t) in other or (t, s) in other
    # every shortest wheelchair path runs over allowed segments only
    ref = oracle_graph(oracle_times(net, PROFILES["wheelchair"], CONNECTORS), net.n_nodes)
    paths = nx.single_source_dijkstra_path(ref, 0, weight="w")
    steps_pairs = {frozenset((a, b)) for a, b in zip(net.u[banned], net.v[banned])} - {
        frozenset(p) for p in other}
    for path in paths.values():
        assert not {frozenset(p) for p in zip(path[:-1], path[1:])} & steps_pairs


def test_connector_rules_by_hand():
    net = two_levels("escalator")
    # escalator forward only (conveying=forward): up from 1 to 4, never down
    net = WalkNetwork(**{**net.__dict__, "direction": np.array([0, 0, 0, 0, 1], np.int8)})
    seg = profile_segments(net, PROFILES["adult"], CONNECTORS)
    assert seg.fwd_s[4] == pytest.approx(30 / 0.43) and np.isinf(seg.back_s[4])
    # steps with 40 counted steps: 40 × 0.30 m at 0.5 m/s up, 0.6 m/s down (z rises u→v)
    steps = two_levels("steps")
    steps = WalkNetwork(**{**steps.__dict__, "steps": np.array([np.nan] * 4 + [40.0])})
    seg = profile_segments(steps, PROFILES["adult"], CONNECTORS)
    assert seg.fwd_s[4] == pytest.approx(12 / 0.5) and seg.back_s[4] == pytest.approx(12 / 0.6)
    # a lift node: 60 s to pass through, half of it to stop at it
    lift = two_levels("street", lift_node=True)
    t = nearest_times_s(build_profile_graph(lift, PROFILES["adult"], CONNECTORS), [1], [0.0])
    assert t[6] == pytest.approx(15 / tobler(-1.0) + 30.0)  # down 15 m over 15 m
    assert t[4] == pytest.approx(2 * 15 / tobler(-1.0) + 60.0)
    # grades beyond 1:12 are walls for wheelchairs, not for walkers
    seg = profile_segments(two_levels("street"), PROFILES["wheelchair"], CONNECTORS)
    assert np.isinf(seg.fwd_s[4]) and np.isfinite(seg.fwd_s[0])
    # unknown kinds are refused
    with pytest.raises(ValueError, match="no connector row"):
        profile_segments(two_levels("street"), PROFILES["adult"], {"x": Connector("x")})


def test_helsinki_profiles_equal_networkx():
    """The offline sample: 8 connector kinds, 11 lift nodes, escalators, counted steps."""
    import geo_app as ga
    from layers.network import read_network

    net = network_arrays(read_network(ga.sample_path()))
    kinds = set(net.kinds[k] for k in np.unique(net.kind))
    assert {"steps", "escalator", "elevator", "passage", "crossing", "underpass"} <= kinds
    assert net.lift.sum() == 11
    rng = np.random.default_rng(3)
    for name in PROFILES:
        assert_same_as_oracle(net, PROFILES[name], CONNECTORS, rng, n_sources=4)
