"""Two saved siting scenarios side by side: each metric and category of A and B with A − B,
and which sites they share."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.workflows.coverage import to_metres

# summary metrics compared, and their unit: persons, share (0–1) or count
METRICS = (("n_proposed", "count"), ("residents_total", "persons"),
           ("covered_before", "persons"), ("newly_covered", "persons"),
           ("covered_after", "persons"), ("share_after", "share"))
SAME_SITE_M = 1.0  # sites closer than this are the same site


def _metrics(summary: pd.DataFrame | None, n_sites: int) -> dict[str, float]:
    """A scenario's metrics; the number of sites is the sites saved (an edited proposal of 7
    sites counts 7, whatever N the solver was asked for)."""
    out = {k: np.nan for k, _ in METRICS}
    out["n_proposed"] = float(n_sites)
    if summary is not None and len(summary):
        r = summary.iloc[0]
        out.update(residents_total=float(r["residents"]),
                   covered_before=float(r["covered_before"]),
                   newly_covered=float(r["newly_covered"]),
                   covered_after=float(r["covered_before"] + r["newly_covered"]),
                   share_after=float(r["share_after"]))
    return out


def compare_table(a, b) -> pd.DataFrame:
    """Scenarios ``a`` and ``b`` (:class:`geo_app.io.project.Scenario`) metric by metric:
    columns ``metric`` (a label key), ``category`` ("" for the whole proposal), ``unit``
    ("count", "persons" or "share"), ``a``, ``b`` and ``diff`` (a − b; NaN when either is
    missing). Categories come from each scenario's ``by_category`` table (coverage before and
    after by facility category), when saved: persons covered after and the share after."""
    ma, mb = (_metrics(sc.tables.get("summary"), len(sc.sites)) for sc in (a, b))
    rows = [{"metric": k, "category": "", "unit": unit, "a": ma[k], "b": mb[k]}
            for k, unit in METRICS]
    ca, cb = (sc.tables.get("by_category") for sc in (a, b))
    if ca is not None or cb is not None:
        cats = list(dict.fromkeys([*(ca["category"] if ca is not None else []),
                                   *(cb["category"] if cb is not None else [])]))
        for metric, col, unit in (("covered_after", "covered_after", "persons"),
                                  ("share_after", "share_after", "share")):
            va, vb = (pd.Series(np.nan, index=cats) if c is None
                      else c.set_index("category")[col].astype(float).reindex(cats)
                      for c in (ca, cb))
            rows += [{"metric": metric, "category": cat, "unit": unit, "a": va[cat],
                      "b": vb[cat]} for cat in cats]
    out = pd.DataFrame(rows)
    out["diff"] = out["a"] - out["b"]
    return out


def sites_difference(sites_a: gpd.GeoDataFrame, sites_b: gpd.GeoDataFrame,
                     tol_m: float = SAME_SITE_M) -> gpd.GeoDataFrame:
    """The sites of both scenarios with ``side``: "a" (only in A), "b" (only in B) or "both"
    (within ``tol_m`` metres of a site of the other); columns ``name``, ``side``; EPSG:4326."""
    def frame(s: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        names = s["name"].astype(str) if "name" in s.columns else pd.Series([""] * len(s))
        return gpd.GeoDataFrame({"name": names.to_numpy()}, geometry=s.geometry.to_crs(4326)
                                .to_numpy(), crs=4326)

    a, b = frame(sites_a), frame(sites_b)
    if len(a) and len(b):
        crs = gpd.GeoSeries(pd.concat([a.geometry, b.geometry]), crs=4326).estimate_utm_crs()
        ax, ay = to_metres(a, crs)
        bx, by = to_metres(b, crs)
        d = np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])
        a_in_b, b_in_a = (d <= tol_m).any(axis=1), (d <= tol_m).any(axis=0)
    else:
        a_in_b, b_in_a = np.zeros(len(a), bool), np.zeros(len(b), bool)
    a["side"] = np.where(a_in_b, "both", "a")
    b["side"] = "b"
    out = pd.concat([a, b[~b_in_a]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)
