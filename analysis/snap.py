"""Joining points to the walk graph at their nearest node."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.graph import WalkGraph

DEFAULT_MAX_SNAP_M = 500.0


@dataclass(frozen=True)
class Snapped:
    """Points joined to nodes: ``node`` (-1 when off-network), ``dist_m`` to it and the
    ``access_s`` walking time of that straight line."""

    node: np.ndarray
    dist_m: np.ndarray
    access_s: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        return self.node >= 0


def snap_points(graph: WalkGraph, x: np.ndarray, y: np.ndarray, *, speed_m_s: float,
                max_dist_m: float = DEFAULT_MAX_SNAP_M) -> Snapped:
    """Join points (metres, in the graph's CRS) to their nearest node.

    The straight line to the node is walked at ``speed_m_s``; points farther than
    ``max_dist_m`` from every node are off-network (``node`` = -1, time ``inf``).
    """
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    if len(xy) == 0:
        return Snapped(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    dist, node = graph.kdtree.query(xy, k=1)
    off = ~(dist <= max_dist_m)
    node = np.where(off, -1, node).astype(np.int64)
    access = np.where(off, np.inf, dist / speed_m_s)
    return Snapped(node, dist, access)
