"""Walking-time coverage of demand points by facility category."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.graph import WalkGraph
from analysis.paths import nearest_times_s
from analysis.snap import Snapped


def time_column(category: str) -> str:
    """Name of the column holding seconds to the nearest facility of ``category``."""
    return f"t_{category}"


def covered_column(category: str) -> str:
    """Name of the column saying whether ``category`` is within its threshold."""
    return f"cov_{category}"


def is_covered(time_s: np.ndarray, threshold_s: float) -> np.ndarray:
    """The one coverage rule: reached within the threshold (seconds)."""
    return np.asarray(time_s) <= threshold_s


def category_node_times(graph: WalkGraph, facilities: Mapping[str, Snapped],
                        thresholds_s: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Seconds from every node to the nearest on-network facility of each category.

    One bounded Dijkstra pass per category; ``inf`` beyond the category's threshold.
    """
    out = {}
    for cat, snapped in facilities.items():
        on = snapped.on_network
        out[cat] = nearest_times_s(graph, snapped.node[on], snapped.access_s[on],
                                   limit_s=thresholds_s[cat])
    return out


def point_times(node_times: np.ndarray, points: Snapped) -> np.ndarray:
    """Seconds for points joined to the graph: node time plus the walk to the node."""
    t = np.full(len(points.node), np.inf)
    on = points.on_network
    t[on] = node_times[points.node[on]] + points.access_s[on]
    return t


def coverage_frame(demand: Snapped, node_times: Mapping[str, np.ndarray],
                   thresholds_s: Mapping[str, float]) -> pd.DataFrame:
    """Per demand point and category: seconds to the nearest facility and coverage.

    Columns: ``t_<category>`` (seconds; NaN when none within the threshold),
    ``cov_<category>`` (bool), ``n_covered`` (categories covered), ``basket_covered``
    (all categories covered) and ``on_network``.
    """
    cols: dict[str, np.ndarray] = {}
    covered = []
    for cat, nt in node_times.items():
        t = point_times(nt, demand)
        ok = is_covered(t, thresholds_s[cat])
        cols[time_column(cat)] = np.where(ok, t, np.nan)
        cols[covered_column(cat)] = ok
        covered.append(ok)
    stack = np.vstack(covered) if covered else np.zeros((0, len(demand.node)), bool)
    cols["n_covered"] = stack.sum(axis=0).astype(np.int64)
    cols["basket_covered"] = stack.all(axis=0) if covered else np.zeros(len(demand.node), bool)
    cols["on_network"] = demand.on_network
    return pd.DataFrame(cols)


def summarise(frame: pd.DataFrame, population: np.ndarray, zone: np.ndarray,
              categories: list[str]) -> pd.DataFrame:
    """Population and share covered per category and for the full basket, by zone.

    ``zone`` labels each demand point (use one label for the whole study area). Rows:
    ``zone``, ``population``, ``off_network_population``, ``pop_<cat>``,
    ``share_<cat>``, ``pop_basket``, ``share_basket``.
    """
    pop = np.asarray(population, float)
    df = pd.DataFrame({"zone": np.asarray(zone, object), "population": pop,
                       "off_network_population": np.where(frame["on_network"], 0.0, pop)})
    for cat in categories:
        df[f"pop_{cat}"] = np.where(frame[covered_column(cat)], pop, 0.0)
    df["pop_basket"] = np.where(frame["basket_covered"], pop, 0.0)
    out = df.groupby("zone", sort=True).sum()
    for cat in [*categories, "basket"]:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_{cat}"] = out[f"pop_{cat}"] / out["population"]
    return out.reset_index()
