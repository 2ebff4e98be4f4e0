"""Life-circle delineation against brute force: network Voronoi cells and their neighbours
from networkx, contiguity of every circle on the street network, walks to the centre, bounds,
boundaries and a partition of the residents."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from analysis.delineation import (
    atom_reach,
    circle_polygons,
    delineate,
    join_sites,
    site_adjacency,
)
from analysis.graph import build_walk_graph
from analysis.regions import Bounds, grow_regions, spopt_regions
from analysis.snap import snap_points
from tests.analysis.test_coverage import grid_graph


def nx_graph(g) -> nx.DiGraph:
    coo = g.time.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    return G


def brute_cells(G: nx.DiGraph, sources: np.ndarray) -> np.ndarray:
    """Each node's nearest source (walking to it), by networkx; -1 where none is reachable."""
    dist, paths = nx.multi_source_dijkstra(G.reverse(copy=True), set(sources.tolist()))
    pos = {int(s): k for k, s in enumerate(sources)}
    cell = np.full(G.number_of_nodes(), -1)
    for node, path in paths.items():
        cell[node] = pos[path[0]]
    return cell


def case(seed=0, side=16, n=600, drop=0.12):
    rng = np.random.default_rng(seed)
    g = grid_graph(rng, side=side, spacing=100.0, drop=drop)
    span = (side - 1) * 100.0
    x, y = rng.uniform(0, span, n), rng.uniform(0, span, n)
    snap = snap_points(g, x, y, speed_m_s=1.0, max_dist_m=150.0)
    pop = rng.integers(5, 120, n).astype(float)
    return g, x, y, snap.node, pop


def check_partition(d, node, pop):
    on = node >= 0
    k = len(d.population)
    assert (d.unit_circle[on] >= 0).all() and (d.unit_circle[on] < k).all()
    assert (d.unit_circle[~on] == -1).all()
    assert np.allclose(np.bincount(d.unit_circle[on], weights=pop[on], minlength=k),
                       d.population)
    assert d.population.sum() == pytest.approx(pop[on].sum())


def check_contiguous_by_brute_force(g, d):
    """The union of the network-Voronoi cells of a circle's sites is connected (networkx)."""
    G = nx_graph(g)
    nodes = np.unique(d.site_node)
    cell = brute_cells(G, nodes)
    circle_of_node_site = np.full(len(nodes), -1)
    circle_of_node_site[np.searchsorted(nodes, d.site_node)] = d.site_circle
    U = G.to_undirected()
    for c in range(len(d.population)):
        members = np.flatnonzero(circle_of_node_site[np.maximum(cell, 0)] == c)
        members = members[cell[members] >= 0]
        assert len(members) and nx.is_connected(U.subgraph(members.tolist())), c
        assert d.contiguous[c]


def check_walks_by_brute_force(g, d):
    R = nx_graph(g).reverse(copy=True)
    for c, centre in enumerate(d.centre_node):
        lengths = nx.single_source_dijkstra_path_length(R, int(centre))
        t = [lengths.get(int(s), np.inf) for s in d.site_node[d.site_circle == c]]
        want = max(t)
        cap = 3 * d.bounds.max_time_s
        if want <= cap:
            assert d.max_walk_s[c] == pytest.approx(want)
        else:
            assert np.isinf(d.max_walk_s[c])


def test_site_neighbours_equal_brute_force_voronoi():
    g, _, _, node, _ = case(1)
    site, site_node, _ = join_sites(node)
    adj, cell = site_adjacency(g, site_node)
    G = nx_graph(g)
    nodes = np.unique(site_node)
    assert np.array_equal(cell, brute_cells(G, nodes))
    want = set()
    for u, v in G.edges():
        a, b = cell[u], cell[v]
        if a >= 0 and b >= 0 and a != b:
            want.add((min(a, b), max(a, b)))
    coo = adj.tocoo()
    got = {(min(a, b), max(a, b)) for a, b in zip(coo.row, coo.col)}
    assert got == want  # one site per node here, so sites are the distinct nodes


@pytest.mark.parametrize("seed", range(3))
def test_circles_partition_are_contiguous_and_report_their_bounds(seed):
    g, _, _, node, pop = case(seed)
    b = Bounds(floor=4_000, ceiling=8_000, max_time_s=480.0)
    d = delineate(g, node, pop, b, cell_m=150.0)
    check_partition(d, node, pop)
    check_contiguous_by_brute_force(g, d)
    check_walks_by_brute_force(g, d)
    ok = d.within_bounds
    assert ok.sum() >= 2
    assert np.all((d.population[ok] >= b.floor) & (d.population[ok] <= b.ceiling))
    assert np.all(d.max_walk_s[ok] <= b.max_time_s)
    bad = ~ok
    assert np.all((d.below_floor[bad] > 0) | (d.above_ceiling[bad] > 0) | (d.over_walk_s[bad] > 0))
    assert np.allclose(d.below_floor, np.maximum(b.floor - d.population, 0))


