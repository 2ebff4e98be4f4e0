"""Folium map builders. They take GeoDataFrames and return maps; they read no files."""

from __future__ import annotations

import html
import json
import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from geo_app.config import DEFAULT
from geo_app.labels import category_label, t
from layers.validate import located

DISPLAY_TOLERANCE_DEG = 0.001  # ~100 m: boundary simplification for the browser only
CHONGQING_CENTRE = (29.9, 107.8)  # (lat, lon), Leaflet's order

# A light grey 1x1 PNG (#f6f6f4) as a tile: a base layer that needs no network.
_BLANK_TILE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP49u0LAAXGAuHaeiwSAAAAAElFTkSuQmCC"
_SEQUENTIAL = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")
_NO_DATA = "#d9d9d9"
REGION_COLOURS = {
    "中心城区": "#e41a1c",
    "主城新区": "#ff7f00",
    "渝东北三峡库区城镇群": "#377eb8",
    "渝东南武陵山区城镇群": "#4daf4a",
}
LAYER_COLOURS = {"business_circles": "#d62728", "logistics_bases": "#1f77b4",
                 "clusters": "#9467bd"}
from geo_app.maps import CHOROPLETH_VARIABLES, TILES  # noqa: E402,F401


class Legend(MacroElement):
    """A legend box drawn as a Leaflet control (works in exported HTML and in Streamlit)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "cq-legend");
                div.innerHTML = {{ this.html_json }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, title: str, rows: list[tuple[str, str]], position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.position = position
        swatches = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
            f'vertical-align:middle;background:{c};border:1px solid #777"></span>'
            f"{html.escape(label)}</div>" for c, label in rows)
        box = (f'<div style="background:rgba(255,255,255,.92);padding:6px 9px;border-radius:4px;'
               f'box-shadow:0 0 4px #999;font:12px/1.5 sans-serif">'
               f"<b>{html.escape(title)}</b>{swatches}</div>")
        self.html_json = json.dumps(box, ensure_ascii=False)


def _fmt_int(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.0f}"


def classify(values: pd.Series, n: int = 5) -> tuple[np.ndarray, list[float]]:
    """Quantile classes (0…n-1; -1 where missing) and the n+1 class breaks."""
    v = values.astype("float64").to_numpy()
    ok = np.isfinite(v)
    breaks = list(np.unique(np.quantile(v[ok], np.linspace(0, 1, n + 1)))) if ok.any() else [0.0]
    cls = np.full(len(v), -1)
    if ok.any():
        cls[ok] = np.clip(np.searchsorted(breaks, v[ok], side="right") - 1, 0, len(breaks) - 2)
    return cls, breaks


def district_colours(districts: gpd.GeoDataFrame, variable: str,
                     lang: str = "zh") -> tuple[list[str], list[tuple[str, str]]]:
    """Fill colour per district and the legend rows for a choropleth variable."""
    if variable not in CHOROPLETH_VARIABLES:
        raise ValueError(f"unknown choropleth variable {variable!r}: expected one of "
                         f"{', '.join(CHOROPLETH_VARIABLES)}")
    if variable == "region_group":
        colours = [REGION_COLOURS.get(g, _NO_DATA) for g in districts["region_group"]]
        return colours, [(c, t(g, lang)) for g, c in REGION_COLOURS.items()]
    cls, breaks = classify(districts[variable])
    palette = _SEQUENTIAL[-(len(breaks) - 1):] if len(breaks) > 1 else _SEQUENTIAL[:1]
    colours = [palette[c] if c >= 0 else _NO_DATA for c in cls]
    rows = [(palette[i], f"{_fmt_int(breaks[i])} – {_fmt_int(breaks[i + 1])}")
            for i in range(len(breaks) - 1)]
    if (cls < 0).any():
        rows.append((_NO_DATA, f"{t('no_data', lang)} ({int((cls < 0).sum())})"))
    return colours, rows


def _base_layers(m: folium.Map, tiles: str, lang: str) -> None:
    if tiles == "local":  # drawn from the user's data by the app (maps/local_base.py)
        tiles = "blank"
    if tiles not in TILES:
        raise ValueError(f"unknown tiles {tiles!r}: expected one of {', '.join(TILES)}")
    layers = {
        "blank": dict(tiles=_BLANK_TILE, attr=t("blank", lang), name=t("blank", lang)),
        "osm": dict(tiles="OpenStreetMap", name=t("osm", lang)),
    }
    for key in (tiles, *[k for k in TILES if k != tiles]):
        folium.TileLayer(**layers[key], show=key == tiles, control=True).add_to(m)


def _districts_layer(m: folium.Map, districts: gpd.GeoDataFrame, variable: str,
                     lang: str) -> None:
    colours, legend_rows = district_colours(districts, variable, lang)
    geoms = shapely.set_precision(
        shapely.coverage_simplify(districts.geometry.values, DISPLAY_TOLERANCE_DEG), 1e-5)
    name_col = "name_zh" if lang == "zh" else "name_pinyin"
    props = pd.DataFrame({
        "name": districts[name_col].astype(str),
        "adcode": districts["adcode"].astype(str),
        "region_group": [t(g, lang) for g in districts["region_group"]],
        "pop_2020": [_fmt_int(v) or t("no_data", lang) for v in districts["pop_2020"].astype("float64")],
        "density_per_km2": [_fmt_int(v) or t("no_data", lang)
                            for v in districts["density_per_km2"].astype("float64")],
        "area_km2": [_fmt_int(v) for v in districts["area_km2"]],
        "fill": colours,
    })
    data = gpd.GeoDataFrame(props, geometry=geoms, crs=4326)
    fields = ["name", "adcode", "region_group", "pop_2020", "density_per_km2", "area_km2"]
    aliases = [t(k, lang) for k in ("name", "adcode", "region_group", "pop_2020",
                                    "density_per_km2", "area_km2")]
    folium.GeoJson(
        data.__geo_interface__,
        name=f"{t('districts', lang)} · {t(variable, lang)}",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555",
                                  "weight": 1, "fillOpacity": 0.6},
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(m)
    Legend(t(variable, lang), legend_rows).add_to(m)
    labels = folium.FeatureGroup(name=f"{t('districts', lang)} · {t('name', lang)}", show=True)
    anchors = shapely.point_on_surface(districts.geometry.values)
    # the most populous first where names would overlap (ties: the larger district)
    weight = districts["pop_2020"].astype("float64").fillna(0).to_numpy()
    rank = np.empty(len(districts), int)
    rank[np.lexsort((-districts["area_km2"].to_numpy(float), -weight))] = np.arange(len(districts))
    for name, pt, r in zip(districts[name_col], anchors, rank):
        folium.Marker(
            [pt.y, pt.x],
            icon=folium.DivIcon(html=f'<div class="cq-label" data-rank="{int(r)}" '
                                     f'style="display:inline-block;font:11px sans-serif;'
                                     f'color:#222;white-space:nowrap;transform:translate(-50%,-50%);'
                                     f'text-shadow:0 0 3px #fff,0 0 3px #fff">{html.escape(str(name))}</div>',
                                icon_size=(0, 0)),
            interactive=False,  # hovering a name shows the district's tooltip underneath
        ).add_to(labels)
    labels.add_to(m)
    LabelDeclutter().add_to(m)


def _points_layer(m: folium.Map, key: str, gdf: gpd.GeoDataFrame, lang: str) -> None:
    placed = located(gdf)
    missing = len(gdf) - len(placed)
    title = f"{t(key, lang)} ({len(placed)})"
    if missing:
        title += f" · {missing} {t('not_located', lang)}"
    name_col = "name_zh" if lang == "zh" else "name_en"
    props = pd.DataFrame({
        "name": placed[name_col].astype(str),
        "category": [category_label(c, lang) for c in placed["category"]],
        "district": placed["district_zh"].fillna("").astype(str),
        "confidence": [t(c, lang) for c in placed["coord_confidence"]],
        "uncertainty_m": [_fmt_int(v) for v in placed["uncertainty_m"].astype("float64")],
        "sector_9611": placed["sector_9611"].fillna("").astype(str),
        "gold_card": placed["gold_card"].fillna("").astype(str),
    })
    data = gpd.GeoDataFrame(props, geometry=placed.geometry.values, crs=4326)
    colour = LAYER_COLOURS.get(key, "#333")
    fields = list(props.columns)
    group = folium.FeatureGroup(name=title, show=True)
    folium.GeoJson(
        data.__geo_interface__,
        marker=folium.CircleMarker(radius=7, fill=True, fill_color=colour, fill_opacity=0.9,
                                   color="#fff", weight=1.5),
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[t(f, lang) for f in fields]),
    ).add_to(group)
    group.add_to(m)


def _uncertainty_layer(m: folium.Map, places: dict[str, gpd.GeoDataFrame], lang: str) -> None:
    group = folium.FeatureGroup(name=t("uncertainty_m", lang), show=False)
    for key, gdf in places.items():
        ok = gdf[gdf.geometry.notna() & gdf["uncertainty_m"].notna()]
        for pt, r in zip(ok.geometry, ok["uncertainty_m"].astype(float)):
            folium.Circle([pt.y, pt.x], radius=r, color=LAYER_COLOURS.get(key, "#333"),
                          weight=1, dash_array="4", fill=False).add_to(group)
    group.add_to(m)


def overview_map(districts: gpd.GeoDataFrame, places: dict[str, gpd.GeoDataFrame], *,
                 choropleth: str = "pop_2020", lang: str = "zh", tiles: str = "blank",
                 height: str = "100%") -> folium.Map:
    """Overview map: district choropleth, point layers, layer control and scale bar.

    ``places`` maps a layer key ({"business_circles", "logistics_bases", "clusters"})
    to its GeoDataFrame; only the layers given are drawn. ``choropleth`` is one of
    {"pop_2020", "density_per_km2", "region_group"}; ``tiles`` is {"blank", "osm"}.
    Leaflet is still linked from CDNs here: export with
    :func:`geo_app.maps.offline.save_offline_html` or localise the links for Streamlit.
    """
    m = new_map(tiles, lang, height)
    _districts_layer(m, districts, choropleth, lang)
    for key, gdf in places.items():
        _points_layer(m, key, gdf, lang)
    if places:
        _uncertainty_layer(m, places, lang)
        Legend(t("point_layers", lang), [(LAYER_COLOURS.get(k, "#333"), t(k, lang))
                                         for k in places], position="bottomleft").add_to(m)
    finish_map(m, districts.total_bounds)
    return m


class LabelDeclutter(MacroElement):
    """Names that would overlap at the current zoom are hidden, the lower ``data-rank`` kept
    (so the main city's crowded districts show one by one as the map zooms in)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            function declutter() {
                var els = [].slice.call(map.getContainer().querySelectorAll(".cq-label"));
                els.sort(function (a, b) { return a.dataset.rank - b.dataset.rank; });
                var kept = [];
                els.forEach(function (el) {
                    el.style.visibility = "visible";
                    var r = el.getBoundingClientRect();
                    var hit = kept.some(function (k) {
                        return r.left < k.right + 2 && k.left < r.right + 2 &&
                               r.top < k.bottom + 1 && k.top < r.bottom + 1;
                    });
                    if (hit) { el.style.visibility = "hidden"; } else { kept.push(r); }
                });
            }
            map.on("zoomend moveend overlayadd", declutter);
            map.whenReady(function () { setTimeout(declutter, 0); });
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's shows feet and miles too)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


