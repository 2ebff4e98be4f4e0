"""Life circles drawn over the walk network: residential units partitioned into contiguous
circles with a population floor and ceiling and a longest walk to the circle's centre.

Contiguity comes from the network: every node belongs to the network-Voronoi cell of the
nearest unit site (the node a unit joins), and two sites are neighbours when one street
segment joins their cells (or they share a node). Sites are grouped into small contiguous
atoms (grid squares of ``cell_m``, never across a given boundary), and atoms into circles
(:mod:`analysis.regions`):

- ``method="network"``: the construction phase of max-p regions (Duque, Anselin & Rey 2012;
  Wei, Rey & Knaap 2021) with the upper bound of the extended max-p: circles grow from seeds
  by adding the neighbouring atom nearest (walking) to the seed until the floor is reached,
  never above the ceiling nor beyond the longest walk; enclaves join a neighbouring circle
  with room; what is left grows into circles below the floor. Several seed orders are tried;
  the one with the most circles within every bound wins.
- ``method="spopt"``: PySAL spopt's :class:`~spopt.region.MaxPHeuristic` (floor only) on the
  same atoms and network contiguity; the ceiling and the walk are then only reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from analysis.graph import WalkGraph
from analysis.grids import square_bins
from analysis.paths import nearest_source, source_point_times
from analysis.regions import Bounds, PairTimes, grow_regions, spopt_regions, sum_by


def join_sites(node: np.ndarray, group: np.ndarray | None = None):
    """Units on the network grouped into sites: one per (node, group).

    Returns ``(site_of_unit, site_node, site_group)``; units off the network (node -1) get
    site -1. ``group`` labels a given boundary (-1: outside every one)."""
    node = np.asarray(node, np.int64)
    group = np.full(len(node), -1, np.int64) if group is None else np.asarray(group, np.int64)
    on = node >= 0
    keys = np.column_stack([node[on], group[on]])
    uniq, inv = np.unique(keys, axis=0, return_inverse=True) if on.any() else \
        (np.zeros((0, 2), np.int64), np.zeros(0, np.int64))
    site = np.full(len(node), -1, np.int64)
    site[on] = inv.ravel()
    return site, uniq[:, 0], uniq[:, 1]


def site_adjacency(graph: WalkGraph, site_node: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Neighbouring sites over the network, and each node's cell (index into the distinct
    site nodes ``np.unique(site_node)``, -1 where no site can be reached).

    A node belongs to the cell of the site node it walks to soonest; two sites are
    neighbours when a street segment joins their cells or they share a node."""
    nodes, site_u = np.unique(np.asarray(site_node, np.int64), return_inverse=True)
    _, cell = nearest_source(graph, nodes)
    coo = graph.time.tocoo()
    a, b = cell[coo.row], cell[coo.col]
    keep = (a >= 0) & (b >= 0) & (a != b)
    nu, ns = len(nodes), len(site_node)
    cells = sp.coo_array((np.ones(2 * keep.sum()), (np.r_[a[keep], b[keep]],
                                                    np.r_[b[keep], a[keep]])),
                         shape=(nu, nu)).tocsr()
    inc = sp.csr_array((np.ones(ns), (np.arange(ns), site_u)), shape=(ns, nu))
    adj = (inc @ cells @ inc.T + inc @ inc.T).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    return (adj > 0).astype(np.int8).tocsr(), cell


def atoms_of(adjacency: sp.csr_array, x: np.ndarray, y: np.ndarray, cell_m: float,
             group: np.ndarray, *, whole: bool = False) -> np.ndarray:
    """Each site's atom: a connected piece of one grid square of ``cell_m`` metres and one
    group. ``whole``: every site of a group (≥ 0) is one atom, connected or not."""
    _, square = square_bins(np.asarray(x, float), np.asarray(y, float), cell_m)
    group = np.asarray(group, np.int64)
    key = square * (group.max(initial=-1) + 2) + group + 1
    coo = adjacency.tocoo()
    same = key[coo.row] == key[coo.col]
    n = len(key)
    inside = sp.coo_array((np.ones(same.sum()), (coo.row[same], coo.col[same])), shape=(n, n))
    _, comp = connected_components(inside, directed=False)
    if whole:
        comp = np.where(group >= 0, comp.max(initial=-1) + 1 + group, comp)
    return np.unique(comp, return_inverse=True)[1].ravel()


def atom_graph(adjacency: sp.csr_array, atom: np.ndarray, n_atoms: int) -> sp.csr_array:
    """Neighbouring atoms: atoms holding neighbouring sites."""
    inc = sp.csr_array((np.ones(len(atom)), (np.arange(len(atom)), atom)),
                       shape=(len(atom), n_atoms))
    a = (inc.T @ adjacency @ inc).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    a = (a > 0).astype(np.int8).tocsr()
    a.sort_indices()
    return a


