"""Coverage engine against brute force (networkx per pair) and hand-checked cases."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely

from analysis.areas import band, facility_isochrones, gap_polygons, reached_segments
from analysis.coverage import category_node_times, coverage_frame, summarise
from analysis.graph import build_walk_graph
from analysis.grids import square_bins, square_polygons
from analysis.paths import nearest_source, nearest_times_s
from analysis.snap import snap_points


def grid_graph(rng, side=15, spacing=100.0, drop=0.15, slope=False):
    """A perturbed street grid in metres with some streets removed."""
    ij = np.array([(i, j) for i in range(side) for j in range(side)])
    x = ij[:, 0] * spacing + rng.normal(0, 10, len(ij))
    y = ij[:, 1] * spacing + rng.normal(0, 10, len(ij))
    idx = lambda i, j: i * side + j  # noqa: E731
    u, v = [], []
    for i in range(side):
        for j in range(side):
            if i + 1 < side:
                u.append(idx(i, j)), v.append(idx(i + 1, j))
            if j + 1 < side:
                u.append(idx(i, j)), v.append(idx(i, j + 1))
    u, v = np.array(u), np.array(v)
    keep = rng.random(len(u)) > drop
    u, v = u[keep], v[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    z = rng.uniform(0, 40, len(x)) if slope else None
    g = build_walk_graph(u, v, length, x=x, y=y, crs="local", elevation_m=z)
    return g


def brute_times(g, demand_snap, fac_snap):
    """Per demand point: min over facilities of access + path + access (networkx, per pair)."""
    coo = g.time.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    out = np.full(len(demand_snap.node), np.inf)
    for k, (dn, da) in enumerate(zip(demand_snap.node, demand_snap.access_s)):
        if dn < 0:
            continue
        lengths = nx.single_source_dijkstra_path_length(G, int(dn), weight="weight")
        for fn, fa in zip(fac_snap.node, fac_snap.access_s):
            if fn >= 0 and int(fn) in lengths:
                out[k] = min(out[k], da + lengths[int(fn)] + fa)
    return out


@pytest.mark.parametrize("slope", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_demand_times_equal_brute_force(seed, slope):
    rng = np.random.default_rng(seed)
    g = grid_graph(rng, slope=slope)
    # demand partly off the grid: some points beyond 500 m are off-network
    dx, dy = rng.uniform(-700, 2100, 80), rng.uniform(-100, 1500, 80)
    fx, fy = rng.uniform(0, 1400, 6), rng.uniform(0, 1400, 6)
    d = snap_points(g, dx, dy, speed_m_s=1.0)
    f = snap_points(g, fx, fy, speed_m_s=1.0)
    assert (~d.on_network).any() and d.on_network.any()
    limit = 600.0
    nt = category_node_times(g, {"clinic": f}, {"clinic": limit})
    frame = coverage_frame(d, nt, {"clinic": limit})
    want = brute_times(g, d, f)
    got = frame["t_clinic"].to_numpy()
    within = want <= limit
    np.testing.assert_array_equal(frame["cov_clinic"].to_numpy(), within)
    np.testing.assert_allclose(got[within], want[within], rtol=0, atol=1e-6)
    assert np.isnan(got[~within]).all()


def test_basket_count_and_summary_by_hand():
    # path 0-1-2 of 100 m at 1 m/s; a school at node 0, a clinic at node 2
    g = build_walk_graph([0, 1], [1, 2], [100.0, 100.0], x=np.array([0.0, 100, 200]),
                         y=np.zeros(3), crs="local")
    d = snap_points(g, np.array([0.0, 100, 200]), np.array([10.0, 0, 0]), speed_m_s=1.0)
    fac = {"school": snap_points(g, np.array([0.0]), np.zeros(1), speed_m_s=1.0),
           "clinic": snap_points(g, np.array([200.0]), np.zeros(1), speed_m_s=1.0)}
    limits = {"school": 150.0, "clinic": 150.0}
    frame = coverage_frame(d, category_node_times(g, fac, limits), limits)
    np.testing.assert_allclose(frame["t_school"], [10.0, 100.0, np.nan])
    np.testing.assert_allclose(frame["t_clinic"], [np.nan, 100.0, 0.0])
    assert list(frame["n_covered"]) == [1, 2, 1]
    assert list(frame["basket_covered"]) == [False, True, False]
    s = summarise(frame, np.array([10.0, 20.0, 30.0]), np.array(["a", "a", "b"]),
                  ["school", "clinic"])
    a = s.set_index("zone").loc["a"]
    assert a["population"] == 30 and a["pop_school"] == 30 and a["pop_clinic"] == 20
    assert a["share_basket"] == pytest.approx(20 / 30)


def test_nearest_source_is_a_network_voronoi():
    rng = np.random.default_rng(7)
    g = grid_graph(rng, slope=True)
    src = rng.choice(g.n_nodes, 5, replace=False)
    off = rng.uniform(0, 60, 5)
    t, s = nearest_source(g, src, off, limit_s=700)
    per = np.stack([nearest_times_s(g, [a], [o], limit_s=700) for a, o in zip(src, off)])
    ok = np.isfinite(t)
    np.testing.assert_allclose(t[ok], per.min(axis=0)[ok], atol=1e-9)
    np.testing.assert_allclose(per[s[ok], np.flatnonzero(ok)], t[ok], atol=1e-9)
    assert (s[~ok] == -1).all()


def test_partial_edge_by_hand():
    # a 100 m edge 0-1 at 1 m/s, facility at node 1, 60 s budget: 60 m of the edge is reached
    g = build_walk_graph([0], [1], [100.0], x=np.array([0.0, 100.0]), y=np.zeros(2), crs="local")
    t = nearest_times_s(g, [1], limit_s=60)
    segs = reached_segments(g, t, 60.0)
    assert shapely.length(segs).max() == pytest.approx(60.0)
    assert shapely.union_all(segs).equals_exact(shapely.LineString([(100, 0), (40, 0)]), 1e-9)


def test_band_is_within_a_cell_of_the_exact_buffer():
    rng = np.random.default_rng(3)
    g = grid_graph(rng, side=20)
    t = nearest_times_s(g, [210], limit_s=900)
    segs = reached_segments(g, t, 900.0)
    exact = shapely.union_all(shapely.buffer(segs, 25.0, quad_segs=16))
    grid = band(segs, 25.0)  # 10 m cells
    assert shapely.difference(grid, shapely.buffer(exact, 10.5)).area == pytest.approx(0, abs=1)
    assert shapely.difference(shapely.buffer(exact, -10.5), grid).area == pytest.approx(0, abs=1)
    assert abs(grid.area - exact.area) / exact.area < 0.05


def test_isochrones_take_the_access_walk_off_the_budget():
    g = build_walk_graph([0, 1], [1, 2], [100.0, 100.0], x=np.array([0.0, 100, 200]),
                         y=np.zeros(3), crs="local")
    near, far = facility_isochrones(g, np.array([1, 1]), np.array([0.0, 50.0]), 100.0,
                                    buffer_m=5.0, )
    # near: 100 m each way → the whole 200 m street; far: 50 m each way
    assert near.bounds[0] == pytest.approx(-5, abs=2.5) and near.bounds[2] == pytest.approx(205, abs=2.5)
    assert far.bounds[0] == pytest.approx(45, abs=2.5) and far.bounds[2] == pytest.approx(155, abs=2.5)
    none, = facility_isochrones(g, np.array([1]), np.array([150.0]), 100.0)
    assert none.is_empty


def test_gap_polygons_rank_by_population():
    x = np.array([10.0, 50, 250, 1000, 1010])
    y = np.array([10.0, 10, 10, 1000, 1010])
    pop = np.array([5.0, 5, 7, 100, 1])
    polys, p = gap_polygons(x, y, pop, np.array([True, True, True, True, False]), cell_m=200)
    assert list(p) == [100.0, 17.0]  # cells (0,0) and (1,0) touch: one gap of 5 + 5 + 7
    assert polys[1].area == pytest.approx(2 * 200 * 200)
    assert gap_polygons(x, y, pop, np.zeros(5, bool), cell_m=200) == ([], pytest.approx([]))


def test_snap_marks_off_network_points():
    g = build_walk_graph([0], [1], [100.0], x=np.array([0.0, 100.0]), y=np.zeros(2), crs="local")
    s = snap_points(g, np.array([0.0, 100.0, 2000.0]), np.array([30.0, 0.0, 0.0]),
                    speed_m_s=1.5, max_dist_m=500)
    assert list(s.node) == [0, 1, -1]
    np.testing.assert_allclose(s.access_s, [20.0, 0.0, math.inf])


@pytest.mark.parametrize("slope", [False, True])
def test_source_point_times_equal_one_search_per_source(slope):
    from analysis.paths import source_point_times

    rng = np.random.default_rng(5)
    g = grid_graph(rng, side=40, slope=slope)  # 4 km across: tiles and local subgraphs kick in
    d = snap_points(g, rng.uniform(-600, 4000, 2000), rng.uniform(0, 4000, 2000), speed_m_s=1.0)
    c = snap_points(g, rng.uniform(0, 3900, 60), rng.uniform(0, 3900, 60), speed_m_s=1.0)
    m = source_point_times(g, c.node, c.access_s, d.node, d.access_s, limit_s=500,
                           max_batch_cells=5_000)
    assert m.nnz > 500
    for j in range(60):
        nt = nearest_times_s(g, [c.node[j]], [c.access_s[j]], limit_s=500)
        want = np.where(d.node >= 0, nt[np.maximum(d.node, 0)] + d.access_s, np.inf)
        want[want > 500] = np.inf
        got = np.full(2000, np.inf)
        row = m[[j]]
        got[row.indices] = row.data
        np.testing.assert_allclose(got, want, atol=1e-9)


def _gaps_by_union(x, y, pop, uncovered, cell_m):
    """The obvious reference: the union of the occupied squares, split into parts."""
    m = uncovered & (pop > 0)
    cells, inv = square_bins(x[m], y[m], cell_m)
    cell_pop = np.bincount(inv, weights=pop[m])
    boxes = square_polygons(cells, cell_m)
    parts = shapely.get_parts(shapely.union_all(boxes))
    part_of = shapely.STRtree(parts).query(shapely.centroid(boxes), predicate="within")
    totals = np.bincount(part_of[1], weights=cell_pop[part_of[0]], minlength=len(parts))
    return parts, totals


@pytest.mark.parametrize("seed", range(6))
def test_gap_polygons_equal_the_union_of_squares(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    x, y = rng.uniform(0, 8000, n), rng.uniform(0, 6000, n)
    pop = rng.integers(0, 40, n).astype(float)
    # uncovered in blobs, so that gaps have holes, touch at corners and merge along edges
    cx, cy = rng.uniform(0, 8000, 12), rng.uniform(0, 6000, 12)
    near = (np.hypot(x[:, None] - cx, y[:, None] - cy) < rng.uniform(300, 1500, 12)).any(axis=1)
    uncovered = near & (rng.random(n) < 0.9)
    polys, got = gap_polygons(x, y, pop, uncovered, cell_m=200)
    want_polys, want = _gaps_by_union(x, y, pop, uncovered, 200)
    assert len(polys) == len(want_polys) > 3
    np.testing.assert_allclose(sorted(got), sorted(want))
    assert list(got) == sorted(got, reverse=True)
    union_got = shapely.union_all(polys)
    assert union_got.symmetric_difference(shapely.union_all(want_polys)).area < 1e-6
    for p in polys:  # each gap is one of the reference's parts
        assert min(p.symmetric_difference(w).area for w in want_polys) < 1e-6
