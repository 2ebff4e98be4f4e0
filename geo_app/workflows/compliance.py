"""Standards compliance of a coverage result: per residential unit and per zone (study area,
district, township, life circle), whether each facility type of ``standards.csv`` is within its
walking time on the network, with the straight-line radius result beside it, and whether the
whole basket of each life-circle level is met."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.compliance import level_baskets, nearest_distance_m, within_time, zone_shares
from analysis.indicators import zone_codes
from geo_app.workflows.coverage_data import ZONE_KINDS, CoverageData, group_weights, zone_labels
from layers.groups import GROUPS
from layers.standards import TIERS, load_standards


@dataclass
class Compliance:
    """``units``: per demand unit ``walk_<type>``/``radius_<type>`` (booleans),
    ``dist_m_<category>`` (straight line to the nearest facility) and ``level<L>_walk`` /
    ``level<L>_radius`` (the level's whole basket); ``zones``: a long table per zone, item
    (facility type or level) and group with the shares met; ``not_assessed``: facility
    type → why its walking result is missing."""

    units: gpd.GeoDataFrame
    zones: pd.DataFrame
    types: pd.DataFrame
    not_assessed: dict[str, str]
    levels: dict[int, np.ndarray]  # the level baskets by walking time, per unit


def run_compliance(data: CoverageData, standards: pd.DataFrame | None = None) -> Compliance:
    """Compliance of every demand unit with each facility type of ``standards`` (default
    the bundled table): walking time ≤ ``walk_min`` and, beside it, straight-line distance
    ≤ ``radius_m``; and the basket of each level (types of that level and below).

    A type whose category the run did not cover, or whose walking time is longer than the
    run's threshold for its category (the times beyond it are unknown), is not assessed by
    walking and left out of the level baskets by walking (``not_assessed`` says why).
    """
    st = load_standards() if standards is None else standards
    d = data.demand
    n = len(d)
    dx, dy = data.xy(d)
    fx, fy = data.xy(data.facilities) if len(data.facilities) else (np.zeros(0), np.zeros(0))
    fcat = data.facilities["category"].astype(str).to_numpy()
    dist = {c: nearest_distance_m(dx, dy, fx[fcat == c], fy[fcat == c])
            for c in dict.fromkeys(st["category"])}
    cols, not_assessed = {}, {}
    walk_ok = np.zeros(len(st), bool)
    for k, s in enumerate(st.itertuples(index=False)):
        run_min = data.thresholds_min.get(s.category)
        cols[f"radius_{s.type}"] = dist[s.category] <= s.radius_m
        if run_min is None:
            not_assessed[s.type] = f"no {s.category} in the coverage result"
        elif s.walk_min > run_min + 1e-9:
            not_assessed[s.type] = (f"the coverage run stopped at {run_min:g} min for "
                                    f"{s.category}; rerun it with --minutes {s.walk_min:g}")
        else:
            cols[f"walk_{s.type}"] = within_time(d[f"t_{s.category}"], 60.0 * s.walk_min)
            walk_ok[k] = True
    tiers = st["tier_min"].to_numpy(int)
    walk = np.column_stack([cols[f"walk_{t}"] for t in st["type"][walk_ok]]) \
        if walk_ok.any() else np.zeros((n, 0), bool)
    radius = np.column_stack([cols[f"radius_{t}"] for t in st["type"]]) \
        if len(st) else np.zeros((n, 0), bool)
    by_walk = level_baskets(walk, tiers[walk_ok], TIERS)
    by_radius = level_baskets(radius, tiers, TIERS)
    for level in TIERS:
        if level in by_walk:
            cols[f"level{level}_walk"] = by_walk[level]
        if level in by_radius:
            cols[f"level{level}_radius"] = by_radius[level]
    for c, v in dist.items():
        cols[f"dist_m_{c}"] = np.round(v, 1)
    keep = [c for c in ("id", "population", *GROUPS, *ZONE_KINDS[1:], "on_network")
            if c in d.columns]
    units = gpd.GeoDataFrame(pd.concat([d[keep].reset_index(drop=True),
                                        pd.DataFrame(cols)], axis=1),
                             geometry=d.geometry.to_numpy(), crs=4326)
    items = _items(st, walk_ok, by_walk, by_radius)
    zones = _zone_table(data, units, items)
    return Compliance(units, zones, st, not_assessed, by_walk)


def _items(st: pd.DataFrame, walk_ok: np.ndarray, by_walk: dict, by_radius: dict) -> list[dict]:
    """The rows of the zone table: each facility type, then each level's basket."""
    items = []
    for s, ok in zip(st.itertuples(index=False), walk_ok):
        items.append({"item": s.type, "kind": "type", "tier_min": s.tier_min,
                      "category": s.category, "walk_min": s.walk_min, "radius_m": s.radius_m,
                      "walk": f"walk_{s.type}" if ok else None, "radius": f"radius_{s.type}"})
    for level in TIERS:
        if level in by_radius:
            items.append({"item": f"level{level}", "kind": "level", "tier_min": level,
                          "category": "", "walk_min": np.nan, "radius_m": np.nan,
                          "walk": f"level{level}_walk" if level in by_walk else None,
                          "radius": f"level{level}_radius"})
    return items


def _zone_table(data: CoverageData, units: pd.DataFrame, items: list[dict]) -> pd.DataFrame:
    """Shares met by walking and by radius per zone kind, zone, item and group."""
    n = len(units)
    nan = np.full(n, False)
    walk = np.column_stack([units[i["walk"]] if i["walk"] else nan for i in items]) \
        if items else np.zeros((n, 0), bool)
    has_walk = np.array([i["walk"] is not None for i in items], bool)
    radius = np.column_stack([units[i["radius"]] for i in items]) if items else walk
    meta = pd.DataFrame([{k: v for k, v in i.items() if k not in ("walk", "radius")}
                         for i in items])
    frames = []
    for kind, labels in zone_labels(data).items():
        labels = zone_codes(labels.astype(str))
        counted = zone_shares(walk, np.ones(n), labels)
        counted_r = zone_shares(radius, np.ones(n), labels)
        for group, w in group_weights(data.demand).items():
            a = zone_shares(walk, w, labels)
            b = zone_shares(radius, w, labels)
            f = pd.DataFrame({"zone_type": kind, "zone": a["zone"], "group": group,
                              "persons": a["total"], "walk_share": a["share"],
                              "radius_share": b["share"]})
            f = pd.concat([f, meta.iloc[a["item"].to_numpy()].reset_index(drop=True)], axis=1)
            f.loc[~has_walk[a["item"].to_numpy()], "walk_share"] = np.nan
            if group == "all":
                f["units"] = counted["total"].to_numpy()
                f["walk_units_share"] = np.where(has_walk[a["item"]], counted["share"], np.nan)
                f["radius_units_share"] = counted_r["share"].to_numpy()
                f["walk_all_pass"] = np.where(has_walk[a["item"]], counted["all_pass"], None)
                f["radius_all_pass"] = counted_r["all_pass"].to_numpy()
            frames.append(f)
    cols = ["zone_type", "zone", "group", "item", "kind", "tier_min", "category", "walk_min",
            "radius_m", "persons", "walk_share", "radius_share", "units", "walk_units_share",
            "radius_units_share", "walk_all_pass", "radius_all_pass"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out.reindex(columns=cols)
