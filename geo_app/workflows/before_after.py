"""A scenario's effect on coverage by category: existing facilities, then with the
proposed 渝邻汇 hubs added as facilities of every category a hub embeds."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.graph import WalkGraph
from geo_app.workflows.coverage import CoverageInputs, CoverageResult, run_coverage

log = logging.getLogger(__name__)

# What a 渝邻汇 community comprehensive service complex (≥ 3,000 m²) embeds, as basket keys:
# the community service centre itself, plus "health, elderly care, childcare and sports"
# (DESIGN.md, Chongqing 2025 guidance) and the community canteen (渝邻汇 service list, see
# the canteen row of data/gis/facility_basket.csv). Caveats: "clinic" stands for a health
# station (the basket row merges it with the community health service centre), "childcare"
# for a nursery (kindergartens are usually separate), "elderly_care" for day care and
# "sports" for an indoor fitness room. Schools, markets, parks and transit are not embedded.
HUB_CATEGORIES = ("community_service", "elderly_care", "childcare", "clinic", "canteen", "sports")

COLUMNS = ("category", "in_hub", "threshold_min", "residents", "covered_before",
           "covered_after", "gain", "share_before", "share_after")


def _with_sites(facilities: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
                categories: Sequence[str]) -> gpd.GeoDataFrame:
    """``facilities`` and one copy of ``sites`` per category (points, EPSG:4326)."""
    names = (sites["name"].astype(str).to_numpy() if "name" in sites.columns
             else [f"site {i + 1}" for i in range(len(sites))])
    added = [gpd.GeoDataFrame({"category": cat, "name": names, "source": "scenario"},
                              geometry=sites.geometry.to_crs(4326).to_numpy(), crs=4326)
             for cat in categories]
    out = pd.concat([facilities.to_crs(4326), *added], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=4326)


def _area_row(result: CoverageResult) -> pd.Series:
    s = result.summary
    return s[s["zone_type"] == "study_area"].iloc[0]


def coverage_before_after(inputs: CoverageInputs, sites: gpd.GeoDataFrame,
                          hub_categories: Sequence[str] = HUB_CATEGORIES, *,
                          minutes: float | None = None, graph: WalkGraph | None = None,
                          speed_m_s: float = 1.0, profile: str | None = None, edits=None,
                          join: str = "street") -> pd.DataFrame:
    """Residents covered per category before and after adding ``sites`` (points) as
    facilities of each of ``hub_categories``.

    Coverage as :func:`geo_app.workflows.coverage.run_coverage` (isochrones off), once with the
    existing facilities and once with the sites added; ``minutes`` None uses each
    category's life-circle level, ``speed_m_s`` is the walking speed (m/s) and ``graph``
    a prebuilt walk graph (built once here otherwise: a walker ``profile``'s, with network
    ``edits``, as coverage builds it). ``join``: as the siting run's (see
    :func:`geo_app.workflows.siting.prepare`): "street" (default, as coverage) or "node",
    so that the figures equal the run's. One row per category of the run,
    then ``basket`` (residents reaching every category): ``in_hub``, ``threshold_min``
    (minutes; NaN for the basket), ``residents``, ``covered_before``, ``covered_after``,
    ``gain`` (persons) and ``share_before``, ``share_after`` (0–1).
    """
    from geo_app.workflows.siting import siting_graph

    hub = list(dict.fromkeys(str(c) for c in hub_categories))
    if not hub:
        raise ValueError("no hub categories: name at least one category the sites provide")
    if sites.crs is None:
        raise ValueError("the sites have no coordinate reference system: give EPSG:4326 points")
    if graph is not None:
        g = graph
        if profile is not None:
            from geo_app.workflows.graphs import walker_profile

            speed_m_s = walker_profile(profile).flat_m_s
    else:
        g, speed_m_s = siting_graph(inputs.network, profile=profile, edits=edits,
                                    speed_m_s=speed_m_s)
    categories = list(dict.fromkeys([*(inputs.categories or []), *hub]))

    def cover(facilities: gpd.GeoDataFrame) -> CoverageResult:
        return run_coverage(inputs.network, facilities, inputs.demand, minutes=minutes,
                            speed_m_s=speed_m_s, graph=g, isochrones=False,
                            categories=categories, progress=lambda f, m: None,
                            join=join)  # siting with the same join gives the same figures

    before = cover(inputs.facilities)
    after = cover(_with_sites(inputs.facilities, sites, hub)) if len(sites) else before
    b, a = _area_row(before), _area_row(after)
    residents = float(b["population"])
    rows = []
    for cat in [*after.categories, "basket"]:
        cb, ca = float(b.get(f"pop_{cat}", 0.0)), float(a[f"pop_{cat}"])
        rows.append({"category": cat, "in_hub": cat in hub,
                     "threshold_min": after.thresholds_min.get(cat, np.nan),
                     "residents": residents, "covered_before": cb, "covered_after": ca,
                     "gain": ca - cb,
                     "share_before": cb / residents if residents else np.nan,
                     "share_after": ca / residents if residents else np.nan})
    return pd.DataFrame(rows, columns=list(COLUMNS))
