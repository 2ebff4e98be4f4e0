"""Supply against demand: 2SFCA-family scores per resident and category on network walking
times, and the equity of their spread overall and between zones (districts)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.accessibility import floating_catchment, gini, palma, theil, weight_function
from analysis.paths import source_point_times
from analysis.snap import snap_points
from geo_app.config import DEFAULT, Settings
from geo_app.errors import InputError
from geo_app.workflows.coverage_steps import _zones, to_metres
from geo_app.workflows.graphs import walk_graph_from_network

log = logging.getLogger(__name__)


@dataclass
class AccessResult:
    """``demand``: one row per resident point with ``access_<category>`` (supply per person
    within reach, weighted); ``supply``: one row per facility with ``ratio`` (supply per
    weighted resident, R_j) and ``residents_reached``; ``equity``: Gini, Theil (between and
    within zones) and Palma of each category's scores; ``run_info``."""

    demand: gpd.GeoDataFrame
    supply: gpd.GeoDataFrame
    equity: pd.DataFrame
    run_info: pd.DataFrame
    categories: list = field(default_factory=list)

    def layers(self) -> dict:
        return {"demand": self.demand, "supply": self.supply, "equity": self.equity,
                "run_info": self.run_info}


def run_accessibility(net, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *,
                      method: str = "2sfca", minutes: float = 15.0,
                      capacity_column: str | None = None, zones: dict | None = None,
                      settings: Settings | None = None) -> AccessResult:
    """2SFCA (``method`` "2sfca", "e2sfca" or "g2sfca") of every facility category, with a
    catchment of ``minutes`` on the walk network; supply from ``capacity_column`` (beds,
    seats, m²) or 1 per facility."""
    from geo_app.io.export import run_info

    s = settings or DEFAULT
    weight = weight_function(method, 60.0 * minutes)
    if capacity_column is not None and capacity_column not in facilities.columns:
        raise InputError(f"facilities: no column {capacity_column!r} for the capacity "
                         f"(columns: {', '.join(map(str, facilities.columns))})")
    supply = (np.ones(len(facilities)) if capacity_column is None else
              pd.to_numeric(facilities[capacity_column], errors="coerce").to_numpy(float))
    if np.any(~np.isfinite(supply) | (supply < 0)):
        bad = np.flatnonzero(~np.isfinite(supply) | (supply < 0))[:10]
        raise InputError(f"facilities, column {capacity_column!r}: rows {list(bad + 1)} are not "
                         "numbers ≥ 0")
    g = walk_graph_from_network(net, speed_m_s=s.walk_speed_m_s,
                                steps_speed_m_s=s.steps_speed_m_s)
    dsnap = snap_points(g, *to_metres(demand, g.crs), speed_m_s=s.walk_speed_m_s,
                        max_dist_m=s.max_snap_m)
    fsnap = snap_points(g, *to_metres(facilities, g.crs), speed_m_s=s.walk_speed_m_s,
                        max_dist_m=s.max_snap_m)
    pop = demand["population"].to_numpy(float)
    cat_of = facilities["category"].astype(str).to_numpy()
    categories = list(dict.fromkeys(cat_of))
    out = demand[[c for c in ("id", "population") if c in demand.columns]].copy()
    ratio = np.zeros(len(facilities))
    reached = np.zeros(len(facilities))
    zone_labels = _zones(demand, zones or {})
    equity = []
    for cat in categories:
        rows_f = np.flatnonzero(cat_of == cat)
        t = source_point_times(g, fsnap.node[rows_f], fsnap.access_s[rows_f], dsnap.node,
                               dsnap.access_s, limit_s=60.0 * minutes).tocoo()
        score, r = floating_catchment(t.col, t.row, t.data, pop, supply[rows_f], weight)
        ratio[rows_f] = r
        reached[rows_f] = np.bincount(t.row, weights=pop[t.col], minlength=len(rows_f))
        out[f"access_{cat}"] = score
        for kind, labels in {"study_area": None, **zone_labels}.items():
            th = theil(score, pop, labels)
            equity.append({"category": cat, "zone_type": kind,
                           "mean_per_1000": 1000 * float(score @ pop / pop.sum()),
                           "gini": gini(score, pop), "theil": th["total"],
                           "theil_between": th["between"], "theil_within": th["within"],
                           "palma": palma(score, pop)})
    for kind, labels in zone_labels.items():
        out[kind] = labels
    sup = facilities[[c for c in ("name", "category") if c in facilities.columns]].copy()
    sup["supply"] = supply
    sup["ratio"] = ratio
    sup["residents_reached"] = reached
    info = {"method": method, "minutes": minutes, "capacity": capacity_column or "1 per facility",
            "speed_m_s": s.walk_speed_m_s, "max_snap_m": s.max_snap_m,
            "network": net.source, "metric_crs": g.crs}
    return AccessResult(gpd.GeoDataFrame(out.reset_index(drop=True),
                                         geometry=demand.geometry.to_numpy(), crs=4326),
                        gpd.GeoDataFrame(sup.reset_index(drop=True),
                                         geometry=facilities.geometry.to_numpy(), crs=4326),
                        pd.DataFrame(equity), run_info(info), categories)
