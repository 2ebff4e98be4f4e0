"""The bundled Chongqing layers as the overview map, the CLI and the app list them."""

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


def districts_near(gdf, districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame | None:
    """Chongqing's districts when ``gdf`` overlaps them (to orient a map), else ``None``."""
    from layers.districts import near_chongqing

    if not near_chongqing(gdf):
        return None
    return load_districts() if districts is None else districts


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