def new_map(tiles: str, lang: str, height: str, **options) -> folium.Map:
    """An empty map with a scale bar, Leaflet's own files only, and the base layers.

    ``options`` are further Leaflet map options (``prefer_canvas``, ``zoom_snap``…).
    """
    m = folium.Map(location=CHONGQING_CENTRE, zoom_start=7, tiles=None, control_scale=False,
                   height=height, **options)
    MetricScale().add_to(m)
    # Only Leaflet itself: no icon fonts or Bootstrap are used, so the page stays small.
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    _base_layers(m, tiles, lang)
    return m


def finish_map(m: folium.Map, bounds: np.ndarray, collapsed: bool = True) -> None:
    """Add the layer control and fit the view to (west, south, east, north) degrees."""
    folium.LayerControl(collapsed=collapsed).add_to(m)
    west, south, east, north = bounds
    m.fit_bounds([[south, west], [north, east]])


# ---------------------------------------------------------------- coverage map


AGGREGATE_ABOVE = DEFAULT.map_aggregate_above  # more demand points are summed into grid cells
GRID_CELL_M = DEFAULT.map_cell_m  # side of a grid cell (metres)
CANVAS_ABOVE = 3_000  # features drawn on a canvas instead of as SVG elements
MAX_ISOCHRONE_TOOLTIPS = 40  # more isochrones than this are drawn dissolved into one
_MINUTE_STEPS = (5.0, 10.0, 15.0)
_COVERED = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b")  # nearest first
_NOT_COVERED = "#d73027"
_OFF_NETWORK = "#969696"
_RED_TO_GREEN = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")  # none → all
_GAP, _ISOCHRONE, _LIFE_CIRCLE = "#a50026", "#2b8cbe", "#6a51a3"
CATEGORY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                    "#e377c2", "#bcbd22", "#17becf", "#393b79", "#f0c419", "#111111")



