"""Walk graph and multi-source times against networkx Dijkstra and hand computations."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from analysis.graph import build_walk_graph, min_csr, tobler_factor
from analysis.paths import nearest_times_s


def random_streets(rng, n=300, m=700, parts=3):
    """Random segments with parallel edges, loops and ``parts`` disconnected parts."""
    part = rng.integers(0, parts, n)
    u = rng.integers(0, n, m)
    v = np.array([rng.choice(np.flatnonzero(part == part[a])) for a in u])
    dup = rng.choice(m, m // 5)  # parallel segments with other lengths
    u, v = np.r_[u, u[dup]], np.r_[v, v[dup]]
    length = rng.uniform(5, 300, len(u))
    return n, u, v, length


def oracle(n, u, v, cost_fwd, cost_back, sources, offsets, limit=math.inf):
    """networkx: time from every node to its nearest source, via a reversed graph."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n + 1))
    for a, b, cf, cb in zip(u, v, cost_fwd, cost_back):
        if a == b:
            continue
        for s, t, c in ((b, a, cf), (a, b, cb)):  # reversed: edge t->s costs walking s->t
            if not g.has_edge(s, t) or g[s][t]["w"] > c:
                g.add_edge(s, t, w=c)
    for s, off in zip(sources, offsets):
        if not g.has_edge(n, s) or g[n][s]["w"] > off:
            g.add_edge(n, s, w=off)
    dist = nx.single_source_dijkstra_path_length(g, n, weight="w", cutoff=limit)
    out = np.full(n, np.inf)
    for node, d in dist.items():
        if node < n:
            out[node] = d
    return out


@pytest.mark.parametrize("seed", range(5))
def test_flat_times_equal_networkx(seed):
    rng = np.random.default_rng(seed)
    n, u, v, length = random_streets(rng)
    steps = rng.random(len(u)) < 0.1
    g = build_walk_graph(u, v, length, x=np.zeros(n), y=np.zeros(n), crs="local",
                         is_steps=steps, speed_m_s=1.2, steps_speed_m_s=0.4)
    cost = length / np.where(steps, 0.4, 1.2)
    sources = rng.choice(n, 6, replace=False)
    offsets = rng.uniform(0, 120, 6)
    got = nearest_times_s(g, sources, offsets)
    want = oracle(n, u, v, cost, cost, sources, offsets)
    assert np.isinf(got).sum() > 0  # other parts are unreachable
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_sloped_directed_times_equal_networkx(seed):
    rng = np.random.default_rng(100 + seed)
    n, u, v, length = random_streets(rng, parts=2)
    z = rng.uniform(0, 60, n)
    g = build_walk_graph(u, v, length, x=np.zeros(n), y=np.zeros(n), crs="local",
                         elevation_m=z)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(length > 0, (z[v] - z[u]) / length, 0)
    fwd = length / tobler_factor(slope)
    back = length / tobler_factor(-slope)
    sources = rng.choice(n, 4, replace=False)
    got = nearest_times_s(g, sources, limit_s=900)
    want = oracle(n, u, v, fwd, back, sources, np.zeros(4), limit=900)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=1e-6)
    # slope makes the graph directed: some edge differs by direction
    t = g.time.toarray()
    assert np.any(np.abs(t - t.T) > 1e-6)


def test_tobler_by_hand():
    # one 100 m segment climbing 10 m: slope +0.1 uphill, -0.1 downhill
    g = build_walk_graph([0], [1], [100.0], x=np.zeros(2), y=np.zeros(2), crs="local",
                         elevation_m=np.array([0.0, 10.0]), speed_m_s=1.0)
    up = 100 / (math.exp(-3.5 * 0.15) / math.exp(-3.5 * 0.05))  # 141.91 s
    down = 100 / (math.exp(-3.5 * 0.05) / math.exp(-3.5 * 0.05))  # |−0.1+0.05| = 0.05: 100 s
    assert g.time[0, 1] == pytest.approx(up, abs=1e-9)
    assert g.time[1, 0] == pytest.approx(down, abs=1e-9)
    assert up == pytest.approx(141.906, abs=1e-3)
    assert tobler_factor(0.0) == pytest.approx(1.0)
    assert tobler_factor(-0.05) == pytest.approx(math.exp(3.5 * 0.05))


def test_parallel_edges_keep_minimum_not_sum():
    m = min_csr(np.array([0, 0, 0, 1]), np.array([1, 1, 1, 0]), np.array([30.0, 10.0, 20.0, 5.0]), 2)
    assert m[0, 1] == 10.0 and m[1, 0] == 5.0 and m.nnz == 2


def test_limit_and_offsets():
    # a path 0-1-2-3, 60 m apart, walked at 1 m/s; source at 3 with 30 s access
    g = build_walk_graph([0, 1, 2], [1, 2, 3], [60.0, 60.0, 60.0], x=np.zeros(4), y=np.zeros(4),
                         crs="local")
    t = nearest_times_s(g, [3], [30.0], limit_s=160)
    np.testing.assert_allclose(t, [np.inf, 150.0, 90.0, 30.0])
    assert np.all(np.isinf(nearest_times_s(g, [])))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="node indices"):
        build_walk_graph([0], [5], [1.0], x=np.zeros(2), y=np.zeros(2), crs="local")
    with pytest.raises(ValueError, match="non-negative"):
        build_walk_graph([0], [1], [-1.0], x=np.zeros(2), y=np.zeros(2), crs="local")
    with pytest.raises(ValueError, match="one value per node"):
        build_walk_graph([0], [1], [1.0], x=np.zeros(2), y=np.zeros(2), crs="local",
                         elevation_m=np.array([0.0]))


def test_bad_sources_are_refused_not_crashing():
    g = build_walk_graph([0, 1], [1, 2], [10.0, 10.0], x=np.zeros(3), y=np.zeros(3), crs="local")
    for bad in ([-1], [3], [0.5]):
        with pytest.raises(ValueError, match="node"):
            nearest_times_s(g, bad)
    with pytest.raises(ValueError, match="non-negative"):
        nearest_times_s(g, [0], [-5.0])
    with pytest.raises(ValueError, match="non-negative"):
        nearest_times_s(g, [0], [np.nan])


def test_edge_ends_must_have_nodes():
    import geopandas as gpd
    import pandas as pd
    import shapely

    from geo_app.workflows.graphs import walk_graph_from_network
    from layers.network import StreetNetwork

    nodes = pd.DataFrame({"node_id": [10, 20], "lon": [106.5, 106.501], "lat": [29.5, 29.5]})
    edges = gpd.GeoDataFrame({"u": [10], "v": [30], "length_m": [97.0], "highway": ["footway"]},
                             geometry=[shapely.LineString([(106.5, 29.5), (106.501, 29.5)])],
                             crs=4326)
    with pytest.raises(ValueError, match="not in the node table"):
        walk_graph_from_network(StreetNetwork(nodes, edges, "t.geojson"))
