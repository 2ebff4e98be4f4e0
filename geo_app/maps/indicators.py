"""The indicator map: the residential units that fail an indicator (and those that meet it),
or the residential land coloured by the share inside the service radius."""

from __future__ import annotations

import html

import folium
import numpy as np
import pandas as pd

from geo_app.labels import t
from geo_app.maps.base import (
    _COVERED,
    _NOT_COVERED,
    _RED_TO_GREEN,
    CANVAS_ABOVE,
    Legend,
    _class_layer,
    _features,
    _plain_layer,
    finish_map,
    new_map,
)


def mapped_indicators(result) -> list[str]:
    """Indicators the map can draw: those computed per unit or on residential land."""
    units, land = result.units, result.land
    ids = list(dict.fromkeys(result.table["indicator"]))
    return [i for i in ids if f"ok_{i}" in units.columns
            or (land is not None and f"covered_m2_{i}" in land.columns)]


def _name(result, indicator: str, lang: str) -> str:
    row = result.definitions[result.definitions["id"] == indicator].iloc[0]
    return str(row["name_zh" if lang == "zh" else "name_en"])


def _units_layer(m: folium.Map, result, indicator: str, lang: str) -> list[tuple[str, str]]:
    u = result.units
    ok = u[f"ok_{indicator}"].to_numpy(bool)
    name = _name(result, indicator, lang)
    radius = 4 if len(u) <= CANVAS_ABOVE else 3
    rows = []
    for flag, colour, key, show in ((True, _COVERED[1], "ind_pass", True),
                                    (False, _NOT_COVERED, "ind_fail", True)):
        part = u[ok == flag]
        props = pd.DataFrame({"k": 0, "ind_meets_rule": t(key, lang),
                              "population": part["population"].round(1).to_numpy()})
        style = [{"fillColor": colour, "color": "#444444", "weight": 0.5,
                  "fillOpacity": 0.95 if not flag else 0.6}]
        _class_layer(_features(props, part.geometry.values, 5), style,
                     f"{name} · {t(key, lang)} ({len(part):,})", ["ind_meets_rule", "population"],
                     lang, marker=folium.CircleMarker(radius=radius, fill=True),
                     show=show).add_to(m)
        rows.append((colour, f"{t(key, lang)} ({len(part):,})"))
    return rows


def _land_layer(m: folium.Map, result, indicator: str, lang: str) -> list[tuple[str, str]]:
    land = result.land
    covered = land[f"covered_m2_{indicator}"].to_numpy(float)
    area = land["area_m2"].to_numpy(float)
    share = np.divide(covered, area, out=np.zeros(len(area)), where=area > 0)
    cls = np.minimum((share * 5).astype(int), 4)
    props = pd.DataFrame({"k": cls, "ind_land_share": [f"{100 * v:.0f}%" for v in share],
                          "area_km2": [f"{v / 1e6:.3f}" for v in area]})
    styles = [{"fillColor": c, "color": "#555555", "weight": 0.6, "fillOpacity": 0.65}
              for c in _RED_TO_GREEN]
    _class_layer(_features(props, land.geometry.values, 6), styles,
                 f"{_name(result, indicator, lang)} · {t('ind_land_share', lang)} ({len(land)})",
                 ["ind_land_share", "area_km2"], lang).add_to(m)
    return [(c, f"{20 * i}–{20 * (i + 1)}%") for i, c in enumerate(_RED_TO_GREEN)]


def _context_layers(m: folium.Map, result, lang: str) -> list[tuple[str, str]]:
    """The parks and greenways the radius is measured from; returns their legend rows."""
    rows = []
    for key, colour in (("parks", "#006d2c"), ("greenways", "#2b8cbe")):
        layer = getattr(result, key, None)
        if layer is None or not len(layer):
            continue
        props = pd.DataFrame({"name": [html.escape(str(v)) for v in layer["name"]]})
        style = {"color": colour, "weight": 1.5, "dashArray": "4 3", "fillColor": colour,
                 "fillOpacity": 0.08}
        _plain_layer(_features(props, layer.geometry.values, 6), style,
                     f"{t('layer_' + key, lang)} ({len(layer)})", ["name"], lang).add_to(m)
        rows.append((colour, f"{t('layer_' + key, lang)} ({len(layer)})"))
    return rows


def indicator_map(result, indicator: str, *, lang: str = "zh", tiles: str = "blank",
                  height: str = "100%") -> folium.Map:
    """Map of one indicator of a :class:`~geo_app.workflows.indicators.IndicatorResult`:
    units that fail it in red over those that meet it (per-unit indicators), or residential
    land coloured by the share within the service area or radius (land indicators)."""
    if indicator not in mapped_indicators(result):
        raise ValueError(f"indicator {indicator!r} has no per-unit or land result to map: "
                         f"expected one of {', '.join(mapped_indicators(result))}")
    many = len(result.units) > CANVAS_ABOVE
    m = new_map(tiles, lang, height, prefer_canvas=many, zoom_snap=0.25)
    if f"ok_{indicator}" in result.units.columns:
        rows = _units_layer(m, result, indicator, lang)
        title = f"{_name(result, indicator, lang)} · {t('ind_map', lang)}"
        bounds = result.units.total_bounds
    else:
        context = _context_layers(m, result, lang)
        rows = _land_layer(m, result, indicator, lang) + context
        title = f"{_name(result, indicator, lang)} · {t('ind_land_share', lang)}"
        bounds = result.land.total_bounds
    Legend(title, rows).add_to(m)
    finish_map(m, bounds)
    return m
