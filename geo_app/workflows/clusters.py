"""Service clusters from points of interest: DBSCAN/HDBSCAN, hulls, counts and labels."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.clusters import cluster_hulls, point_clusters
from geo_app.io.export import run_info
from layers.crs import metric_crs
from layers.validate import located

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterResult:
    """``points``: the POIs with ``cluster`` (−1 noise); ``clusters``: one polygon per cluster
    with its counts and label; ``category_counts``/``sector_counts``: long tables."""

    points: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    category_counts: pd.DataFrame
    sector_counts: pd.DataFrame
    params: dict = field(default_factory=dict)

    def layers(self) -> dict[str, pd.DataFrame]:
        """The result as GeoPackage layers."""
        return {"points": self.points, "clusters": self.clusters,
                "category_counts": self.category_counts, "sector_counts": self.sector_counts,
                "run_info": run_info(self.params)}


def load_pois(path: str | Path, *, category_column: str = "category",
              datum: str | int = "wgs84", layer: str | None = None,
              columns: Mapping[str, str] | None = None,
              on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """POIs from an OSM file or a user file with a category column (``layer``, ``columns``
    {role: column} and ``on_bad_rows`` as for :func:`layers.pois.read_user_pois`)."""
    from layers.pois import read_osm_pois, read_user_pois
    from layers.sources import is_osm

    if is_osm(path):
        return read_osm_pois(path)
    return read_user_pois(path, category_column=category_column, datum=datum, layer=layer,
                          columns=columns, on_bad_rows=on_bad_rows)


def default_places(path: str | Path | None, pois: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Named places for labels: ``place=*`` nodes of an OSM file, else the bundled business
    circles and service clusters when the POIs lie in Chongqing, else none."""
    from layers import load_business_circles, load_clusters
    from layers.districts import near_chongqing
    from layers.pois import read_osm_places
    from layers.sources import is_osm

    if path is not None and is_osm(path):
        places = read_osm_places(path)
        if len(places):
            return places[["name", "geometry"]]
    if near_chongqing(pois):
        named = pd.concat([load_business_circles(), load_clusters()], ignore_index=True)
        named = located(named)
        return gpd.GeoDataFrame({"name": named["name_zh"].to_numpy()},
                                geometry=named.geometry.to_numpy(), crs=4326)
    return gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)


def _nearest_names(centres: gpd.GeoSeries, places: gpd.GeoDataFrame,
                   fallback: list[str]) -> tuple[list[str], np.ndarray]:
    """Name of the nearest place to each centre and its distance (m); ``fallback`` without
    places."""
    if len(places) == 0:
        return fallback, np.full(len(centres), np.nan)
    from scipy.spatial import cKDTree

    p = places.to_crs(centres.crs)
    tree = cKDTree(np.column_stack([p.geometry.x, p.geometry.y]))
    dist, idx = tree.query(np.column_stack([centres.x, centres.y]))
    return list(p["name"].to_numpy()[idx]), dist


def cluster_pois(pois: gpd.GeoDataFrame, *, method: str = "dbscan", eps_m: float = 150.0,
                 min_samples: int = 10, places: gpd.GeoDataFrame | None = None,
                 source: str = "") -> ClusterResult:
    """Cluster POIs (EPSG:4326 with ``category``) in the UTM zone of their centre.

    Each cluster gets a concave hull, its counts by category and by "9611" sector, its
    dominant category (and share) and the nearest named place to its centre.
    """
    if "category" not in pois.columns:
        raise ValueError("the points have no 'category' column: name the column that holds "
                         "each point's category")
    if len(pois) == 0:
        raise ValueError("there are no points to cluster")
    crs = metric_crs(pois)
    xy = pois.geometry.to_crs(crs)
    x, y = xy.x.to_numpy(), xy.y.to_numpy()
    labels = point_clusters(x, y, method=method, eps_m=eps_m, min_samples=min_samples)
    log.info("%s on %d points in %s: %d clusters", method, len(x), crs, int(labels.max()) + 1)
    points = pois.copy()
    points["cluster"] = labels.astype(np.int64)
    sector = (points["sector_9611"] if "sector_9611" in points.columns
              else pd.Series("", index=points.index))
    inside = points[points["cluster"] >= 0]
    cat_counts = (inside.groupby(["cluster", "category"]).size().rename("count").reset_index()
                  .sort_values(["cluster", "count", "category"], ascending=[True, False, True]))
    sec = inside.assign(sector_9611=sector[inside.index].replace("", "(none)"))
    sec_counts = (sec.groupby(["cluster", "sector_9611"]).size().rename("count").reset_index()
                  .sort_values(["cluster", "count"], ascending=[True, False]))
    hulls = cluster_hulls(x, y, labels)
    ids = sorted(hulls)
    top = cat_counts.drop_duplicates("cluster").set_index("cluster")
    top_sector = sec_counts[sec_counts["sector_9611"] != "(none)"].drop_duplicates("cluster")
    top_sector = top_sector.set_index("cluster")["sector_9611"]
    n = inside.groupby("cluster").size()
    cx = pd.Series(x[labels >= 0]).groupby(labels[labels >= 0]).mean()
    cy = pd.Series(y[labels >= 0]).groupby(labels[labels >= 0]).mean()
    centres = gpd.GeoSeries(gpd.points_from_xy(cx[ids], cy[ids]), crs=crs)
    named = inside[inside.get("name", pd.Series("", index=inside.index)).astype(str) != ""]
    fallback = [_most_common(named.loc[named["cluster"] == k, "name"]) for k in ids]
    place, dist = _nearest_names(centres, places if places is not None else
                                 gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326), fallback)
    polys = gpd.GeoSeries([hulls[k] for k in ids], crs=crs)
    clusters = gpd.GeoDataFrame({
        "cluster": np.asarray(ids, np.int64),
        "n_points": n[ids].to_numpy(np.int64),
        "top_category": top.loc[ids, "category"].to_numpy(object),
        "top_share": (top.loc[ids, "count"] / n[ids]).to_numpy(float),
        "top_sector": top_sector.reindex(ids).fillna("").to_numpy(object),
        "n_categories": inside.groupby("cluster")["category"].nunique()[ids].to_numpy(np.int64),
        "place": place, "place_dist_m": dist,
        "area_km2": polys.area.to_numpy() / 1e6,
    }, geometry=polys.to_crs(4326).to_numpy(), crs=4326)
    clusters["label"] = [f"{p} · {c}" if p else c for p, c in zip(clusters["place"],
                                                                  clusters["top_category"])]
    clusters = clusters.sort_values("n_points", ascending=False, kind="stable")
    clusters = clusters.reset_index(drop=True)
    params = {"method": method, "eps_m": eps_m if method == "dbscan" else "",
              "min_samples": min_samples,
              "crs": crs, "points": len(points), "clustered": int((labels >= 0).sum()),
              "clusters": len(ids), "source": source}
    return ClusterResult(points, clusters, cat_counts.reset_index(drop=True),
                         sec_counts.reset_index(drop=True), params)


def _most_common(names: pd.Series) -> str:
    return str(names.value_counts().index[0]) if len(names) else ""
