"""Wiring from layers to maps and tables for the app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo_app.labels import t
from layers import PLACE_LAYERS, load_districts, load_places


@dataclass(frozen=True)
class BaseLayers:
    """The bundled Chongqing layers, all EPSG:4326."""

    districts: gpd.GeoDataFrame
    places: dict[str, gpd.GeoDataFrame]  # business_circles, logistics_bases, clusters

    def get(self, key: str) -> gpd.GeoDataFrame:
        if key == "districts":
            return self.districts
        if key not in self.places:
            raise KeyError(f"unknown layer {key!r}: expected districts or {', '.join(self.places)}")
        return self.places[key]


def load_base_layers() -> BaseLayers:
    """Load the districts and the three bundled point layers."""
    return BaseLayers(load_districts(), {key: load_places(key) for key in PLACE_LAYERS})


def layer_summary(base: BaseLayers, lang: str = "zh") -> pd.DataFrame:
    """One row per layer: key, label, features, features without coordinates, source."""
    rows = [{"layer": "districts", "label": t("districts", lang), "features": len(base.districts),
             "without_coordinates": 0,
             "source": f"{base.districts['boundary_source'].iloc[0]}; facts data/gis/districts.csv"}]
    for key, gdf in base.places.items():
        missing = int((gdf.geometry.isna() | gdf.geometry.is_empty).sum())
        conf = gdf["coord_confidence"].value_counts().reindex(
            ["high", "medium", "low", "very_low", "none"]).dropna().astype(int)
        rows.append({"layer": key, "label": t(key, lang), "features": len(gdf),
                     "without_coordinates": missing,
                     "source": f"data/gis/{PLACE_LAYERS[key]} (compiled facts; confidence "
                               + ", ".join(f"{k} {v}" for k, v in conf.items()) + ")"})
    return pd.DataFrame(rows)


def table_for_display(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """A layer's attributes without geometry, for a table under the map."""
    return pd.DataFrame(gdf.drop(columns=gdf.geometry.name))


def utm_crs(lon: float, lat: float) -> str:
    """UTM zone of a WGS-84 point as an EPSG code (e.g. EPSG:32648 for Chongqing west of 108° E)."""
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def walk_graph_from_network(net, *, speed_m_s: float = 1.0, steps_speed_m_s: float = 0.5,
                            crs: str | None = None, dem: str | None = None):
    """Build the :class:`~analysis.graph.WalkGraph` of a street network in metres.

    ``crs`` defaults to the UTM zone of the network's centre. Node elevations come
    from the network's ``elevation_m`` column or, when given, a ``dem`` GeoTIFF; with
    them walking times follow Tobler's hiking function in each direction.
    """
    import numpy as np
    from pyproj import Transformer

    from analysis.graph import build_walk_graph

    nodes, edges = net.nodes, net.edges
    ids = nodes["node_id"].to_numpy(np.int64)
    order = np.argsort(ids)
    crs = crs or utm_crs(float(nodes["lon"].median()), float(nodes["lat"].median()))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(
        nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    ends = []
    for col in ("u", "v"):
        want = edges[col].to_numpy(np.int64)
        pos = np.minimum(np.searchsorted(ids, want, sorter=order), len(ids) - 1)
        missing = ids[order[pos]] != want
        if missing.any():
            raise ValueError(f"{net.source}: {int(missing.sum())} street segment end(s) in "
                             f"column '{col}' name nodes that are not in the node table "
                             f"(e.g. node {int(want[missing][0])})")
        ends.append(order[pos])
    u, v = ends
    z = None
    if dem is not None:
        from layers.elevation import sample_dem

        z = sample_dem(dem, nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    elif "elevation_m" in nodes.columns:
        z = nodes["elevation_m"].to_numpy(float)
    return build_walk_graph(u, v, edges["length_m"].to_numpy(), x=np.asarray(x), y=np.asarray(y),
                            crs=crs, node_id=ids, is_steps=(edges["highway"] == "steps").to_numpy(),
                            elevation_m=z, speed_m_s=speed_m_s, steps_speed_m_s=steps_speed_m_s)
