"""Land layers the indicators are measured on: residential land (polygons), parks (polygons,
classed by area) and greenways (lines), from a planner's file or an OSM file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.validate import LayerValidationError

OSM_SUFFIXES = (".pbf", ".osm", ".xml")
#: kind → (geometry types accepted, the OSM tags that make one, as key → values)
KINDS = {
    "residential_land": (("Polygon", "MultiPolygon"), {"landuse": ("residential",)}),
    "parks": (("Polygon", "MultiPolygon"), {"leisure": ("park", "garden")}),
    "greenways": (("LineString", "MultiLineString", "Polygon", "MultiPolygon"), {}),
}


def _from_osm(path: Path, kind: str) -> gpd.GeoDataFrame:
    from layers.facilities import read_osm_features

    types, tags = KINDS[kind]
    if not tags:
        raise LayerValidationError(str(path), [f"OSM has no agreed tag for {kind}: give a file "
                                               "of them"])
    feats = read_osm_features(path, list(tags))
    if feats is None or not len(feats):
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
    hit = np.zeros(len(feats), bool)
    for key, values in tags.items():
        if key in feats.columns:
            hit |= feats[key].astype("string").isin(values).fillna(False).to_numpy(bool)
    feats = feats[hit & feats.geom_type.isin(types).to_numpy()]
    names = (feats["name"].astype("string").fillna("").to_numpy(object)
             if "name" in feats.columns else np.full(len(feats), "", dtype=object))
    return gpd.GeoDataFrame({"name": names}, geometry=shapely.make_valid(feats.geometry.values),
                            crs=4326)


def read_land(path: str | Path, kind: str, *, datum: str | int = "wgs84") -> gpd.GeoDataFrame:
    """Features of ``kind`` ("residential_land", "parks", "greenways") in EPSG:4326.

    An ``.osm.pbf``/``.osm`` file gives its ``landuse=residential`` areas (residential land)
    or ``leisure=park|garden`` areas (parks); any other file is read as a planner's layer of
    polygons (lines for greenways) in ``datum``. Columns: ``name`` (empty where none) and
    the geometry. Raises :class:`~layers.validate.LayerValidationError` naming the file.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown land kind {kind!r}: expected one of {', '.join(KINDS)}")
    path = Path(path)
    if str(path).lower().endswith(OSM_SUFFIXES):
        out = _from_osm(path, kind)
    else:
        from layers.userfile import read_user_layer

        gdf, _ = read_user_layer(path, datum=datum, geometry_types=KINDS[kind][0])
        names = (gdf["name"].astype("string").fillna("") if "name" in gdf.columns
                 else pd.Series("", index=gdf.index))
        out = gpd.GeoDataFrame({"name": names.to_numpy(object)},
                               geometry=gdf.geometry.to_numpy(), crs=4326)
    out = out[~out.geometry.is_empty & out.geometry.notna()].reset_index(drop=True)
    if not len(out):
        raise LayerValidationError(str(path), [f"no {kind.replace('_', ' ')} features in it"])
    return out