def _features(props: pd.DataFrame, geoms, digits: int = 6) -> dict:
    """GeoJSON with coordinates rounded to ``digits`` decimals (6 ≈ 0.1 m), no ids or bboxes."""
    geoms = shapely.transform(np.asarray(geoms, dtype=object), lambda c: np.round(c, digits))
    return gpd.GeoDataFrame(props.reset_index(drop=True), geometry=geoms,
                            crs=4326).to_geo_dict(drop_id=True, show_bbox=False)


def _escaped(values: pd.Series) -> list[str]:
    """User text (names from OSM or files) made safe for tooltips, which Leaflet shows as HTML."""
    return [html.escape(str(v)) for v in values.fillna("")]


def _tooltip(data: dict, fields: list[str], lang: str) -> folium.GeoJsonTooltip | None:
    if not data["features"]:  # an empty layer still shows in the layer control
        return None
    return folium.GeoJsonTooltip(fields=fields, aliases=[t(f, lang) for f in fields], sticky=True)


def _class_layer(data: dict, styles: list[dict], name: str, fields: list[str], lang: str,
                 *, marker: folium.CircleMarker | folium.Marker | None = None,
                 show: bool = True) -> folium.GeoJson:
    """One GeoJSON layer styled in the browser by each feature's class ``k``.

    ``styles`` are path styles, or ``L.divIcon`` options for a ``folium.Marker`` marker.
    They travel once, not once per feature, so that tens of thousands of points stay a
    small page.
    """
    style = JsCode("function(feature, layer) { var s = " + json.dumps(styles, ensure_ascii=False)
                   + "[feature.properties.k]; if (layer.setIcon) layer.setIcon(L.divIcon(s)); "
                   "else if (layer.setStyle) layer.setStyle(s); }")
    # Leaflet's layer control shows names as HTML: user text in them (categories) is escaped
    return folium.GeoJson(data, name=html.escape(name), marker=marker, on_each_feature=style,
                          show=show, tooltip=_tooltip(data, fields, lang))


def _plain_layer(data: dict, style: dict, name: str, fields: list[str], lang: str,
                 show: bool = True) -> folium.GeoJson:
    return folium.GeoJson(data, name=html.escape(name), show=show,
                          style_function=lambda f: style, tooltip=_tooltip(data, fields, lang))



def _facility_icon(colour: str, size: int) -> dict:
    """``L.divIcon`` options of a facility: a square, so it never reads as a resident."""
    return {"className": "cq-facility", "iconSize": [size, size],
            "html": f'<div style="width:{size}px;height:{size}px;box-sizing:border-box;'
                    f'background:{colour};border:1.5px solid #222;border-radius:2px"></div>'}


