"""The siting map: residents by coverage status, proposed sites, catchments, candidates."""

from __future__ import annotations

import html
import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

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
from geo_app.workflows.siting import STATUS_KEYS as _STATUS_KEYS


def _status_points_layer(m, run, status: np.ndarray, lang: str) -> None:
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


def _status_cells_layer(m, cells: gpd.GeoDataFrame, lang: str) -> None:
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


def _names(names: pd.Series, lang: str) -> list[str]:
    """Site names for tooltips: generated ones in words, the user's escaped."""
    from geo_app.workflows.proposals import site_name

    return _escaped(pd.Series([site_name(n, lang) for n in names.fillna("")], dtype=object))


def _whole(v: float) -> str:
    """Persons as a whole number with separators, never "-0"."""
    return f"{round(float(v)):,}" if np.isfinite(v) else ""


def _site_icon(number: int) -> dict:
    """``L.divIcon`` options of a proposed site: a disc with its order number."""
    return {"className": "cq-site", "iconSize": [24, 24],
            "html": f'<div style="width:24px;height:24px;box-sizing:border-box;border-radius:50%;'
                    f'background:{_SITE};border:2px solid #fff;box-shadow:0 0 3px #000;'
                    f'color:#fff;font:bold 12px/20px sans-serif;text-align:center">{number}</div>'}


def _sites_layers(m: folium.Map, view, lang: str) -> None:
    _catchments_layer(m, view, lang)
    run, table = view.run, view.evaluation.sites
    sites = [int(s) for s in table["site"]]
    c = run.candidates.iloc[sites]
    names = _names(c["name"], lang) if "name" in c.columns else [str(s) for s in sites]
    props = pd.DataFrame({"k": np.arange(len(sites)), "order": np.arange(1, len(sites) + 1),
                          "name": names, **{col: [_whole(v) for v in table[col]]
                                            for col in ("gain_alone", "unique_gain", "overlap")}})
    # clicks on a site reach the map (and the app, which removes the site)
    icons = [_site_icon(i + 1) for i in range(len(sites))]
    _class_layer(_features(props, c.geometry.values), icons,
                 f"{t('proposed_sites', lang)} ({len(sites)})",
                 ["order", "name", "gain_alone", "unique_gain", "overlap"], lang,
                 marker=folium.Marker(icon=folium.DivIcon(), bubbling_mouse_events=True)).add_to(m)


def _catchments_layer(m, view, lang: str) -> None:
    run, catchments = view.run, view.catchments
    sites = [int(s) for s in view.evaluation.sites["site"]]
    c = run.candidates.iloc[sites]
    names = _names(c["name"], lang) if "name" in c.columns else [str(s) for s in sites]
    props = pd.DataFrame({"order": np.arange(1, len(sites) + 1), "name": names,
                          "area_km2": [f"{a / 1e6:.2f}" for a in catchments.area]})
    style = {"color": _CATCHMENT, "weight": 1.5, "fillColor": _CATCHMENT, "fillOpacity": 0.1}
    shapes = shapely.simplify(catchments.to_crs(4326).values, 2e-5)  # ~2 m: display only
    _plain_layer(_features(props, shapes, 5), style,
                 f"{t('catchments', lang)} ({run.threshold_s / 60:g} {t('minutes_unit', lang)})",
                 list(props.columns), lang).add_to(m)


