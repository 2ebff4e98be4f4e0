"""The siting map: residents by coverage status, proposed sites, catchments, candidates."""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.labels import facility_label, t
from geo_app.maps.base import (
    _NOT_COVERED,
    _OFF_NETWORK,
    AGGREGATE_ABOVE,
    CANVAS_ABOVE,
    GRID_CELL_M,
    Legend,
    _class_layer,
    _escaped,
    _facility_icon,
    _features,
    _fmt_int,
    _plain_layer,
    _tooltip,
    finish_map,
    new_map,
)

_BEFORE, _NEW = "#4393c3", "#1a9850"  # residents covered by existing facilities / newly
_SITE, _CATCHMENT, _EXISTING, _CANDIDATE = "#54278f", "#807dba", "#252525", "#a6761d"
from geo_app.workflows.siting import STATUS_KEYS as _STATUS_KEYS  # noqa: E402


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


def _status_cells_layer(m: folium.Map, cells: gpd.GeoDataFrame, lang: str) -> None:
    """Residents summed into grid cells, each coloured by the status most of its residents have."""
    before, new = cells["covered_before"].to_numpy(), cells["newly_covered"].to_numpy()
    cls = np.argmax(np.column_stack([before, new, 1 - before - new]), axis=1)
    props = pd.DataFrame({"k": cls, "covered_before": [f"{100 * v:.0f}%" for v in before],
                          "newly_covered": [f"{100 * v:.0f}%" for v in new],
                          "population": cells["population"].round(), "points": cells["points"]})
    styles = [{"fillColor": c, "color": c, "weight": 0.5, "fillOpacity": 0.6}
              for c in (_BEFORE, _NEW, _NOT_COVERED)]
    _class_layer(_features(props, cells.geometry.values, 5), styles,
                 f"{t('site_grid', lang)} ({len(cells):,} × {GRID_CELL_M:g} m)",
                 ["covered_before", "newly_covered", "population", "points"], lang).add_to(m)


def _site_icon(number: int) -> dict:
    """``L.divIcon`` options of a proposed site: a disc with its order number."""
    return {"className": "cq-site", "iconSize": [24, 24],
            "html": f'<div style="width:24px;height:24px;box-sizing:border-box;border-radius:50%;'
                    f'background:{_SITE};border:2px solid #fff;box-shadow:0 0 3px #000;'
                    f'color:#fff;font:bold 12px/20px sans-serif;text-align:center">{number}</div>'}


def _sites_layers(m: folium.Map, view, lang: str) -> None:
    run, table, catchments = view.run, view.evaluation.sites, view.catchments
    sites = [int(s) for s in table["site"]]
    c = run.candidates.iloc[sites]
    names = _escaped(c["name"]) if "name" in c.columns else [str(s) for s in sites]
    minutes = run.threshold_s / 60
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
                          "category": [html.escape(facility_label(str(c), lang))
                                       for c in existing["category"]]})
    _class_layer(_features(props, existing.geometry.values), [_facility_icon(_EXISTING, 12)],
                 f"{t('existing', lang)} ({len(existing)})", ["name", "category"], lang,
                 marker=folium.Marker(icon=folium.DivIcon())).add_to(m)


def siting_map(view, *, lang: str = "zh", tiles: str = "blank",
               existing: gpd.GeoDataFrame | None = None, height: str = "100%",
               compact: bool = False) -> folium.Map:
    """Map of a siting proposal: a :class:`~geo_app.workflows.siting.SitingView`.

    Layers: residents coloured covered before (existing facilities) / newly covered / still
    uncovered / off the network (the view's grid cells, coloured by the majority, when it
    has them); each site's catchment (walking isochrone of the run's threshold);
    the sites as numbered markers with their gains (persons: alone, unique, overlap);
    ``existing`` facilities; the candidates (hidden at first). With legend, layer control,
    scale bar and base layers; the view fits the residents. ``compact`` (a small map):
    no legend, the layer control folded.
    """
    run = view.run
    many = min(len(run.demand), AGGREGATE_ABOVE) + len(run.candidates) > CANVAS_ABOVE
    m = new_map(tiles, lang, height, prefer_canvas=many, zoom_snap=0.25)
    if view.cells is not None:
        _status_cells_layer(m, view.cells, lang)
    else:
        _status_points_layer(m, run, view.status, lang)
    _candidates_layer(m, run, lang)
    if existing is not None and len(existing):
        _existing_layer(m, existing, lang)
    _sites_layers(m, view, lang)
    rows = [(c, t(k, lang)) for c, k in zip((_BEFORE, _NEW, _NOT_COVERED, _OFF_NETWORK),
                                             _STATUS_KEYS)]
    rows += [(_SITE, t("proposed_sites", lang)), (_CATCHMENT, t("catchments", lang)),
             (_CANDIDATE, t("candidates", lang))]
    if existing is not None and len(existing):
        rows.append((_EXISTING, t("existing", lang)))
    if not compact:
        Legend(t("coverage_status", lang), rows).add_to(m)
    finish_map(m, run.demand.total_bounds, collapsed=compact)
    return m
