"""Network edits in a sharded coverage run: each shard applies the edits that touch its
network piece, and keeps the street segments those edits may join or close, so that the
edited piece is the whole edited network cut to the piece (the same answer as one run).

An edit touches a shard when its line comes within the shard's halo distance of the shard's
area. Its ends join the nearest segment within the edits' largest gap, after closures; a
closure cuts at its ends and removes what it covers: every segment within that gap of the
line is kept in the piece, so each shard finds the same segments as the whole run. Lines
whose ends meet (within the junction tolerance) go to a shard together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import shapely

from analysis.edits import DEFAULT_CLOSE_TOL_M, DEFAULT_MAX_GAP_M, JUNCTION_TOL_M


@dataclass(frozen=True)
class ShardEdits:
    """The run's edits with, per edit line, its geometry in metres (``lines_m``) and the
    ids of the nodes of every segment it may join or close (``node_ids``)."""

    edits: object  # layers.edits.NetworkEdits
    lines_m: np.ndarray
    node_ids: list[np.ndarray]
    group: np.ndarray  # lines whose ends meet share a group

    @classmethod
    def of(cls, edits, net, node_xy: np.ndarray, crs: str) -> ShardEdits:
        """``net``'s nodes at ``node_xy`` (metres in ``crs``, the nodes' order)."""
        ids = net.nodes["node_id"].to_numpy(np.int64)
        u = net.edges["u"].to_numpy(np.int64)
        v = net.edges["v"].to_numpy(np.int64)
        at = pd.Index(ids)
        iu, iv = at.get_indexer(u), at.get_indexer(v)
        ok = (iu >= 0) & (iv >= 0)
        segs = shapely.linestrings(np.stack([node_xy[iu[ok]], node_xy[iv[ok]]], axis=1))
        lines = np.asarray(edits.lines.to_crs(crs).geometry.values)
        reach = max(DEFAULT_MAX_GAP_M, DEFAULT_CLOSE_TOL_M) + 1.0
        line_i, seg_i = shapely.STRtree(segs).query(lines, predicate="dwithin",
                                                    distance=reach)
        uu, vv = u[ok][seg_i], v[ok][seg_i]
        node_ids = [np.unique(np.r_[uu[line_i == k], vv[line_i == k]])
                    for k in range(len(lines))]
        return cls(edits, lines, node_ids, _groups(lines))

    def for_area(self, area_m: shapely.Geometry, distance_m: float):
        """The edits touching ``area_m`` grown by ``distance_m`` (None when none do) and the
        node ids the shard must keep for them."""
        if area_m.is_empty or not len(self.lines_m):
            return None, np.zeros(0, np.int64)
        hit = shapely.dwithin(self.lines_m, area_m, distance_m)
        hit = np.isin(self.group, self.group[hit])
        if not hit.any():
            return None, np.zeros(0, np.int64)
        rows = np.flatnonzero(hit)
        picked = replace(self.edits, lines=self.edits.lines.iloc[rows].reset_index(drop=True))
        return picked, np.unique(np.concatenate([self.node_ids[k] for k in rows]))


def _groups(lines: np.ndarray) -> np.ndarray:
    """Group label per line: lines whose ends come within the junction tolerance of each
    other (directly or through other lines) share one."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    n = len(lines)
    if n == 0:
        return np.zeros(0, np.int64)
    ends = shapely.points(np.r_[shapely.get_coordinates(shapely.get_point(lines, 0)),
                                shapely.get_coordinates(shapely.get_point(lines, -1))])
    owner = np.r_[np.arange(n), np.arange(n)]
    a, b = shapely.STRtree(ends).query(ends, predicate="dwithin", distance=JUNCTION_TOL_M)
    link = coo_array((np.ones(len(a)), (owner[a], owner[b])), shape=(n, n))
    return connected_components(link, directed=False)[1]
