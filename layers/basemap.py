"""The features of a light base map from the user's own OSM file: water, green space and
buildings (the streets come from the network already read). Offline: nothing is fetched."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

# what each kind of base feature is, as OSM tags (value lists, or True for any value)
FILTERS = {
    "water": {"natural": ["water", "bay", "wetland"], "waterway": ["riverbank", "dock"],
              "landuse": ["reservoir", "basin"], "water": True},
    "green": {"leisure": ["park", "garden", "nature_reserve", "pitch", "playground",
                          "golf_course", "recreation_ground"],
              "landuse": ["grass", "forest", "meadow", "recreation_ground", "village_green",
                          "cemetery", "orchard", "allotments"],
              "natural": ["wood", "scrub", "grassland", "heath"]},
    "buildings": {"building": True},
}
KINDS = tuple(FILTERS)
SIMPLIFY_DEG = 1e-5  # about 1 m: finer than a screen pixel at street zoom
MAX_BUILDINGS = 40_000  # the largest are kept beyond this (a base map, not a survey)


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[], crs=4326)


def _read(path: Path, kind: str) -> gpd.GeoDataFrame:
    tags = FILTERS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.name.lower().endswith(".pbf"):
            import pyrosm

            osm = pyrosm.OSM(str(path))
            got = (osm.get_buildings() if kind == "buildings" else
                   osm.get_data_by_custom_criteria(custom_filter=tags, keep_nodes=False,
                                                   keep_relations=True))
        else:
            import osmnx as ox

            try:
                got = ox.features_from_xml(path, tags=tags)
            except ox._errors.InsufficientResponseError:
                got = None
    if got is None or len(got) == 0:
        return _empty()
    return gpd.GeoDataFrame(geometry=got.geometry.to_numpy(), crs=4326)


def _areas(gdf: gpd.GeoDataFrame, cap: int | None) -> gpd.GeoDataFrame:
    """Polygons only, simplified for display; the ``cap`` largest when there are more."""
    geoms = gdf.geometry.to_numpy()
    keep = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms = shapely.simplify(geoms[keep], SIMPLIFY_DEG, preserve_topology=True)
    geoms = geoms[~shapely.is_empty(geoms)]
    if cap is not None and len(geoms) > cap:
        geoms = geoms[np.argsort(-shapely.area(geoms), kind="stable")[:cap]]
    return gpd.GeoDataFrame(geometry=geoms, crs=4326)


def read_base_features(path: str | Path, bbox: tuple | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Water, green space and buildings (polygons, EPSG:4326) of an ``.osm.pbf`` or ``.osm``
    file, simplified for a base map (within ``bbox``, west, south, east, north, when given).
    Other files (centre-lines, tables) have none: an empty dict."""
    path = Path(path)
    name = path.name.lower()
    if not name.endswith((".pbf", ".osm", ".xml")):
        return {}
    out = {}
    for kind in KINDS:
        gdf = _read(path, kind)
        if bbox is not None and len(gdf):
            gdf = gdf.clip(bbox)
        out[kind] = _areas(gdf, MAX_BUILDINGS if kind == "buildings" else None)
    return out
