"""A light base map drawn from the user's own data (streets, water, green space, buildings),
one choice of the layer control beside the blank and the online OSM tiles: it travels inside
the page, so it needs no tile server and no network."""

from __future__ import annotations

import json

import folium
import numpy as np
import pandas as pd
from branca.element import Element
from folium.map import CustomPane
from folium.utilities import JsCode

from geo_app.labels import t
from geo_app.maps.base import _features
from geo_app.workflows.local_base import MAJOR

PANE = "cqBase"  # above the tiles (200), under every overlay (400)
STYLES = {
    "water": {"color": "#9ecae1", "weight": 0.5, "fillColor": "#c6dbef", "fillOpacity": 1.0},
    "green": {"color": "#c7e9c0", "weight": 0.5, "fillColor": "#dcefd6", "fillOpacity": 1.0},
    "buildings": {"color": "#cfcac4", "weight": 0.5, "fillColor": "#e3dfda", "fillOpacity": 1.0},
    "minor": {"color": "#ffffff", "weight": 2.0, "opacity": 1.0},
    "major": {"color": "#fdfdfd", "weight": 3.5, "opacity": 1.0},
    "casing": {"color": "#c8c4be", "weight": 4.5, "opacity": 1.0},
}
BACKGROUND = "#f2efe9"


def _layer(group, features: dict, style: dict) -> None:
    js = JsCode("function(f, layer) { if (layer.setStyle) layer.setStyle("
                + json.dumps(style) + "); }")
    folium.GeoJson(features, on_each_feature=js, pane=PANE, interactive=False,
                   control=False).add_to(group)


def street_lines(edges) -> tuple[np.ndarray, np.ndarray]:
    """The streets' lines and whether each is a major road (from its ``highway`` class)."""
    geoms = edges.geometry.to_numpy()
    cls = edges["highway"].astype(str).to_numpy() if "highway" in edges.columns else None
    major = (np.isin(cls, MAJOR) if cls is not None else np.zeros(len(geoms), bool))
    return geoms, major


def add_local_base(m: folium.Map, edges, areas: dict, lang: str, show: bool = True) -> None:
    """Draw ``edges`` (street lines with an optional ``highway`` class) and ``areas``
    ({"water", "green", "buildings"}: polygons) as the base layer "map from your data"."""
    CustomPane(PANE, z_index=250, pointer_events=False).add_to(m)
    group = folium.FeatureGroup(name=t("local", lang), overlay=False, control=True, show=show)
    for kind in ("water", "green", "buildings"):
        gdf = areas.get(kind)
        if gdf is not None and len(gdf):
            _layer(group, _features(pd.DataFrame(index=range(len(gdf))), gdf.geometry.values, 5),
                   STYLES[kind])
    if edges is not None and len(edges):
        geoms, major = street_lines(edges)
        for key, pick in (("casing", major), ("minor", ~major), ("major", major)):
            if pick.any():
                _layer(group, _features(pd.DataFrame(index=range(int(pick.sum()))),
                                        geoms[pick], 5), STYLES[key])
    group.add_to(m)
    m.get_root().header.add_child(Element(
        f"<style>.leaflet-container.leaflet-container{{background:{BACKGROUND}}}</style>"))
    if show:  # the one base shown at first: the tile layers wait in the control
        for child in m._children.values():
            if isinstance(child, folium.TileLayer):
                child.show = False
    # the layer control's script names every layer: it must come after this one
    for name in [k for k, c in m._children.items() if isinstance(c, folium.LayerControl)]:
        m._children.move_to_end(name)


def view_bounds(m: folium.Map):
    """The (west, south, east, north) a map was fitted to (None if it was not)."""
    for child in m._children.values():
        if type(child).__name__ == "FitBounds":
            (south, west), (north, east) = child.bounds
            return west, south, east, north
    return None