def _candidates_layer(m: folium.Map, run, lang: str) -> None:
    c = run.candidates
    props = pd.DataFrame({"name": _names(c["name"], lang) if "name" in c.columns else "",
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
    if not compact:
        _legend(m, existing, lang)
    finish_map(m, run.demand.total_bounds, collapsed=compact)
    return m


# ---------------------------------------------------------------- editing in the app
# The app's editing map is drawn once (the base below) and its changing layers travel as
# feature groups (streamlit-folium's ``feature_group_to_add``), so the frame never reloads.
# A click, a site clicked or a dragged site is sent to the app at once as
# {"kind": "click"|"remove"|"move", "lat", "lng", "site", "id"} (``id`` differs every time).

class _EditEvents(MacroElement):
    """The map's clicks sent to the app (in a page without the app they do nothing)."""

    _template = Template("""{% macro script(this, kwargs) %}
window.cqEdit = function (v) {
    v.id = Date.now() + "-" + Math.random();
    if (window.Streamlit) { window.Streamlit.setComponentValue(v); }
};
{{ this._parent.get_name() }}.on("click", function (e) {
    window.cqEdit({kind: "click", lat: e.latlng.lat, lng: e.latlng.lng});
});
{% endmacro %}""")


class _EditableSites(MacroElement):
    """Proposed sites as numbered markers: a click removes one, dragging moves it."""

    _template = Template("""{% macro script(this, kwargs) %}
(function () {
    var group = {{ this._parent.get_name() }};
    var sites = {{ this.sites }};
    sites.forEach(function (s) {
        var mk = L.marker([s.lat, s.lng], {icon: L.divIcon(s.icon), draggable: true,
                                           bubblingMouseEvents: false});
        mk.bindTooltip(s.tip, {sticky: true});
        mk.on("click", function (e) {
            L.DomEvent.stop(e);
            if (window.cqEdit) window.cqEdit({kind: "remove", site: s.site, lat: s.lat, lng: s.lng});
        });
        mk.on("dragend", function (e) {
            var p = e.target.getLatLng();
            if (window.cqEdit) window.cqEdit({kind: "move", site: s.site, lat: p.lat, lng: p.lng});
        });
        mk.addTo(group);
    });
})();
{% endmacro %}""")

    def __init__(self, sites: list[dict]):
        super().__init__()
        self._name = "EditableSites"
        self.sites = json.dumps(sites, ensure_ascii=False).replace("</", "<\\/")


def _site_tip(row: dict, lang: str) -> str:
    return "<br>".join(f"<b>{html.escape(t(k, lang))}</b>: {row[k]}"
                       for k in ("order", "name", "gain_alone", "unique_gain", "overlap"))


def edit_base_map(run, *, lang: str = "zh", tiles: str = "blank",
                  existing: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The parts of the editing map that stay while a proposal is edited: base layers, the
    run's candidates, ``existing`` facilities, the legend, the view and the click events.
    Pass the run as solved (not one grown by clicks), so that the map stays the same."""
    m = new_map(tiles, lang, "100%", prefer_canvas=len(run.demand) > CANVAS_ABOVE, zoom_snap=0.25)
    _candidates_layer(m, run, lang)
    if existing is not None and len(existing):
        _existing_layer(m, existing, lang)
    _legend(m, existing, lang)
    _EditEvents().add_to(m)
    west, south, east, north = run.demand.total_bounds
    m.fit_bounds([[south, west], [north, east]])
    return m


def edit_layers(view, lang: str = "zh") -> list[folium.FeatureGroup]:
    """The layers of the proposal as it stands, as feature groups: residents by coverage
    status (or grid cells), catchments, and the sites (numbered, draggable)."""
    run = view.run
    residents = folium.FeatureGroup(name=html.escape(
        f"{t('site_grid', lang)} ({len(view.cells):,} × {GRID_CELL_M:g} m)" if view.cells is not None
        else f"{t('site_demand', lang)} ({len(run.demand):,})"))
    if view.cells is not None:
        _status_cells_layer(residents, view.cells, lang)
    else:
        _status_points_layer(residents, run, view.status, lang)
    table = view.evaluation.sites
    sites = [int(s) for s in table["site"]]
    catchments = folium.FeatureGroup(name=html.escape(
        f"{t('catchments', lang)} ({run.threshold_s / 60:g} {t('minutes_unit', lang)})"))
    if sites:
        _catchments_layer(catchments, view, lang)
    c = run.candidates.iloc[sites]
    names = _names(c["name"], lang) if "name" in c.columns else [str(s) for s in sites]
    rows = [{"site": s, "lat": float(p.y), "lng": float(p.x), "icon": _site_icon(i + 1),
             "tip": _site_tip({"order": i + 1, "name": name,
                               **{k: _whole(table[k].iloc[i])
                                  for k in ("gain_alone", "unique_gain", "overlap")}}, lang)}
            for i, (s, p, name) in enumerate(zip(sites, c.geometry.values, names))]
    marks = folium.FeatureGroup(name=html.escape(f"{t('proposed_sites', lang)} ({len(sites)})"))
    _EditableSites(rows).add_to(marks)
    return [residents, catchments, marks]


# ---------------------------------------------------------------- two scenarios compared
_SIDES = (("a", "#d95f02", "cmp_only_a"), ("b", "#1b9e77", "cmp_only_b"),
          ("both", "#7570b3", "cmp_in_both"))


def difference_map(sites: gpd.GeoDataFrame, *, names: tuple[str, str], lang: str = "zh",
                   tiles: str = "blank", height: str = "100%") -> folium.Map:
    """Sites of two scenarios by where they are: only in A, only in B, in both
    (:func:`geo_app.workflows.scenario_compare.sites_difference`); ``names`` of A and B."""
    m = new_map(tiles, lang, height)
    labels = {k: t(key, lang).format(a=names[0], b=names[1]) for k, _, key in _SIDES}
    styles = [_facility_icon(colour, 14) | {"className": f"cq-diff-{k}"} for k, colour, _ in _SIDES]
    for i, (k, _, _) in enumerate(_SIDES):
        part = sites[sites["side"] == k]
        props = pd.DataFrame({"k": np.full(len(part), i), "name": _escaped(part["name"]),
                              "cmp_side": html.escape(labels[k])})
        _class_layer(_features(props, part.geometry.values), styles,
                     f"{labels[k]} ({len(part)})", ["name", "cmp_side"], lang,
                     marker=folium.Marker(icon=folium.DivIcon())).add_to(m)
    Legend(t("cmp_sites", lang), [(c, labels[k]) for k, c, _ in _SIDES]).add_to(m)
    b = sites.total_bounds if len(sites) else np.array([106.4, 29.4, 106.7, 29.7])
    pad = 0.005
    finish_map(m, [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad], collapsed=True)
    return m


def _legend(m, existing, lang: str) -> None:
    """The siting maps' legend: coverage status, sites, catchments, candidates, existing."""
    rows = [(c, t(k, lang)) for c, k in zip((_BEFORE, _NEW, _NOT_COVERED, _OFF_NETWORK),
                                             _STATUS_KEYS)]
    rows += [(_SITE, t("proposed_sites", lang)), (_CATCHMENT, t("catchments", lang)),
             (_CANDIDATE, t("candidates", lang))]
    if existing is not None and len(existing):
        rows.append((_EXISTING, t("existing", lang)))
    Legend(t("coverage_status", lang), rows).add_to(m)
