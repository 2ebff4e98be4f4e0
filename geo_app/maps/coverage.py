"""The coverage map: residents by walking time, gaps, isochrones, facilities, life circles."""

from __future__ import annotations

import html
import math

import folium
import numpy as np
import pandas as pd
import shapely

from geo_app.io.display import fmt_minutes, fmt_persons, fmt_share
from geo_app.labels import facility_label, t
from geo_app.maps.base import (
    _COVERED,
    _GAP,
    _ISOCHRONE,
    _LIFE_CIRCLE,
    _MINUTE_STEPS,
    _NOT_COVERED,
    _OFF_NETWORK,
    _RED_TO_GREEN,
    AGGREGATE_ABOVE,
    CANVAS_ABOVE,
    CATEGORY_COLOURS,
    GRID_CELL_M,
    MAX_ISOCHRONE_TOOLTIPS,
    Legend,
    _class_layer,
    _escaped,
    _facility_icon,
    _features,
    _fmt_int,
    _plain_layer,
    finish_map,
    new_map,
)
from geo_app.workflows.coverage import time_column
from layers.validate import located


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



def _demand_cells_layer(m: folium.Map, result, category: str,
                        lang: str) -> tuple[str, list[tuple[str, str]]]:
    """Residents summed into grid cells: population-weighted share covered (a category) or
    mean categories within reach (the basket). Returns the legend's title and rows."""
    basket = category == "basket"
    cells = result.cells(category)
    value = cells["value"].to_numpy()
    if basket:
        cuts = basket_cuts(len(result.categories))
        cls = np.searchsorted(cuts, value, side="right") - 1
        colours, rows = _spread(_RED_TO_GREEN, len(cuts)), _basket_rows(cuts, lang, True)
        key, shown = "n_covered", [f"{v:.1f}" for v in value]
    else:
        cls = np.minimum((value * 5).astype(int), 4)
        colours, rows = list(_RED_TO_GREEN), [f"{20 * i}–{20 * (i + 1)}%" for i in range(5)]
        key, shown = "share_covered", [fmt_share(v) for v in value]
    props = pd.DataFrame({"k": cls, key: shown,
                          "population": [fmt_persons(v) for v in cells["population"]],
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
        shown = [fmt_minutes(v) if np.isfinite(v) else f"> {threshold:g}" for v in minutes]
        shown = np.where(d["on_network"].to_numpy(bool), shown, t("off_network", lang))
    props = pd.DataFrame({"k": cls, key: shown,
                          "population": [fmt_persons(v) for v in d["population"]]})
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


def _service_area_layer(m: folium.Map, result, category: str, lang: str) -> bool:
    """The category's service area (one polygon), when the run drew it; returns whether."""
    areas = result.service_areas
    if areas is None or not len(areas):
        return False
    row = areas[(areas["category"] == category) & ~areas.geometry.is_empty]
    if not len(row):
        return False
    props = pd.DataFrame({"category": [html.escape(facility_label(category, lang))],
                          "minutes": [f"{row['minutes'].iloc[0]:g}"],
                          "area_km2": [f"{row['area_km2'].iloc[0]:.2f}"]})
    style = {"color": _ISOCHRONE, "weight": 1, "fillColor": _ISOCHRONE, "fillOpacity": 0.12}
    _plain_layer(_features(props, shapely.simplify(row.geometry.values, 2e-5), 5), style,
                 f"{t('cov_service_area', lang)} · {facility_label(category, lang)}",
                 list(props.columns), lang).add_to(m)
    return True


def _isochrones_layer(m: folium.Map, result, category: str, lang: str) -> None:
    iso = result.isochrones[result.isochrones["category"] == category]
    iso = iso[~iso.geometry.is_empty]
    if not len(iso) and _service_area_layer(m, result, category, lang):
        return
    geoms = shapely.simplify(iso.geometry.values, 2e-5)  # ~2 m: display only
    if len(iso) > MAX_ISOCHRONE_TOOLTIPS:  # one dissolved area, one tooltip
        props = pd.DataFrame({"category": [html.escape(facility_label(category, lang))],
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
            "category": [html.escape(facility_label(c, lang)) for c in fcat[mask]],
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
    """Map of a :class:`~geo_app.workflows.coverage.CoverageResult` for one category or the basket.

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
    m = new_map(tiles, lang, height, prefer_canvas=many, zoom_snap=0.25)  # fit a small area
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
        own = bool((result.isochrones["category"] == category).any())
        rows.append((_ISOCHRONE, f"{t('cov_isochrones' if own else 'cov_service_area', lang)} "
                                 f"({threshold:g} {t('minutes_unit', lang)})"))
    Legend(title, rows).add_to(m)
    Legend(t("cov_facilities", lang), categories, position="bottomleft").add_to(m)
    finish_map(m, result.demand.total_bounds)
    return m


# ---------------------------------------------------------------- siting map
