"""Maps of who gains and who loses reach: a network edit's effect (residents by category and
the edit lines by kind), and one walker against an adult (the 适老化 view)."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from geo_app.io.display import fmt_persons
from geo_app.labels import facility_label, t
from geo_app.maps.base import (
    CANVAS_ABOVE,
    Legend,
    _class_layer,
    _features,
    finish_map,
    new_map,
)

GAINED, LOST, SAME_REACH = "#1a9850", "#d73027", "#bdbdbd"
KIND_COLOURS = {"stairs": "#8c510a", "elevator": "#2166ac", "escalator": "#5aae61",
                "footbridge": "#7b3294", "passage": "#e08214", "closed": "#000000"}


def edit_effect_map(status: pd.DataFrame, demand, edits, *, category: str = "basket",
                    lang: str = "zh", tiles: str = "blank", height: str = "100%") -> folium.Map:
    """Residents (``demand``: points with ``population``) by ``status[category]`` (1 gains
    reach, -1 loses it, 0 as before: drawn faint) and the ``edits`` lines (EPSG:4326,
    ``kind``, ``closed``) coloured by kind, closed ones dashed."""
    m = new_map(tiles, lang, height, prefer_canvas=len(demand) > CANVAS_ABOVE)
    label = facility_label(category, lang)
    _status_points(m, status[category].to_numpy(), demand, label, lang,
                   {1: "ec_gained", -1: "ec_lost", 0: "ec_same"})
    lines = edits.lines if hasattr(edits, "lines") else edits
    group = folium.FeatureGroup(name=f"{t('ec_edits', lang)} ({len(lines)})")
    for kind, closed, geom in zip(lines["kind"], lines["closed"], lines.geometry):
        coords = [(y, x) for x, y in np.asarray(geom.coords)[:, :2]]
        folium.PolyLine(coords, color=KIND_COLOURS.get(kind, "#333333"), weight=5,
                        opacity=0.9, dash_array="6 6" if closed else None,
                        tooltip=t(f"ec_kind_{kind}", lang)).add_to(group)
    group.add_to(m)
    rows = [(GAINED, t("ec_gained", lang)), (LOST, t("ec_lost", lang)),
            (SAME_REACH, t("ec_same", lang))]
    rows += [(KIND_COLOURS[k], t(f"ec_kind_{k}", lang))
             for k in dict.fromkeys(lines["kind"]) if k in KIND_COLOURS]
    Legend(f"{label} · {t('ec_effect', lang)}", rows).add_to(m)
    finish_map(m, _effect_bounds(status[category].to_numpy(), demand, lines))
    return m


def _effect_bounds(s: np.ndarray, demand, lines, pad: float = 0.25) -> list[float]:
    """(west, south, east, north) of the edits and the residents whose reach changed,
    widened by ``pad`` of their size on each side and by at least about 200 m (all residents
    when nobody changed), so that a local edit's effect is not a few dots on the whole study
    area."""
    changed = demand.geometry.values[s != 0]
    parts = [lines.total_bounds]
    parts.append(np.r_[changed.total_bounds] if len(changed) else demand.total_bounds)
    b = np.asarray(parts, float).reshape(-1, 4)
    b = b[np.isfinite(b).all(axis=1)]
    west, south = b[:, 0].min(), b[:, 1].min()
    east, north = b[:, 2].max(), b[:, 3].max()
    dx, dy = max((east - west) * pad, 0.004), max((north - south) * pad, 0.002)
    return [west - dx, south - dy, east + dx, north + dy]


def _status_points(m, s: np.ndarray, demand, label: str, lang: str, names: dict) -> None:
    """Residents by ``s`` (1, -1, 0; the changes drawn on top, the rest faint), each value a
    layer named by the label key ``names[value]``."""
    colours = {1: GAINED, -1: LOST, 0: SAME_REACH}
    pop = demand["population"].to_numpy(float)
    for value in (0, -1, 1):
        rows = np.flatnonzero(s == value)
        props = pd.DataFrame({"k": np.zeros(len(rows), int),
                              "ec_effect": t(names[value], lang),
                              "population": [fmt_persons(v) for v in pop[rows]]})
        style = {"fillColor": colours[value], "color": "#444444",
                 "weight": 0.5 if value else 0.3, "fillOpacity": 0.95 if value else 0.6}
        _class_layer(_features(props, demand.geometry.values[rows], 5), [style],
                     f"{t(names[value], lang)} · {label} ({fmt_persons(pop[rows].sum())} "
                     f"{t('persons_unit', lang)})", ["ec_effect", "population"], lang,
                     marker=folium.CircleMarker(radius=4 if value else 3, fill=True),
                     show=value != 0 or len(rows) <= CANVAS_ABOVE).add_to(m)


def reach_difference_map(status: np.ndarray, demand, *, category: str, walker: str,
                         lang: str = "zh", tiles: str = "blank",
                         height: str = "100%") -> folium.Map:
    """Residents an adult reaches and ``walker`` does not (-1 in ``status``), the other way
    round (1), and alike (0, faint), for ``category``."""
    m = new_map(tiles, lang, height, prefer_canvas=len(demand) > CANVAS_ABOVE)
    label = f"{facility_label(category, lang)} · {t(f'profile_{walker}', lang)}"
    _status_points(m, np.asarray(status), demand, label, lang,
                   {1: "wk_only_slower", -1: "wk_only_base", 0: "wk_both"})
    Legend(label, [(LOST, t("wk_only_base", lang)), (GAINED, t("wk_only_slower", lang)),
                   (SAME_REACH, t("wk_both", lang))]).add_to(m)
    finish_map(m, demand.total_bounds)
    return m