def central_members(labels: np.ndarray, x: np.ndarray, y: np.ndarray, weight: np.ndarray,
                    n: int) -> np.ndarray:
    """Per label, the member nearest the weighted centre of its members (-1 for none)."""
    w = np.asarray(weight, float) + 1e-9
    tot = sum_by(labels, w, n)
    cx, cy = sum_by(labels, w * x, n) / np.maximum(tot, 1e-12), \
        sum_by(labels, w * y, n) / np.maximum(tot, 1e-12)
    d = np.hypot(x - cx[labels], y - cy[labels])
    order = np.lexsort((d, labels))
    first = np.ones(len(order), bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    out = np.full(n, -1, np.int64)
    out[labels[order][first]] = order[first]
    return out


def atom_reach(graph: WalkGraph, atom_node: np.ndarray, site_node: np.ndarray,
               atom: np.ndarray, limit_s: float) -> PairTimes:
    """For each pair of atoms (centre c, member a) whose every site walks to c's node within
    ``limit_s``: the longest of those walks (s)."""
    n_atoms = len(atom_node)
    t = source_point_times(graph, atom_node, np.zeros(n_atoms), site_node,
                           np.zeros(len(site_node)), limit_s=limit_s).tocoo()
    c, a = t.row.astype(np.int64), atom[t.col]
    key = c * n_atoms + a
    order = np.argsort(key, kind="stable")
    key, vals = key[order], t.data[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)
    count = np.diff(np.r_[starts, len(key)])
    tmax = np.maximum.reduceat(vals, starts) if len(key) else np.zeros(0)
    k = key[starts]
    full = count == np.bincount(atom, minlength=n_atoms)[k % n_atoms]
    return PairTimes(k[full] // n_atoms, k[full] % n_atoms, tmax[full], n_atoms)


@dataclass
class Delineation:
    """Circles of units. ``unit_circle``: each unit's circle (0…k-1; -1 off the network);
    per circle (arrays of length k): ``population``, ``units``, ``centre_node``,
    ``max_walk_s``/``mean_walk_s`` (walks of its sites to the centre node; ``inf`` beyond
    three times the longest walk allowed), ``contiguous`` (its sites connected over the
    network), ``group`` (-1: outside every boundary). Sites and their adjacency are kept for
    checks and maps."""

    unit_circle: np.ndarray
    site_of_unit: np.ndarray
    site_node: np.ndarray
    site_circle: np.ndarray
    adjacency: sp.csr_array
    population: np.ndarray
    units: np.ndarray
    centre_node: np.ndarray
    max_walk_s: np.ndarray
    mean_walk_s: np.ndarray
    contiguous: np.ndarray
    group: np.ndarray
    bounds: Bounds
    n_atoms: int

    @property
    def below_floor(self) -> np.ndarray:
        return np.maximum(self.bounds.floor - self.population, 0.0)

    @property
    def above_ceiling(self) -> np.ndarray:
        return np.maximum(self.population - self.bounds.ceiling, 0.0)

    @property
    def over_walk_s(self) -> np.ndarray:
        return np.maximum(self.max_walk_s - self.bounds.max_time_s, 0.0)

    @property
    def within_bounds(self) -> np.ndarray:
        return (self.below_floor == 0) & (self.above_ceiling == 0) & (self.over_walk_s == 0)


def delineate(graph: WalkGraph, node: np.ndarray, population: np.ndarray, bounds: Bounds, *,
              cell_m: float, group: np.ndarray | None = None, nest: str = "within",
              method: str = "network", iterations: int = 16, seed: int = 0) -> Delineation:
    """Partition units (joined to ``node``; -1 off the network) into life circles.

    ``group``: each unit's boundary (community or township; -1 outside every one). ``nest``
    "within": a circle never crosses a boundary; "whole": a boundary is never split (its
    units form one atom). ``cell_m``: side of the grid squares atoms are cut from (m).
    ``method``: "network" or "spopt" (see the module). Times are seconds, people persons.
    """
    if nest not in ("within", "whole"):
        raise ValueError(f"nest must be 'within' or 'whole', got {nest!r}")
    if method not in ("network", "spopt"):
        raise ValueError(f"method must be 'network' or 'spopt', got {method!r}")
    if not cell_m > 0:
        raise ValueError(f"the unit square must be positive, got {cell_m}")
    pop = np.asarray(population, float)
    site_of_unit, site_node, site_group = join_sites(node, group)
    on = site_of_unit >= 0
    ns = len(site_node)
    adj, _ = site_adjacency(graph, site_node) if ns else (sp.csr_array((0, 0)), None)
    sx, sy = graph.x[site_node], graph.y[site_node]
    spop = sum_by(site_of_unit[on], pop[on], ns)
    atom = atoms_of(adj, sx, sy, cell_m, site_group, whole=nest == "whole") if ns else \
        np.zeros(0, np.int64)
    na = int(atom.max(initial=-1)) + 1
    a_adj = atom_graph(adj, atom, na)
    a_group = np.full(na, -1, np.int64)
    a_group[atom] = site_group
    if nest == "within" and group is not None:
        coo = a_adj.tocoo()
        same = a_group[coo.row] == a_group[coo.col]
        a_adj = sp.csr_array((coo.data[same], (coo.row[same], coo.col[same])), shape=(na, na))
        a_adj.sort_indices()
    apop = sum_by(atom, spop, na)
    rep = central_members(atom, sx, sy, spop, na)
    anode, ax, ay = site_node[rep], sx[rep], sy[rep]
    finite = np.isfinite(bounds.max_time_s)
    if method == "network":
        reach = atom_reach(graph, anode, site_node, atom, bounds.max_time_s) if finite else None
        a_label, centre = grow_regions(a_adj, apop, ax, ay, bounds, reach,
                                       iterations=iterations, seed=seed) if na else \
            (np.zeros(0, np.int64), np.zeros(0, np.int64))
    else:
        a_label = spopt_regions(a_adj, apop, ax, ay, bounds.floor, iterations=iterations,
                                seed=seed)
        centre = central_members(a_label, ax, ay, apop, int(a_label.max(initial=-1)) + 1)
    k = len(centre)
    site_circle = a_label[atom] if ns else np.zeros(0, np.int64)
    unit_circle = np.where(on, site_circle[np.maximum(site_of_unit, 0)] if ns else -1, -1)
    centre_node = anode[centre]
    cap = 3 * bounds.max_time_s if finite else np.inf
    walks = PairTimes.of(source_point_times(graph, centre_node, np.zeros(k), site_node,
                                            np.zeros(ns), limit_s=cap))
    t = walks.get(site_circle, np.arange(ns))
    max_walk = np.full(k, -np.inf)
    np.maximum.at(max_walk, site_circle, t)
    reached = np.isfinite(t)
    mean_walk = sum_by(site_circle[reached], (spop * t)[reached], k) / np.maximum(
        sum_by(site_circle[reached], spop[reached], k), 1e-12)
    return Delineation(unit_circle, site_of_unit, site_node, site_circle, adj,
                       sum_by(unit_circle[on], pop[on], k),
                       np.bincount(unit_circle[on], minlength=k), centre_node,
                       max_walk, mean_walk, _contiguous(adj, site_circle, k),
                       a_group[centre], bounds, na)


def _contiguous(adj: sp.csr_array, site_circle: np.ndarray, k: int) -> np.ndarray:
    """Whether the sites of each circle are connected by neighbours within the circle."""
    coo = adj.tocoo()
    same = site_circle[coo.row] == site_circle[coo.col]
    n = len(site_circle)
    inside = sp.coo_array((np.ones(same.sum()), (coo.row[same], coo.col[same])), shape=(n, n))
    _, comp = connected_components(inside, directed=False)
    pairs = np.unique(np.column_stack([site_circle, comp]), axis=0)
    return np.bincount(pairs[:, 0], minlength=k) == 1


def circle_polygons(x: np.ndarray, y: np.ndarray, circle: np.ndarray, k: int,
                    clip_m: float) -> np.ndarray:
    """Each circle's area: the union of its units' Voronoi cells, each cut to ``clip_m``
    metres around its unit (metres; units with circle -1 are left out)."""
    import shapely

    keep = np.asarray(circle) >= 0
    xy, first = np.unique(np.column_stack([x, y])[keep], axis=0, return_index=True)
    lab = np.asarray(circle)[keep][first]
    pts = shapely.points(xy)
    discs = shapely.buffer(pts, clip_m)
    if len(xy) >= 3:
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy),
                                                           ordered=True))
        pieces = shapely.intersection(cells, discs)
    else:
        pieces = discs
    out = np.empty(k, dtype=object)
    out[:] = [shapely.Polygon()] * k
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(k + 1))
    for c in range(k):
        part = pieces[order[bounds[c]:bounds[c + 1]]]
        if len(part):
            out[c] = shapely.make_valid(shapely.union_all(part))
    return out
