"""Maps of service clusters, hot spots, kernel density, catchments and logistics service areas."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.labels import t
from geo_app.labels.engine import osm_tag_label
from geo_app.maps.base import (
    CANVAS_ABOVE,
    CATEGORY_COLOURS,
    DISPLAY_TOLERANCE_DEG,
    Legend,
    _class_layer,
    _escaped,
    _features,
    _fmt_int,
    _plain_layer,
    _tooltip,
    finish_map,
    new_map,
)
from layers.validate import located

_NOISE = "#9e9e9e"
# hot 99 %, hot 95 %, not significant, cold 95 %, cold 99 % (ArcGIS's hot spot colours)
_HOT_COLD = ("#d7301f", "#fc8d59", "#eeeeee", "#91bfdb", "#4575b4")
_HOT_COLD_KEYS = ("hot_99", "hot_95", "not_significant", "cold_95", "cold_99")
_HEAT = np.array([[255, 255, 204], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]])
_SERVICE_AREA = ("#08519c", "#3182bd", "#6baed6", "#bdd7e7")  # shortest first


# 20 distinct colours (Kelly's), for more centres than the category palette holds
_DISTINCT = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
             "#bfef45", "#469990", "#9a6324", "#800000", "#808000", "#000075", "#ffe119",
             "#aaffc3", "#dcbeff", "#fabed4", "#a9a9a9", "#fffac8", "#000000")


def _palette(k: int) -> str:
    return CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)]


def _distinct(k: int) -> str:
    return _DISTINCT[k % len(_DISTINCT)]


def districts_outline(m: folium.Map, districts: gpd.GeoDataFrame | None, lang: str) -> None:
    """Chongqing's district boundaries as thin outlines, for orientation (if they overlap the view)."""
    if districts is None or len(districts) == 0:
        return
    geoms = shapely.set_precision(shapely.coverage_simplify(districts.geometry.values,
                                                            DISPLAY_TOLERANCE_DEG), 1e-5)
    name_col = "name_zh" if lang == "zh" else "name_pinyin"
    props = pd.DataFrame({"name": districts[name_col].astype(str)})
    _plain_layer(_features(props, geoms, 5), {"color": "#555", "weight": 1, "fill": False},
                 t("districts", lang), ["name"], lang).add_to(m)


def places_layer(m: folium.Map, places: gpd.GeoDataFrame, key: str, colour: str, lang: str) -> None:
    """Named points (business circles, logistics bases) as small discs with their names."""
    ok = located(places)
    wanted = "name_zh" if lang == "zh" else "name_en"
    name_col = wanted if wanted in ok.columns else "name"
    props = pd.DataFrame({"name": _escaped(ok[name_col])})
    data = _features(props, ok.geometry.values)
    folium.GeoJson(data, name=f"{t(key, lang)} ({len(ok)})",
                   marker=folium.CircleMarker(radius=6, fill=True, fill_color=colour,
                                              fill_opacity=0.95, color="#fff", weight=1.5),
                   tooltip=folium.GeoJsonTooltip(["name"], aliases=[t("name", lang)])).add_to(m)


