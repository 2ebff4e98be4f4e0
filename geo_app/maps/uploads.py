"""The preview map of an uploaded file: its features as the pages will read them (WGS-84),
over the district outlines for orientation. It only draws."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.labels import facility_label, t
from geo_app.maps.base import (
    CANVAS_ABOVE,
    CATEGORY_COLOURS,
    Legend,
    _class_layer,
    _escaped,
    _features,
    _fmt_int,
    _plain_layer,
    finish_map,
    new_map,
)

KIND_COLOURS = {"network": "#555555", "demand": "#e6550d", "candidates": "#6a51a3",
                "pois": "#2b8cbe", "centres": "#d62728", "bases": "#1f77b4", "dem": "#8c6d31"}
MAX_LEGEND_CATEGORIES = 11  # the rest share one colour


def _categories(frame: gpd.GeoDataFrame, lang: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Class of each feature, colour of each class and its legend label (by count)."""
    cats = frame["category"].astype(str)
    top = list(cats.value_counts().index[:MAX_LEGEND_CATEGORIES])
    k = np.array([top.index(c) if c in top else len(top) for c in cats])
    colours = [CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i in range(len(top))]
    labels = [facility_label(c, lang) for c in top]
    if (k == len(top)).any():
        colours.append("#999999")
        labels.append(t("cov_facilities_other", lang))
    return k, colours, labels


def upload_map(frame: gpd.GeoDataFrame, kind: str, *, lang: str = "zh", tiles: str = "blank",
               districts: gpd.GeoDataFrame | None = None, total: int | None = None,
               height: str = "100%") -> folium.Map:
    """Map of an upload's features (``frame`` in EPSG:4326, with ``name``, ``category`` or
    ``population`` where it has them). Points are discs (by category where there is one),
    lines and areas outlines. ``total``: features in the file when ``frame`` is a sample
    of them (the layer name says so). ``districts`` outline Chongqing where they are in view.
    """
    m = new_map(tiles, lang, height, prefer_canvas=len(frame) > CANVAS_ABOVE)
    bounds = frame.total_bounds
    if districts is not None and len(districts):
        from geo_app.maps.clusters import districts_outline

        west, south, east, north = bounds
        near = districts.cx[west - 0.2:east + 0.2, south - 0.2:north + 0.2]
        districts_outline(m, near if len(near) else None, lang)
    count = f"{len(frame):,}" if not total or total == len(frame) else f"{len(frame):,} / {total:,}"
    name = f"{t('val_kind_' + kind, lang)} ({count})"
    geoms = frame.geometry.values
    points = shapely.get_type_id(geoms) == 0
    fields, props = [], pd.DataFrame(index=range(len(frame)))
    if "name" in frame.columns:
        props["name"], fields = _escaped(frame["name"].astype(str)), ["name"]
    if "population" in frame.columns:
        props["population"] = [_fmt_int(v) for v in frame["population"].astype(float)]
        fields.append("population")
    colour = KIND_COLOURS.get(kind, "#333333")
    rows = [(colour, name)]
    if "category" in frame.columns and points.all():
        k, colours, labels = _categories(frame, lang)
        props["category"] = _escaped(pd.Series([facility_label(str(c), lang)
                                                for c in frame["category"]], dtype=object))
        props["k"] = k
        fields.append("category")
        styles = [{"radius": 5, "color": "#ffffff", "weight": 1, "fillColor": c,
                   "fillOpacity": 0.9} for c in colours]
        _class_layer(_features(props, geoms), styles, name, fields, lang,
                     marker=folium.CircleMarker(radius=5, fill=True)).add_to(m)
        rows = list(zip(colours, labels))
    elif points.all():
        data = _features(props, geoms)
        folium.GeoJson(data, name=name, marker=folium.CircleMarker(
            radius=4, fill=True, fill_color=colour, fill_opacity=0.85, color="#ffffff",
            weight=1), tooltip=folium.GeoJsonTooltip(fields, aliases=[t(f, lang) for f in fields])
            if fields and len(frame) else None).add_to(m)
    else:
        style = {"color": colour, "weight": 1.5 if kind == "network" else 2,
                 "fillColor": colour, "fillOpacity": 0.15}
        _plain_layer(_features(props, geoms), style, name, fields, lang).add_to(m)
    Legend(t("upl_preview", lang), rows).add_to(m)
    finish_map(m, bounds, collapsed=True)
    return m
