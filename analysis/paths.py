"""Bounded multi-source shortest walking times on a :class:`~analysis.graph.WalkGraph`."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from analysis.graph import WalkGraph
from analysis.grids import square_bins


def _check_sources(nodes, offsets, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Source node indices in 0…n-1 and finite, non-negative offsets, or a ValueError."""
    raw = np.asarray(nodes)
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        if not np.all(np.mod(raw.astype(float), 1) == 0):
            raise ValueError("source nodes must be whole node indices")
    nodes = raw.astype(np.int64)
    if nodes.size and (nodes.min() < 0 or nodes.max() >= n):
        raise ValueError(f"source nodes must be node indices in 0…{n - 1}, got "
                         f"{nodes.min()}…{nodes.max()}")
    offsets = np.zeros(len(nodes)) if offsets is None else np.asarray(offsets, dtype=float)
    if len(offsets) != len(nodes):
        raise ValueError("source_offsets_s needs one value per source node")
    if offsets.size and not (np.all(np.isfinite(offsets)) and offsets.min() >= 0):
        raise ValueError("source offsets must be finite, non-negative seconds")
    return nodes, offsets


def with_super_source(time: sp.csr_array, nodes: np.ndarray, offsets: np.ndarray) -> sp.csr_array:
    """Append one node (index n) with an edge of cost ``offset`` to each source node."""
    n = time.shape[0]
    order = np.lexsort((offsets, nodes))
    nodes, offsets = nodes[order], offsets[order]
    first = np.ones(len(nodes), dtype=bool)
    first[1:] = nodes[1:] != nodes[:-1]  # a node reached by several sources keeps the cheapest
    nodes, offsets = nodes[first], offsets[first]
    idx = time.indices.dtype
    indptr = np.concatenate([time.indptr, [time.indptr[-1] + len(nodes)]]).astype(idx)
    indices = np.concatenate([time.indices, nodes.astype(idx)])
    data = np.concatenate([time.data, offsets])
    return sp.csr_array((data, indices, indptr), shape=(n + 1, n + 1))


def nearest_times_s(graph: WalkGraph, source_nodes: np.ndarray,
                    source_offsets_s: np.ndarray | None = None, *,
                    limit_s: float = np.inf) -> np.ndarray:
    """Walking time (s) from every node to its nearest source, ``inf`` beyond ``limit_s``.

    Times run *to* the sources: on a directed (sloped) graph this is the time a
    resident walks from the node to the facility. ``source_offsets_s`` adds each
    source's own access time (walking from the node to the facility's door).
    One bounded Dijkstra pass, whatever the number of sources.
    """
    n = graph.n_nodes
    nodes, offsets = _check_sources(source_nodes, source_offsets_s, n)
    if len(nodes) == 0:
        return np.full(n, np.inf)
    # On the reversed graph one pass from the super-source gives times *to* the sources.
    g = with_super_source(graph.reverse, nodes, offsets)
    dist = dijkstra(g, directed=True, indices=n, limit=limit_s)
    return dist[:n]