def named_clusters(clusters: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Clusters whose dominant category and label read as words, not OSM tags
    ("office=company" -> 公司)."""
    top = [osm_tag_label(c, lang) for c in clusters["top_category"].astype(str)]
    label = [f"{p} · {c}" if p else c for p, c in zip(clusters["place"].fillna(""), top)]
    return clusters.assign(top_category=top, label=label)


def clusters_map(result, *, lang: str = "zh", tiles: str = "blank", height: str = "100%",
                 districts: gpd.GeoDataFrame | None = None, legend_rows: int = 10) -> folium.Map:
    """POIs coloured by cluster (noise grey) under each cluster's hull, labelled with its
    dominant category and nearest named place; legend lists the largest clusters."""
    pts, cl = result.points, named_clusters(result.clusters, lang)
    pts = pts.assign(category=[osm_tag_label(c, lang) for c in pts["category"].astype(str)])
    m = new_map(tiles, lang, height, prefer_canvas=len(pts) > CANVAS_ABOVE, zoom_snap=0.25)
    districts_outline(m, districts, lang)
    colour_of = {int(c): _palette(i) for i, c in enumerate(cl["cluster"])}
    props = pd.DataFrame({
        "k": np.arange(len(cl)), "label": _escaped(cl["label"]),
        "n_points": [_fmt_int(v) for v in cl["n_points"]],
        "top_category": _escaped(cl["top_category"]),
        "top_share": [f"{100 * v:.0f} %" for v in cl["top_share"]],
        "top_sector": _escaped(cl["top_sector"]),
        "area_km2": [f"{v:.2f}" for v in cl["area_km2"]]})
    styles = [{"color": colour_of[int(c)], "weight": 2, "fillColor": colour_of[int(c)],
               "fillOpacity": 0.15} for c in cl["cluster"]]
    _class_layer(_features(props, cl.geometry.values, 5), styles,
                 f"{t('cluster_hulls', lang)} ({len(cl)})",
                 ["label", "n_points", "top_category", "top_share", "top_sector", "area_km2"],
                 lang).add_to(m)
    ids = pts["cluster"].to_numpy()
    order = {c: i for i, c in enumerate(cl["cluster"])}
    k = np.array([order.get(int(c), len(cl)) for c in ids])
    pprops = pd.DataFrame({"k": k, "name": _escaped(pts.get("name", pd.Series("", index=pts.index))),
                           "category": _escaped(pts["category"]),
                           "cluster": [str(c) if c >= 0 else t("noise", lang) for c in ids]})
    point_styles = [{"radius": 4, "color": colour_of[int(c)], "fillColor": colour_of[int(c)],
                     "fillOpacity": 0.9, "weight": 1} for c in cl["cluster"]]
    point_styles.append({"radius": 3, "color": _NOISE, "fillColor": _NOISE, "fillOpacity": 0.6,
                         "weight": 1})
    _class_layer(_features(pprops, pts.geometry.values), point_styles,
                 f"{t('pois', lang)} ({len(pts):,})", ["name", "category", "cluster"], lang,
                 marker=folium.CircleMarker(radius=4)).add_to(m)
    rows = [(colour_of[int(c)], f"{lab} ({n})") for c, lab, n in
            zip(cl["cluster"][:legend_rows], cl["label"][:legend_rows], cl["n_points"][:legend_rows])]
    if len(cl) > legend_rows:
        rows.append(("#ffffff", t("more_clusters", lang).format(n=len(cl) - legend_rows)))
    rows.append((_NOISE, f"{t('noise', lang)} ({int((ids < 0).sum())})"))
    Legend(t("clusters_legend", lang), rows).add_to(m)
    finish_map(m, pts.total_bounds)
    return m


def hot_cold_class(z: np.ndarray, p: np.ndarray, significant: np.ndarray) -> np.ndarray:
    """Index into the hot/cold classes: 99 % (p ≤ 0.01) or 95 % hot/cold, else not significant."""
    cls = np.full(len(z), 2)
    sig = np.asarray(significant, bool)
    strong = np.asarray(p) <= 0.01
    cls[sig & (z > 0)] = np.where(strong[sig & (z > 0)], 0, 1)
    cls[sig & (z < 0)] = np.where(strong[sig & (z < 0)], 4, 3)
    return cls


def hotspot_map(cells: gpd.GeoDataFrame, *, lang: str = "zh", tiles: str = "blank",
                height: str = "100%", districts: gpd.GeoDataFrame | None = None,
                density=None) -> folium.Map:
    """Gi* cells coloured hot/cold by confidence after the FDR correction, over an optional
    kernel density heat map (a :class:`geo_app.workflows.hotspots.DensityResult`)."""
    m = new_map(tiles, lang, height, prefer_canvas=len(cells) > CANVAS_ABOVE, zoom_snap=0.25)
    districts_outline(m, districts, lang)
    if density is not None:
        density_layer(m, density, lang)
    cls = hot_cold_class(cells["z"].to_numpy(), cells["p_sim"].to_numpy(),
                         cells["significant"].to_numpy())
    props = pd.DataFrame({"k": cls, "value": [f"{v:,.4g}" for v in cells["value"]],
                          "z": [f"{v:.2f}" for v in cells["z"]],
                          "p_sim": [f"{v:.3f}" for v in cells["p_sim"]],
                          "class": [t(_HOT_COLD_KEYS[c], lang) for c in cls]})
    styles = [{"color": "#666" if c == "#eeeeee" else c, "weight": 0.5, "fillColor": c,
               "fillOpacity": 0.25 if c == "#eeeeee" else 0.75} for c in _HOT_COLD]
    _class_layer(_features(props, cells.geometry.values, 6), styles,
                 f"{t('hotspots', lang)} (Gi*, {len(cells):,})", ["class", "value", "z", "p_sim"],
                 lang).add_to(m)
    counts = np.bincount(cls, minlength=5)
    Legend(t("hotspots_legend", lang), [(c, f"{t(k, lang)} ({n})") for c, k, n in
                                         zip(_HOT_COLD, _HOT_COLD_KEYS, counts)]).add_to(m)
    finish_map(m, cells.total_bounds)
    return m


def density_rgba(values: np.ndarray, *, vmax: float | None = None) -> np.ndarray:
    """RGBA image of a density array: transparent at zero, then yellow → dark red (linear)."""
    v = np.nan_to_num(np.asarray(values, float))
    top = float(vmax if vmax is not None else np.quantile(v[v > 0], 0.99) if (v > 0).any() else 1.0)
    s = np.clip(v / top, 0, 1) * (len(_HEAT) - 1)
    lo = np.floor(s).astype(int).clip(0, len(_HEAT) - 2)
    f = (s - lo)[..., None]
    rgb = _HEAT[lo] * (1 - f) + _HEAT[lo + 1] * f
    alpha = np.where(v > top * 0.02, 190, 0)
    return np.dstack([rgb, alpha]).astype(np.uint8)


def density_layer(m: folium.Map, result, lang: str) -> None:
    """A :class:`geo_app.workflows.hotspots.DensityResult` warped to Web Mercator and drawn as an image
    overlay with a legend."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    density = result.density
    h, w = density.values.shape
    west, south, east, north = density.bounds
    dst_t, dw, dh = calculate_default_transform(result.crs, "EPSG:3857", w, h, west, south, east, north)
    out = np.zeros((dh, dw), np.float32)
    reproject(density.values.astype(np.float32), out, src_transform=density.transform,
              src_crs=result.crs, dst_transform=dst_t, dst_crs="EPSG:3857",
              resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=0)
    lon0, lat0, lon1, lat1 = transform_bounds("EPSG:3857", 4326, dst_t.c, dst_t.f + dh * dst_t.e,
                                              dst_t.c + dw * dst_t.a, dst_t.f)
    positive = out[out > 0]
    top = float(np.quantile(positive, 0.99)) if len(positive) else 1.0
    folium.raster_layers.ImageOverlay(density_rgba(out, vmax=top), bounds=[[lat0, lon0], [lat1, lon1]],
                                      name=f"{t('density', lang)} ({density.bandwidth_m:g} m)",
                                      opacity=0.8, pixelated=False).add_to(m)
    steps = [0.02, 0.25, 0.5, 0.75, 1.0]
    rows = [("#" + "".join(f"{c:02x}" for c in density_rgba(np.array([[s]]), vmax=1.0)[0, 0, :3]),
             f"{'≥ ' if s == 1.0 else ''}{s * top:,.0f}") for s in steps]
    Legend(f"{t('density', lang)} ({t(result.unit, lang)})", rows, position="bottomleft").add_to(m)


def density_map(result, *, points: gpd.GeoDataFrame | None = None, lang: str = "zh",
                tiles: str = "blank", height: str = "100%",
                districts: gpd.GeoDataFrame | None = None) -> folium.Map:
    """A kernel density heat map (:class:`geo_app.workflows.hotspots.DensityResult`), with the points
    (hidden at first) when given."""
    from pyproj import Transformer

    m = new_map(tiles, lang, height, zoom_snap=0.25)
    districts_outline(m, districts, lang)
    density_layer(m, result, lang)
    if points is not None and len(points):
        data = _features(pd.DataFrame({"category": _escaped(points.get(
            "category", pd.Series("", index=points.index)))}), points.geometry.values)
        folium.GeoJson(data, name=f"{t('pois', lang)} ({len(points):,})", show=False,
                       marker=folium.CircleMarker(radius=2, color="#333", weight=1, fill=True,
                                                  fill_opacity=0.7),
                       tooltip=_tooltip(data, ["category"], lang)).add_to(m)
    x0, y0, x1, y1 = result.density.bounds
    lon, lat = Transformer.from_crs(result.crs, 4326, always_xy=True).transform([x0, x1], [y0, y1])
    finish_map(m, np.array([lon[0], lat[0], lon[1], lat[1]]))
    return m


def catchment_map(result, *, circle: int | None = None, lang: str = "zh", tiles: str = "blank",
                  height: str = "100%", districts: gpd.GeoDataFrame | None = None,
                  name: str = "name") -> folium.Map:
    """Huff catchments: cells coloured by their dominant circle (stronger where its probability
    is higher), or, for ``circle``, that circle's probability surface; circles sized by expected
    visitors."""
    cells, circles = result.cells, result.circles
    m = new_map(tiles, lang, height, prefer_canvas=len(cells) > CANVAS_ABOVE, zoom_snap=0.25)
    districts_outline(m, districts, lang)
    names = _escaped(circles[name])  # tooltips: HTML
    raw = circles[name].fillna("").astype(str).tolist()  # legend and layer names escape theirs
    dom = cells["dominant"].to_numpy()
    if circle is None:
        pd_ = cells["p_dominant"].to_numpy()
        band = np.digitize(pd_, [0.4, 0.6, 0.8])  # 4 strengths
        k = np.where(dom >= 0, dom * 4 + band, len(circles) * 4)
        styles = [{"color": _distinct(c), "weight": 0, "fillColor": _distinct(c),
                   "fillOpacity": 0.25 + 0.17 * b} for c in range(len(circles)) for b in range(4)]
        styles.append({"color": "#999", "weight": 0, "fillColor": "#ccc", "fillOpacity": 0.3})
        title = t("dominant_circle", lang)
    else:
        p = cells[f"p_{circle}"].to_numpy()
        cuts = [0.1, 0.25, 0.5, 0.75]
        k = np.digitize(p, cuts)
        seq = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
        styles = [{"color": c, "weight": 0, "fillColor": c, "fillOpacity": 0.7} for c in seq]
        title = f"{t('probability', lang)} · {raw[circle]}"
    props = pd.DataFrame({"k": k, "population": [_fmt_int(v) for v in cells["population"]],
                          "dominant_name": _escaped(cells["dominant_name"]),
                          "p_dominant": [f"{100 * v:.0f} %" for v in cells["p_dominant"]]})
    fields = ["population", "dominant_name", "p_dominant"]
    if circle is not None:
        props["probability"] = [f"{100 * v:.0f} %" for v in cells[f"p_{circle}"]]
        fields.append("probability")
    _class_layer(_features(props, cells.geometry.values, 5), styles, title, fields, lang).add_to(m)
    ok = circles.geometry.to_crs(4326)
    cprops = pd.DataFrame({"name": names, "attractiveness": [f"{v:,.4g}" for v in circles["attractiveness"]],
                           "expected_visitors": [_fmt_int(v) for v in circles["expected_visitors"]],
                           "share": [f"{100 * v:.1f} %" for v in circles["share"]]})
    big = max(float(circles["expected_visitors"].max()), 1.0)
    group = folium.FeatureGroup(name=f"{t('business_circles', lang)} ({len(circles)})")
    for i, (pt, row) in enumerate(zip(ok, cprops.itertuples())):
        r = 4 + 8 * np.sqrt(circles["expected_visitors"].iloc[i] / big)
        tip = "<br>".join(f"<b>{t(f, lang)}</b>: {getattr(row, f)}" for f in cprops.columns)
        folium.CircleMarker([pt.y, pt.x], radius=float(r), color="#000", weight=1.5, fill=True,
                            fill_color=_distinct(i), fill_opacity=0.95, tooltip=tip).add_to(group)
    group.add_to(m)
    if circle is None:
        rows = [(_distinct(i), f"{n} · {_fmt_int(v)}") for i, (n, v) in
                enumerate(zip(raw, circles["expected_visitors"]))][:14]
        Legend(f"{title} · {t('expected_visitors', lang)}", rows).add_to(m)
    else:
        labels = ["< 10 %", "10–25 %", "25–50 %", "50–75 %", "≥ 75 %"]
        Legend(title, list(zip(("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"), labels))).add_to(m)
    finish_map(m, cells.total_bounds)
    return m


def service_area_map(bases: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, lang: str = "zh",
                     tiles: str = "blank", height: str = "100%",
                     districts: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Drive-time service areas (``areas``: ``base``, ``minutes``, polygons) around bases."""
    m = new_map(tiles, lang, height, zoom_snap=0.25)
    districts_outline(m, districts, lang)
    minutes = sorted(areas["minutes"].unique(), reverse=True)
    for i, mins in enumerate(minutes):
        colour = _SERVICE_AREA[min(len(minutes) - 1 - i, len(_SERVICE_AREA) - 1)]
        sel = areas[areas["minutes"] == mins]
        props = pd.DataFrame({"name": _escaped(sel["name"]), "minutes": [f"{mins:g}"] * len(sel),
                              "area_km2": [f"{v:.1f}" for v in sel["area_km2"]]})
        _plain_layer(_features(props, shapely.simplify(sel.geometry.values, 2e-4), 5),
                     {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.35},
                     f"{t('drive_time', lang)} ≤ {mins:g} {t('minutes_unit', lang)}",
                     ["name", "minutes", "area_km2"], lang).add_to(m)
    places_layer(m, bases, "logistics_bases", "#d62728", lang)
    rows = [(_SERVICE_AREA[min(len(minutes) - 1 - i, 3)], f"≤ {mins:g} {t('minutes_unit', lang)}")
            for i, mins in enumerate(minutes)][::-1]
    Legend(t("drive_time", lang), rows + [("#d62728", t("logistics_bases", lang))]).add_to(m)
    placed = located(bases)
    b = np.r_[areas.total_bounds, placed.total_bounds].reshape(2, 4) if len(areas) else \
        placed.total_bounds[None, :]
    finish_map(m, np.r_[b[:, :2].min(axis=0), b[:, 2:].max(axis=0)])
    return m
