"""The base map from the user's own data: the network's streets and the OSM file's water,
green space and buildings, read once per file and cut to each map's view."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

MAX_STREETS = 80_000  # street lines in one map page (the major roads first beyond this)
MAJOR = ("motorway", "trunk", "primary", "secondary", "tertiary")
PAD = 0.5  # the view grown by this share each way: wider screens and prints, a little panning


@dataclass(frozen=True)
class LocalBase:
    streets: gpd.GeoDataFrame  # lines with a highway class where the source has one
    areas: dict  # "water", "green", "buildings": polygons


def local_base(network: str) -> LocalBase:
    """Everything the base map draws for the network file ``network`` (any network source)."""
    from geo_app.workflows.inputs import street_network
    from layers.basemap import read_base_features

    edges = street_network(network).edges
    cols = [c for c in ("highway",) if c in edges.columns]
    return LocalBase(gpd.GeoDataFrame(edges[cols].reset_index(drop=True),
                                      geometry=edges.geometry.to_numpy(), crs=4326),
                     read_base_features(network))


def in_view(base: LocalBase, bounds) -> LocalBase:
    """``base`` cut to ``bounds`` (west, south, east, north; grown by :data:`PAD`), at most
    :data:`MAX_STREETS` street lines."""
    w, s, e, n = (float(b) for b in bounds)
    dx, dy = (e - w) * PAD, (n - s) * PAD
    box = (w - dx, s - dy, e + dx, n + dy)

    view = shapely.box(*box)

    def cut(gdf):
        if gdf is None or not len(gdf):
            return gdf
        return gdf.iloc[np.sort(gdf.sindex.query(view, predicate="intersects"))]

    streets = cut(base.streets)
    if len(streets) > MAX_STREETS:
        major = (streets["highway"].isin(MAJOR).to_numpy() if "highway" in streets
                 else np.zeros(len(streets), bool))
        streets = streets.iloc[np.sort(np.argsort(~major, kind="stable")[:MAX_STREETS])]
    return LocalBase(streets, {k: cut(v) for k, v in base.areas.items()})

