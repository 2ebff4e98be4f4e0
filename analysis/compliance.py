"""Standards compliance on arrays: does each residential unit reach each facility type within
its walking time (network) and within its service radius (straight line), and does it reach
the whole basket of a life-circle level?

A higher level also provides every lower level's facilities (GB 50180-2018), so the basket of
level L holds every facility type of level L and below.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree


def within_time(times_s: np.ndarray, limit_s: float) -> np.ndarray:
    """Reached within ``limit_s`` seconds; a missing time (NaN: none within the run's
    threshold, or off the network) is not."""
    t = np.asarray(times_s, float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(t) & (t <= limit_s)


def nearest_distance_m(px: np.ndarray, py: np.ndarray, fx: np.ndarray,
                       fy: np.ndarray) -> np.ndarray:
    """Straight-line metres from each point to the nearest facility (``inf`` without any)."""
    px, py = np.asarray(px, float), np.asarray(py, float)
    if len(fx) == 0:
        return np.full(len(px), np.inf)
    tree = cKDTree(np.column_stack([np.asarray(fx, float), np.asarray(fy, float)]))
    d, _ = tree.query(np.column_stack([px, py]), k=1)
    return np.asarray(d, float)


def level_baskets(passed: np.ndarray, tiers: Sequence[int],
                  levels: Sequence[int] = (5, 10, 15)) -> dict[int, np.ndarray]:
    """Per level, whether each unit passes every facility type of that level and below.

    ``passed``: (units × types) booleans; ``tiers``: each type's level. A level with no type
    at or below it is left out.
    """
    passed = np.asarray(passed, bool).reshape(len(passed), -1)
    tiers = np.asarray(tiers)
    out = {}
    for level in levels:
        cols = tiers <= level
        if cols.any():
            out[int(level)] = passed[:, cols].all(axis=1)
    return out


def zone_shares(flags: np.ndarray, weights: np.ndarray, labels) -> pd.DataFrame:
    """Per zone and flag column: weighted total, weighted passing, share, and whether every
    unit of the zone passes.

    ``flags``: (units × k) booleans; ``weights``: per unit (persons, or 1 per unit);
    ``labels``: each unit's zone (or the ``(codes, zones)`` of
    :func:`analysis.indicators.zone_codes`). Long table: ``zone``, ``item`` (column position),
    ``total``, ``passing``, ``share`` (NaN for a zero total), ``all_pass``.
    """
    flags = np.asarray(flags, bool)
    flags = flags.reshape(len(flags), -1)
    w = np.asarray(weights, float)
    from analysis.indicators import zone_codes

    codes, zones = zone_codes(labels)
    keep = codes >= 0  # a missing label counts nowhere
    codes, flags, w = codes[keep], flags[keep], w[keep]
    g, k = len(zones), flags.shape[1]
    total = np.bincount(codes, weights=w, minlength=g)
    rows = []
    for j in range(k):
        f = flags[:, j]
        passing = np.bincount(codes, weights=w * f, minlength=g)
        failing_units = np.bincount(codes, weights=~f, minlength=g)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, passing / np.where(total > 0, total, 1), np.nan)
        rows.append(pd.DataFrame({"zone": zones, "item": j, "total": total,
                                  "passing": passing, "share": share,
                                  "all_pass": failing_units == 0}))
    if not rows:
        return pd.DataFrame(columns=["zone", "item", "total", "passing", "share", "all_pass"])
    return pd.concat(rows, ignore_index=True)
