"""Progress towards the plans' 2027 spatial targets (``data/gis/targets.csv``): circles meeting
the standard (delineated), sites of saved siting scenarios (proposed), facilities a planner
marked as built or proposed, and the bundled places that could count (candidates); for the
whole city and per zone (district by default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.targets import check_marks, load_targets, needed

MARKS_SCENARIO = "已标记设施 / marked facilities"  # the project scenario holding the marks
MARKS_KIND = "marks"
MARK_TABLE = "marks"


@dataclass
class Proposal:
    """One saved siting scenario: its name, the category its sites add and the sites."""

    name: str
    category: str
    sites: gpd.GeoDataFrame


@dataclass
class TargetStatus:
    """``table``: one row per target; ``by_zone``: one row per target and zone."""

    table: pd.DataFrame
    by_zone: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def empty_marks() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in
                         ("target", "name", "status", "district", "lon", "lat", "date", "note")})


def project_inputs(path: str | Path, names: Sequence[str] | None = None
                   ) -> tuple[list[Proposal], pd.DataFrame]:
    """The siting scenarios of a project (``names``: only these; default all) as proposals,
    and the marked facilities saved in it."""
    from geo_app.io.project import list_scenarios, load_scenario

    listed = list_scenarios(path)
    proposals, marks = [], [empty_marks()]
    for row in listed.itertuples(index=False):
        if row.kind == MARKS_KIND:
            sc = load_scenario(path, row.name)
            if MARK_TABLE in sc.tables:
                marks.append(sc.tables[MARK_TABLE])
        elif row.kind == "siting" and (names is None or row.name in names):
            sc = load_scenario(path, row.name)
            proposals.append(Proposal(row.name, str(sc.params.get("category") or ""),
                                      sc.sites))
    joined = pd.concat(marks, ignore_index=True)
    return proposals, check_marks(joined, f"{path}: {MARKS_SCENARIO}", load_targets())


def save_marks(path: str | Path, marks: pd.DataFrame) -> None:
    """Keep the marked facilities in the project (one scenario of kind ``marks``), checked."""
    from geo_app.io.project import Scenario, save_scenario

    checked = check_marks(marks, "marked facilities", load_targets())
    save_scenario(path, Scenario(MARKS_SCENARIO, kind=MARKS_KIND,
                                 tables={MARK_TABLE: checked.astype(object)}))


def zone_of_points(points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, name: str) -> np.ndarray:
    """The zone each point falls in ("" outside every zone or without a position)."""
    if not len(points):
        return np.zeros(0, dtype=object)
    from analysis.zones import zone_names

    return zone_names(points.geometry.to_crs(4326).values, zones.geometry.to_crs(4326).values,
                      zones[name].astype(object).fillna("").astype(str), "")


def _candidates(spec, zones, name: str, by_district: bool) -> pd.Series:
    """Bundled places that could count, per zone (index "" for none found)."""
    from layers.places import load_places

    if not spec:
        return pd.Series(dtype=float)
    layer, _, category = str(spec).partition(":")
    p = load_places(layer)
    if category:
        p = p[p["category"] == category]
    where = p["district_zh"].fillna("").astype(str).to_numpy(object) if by_district else \
        zone_of_points(p, zones, name)
    return pd.Series(1.0, index=where).groupby(level=0).sum()


def target_status(targets: pd.DataFrame | None = None, *,
                  circles: Sequence[gpd.GeoDataFrame] = (),
                  proposals: Sequence[Proposal] = (), marks: pd.DataFrame | None = None,
                  zones: tuple[gpd.GeoDataFrame, str] | None = None) -> TargetStatus:
    """Status of each target: ``analysed`` (circles meeting the standard in ``circles``),
    ``built`` and ``proposed`` (marked, plus scenario sites for ``sites:`` targets),
    ``achieved`` = analysed + built, ``with_proposed`` = achieved + proposed, ``progress``
    and ``progress_with_proposed`` (of the number needed), ``met``, ``candidates``.

    ``zones``: (polygons, name column) for the per-zone table (default the 38 districts by
    ``name_zh``; circles use their ``district`` column then)."""
    from layers.districts import load_districts

    tg = load_targets() if targets is None else targets
    marks = empty_marks() if marks is None else check_marks(marks, "marked facilities", tg)
    by_district = zones is None
    zgdf, zname = (load_districts(), "name_zh") if zones is None else zones
    records = []  # (target, zone, what, count)

    def add(tid, where, what):
        for z, n in pd.Series(1.0, index=np.asarray(where, dtype=object)).groupby(
                level=0).sum().items():
            records.append((tid, z, what, n))

    m = marks.copy()
    has_xy = m["lon"].notna() & m["lat"].notna()
    zone_m = m["district"].fillna("").astype(str).to_numpy(object) if by_district else \
        np.full(len(m), "", dtype=object)
    if has_xy.any():
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(m.loc[has_xy, "lon"],
                                                           m.loc[has_xy, "lat"]), crs=4326)
        found = zone_of_points(pts, zgdf, zname)
        zone_m[has_xy.to_numpy()] = np.where(found != "", found, zone_m[has_xy.to_numpy()])
    for t in tg.itertuples(index=False):
        for status in ("built", "proposed"):
            sel = ((m["target"] == t.id) & (m["status"] == status)).to_numpy()
            add(t.id, zone_m[sel], status)
        if t.counted_from.startswith("sites:"):
            for p in proposals:
                if p.category == t.counted_from[6:]:
                    add(t.id, zone_of_points(p.sites, zgdf, zname), "proposed")
        if t.counted_from == "life_circles":
            for c in circles:
                met = c[c["meets_standard"].astype(bool)]
                where = met["district"].astype(str).to_numpy(object) if (
                    by_district and "district" in met.columns) else zone_of_points(
                    gpd.GeoDataFrame(geometry=met.geometry.representative_point(), crs=4326),
                    zgdf, zname)
                add(t.id, where, "analysed")
        cand = _candidates(t.candidates_from, zgdf, zname, by_district)
        for z, n in cand.items():
            records.append((t.id, z, "candidates", n))
    long = pd.DataFrame(records, columns=["target", "zone", "what", "n"])
    wide = long.pivot_table(index=["target", "zone"], columns="what", values="n",
                            aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=["analysed", "built", "proposed", "candidates"], fill_value=0.0)
    wide = wide.reset_index()
    table = tg[["id", "name_zh", "name_en", "clause", "section", "seed_id", "source", "number",
                "number_max", "comparison", "year", "unit_zh", "counted_from",
                "candidates_from", "baseline", "baseline_date", "baseline_source", "notes"]]
    table = table.copy()
    table["needed"] = [needed(t) for t in tg.itertuples(index=False)]
    sums = wide.groupby("target")[["analysed", "built", "proposed", "candidates"]].sum()
    table = table.join(sums, on="id").fillna(
        {"analysed": 0.0, "built": 0.0, "proposed": 0.0, "candidates": 0.0})
    table["achieved"] = table["analysed"] + table["built"]
    table["with_proposed"] = table["achieved"] + table["proposed"]
    table["progress"] = table["achieved"] / table["needed"]
    table["progress_with_proposed"] = table["with_proposed"] / table["needed"]
    table["met"] = table["achieved"] >= table["needed"]
    by_zone = wide.rename(columns={"target": "id"})
    by_zone["zone"] = by_zone["zone"].replace("", "(unknown)")
    by_zone["achieved"] = by_zone["analysed"] + by_zone["built"]
    by_zone = by_zone.merge(table[["id", "needed"]], on="id")
    by_zone["share_of_target"] = by_zone["achieved"] / by_zone["needed"]
    return TargetStatus(table.reset_index(drop=True), by_zone)