def test_off_network_units_belong_to_no_circle():
    g, _, _, node, pop = case(2)
    node = node.copy()
    node[:25] = -1
    d = delineate(g, node, pop, Bounds(3_000, 9_000, 600.0), cell_m=150.0)
    check_partition(d, node, pop)
    assert (d.unit_circle[:25] == -1).all()


def test_circles_stay_within_boundaries_or_keep_them_whole():
    g, x, y, node, pop = case(3, n=800)
    halves = (x > 700).astype(int)
    d = delineate(g, node, pop, Bounds(3_000, 9_000, 600.0), cell_m=150.0, group=halves)
    check_partition(d, node, pop)
    on = node >= 0
    for c in range(len(d.population)):
        assert len(np.unique(halves[on & (d.unit_circle == c)])) == 1
    # communities of 500 m squares: each wholly in one circle
    community = (x // 500).astype(int) * 10 + (y // 500).astype(int)
    d = delineate(g, node, pop, Bounds(3_000, 12_000, 900.0), cell_m=150.0, group=community,
                  nest="whole")
    check_partition(d, node, pop)
    for c in np.unique(community[on]):
        assert len(np.unique(d.unit_circle[on & (community == c)])) == 1


def test_line_of_equal_atoms_gives_the_most_circles_by_hand():
    # six blocks of 10 residents on a street: floor 20, ceiling 30 → three circles of two
    x = np.arange(6) * 100.0
    g = build_walk_graph(np.arange(5), np.arange(1, 6), np.full(5, 100.0), x=x,
                         y=np.zeros(6), crs="local")
    d = delineate(g, np.arange(6), np.full(6, 10.0), Bounds(20, 30), cell_m=50.0)
    assert len(d.population) == 3 and d.within_bounds.all()
    assert sorted(np.bincount(d.unit_circle)) == [2, 2, 2]
    # with a 100 s walk from the centre, circles of three blocks are allowed, never more
    d = delineate(g, np.arange(6), np.full(6, 10.0), Bounds(30, 30, 100.0), cell_m=50.0)
    assert list(d.population) == [30.0, 30.0] and d.within_bounds.all()


def test_atom_reach_keeps_pairs_whose_every_site_walks_in_time():
    g, _, _, node, _ = case(4)
    _, site_node, _ = join_sites(node)
    atom = np.arange(len(site_node)) // 3  # three sites per atom
    n_atoms = atom.max() + 1
    centre_node = site_node[np.arange(n_atoms) * 3]
    reach = atom_reach(g, centre_node, site_node, atom, 300.0)
    R = nx_graph(g).reverse(copy=True)
    for c in range(0, n_atoms, 7):
        lengths = nx.single_source_dijkstra_path_length(R, int(centre_node[c]))
        for a in range(n_atoms):
            t = max(lengths.get(int(s), np.inf) for s in site_node[atom == a])
            got = reach.get([c], [a])[0]
            assert got == (pytest.approx(t) if t <= 300.0 else np.inf)


def test_network_method_finds_about_as_many_circles_as_spopt_maxp():
    g, _, _, node, pop = case(5, side=14, n=400)
    site, site_node, site_group = join_sites(node)
    adj, _ = site_adjacency(g, site_node)
    spop = np.bincount(site[site >= 0], weights=pop[node >= 0], minlength=len(site_node))
    x, y = g.x[site_node], g.y[site_node]
    floor = 2_500.0
    ours, _ = grow_regions(adj, spop, x, y, Bounds(floor), None)
    theirs = spopt_regions(adj, spop, x, y, floor, iterations=3)
    for labels in (ours, theirs):
        reg = np.bincount(labels, weights=spop)
        assert (reg >= floor).sum() >= len(reg) - 1  # at most one component below the floor
    assert len(np.unique(ours)) >= len(np.unique(theirs)) - 1


def test_spopt_method_is_contiguous_on_the_network():
    g, _, _, node, pop = case(6, side=12, n=300)
    d = delineate(g, node, pop, Bounds(2_000), cell_m=150.0, method="spopt", iterations=2)
    check_partition(d, node, pop)
    check_contiguous_by_brute_force(g, d)
    # a circle below the floor is a piece of the network no other circle touches
    coo = d.adjacency.tocoo()
    a, b = d.site_circle[coo.row], d.site_circle[coo.col]
    for c in np.flatnonzero(d.population < 2_000):
        assert not np.any((a == c) & (b != c))


def test_circle_areas_are_disjoint_and_hold_their_units():
    g, x, y, node, pop = case(7)
    d = delineate(g, node, pop, Bounds(3_000, 9_000, 600.0), cell_m=150.0)
    polys = circle_polygons(x, y, d.unit_circle, len(d.population), clip_m=120.0)
    for a in range(len(polys)):
        for b in range(a + 1, len(polys)):
            assert shapely.intersection(polys[a], polys[b]).area < 1e-6
    pts = shapely.points(x, y)
    on = d.unit_circle >= 0
    assert shapely.dwithin(polys[d.unit_circle[on]], pts[on], 1e-6).all()


def test_bounds_refuse_a_floor_above_the_ceiling():
    with pytest.raises(ValueError, match="floor"):
        Bounds(10, 5)
