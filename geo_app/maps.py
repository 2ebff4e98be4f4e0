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

from analysis.coverage import covered_column, time_column
from geo_app.labels import category_label, facility_label, t
from layers._validate import located

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
CHOROPLETH_VARIABLES = ("pop_2020", "density_per_km2", "region_group")
TILES = ("blank", "osm")


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
    if tiles not in TILES:
        raise ValueError(f"unknown tiles {tiles!r}: expected one of {', '.join(TILES)}")
    layers = {
        "blank": dict(tiles=_BLANK_TILE, attr="blank", name=t("blank", lang)),
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
    for name, pt in zip(districts[name_col], anchors):
        folium.Marker(
            [pt.y, pt.x],
            icon=folium.DivIcon(html=f'<div class="cq-label" style="display:inline-block;font:11px sans-serif;'
                                     f'color:#222;white-space:nowrap;transform:translate(-50%,-50%);'
                                     f'text-shadow:0 0 3px #fff,0 0 3px #fff">{html.escape(str(name))}</div>',
                                icon_size=(0, 0)),
            interactive=False,  # hovering a name shows the district's tooltip underneath
        ).add_to(labels)
    labels.add_to(m)


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
    :func:`geo_app.offline.save_offline_html` or localise the links for Streamlit.
    """
    m = _new_map(tiles, lang, height)
    _districts_layer(m, districts, choropleth, lang)
    for key, gdf in places.items():
        _points_layer(m, key, gdf, lang)
    if places:
        _uncertainty_layer(m, places, lang)
    _finish(m, districts.total_bounds)
    return m


def _new_map(tiles: str, lang: str, height: str, **options) -> folium.Map:
    """An empty map with a scale bar, Leaflet's own files only, and the base layers.

    ``options`` are further Leaflet map options (``prefer_canvas``, ``zoom_snap``…).
    """
    m = folium.Map(location=CHONGQING_CENTRE, zoom_start=7, tiles=None, control_scale=True,
                   height=height, **options)
    # Only Leaflet itself: no icon fonts or Bootstrap are used, so the page stays small.
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    _base_layers(m, tiles, lang)
    return m


def _finish(m: folium.Map, bounds: np.ndarray, collapsed: bool = False) -> None:
    """Add the layer control and fit the view to (west, south, east, north) degrees."""
    folium.LayerControl(collapsed=collapsed).add_to(m)
    west, south, east, north = bounds
    m.fit_bounds([[south, west], [north, east]])


# ---------------------------------------------------------------- coverage map

AGGREGATE_ABOVE = 20_000  # more demand points than this are summed into grid cells
GRID_CELL_M = 250.0  # side of a grid cell (metres)
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


def minute_classes(threshold_min: float) -> list[float]:
    """Upper bounds (minutes) of the walking-time classes: 5, 10, 15 if below the threshold,
    then the threshold."""
    return [b for b in _MINUTE_STEPS if b < threshold_min] + [float(threshold_min)]


def basket_cuts(n_categories: int) -> list[int]:
    """Lower bounds of the classes of "categories within reach": 0, quarters, all."""
    n = n_categories
    return sorted({0, math.ceil(n / 4), math.ceil(n / 2), math.ceil(3 * n / 4), n})


def _basket_rows(cuts: list[int], lang: str, continuous: bool) -> list[str]:
    unit, n = t("categories_unit", lang), cuts[-1]
    rows = []
    for lo, nxt in zip(cuts, [*cuts[1:], None]):
        hi = n if nxt is None else (nxt if continuous else nxt - 1)
        rows.append(f"{lo}–{hi} {unit}" if hi > lo else f"{lo} {unit}")
    rows[-1] += f" ({t('all', lang)})"
    return rows


def _spread(palette: tuple[str, ...], k: int) -> list[str]:
    return [palette[int(i)] for i in np.round(np.linspace(0, len(palette) - 1, k))]


def demand_classes(demand: pd.DataFrame, category: str, threshold_min: float | None,
                   n_categories: int, lang: str = "zh") -> tuple[np.ndarray, list[str], list[str]]:
    """Class of each demand point, and the colour and legend label of each class.

    A category: walking minutes to its nearest facility (≤5, ≤10, ≤15, ≤threshold), not
    covered, off the network. ``"basket"``: number of categories within reach (``n_covered``).
    """
    on = demand["on_network"].to_numpy(bool)
    unit = t("minutes_unit", lang)
    if category == "basket":
        cuts = basket_cuts(n_categories)
        cls = np.searchsorted(cuts, demand["n_covered"].to_numpy(), side="right") - 1
        colours, labels = _spread(_RED_TO_GREEN, len(cuts)), _basket_rows(cuts, lang, False)
    else:
        bounds = minute_classes(threshold_min)
        minutes = demand[time_column(category)].to_numpy(float) / 60.0
        cls = np.minimum(np.searchsorted(bounds, minutes, side="left"), len(bounds))  # NaN: last
        colours = [*_COVERED[:len(bounds)], _NOT_COVERED]
        labels = [f"≤ {bounds[0]:g} {unit}"]
        labels += [f"{a:g}–{b:g} {unit}" for a, b in zip(bounds, bounds[1:])]
        labels.append(f"{t('not_covered', lang)} (> {threshold_min:g} {unit})")
    cls = np.where(on, cls, len(colours))
    return cls, [*colours, _OFF_NETWORK], [*labels, t("off_network", lang)]


def demand_grid(demand: gpd.GeoDataFrame, values: np.ndarray, crs: str,
                cell_m: float = GRID_CELL_M) -> gpd.GeoDataFrame:
    """Population-weighted mean of ``values`` over square cells of ``cell_m`` metres in ``crs``.

    Columns: ``population`` (persons), ``points``, ``value`` (the unweighted mean where a
    cell has no residents) and the cell square in EPSG:4326. Cells without points are left out.
    """
    pts = demand.geometry.to_crs(crs).values
    pop = demand["population"].to_numpy(float)
    values = np.asarray(values, float)
    sums = pd.DataFrame({
        "ix": np.floor(shapely.get_x(pts) / cell_m).astype(np.int64),
        "iy": np.floor(shapely.get_y(pts) / cell_m).astype(np.int64),
        "population": pop, "weighted": pop * values, "plain": values, "points": 1,
    }).groupby(["ix", "iy"], sort=False).sum()
    has_pop = sums["population"].to_numpy() > 0
    value = np.where(has_pop, sums["weighted"] / np.where(has_pop, sums["population"], 1),
                     sums["plain"] / sums["points"])
    ix = sums.index.get_level_values("ix").to_numpy() * cell_m
    iy = sums.index.get_level_values("iy").to_numpy() * cell_m
    return gpd.GeoDataFrame({"population": sums["population"].to_numpy(),
                             "points": sums["points"].to_numpy(), "value": value},
                            geometry=shapely.box(ix, iy, ix + cell_m, iy + cell_m),
                            crs=crs).to_crs(4326)


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
    return folium.GeoJson(data, name=name, marker=marker, on_each_feature=style, show=show,
                          tooltip=_tooltip(data, fields, lang))


def _plain_layer(data: dict, style: dict, name: str, fields: list[str], lang: str,
                 show: bool = True) -> folium.GeoJson:
    return folium.GeoJson(data, name=name, show=show, style_function=lambda f: style,
                          tooltip=_tooltip(data, fields, lang))


def _metric_crs(result) -> str:
    crs = result.info("metric_crs")
    if crs:
        return crs
    from geo_app.pipeline import utm_crs

    c = result.demand.geometry.union_all().centroid
    return utm_crs(c.x, c.y)


def _demand_cells_layer(m: folium.Map, result, category: str,
                        lang: str) -> tuple[str, list[tuple[str, str]]]:
    """Residents summed into grid cells: population-weighted share covered (a category) or
    mean categories within reach (the basket). Returns the legend's title and rows."""
    d, basket = result.demand, category == "basket"
    values = d["n_covered"] if basket else d[covered_column(category)]
    cells = demand_grid(d, values.to_numpy(float), _metric_crs(result))
    value = cells["value"].to_numpy()
    if basket:
        cuts = basket_cuts(len(result.categories))
        cls = np.searchsorted(cuts, value, side="right") - 1
        colours, rows = _spread(_RED_TO_GREEN, len(cuts)), _basket_rows(cuts, lang, True)
        key, shown = "n_covered", [f"{v:.1f}" for v in value]
    else:
        cls = np.minimum((value * 5).astype(int), 4)
        colours, rows = list(_RED_TO_GREEN), [f"{20 * i}–{20 * (i + 1)}%" for i in range(5)]
        key, shown = "share_covered", [f"{100 * v:.0f}%" for v in value]
    props = pd.DataFrame({"k": cls, key: shown, "population": cells["population"].round(),
                          "points": cells["points"]})
    styles = [{"fillColor": c, "color": c, "weight": 0.5, "fillOpacity": 0.6} for c in colours]
    label = facility_label(category, lang)
    name = (f"{t('cov_grid_basket' if basket else 'cov_grid', lang)} · {label} "
            f"({len(cells):,} × {GRID_CELL_M:g} m)")
    _class_layer(_features(props, cells.geometry.values, 5), styles, name,
                 [key, "population", "points"], lang).add_to(m)
    title = f"{label} · {t(key, lang)} ({GRID_CELL_M:g} m {t('cell', lang)})"
    return title, list(zip(colours, rows))


def _demand_points_layer(m: folium.Map, result, category: str, threshold: float | None,
                         lang: str) -> tuple[str, list[tuple[str, str]]]:
    """Residents' points coloured by walking minutes (a category) or categories within
    reach (the basket). Returns the legend's title and rows."""
    d, n_cat = result.demand, len(result.categories)
    cls, colours, rows = demand_classes(d, category, threshold, n_cat, lang)
    if category == "basket":
        key, layer = "n_covered", "cov_demand_basket"
        shown = [f"{n} / {n_cat}" for n in d["n_covered"]]
    else:
        key, layer = "walk_min", "cov_demand"
        minutes = d[time_column(category)].to_numpy(float) / 60.0
        shown = [f"{v:.1f}" if np.isfinite(v) else f"> {threshold:g}" for v in minutes]
        shown = np.where(d["on_network"].to_numpy(bool), shown, t("off_network", lang))
    props = pd.DataFrame({"k": cls, key: shown, "population": d["population"].round(1)})
    styles = [{"fillColor": c, "color": "#444444", "weight": 0.5, "fillOpacity": 0.95}
              for c in colours]
    label = facility_label(category, lang)
    radius = 4 if len(d) <= CANVAS_ABOVE else 3
    _class_layer(_features(props, d.geometry.values, 5), styles,
                 f"{t(layer, lang)} · {label} ({len(d):,})", [key, "population"], lang,
                 marker=folium.CircleMarker(radius=radius, fill=True)).add_to(m)
    return f"{label} · {t(key, lang)}", list(zip(colours, rows))


def _gaps_layer(m: folium.Map, result, category: str, lang: str) -> None:
    gaps = result.gaps[result.gaps["category"] == category].sort_values("rank")
    props = pd.DataFrame({"rank": gaps["rank"].astype(int),
                          "population": [_fmt_int(v) for v in gaps["population"]],
                          "area_km2": [f"{v:.2f}" for v in gaps["area_km2"]]})
    style = {"color": _GAP, "weight": 1.5, "dashArray": "4 3", "fillColor": _GAP,
             "fillOpacity": 0.08}
    _plain_layer(_features(props, gaps.geometry.values, 5), style,
                 f"{t('cov_gaps', lang)} · {facility_label(category, lang)} ({len(gaps)})",
                 list(props.columns), lang).add_to(m)


def _isochrones_layer(m: folium.Map, result, category: str, lang: str) -> None:
    iso = result.isochrones[result.isochrones["category"] == category]
    iso = iso[~iso.geometry.is_empty]
    geoms = shapely.simplify(iso.geometry.values, 2e-5)  # ~2 m: display only
    if len(iso) > MAX_ISOCHRONE_TOOLTIPS:  # one dissolved area, one tooltip
        props = pd.DataFrame({"category": [facility_label(category, lang)],
                              "minutes": [f"{iso['minutes'].iloc[0]:g}"],
                              "facilities_n": [len(iso)]})
        geoms = [shapely.union_all(geoms)]
    else:
        props = pd.DataFrame({"facility": _escaped(iso["facility"]),
                              "minutes": [f"{v:g}" for v in iso["minutes"]],
                              "area_km2": [f"{v:.2f}" for v in iso["area_km2"]]})
    style = {"color": _ISOCHRONE, "weight": 1, "fillColor": _ISOCHRONE, "fillOpacity": 0.12}
    _plain_layer(_features(props, geoms, 5), style,
                 f"{t('cov_isochrones', lang)} · {facility_label(category, lang)} ({len(iso)})",
                 list(props.columns), lang).add_to(m)


def _facility_icon(colour: str, size: int) -> dict:
    """``L.divIcon`` options of a facility: a square, so it never reads as a resident."""
    return {"className": "cq-facility", "iconSize": [size, size],
            "html": f'<div style="width:{size}px;height:{size}px;box-sizing:border-box;'
                    f'background:{colour};border:1.5px solid #222;border-radius:2px"></div>'}


def _facilities_layer(m: folium.Map, result, category: str, lang: str) -> list[tuple[str, str]]:
    """Facilities as squares coloured by category; returns the legend rows.

    For the basket all facilities are one layer; for one category its facilities are
    one layer (larger squares) and the others a second layer, hidden at first.
    """
    cats = list(dict.fromkeys([*result.categories,
                               *result.facilities["category"].astype(str)]))
    colours = {c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(cats)}
    icons = [_facility_icon(colours[c], 14 if c == category else 10) for c in cats]
    fcat = result.facilities["category"].astype(str).to_numpy()
    if category == "basket":
        parts = [(np.ones(len(fcat), bool), t("cov_facilities", lang), True)]
    else:
        parts = [(fcat != category, t("cov_facilities_other", lang), False),
                 (fcat == category, f"{t('cov_facilities', lang)} · "
                                    f"{facility_label(category, lang)}", True)]
    for mask, name, show in parts:
        part = result.facilities[mask]
        props = pd.DataFrame({
            "k": [cats.index(c) for c in fcat[mask]],
            "name": _escaped(part["name"]) if "name" in part.columns else "",
            "category": [facility_label(c, lang) for c in fcat[mask]],
            "snap_m": [_fmt_int(v) for v in part["snap_m"]]})
        _class_layer(_features(props, part.geometry.values), icons, f"{name} ({len(part)})",
                     ["name", "category", "snap_m"], lang, show=show,
                     marker=folium.Marker(icon=folium.DivIcon())).add_to(m)
    counts = pd.Series(fcat).value_counts()
    return [(colours[c], f"{facility_label(c, lang)} ({int(counts.get(c, 0))})") for c in cats]


def _life_circles_layer(m: folium.Map, result, lang: str) -> None:
    lc = result.life_circles
    lc = located(lc)
    n_cat = len(result.categories)
    props = pd.DataFrame({
        "hub": _escaped(lc["hub"]), "residents": [_fmt_int(v) for v in lc["residents"]],
        "categories_within": [f"{int(v)} / {n_cat}" for v in lc["categories_within"]],
        "meets_standard": [t("yes" if v else "no", lang) for v in lc["meets_standard"]]})
    style = {"color": _LIFE_CIRCLE, "weight": 2, "dashArray": "6 4", "fillColor": _LIFE_CIRCLE,
             "fillOpacity": 0.06}
    _plain_layer(_features(props, lc.geometry.values, 5), style,
                 f"{t('life_circles', lang)} ({len(lc)})", list(props.columns), lang).add_to(m)


def coverage_map(result, *, category: str = "basket", lang: str = "zh", tiles: str = "blank",
                 height: str = "100%") -> folium.Map:
    """Map of a :class:`~geo_app.coverage.CoverageResult` for one category or the basket.

    Layers (each toggleable): residents coloured by walking minutes to the nearest facility
    of ``category`` (for ``"basket"``: by the number of categories within reach) — summed
    into 250 m cells, population-weighted, above 20,000 points; gap areas ranked by
    residents; the category's isochrones (not for the basket); facilities coloured by
    category; life circles. With legends, layer control, scale bar and the overview map's
    base layers; the view fits the residents.
    """
    if category != "basket" and category not in result.categories:
        raise ValueError(f"unknown category {category!r}: expected basket or one of "
                         f"{', '.join(result.categories)}")
    threshold = result.thresholds_min.get(category)
    many = min(len(result.demand), AGGREGATE_ABOVE) + len(result.facilities) > CANVAS_ABOVE
    m = _new_map(tiles, lang, height, prefer_canvas=many, zoom_snap=0.25)  # fit a small area
    if category != "basket":
        _isochrones_layer(m, result, category, lang)
    _life_circles_layer(m, result, lang)
    _gaps_layer(m, result, category, lang)
    if len(result.demand) > AGGREGATE_ABOVE:  # keep the page small: cells, not points
        title, rows = _demand_cells_layer(m, result, category, lang)
    else:
        title, rows = _demand_points_layer(m, result, category, threshold, lang)
    categories = _facilities_layer(m, result, category, lang)
    rows += [(_GAP, t("cov_gaps", lang)), (_LIFE_CIRCLE, t("life_circles", lang))]
    if category != "basket":
        rows.append((_ISOCHRONE, f"{t('cov_isochrones', lang)} ({threshold:g} "
                                 f"{t('minutes_unit', lang)})"))
    Legend(title, rows).add_to(m)
    Legend(t("cov_facilities", lang), categories, position="bottomleft").add_to(m)
    _finish(m, result.demand.total_bounds)
    return m


# ---------------------------------------------------------------- siting map

_BEFORE, _NEW = "#4393c3", "#1a9850"  # residents covered by existing facilities / newly
_SITE, _CATCHMENT, _EXISTING, _CANDIDATE = "#54278f", "#807dba", "#252525", "#a6761d"
_STATUS_KEYS = ("covered_before", "newly_covered", "still_uncovered", "off_network")


def demand_status(run, evaluation) -> np.ndarray:
    """Per demand point: 0 covered before (existing facilities), 1 newly covered by the
    proposal, 2 still uncovered, 3 off the network."""
    status = np.where(run.covered, 0, np.where(evaluation.uncovered, 2, 1))
    return np.where(run.demand_snap.on_network, status, 3)


def _status_points_layer(m: folium.Map, run, status: np.ndarray, lang: str) -> None:
    d = run.demand
    props = pd.DataFrame({"k": status,
                          "coverage_status": [t(_STATUS_KEYS[k], lang) for k in status],
                          "population": d["population"].round(1)})
    styles = [{"fillColor": c, "color": "#444444", "weight": 0.5, "fillOpacity": 0.95}
              for c in (_BEFORE, _NEW, _NOT_COVERED, _OFF_NETWORK)]
    _class_layer(_features(props, d.geometry.values, 5), styles,
                 f"{t('site_demand', lang)} ({len(d):,})", ["coverage_status", "population"],
                 lang, marker=folium.CircleMarker(radius=4 if len(d) <= CANVAS_ABOVE else 3,
                                                  fill=True)).add_to(m)


def _status_cells_layer(m: folium.Map, run, status: np.ndarray, lang: str) -> None:
    """Residents summed into grid cells, each coloured by the status most of its residents have."""
    crs = run.graph.crs
    shares = [demand_grid(run.demand, status == k, crs) for k in (0, 1)]
    before, new = shares[0]["value"].to_numpy(), shares[1]["value"].to_numpy()
    cls = np.argmax(np.column_stack([before, new, 1 - before - new]), axis=1)
    cells = shares[0]
    props = pd.DataFrame({"k": cls, "covered_before": [f"{100 * v:.0f}%" for v in before],
                          "newly_covered": [f"{100 * v:.0f}%" for v in new],
                          "population": cells["population"].round(), "points": cells["points"]})
    styles = [{"fillColor": c, "color": c, "weight": 0.5, "fillOpacity": 0.6}
              for c in (_BEFORE, _NEW, _NOT_COVERED)]
    _class_layer(_features(props, cells.geometry.values, 5), styles,
                 f"{t('site_grid', lang)} ({len(cells):,} × {GRID_CELL_M:g} m)",
                 ["covered_before", "newly_covered", "population", "points"], lang).add_to(m)


def site_catchments(run, sites: list[int]) -> gpd.GeoSeries:
    """Area from which each site is reached within the run's threshold (the graph's metric CRS)."""
    from analysis.areas import facility_isochrones

    snap = run.cand_snap
    polys = facility_isochrones(run.graph, snap.node[sites], snap.access_s[sites], run.threshold_s)
    return gpd.GeoSeries(polys, crs=run.graph.crs)


def _site_icon(number: int) -> dict:
    """``L.divIcon`` options of a proposed site: a disc with its order number."""
    return {"className": "cq-site", "iconSize": [24, 24],
            "html": f'<div style="width:24px;height:24px;box-sizing:border-box;border-radius:50%;'
                    f'background:{_SITE};border:2px solid #fff;box-shadow:0 0 3px #000;'
                    f'color:#fff;font:bold 12px/20px sans-serif;text-align:center">{number}</div>'}


def _sites_layers(m: folium.Map, run, evaluation, lang: str) -> None:
    table = evaluation.sites
    sites = [int(s) for s in table["site"]]
    c = run.candidates.iloc[sites]
    names = _escaped(c["name"]) if "name" in c.columns else [str(s) for s in sites]
    minutes = run.threshold_s / 60
    catchments = site_catchments(run, sites)
    props = pd.DataFrame({"order": np.arange(1, len(sites) + 1), "name": names,
                          "area_km2": [f"{a / 1e6:.2f}" for a in catchments.area]})
    style = {"color": _CATCHMENT, "weight": 1.5, "fillColor": _CATCHMENT, "fillOpacity": 0.1}
    shapes = shapely.simplify(catchments.to_crs(4326).values, 2e-5)  # ~2 m: display only
    _plain_layer(_features(props, shapes, 5), style,
                 f"{t('catchments', lang)} ({minutes:g} {t('minutes_unit', lang)})",
                 list(props.columns), lang).add_to(m)
    props = pd.DataFrame({"k": np.arange(len(sites)), "order": np.arange(1, len(sites) + 1),
                          "name": names, **{col: [_fmt_int(v) for v in table[col]]
                                            for col in ("gain_alone", "unique_gain", "overlap")}})
    # clicks on a site reach the map (and the app, which removes the site)
    icons = [_site_icon(i + 1) for i in range(len(sites))]
    _class_layer(_features(props, c.geometry.values), icons,
                 f"{t('proposed_sites', lang)} ({len(sites)})",
                 ["order", "name", "gain_alone", "unique_gain", "overlap"], lang,
                 marker=folium.Marker(icon=folium.DivIcon(), bubbling_mouse_events=True)).add_to(m)


def _candidates_layer(m: folium.Map, run, lang: str) -> None:
    c = run.candidates
    props = pd.DataFrame({"name": _escaped(c["name"]) if "name" in c.columns else "",
                          "snap_m": [_fmt_int(v) for v in run.cand_snap.dist_m]})
    data = _features(props, c.geometry.values)
    folium.GeoJson(data, name=f"{t('candidates', lang)} ({len(c):,})", show=False,
                   marker=folium.CircleMarker(radius=3, fill=True, fill_color=_CANDIDATE,
                                              fill_opacity=0.9, color=_CANDIDATE, weight=1),
                   tooltip=_tooltip(data, ["name", "snap_m"], lang)).add_to(m)


def _existing_layer(m: folium.Map, existing: gpd.GeoDataFrame, lang: str) -> None:
    props = pd.DataFrame({"k": np.zeros(len(existing), int),
                          "name": _escaped(existing["name"]) if "name" in existing.columns else "",
                          "category": [facility_label(str(c), lang) for c in existing["category"]]})
    _class_layer(_features(props, existing.geometry.values), [_facility_icon(_EXISTING, 12)],
                 f"{t('existing', lang)} ({len(existing)})", ["name", "category"], lang,
                 marker=folium.Marker(icon=folium.DivIcon())).add_to(m)


def siting_map(run, result_or_sites, *, lang: str = "zh", tiles: str = "blank", evaluation=None,
               existing: gpd.GeoDataFrame | None = None, height: str = "100%",
               compact: bool = False) -> folium.Map:
    """Map of a siting proposal on a :class:`~geo_app.siting.SitingRun`.

    ``result_or_sites`` is a :class:`~analysis.siting.SitingResult` or candidate indices.
    Layers: residents coloured covered before (existing facilities) / newly covered / still
    uncovered / off the network (summed into 250 m cells, coloured by the majority, above
    20,000 points); each site's catchment (walking isochrone of the run's threshold);
    the sites as numbered markers with their gains (persons: alone, unique, overlap);
    ``existing`` facilities; the candidates (hidden at first). With legend, layer control,
    scale bar and base layers; the view fits the residents. ``compact`` (a small map):
    no legend, the layer control folded.
    """
    from geo_app.siting import evaluate

    sites = list(getattr(result_or_sites, "sites", result_or_sites))
    evaluation = evaluate(run, sites) if evaluation is None else evaluation
    if [int(s) for s in evaluation.sites["site"]] != [int(s) for s in sites]:
        raise ValueError("the evaluation is of other sites than the ones to draw")
    status = demand_status(run, evaluation)
    many = min(len(run.demand), AGGREGATE_ABOVE) + len(run.candidates) > CANVAS_ABOVE
    m = _new_map(tiles, lang, height, prefer_canvas=many, zoom_snap=0.25)
    if len(run.demand) > AGGREGATE_ABOVE:
        _status_cells_layer(m, run, status, lang)
    else:
        _status_points_layer(m, run, status, lang)
    _candidates_layer(m, run, lang)
    if existing is not None and len(existing):
        _existing_layer(m, existing, lang)
    _sites_layers(m, run, evaluation, lang)
    rows = [(c, t(k, lang)) for c, k in zip((_BEFORE, _NEW, _NOT_COVERED, _OFF_NETWORK),
                                             _STATUS_KEYS)]
    rows += [(_SITE, t("proposed_sites", lang)), (_CATCHMENT, t("catchments", lang)),
             (_CANDIDATE, t("candidates", lang))]
    if existing is not None and len(existing):
        rows.append((_EXISTING, t("existing", lang)))
    if not compact:
        Legend(t("coverage_status", lang), rows).add_to(m)
    _finish(m, run.demand.total_bounds, collapsed=compact)
    return m