def nearest_source(graph: WalkGraph, source_nodes: np.ndarray,
                   source_offsets_s: np.ndarray | None = None, *,
                   limit_s: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Time (s) to the nearest source and which source it is, for every node.

    Returns ``(time_s, source)`` where ``source`` indexes ``source_nodes`` (-1 where no
    source is within ``limit_s``): a network Voronoi partition in one Dijkstra pass.
    """
    n = graph.n_nodes
    nodes, offsets = _check_sources(source_nodes, source_offsets_s, n)
    if len(nodes) == 0:
        return np.full(n, np.inf), np.full(n, -1)
    g = with_super_source(graph.reverse, nodes, offsets)
    dist, pred = dijkstra(g, directed=True, indices=n, limit=limit_s, return_predecessors=True)
    dist, pred = dist[:n], pred[:n]
    # Follow predecessors up to the super-source by pointer doubling (log depth passes).
    parent = np.where((pred >= 0) & (pred < n), pred, np.arange(n))
    while True:
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    # the cheapest source at each source node (ties: first listed)
    order = np.lexsort((np.arange(len(nodes)), offsets, nodes))
    best = np.full(n, -1)
    first = np.ones(len(order), bool)
    first[1:] = nodes[order][1:] != nodes[order][:-1]
    best[nodes[order][first]] = order[first]
    source = np.where(np.isfinite(dist), best[parent], -1)
    return dist, source


def source_point_times(graph: WalkGraph, source_nodes: np.ndarray, source_access_s: np.ndarray,
                       point_nodes: np.ndarray, point_access_s: np.ndarray, *, limit_s: float,
                       max_batch_cells: int = 20_000_000) -> sp.csr_array:
    """Sparse sources × points matrix of walking times (s) from each point to each source.

    Only pairs within ``limit_s`` (access walks at both ends included) are stored, so
    memory grows with covered pairs. Points off the network (node -1) get no entries.
    Bounded Dijkstra from each source on the reversed graph, restricted to the nodes a
    walk of ``limit_s`` can reach at all (see :func:`local_graphs`), in batches whose
    dense work array stays under ``max_batch_cells`` values.
    """
    src = np.asarray(source_nodes, np.int64)
    s_acc = np.asarray(source_access_s, float)
    pn = np.asarray(point_nodes, np.int64)
    p_acc = np.asarray(point_access_s, float)
    n_src, n_pts, n = len(src), len(pn), graph.n_nodes
    on = np.flatnonzero(pn >= 0)
    # points grouped by node: a CSR from node to its points
    order = on[np.argsort(pn[on], kind="stable")]
    node_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pn[order], minlength=n), out=node_ptr[1:])
    has_points = np.diff(node_ptr) > 0
    rows, cols, vals = [], [], []
    for ok, local, sub in local_graphs(graph, src, limit_s - s_acc):
        lim = float(limit_s - s_acc[ok].min())
        here = np.flatnonzero(has_points[local])  # local indices of nodes holding points
        if len(here) == 0:
            continue
        batch = max(1, int(max_batch_cells // max(len(local), 1)))
        lsrc = np.searchsorted(local, src[ok])
        for b in range(0, len(ok), batch):
            sel = slice(b, b + batch)
            d = np.atleast_2d(dijkstra(sub, directed=True, indices=lsrc[sel], limit=lim))
            d = d[:, here] + s_acc[ok[sel]][:, None]
            r, c = np.nonzero(d <= limit_s)
            if len(r) == 0:
                continue
            node = local[here[c]]
            counts = node_ptr[node + 1] - node_ptr[node]
            rr = np.repeat(r, counts)
            first = np.repeat(node_ptr[node], counts)
            offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            pts = order[first + offs]
            t = np.repeat(d[r, c], counts) + p_acc[pts]
            keep = t <= limit_s
            rows.append(ok[sel][rr[keep]])
            cols.append(pts[keep])
            vals.append(t[keep])
    if rows:
        rows_a, cols_a, vals_a = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        rows_a = cols_a = np.zeros(0, np.int64)
        vals_a = np.zeros(0)
    m = sp.coo_array((vals_a, (rows_a, cols_a)), shape=(n_src, n_pts)).tocsr()
    return m


def local_graphs(graph: WalkGraph, source_nodes: np.ndarray, budget_s: np.ndarray, *,
                 min_tile_m: float = 500.0):
    """Group sources by map tile and yield each group with the only subgraph it can reach.

    A walk of ``budget_s`` seconds never ends farther (straight line) than
    ``budget_s × graph.max_straight_speed_m_s`` from its start, and neither does any node
    on it, so the subgraph induced by the nodes within that distance of a tile gives the
    same times as the whole graph. Yields ``(source indices, local node ids (sorted),
    reversed sub-CSR)``; sources off the network or with a negative budget are skipped.
    """
    src = np.asarray(source_nodes, np.int64)
    budget = np.asarray(budget_s, float)
    usable = np.flatnonzero((src >= 0) & (budget >= 0))
    if len(usable) == 0:
        return
    reach = float(budget[usable].max()) * graph.max_straight_speed_m_s
    if not np.isfinite(reach):
        yield usable, np.arange(graph.n_nodes), graph.reverse
        return
    tile = max(reach, min_tile_m)
    keys, inv = square_bins(graph.x[src[usable]], graph.y[src[usable]], tile)
    by_tile = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[by_tile], np.arange(len(keys) + 1))
    half = tile / 2
    for k, (i, j) in enumerate(keys):
        members = usable[by_tile[bounds[k]:bounds[k + 1]]]
        cx, cy = (i + 0.5) * tile, (j + 0.5) * tile
        local = np.sort(np.asarray(graph.kdtree.query_ball_point(
            [cx, cy], r=np.hypot(half, half) + reach + 1e-6), dtype=np.int64))
        sub = graph.reverse[local][:, local]
        yield members, local, sub
