"""The figures a planner reports upward: the indicators of ``indicators.csv`` (城市体检,
GB 50180-2018, TD/T 1062-2021, city targets) on a coverage result, one row per indicator, zone
and population group, with numerator, denominator, the rule used and the reference target.

Denominators: ``population`` (persons of the demand units; also per group, 60+ and 0–6, where
the demand carries them), ``buildings`` (demand units) and ``residential_land_area`` (m² of
the residential land polygons; the numerator is the area inside the walking service area or
the service radius, measured as area).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.compliance import nearest_distance_m, within_time
from analysis.indicators import (
    buffer_cover,
    class_of_area,
    combine,
    covered_area,
    near_features,
    nearest_labels,
    ratios,
    zone_codes,
)
from geo_app.errors import CoverageWarning, GeoAppWarning, warn
from geo_app.labels import facility_label, t
from geo_app.workflows.compliance import Compliance, run_compliance
from geo_app.workflows.coverage_data import (  # noqa: F401  (load_inputs: entry point)
    CoverageData,
    Inputs,
    group_weights,
    load_inputs,
    zone_labels,
)
from layers.standards import for_year, load_indicators, target_for

UNIT_DENOMINATORS = ("population", "buildings")
TABLE_COLUMNS = ["indicator", "name_zh", "name_en", "dimension", "zone_type", "zone", "group",
                 "value_pct", "numerator", "denominator", "denominator_kind", "unit", "rule",
                 "target_pct", "target_year", "meets_target", "year", "source", "target_source",
                 "status", "note"]


class Skip(Exception):
    """An indicator that cannot be computed on these inputs: ``key`` and ``values`` for
    the label catalogue, and the English text."""

    def __init__(self, key: str, text: str, **values):
        super().__init__(text)
        self.key, self.values = key, values


@dataclass
class IndicatorResult:
    """``table``: one row per indicator, zone and group (:data:`TABLE_COLUMNS`); ``units``:
    demand units with ``ok_<indicator>`` flags and the compliance columns; ``land``:
    residential land with ``covered_m2_<indicator>`` (None without land); ``compliance``:
    the zone compliance table; ``coverage_groups``: coverage per category and group."""

    table: pd.DataFrame
    units: gpd.GeoDataFrame
    land: gpd.GeoDataFrame | None
    compliance: pd.DataFrame
    coverage_groups: pd.DataFrame
    definitions: pd.DataFrame
    run_info: pd.DataFrame
    lang: str = "zh"
    warnings: list[GeoAppWarning] = field(default_factory=list)
    standards: pd.DataFrame | None = None  # the facility types compliance was measured on
    parks: gpd.GeoDataFrame | None = None  # the land layers measured from, for maps
    greenways: gpd.GeoDataFrame | None = None

    def layers(self) -> dict:
        """The result's tables and layers by name, as written to files."""
        out = {"indicators": self.table, "units": self.units, "compliance": self.compliance,
               "coverage_groups": self.coverage_groups, "definitions": self.definitions,
               "run_info": self.run_info}
        if self.land is not None:
            out["residential_land"] = self.land
        return out

    def study_area(self) -> pd.DataFrame:
        """The rows of the whole study area, all residents."""
        tb = self.table
        return tb[(tb["zone_type"] == "study_area") & (tb["group"] == "all")]


def _minutes_text(m: float, lang: str) -> str:
    return f"{m:g} {t('minutes_unit', lang)}"


def _limit(d, category: str, levels: dict) -> float:
    return float(levels.get(category, 15.0)) if d.tier_threshold else float(d.threshold_min)


def rule_text(d, lang: str = "zh") -> str:
    """The rule of an indicator definition in words."""
    if d.numerator == "tier_basket":
        return t("rule_tier_basket", lang).format(level=f"{d.threshold_min:g}")
    cats = "、".join(facility_label(c, lang) for c in d.categories) if lang == "zh" else \
        ", ".join(facility_label(c, lang) for c in d.categories)
    if d.numerator.startswith("walk") and d.tier_threshold:
        return t(f"rule_{d.numerator}_tier", lang).format(categories=cats)
    if d.numerator.startswith("walk"):
        return t(f"rule_{d.numerator}", lang).format(minutes=_minutes_text(d.threshold_min, lang),
                                                     categories=cats)
    what = cats if d.layer == "facilities" else t(f"layer_{d.layer}", lang)
    if d.area_classes:
        parts = [t("park_class", lang).format(
            area=(f"≥{lo:,.0f} m²" if math.isinf(hi) else f"{lo:,.0f}–{hi:,.0f} m²"),
            distance=f"{r:,.0f} m") for lo, hi, r in d.area_classes]
        return t("rule_radius_classes", lang).format(classes="; ".join(parts))
    return t("rule_radius", lang).format(what=what, distance=f"{d.threshold_m:,.0f} m")


def _metric(gdf: gpd.GeoDataFrame | None, crs: str) -> np.ndarray | None:
    return None if gdf is None else gdf.geometry.to_crs(crs).to_numpy()


class _Context:
    """The arrays every indicator rule reads, computed once."""

    def __init__(self, inputs: Inputs, compliance: Compliance):
        data = inputs.data
        self.inputs, self.data, self.compliance = inputs, data, compliance
        self.crs = data.metric_crs
        self.dx, self.dy = data.xy(data.demand)
        fx, fy = data.xy(data.facilities) if len(data.facilities) else (np.zeros(0),) * 2
        self.fx, self.fy = fx, fy
        self.fcat = data.facilities["category"].astype(str).to_numpy()
        self.land = _metric(inputs.residential_land, self.crs)
        self.layers = {"parks": _metric(inputs.parks, self.crs),
                       "greenways": _metric(inputs.greenways, self.crs)}

    def _walk_limit(self, d, c: str) -> float:
        limit = _limit(d, c, self.inputs.levels)
        run = self.data.thresholds_min.get(c)
        if run is None:
            raise Skip("why_no_category", f"no '{c}' in the coverage result", category=c)
        if limit > run + 1e-9:
            raise Skip("why_short_run", f"the coverage run stopped at {run:g} min for {c}; "
                       f"this indicator needs {limit:g} min: rerun geo-app coverage with "
                       f"--minutes {limit:g}", category=c, run=f"{run:g}", need=f"{limit:g}")
        return limit

    def _features(self, d) -> list[tuple[np.ndarray, float]]:
        """(metric geometries, radius) pairs a radius rule measures from."""
        if d.layer == "facilities":
            pts = shapely.points(self.fx, self.fy)
            return [(pts[self.fcat == c], float(d.threshold_m)) for c in d.categories]
        geoms = self.layers[d.layer]
        if geoms is None:
            raise Skip("why_needs_input", f"needs --{d.layer}", what=d.layer)
        if not d.area_classes:
            return [(geoms, float(d.threshold_m))]
        polys = shapely.get_type_id(geoms) >= 3  # polygons, multi-polygons
        if not polys.any():
            raise Skip("why_no_polygons", f"the {d.layer} have no polygons to class by area",
                       what=d.layer)
        k = class_of_area(np.where(polys, shapely.area(geoms), -1.0), d.area_classes)
        return [(geoms[k == j], r) for j, (_, _, r) in enumerate(d.area_classes)]

    def unit_mask(self, d) -> np.ndarray:
        """Which demand units meet the rule of ``d``."""
        n = len(self.dx)
        if d.numerator == "tier_basket":
            level = int(d.threshold_min)
            if level not in self.compliance.levels:
                raise Skip("why_no_level", f"no facility type of the {level}-minute level",
                           level=level)
            return self.compliance.levels[level]
        how = d.numerator.split("_")[1]
        if d.numerator.startswith("walk"):
            limits = {c: self._walk_limit(d, c) for c in d.categories}  # Skip if unknown
            masks = [within_time(self.data.demand[f"t_{c}"], 60 * m) for c, m in limits.items()]
            return combine(masks, how, n)
        parts = self._features(d)
        if d.layer == "facilities":
            masks = [nearest_distance_m(self.dx, self.dy, shapely.get_x(g), shapely.get_y(g))
                     <= r for g, r in parts]
            return combine(masks, how, n)
        return combine([near_features(self.dx, self.dy, g, r) for g, r in parts], "any", n)

    def land_cover(self, d) -> shapely.Geometry:
        """The area (metric) whose residential land counts for ``d``."""
        if d.numerator == "tier_basket":
            raise Skip("why_land_tier", "level baskets are not measured on residential land")
        how = d.numerator.split("_")[1]
        if d.numerator.startswith("walk"):
            areas = self.data.service_areas
            covers = []
            for c in d.categories:
                limit = self._walk_limit(d, c)
                row = areas[(areas["category"] == c)] if len(areas) else areas
                if not len(row) or abs(float(row["minutes"].iloc[0]) - limit) > 1e-6:
                    have = f"{float(row['minutes'].iloc[0]):g} min" if len(row) else "none"
                    raise Skip("why_no_service_area", f"needs the walking service area of {c} "
                               f"at {limit:g} min (the run drew {have})", category=c,
                               need=f"{limit:g}", have=have)
                covers.append(row.geometry.to_crs(self.crs).iloc[0])
            op = shapely.union_all if how == "any" else shapely.intersection_all
            return op(np.array(covers, dtype=object))
        covers = [buffer_cover(g, r) for g, r in self._features(d)]
        if d.layer == "facilities" and how == "all":
            return shapely.intersection_all(np.array(covers, dtype=object))
        return shapely.union_all(np.array(covers, dtype=object))


def _rows(d, frame: pd.DataFrame, zone_type: str, group: str, unit: str, rule: str,
          year: int | None) -> pd.DataFrame:
    target = target_for(d.targets, year)
    value = 100 * frame["value"].to_numpy(float)
    meets = (np.where(np.isfinite(value), value >= target[1] - 1e-9, None)
             if target else np.full(len(frame), None))
    return pd.DataFrame({
        "indicator": d.id, "name_zh": d.name_zh, "name_en": d.name_en,
        "dimension": d.dimension or "", "zone_type": zone_type, "zone": frame["zone"],
        "group": group, "value_pct": np.round(value, 3), "numerator": frame["numerator"],
        "denominator": frame["denominator"], "denominator_kind": d.denominator, "unit": unit,
        "rule": rule, "target_pct": target[1] if target else np.nan,
        "target_year": target[0] if target else pd.NA, "meets_target": meets,
        "year": d.year, "source": d.source, "target_source": d.target_source or "",
        "status": d.status, "note": d.notes or ""})


def _reason(s: Skip, lang: str) -> str:
    values = dict(s.values)
    if "what" in values:
        values["what"] = t(f"layer_{values['what']}", lang)
    if "category" in values:
        values["category"] = facility_label(values["category"], lang)
    return t(s.key, lang).format(**values)


def _skipped(d, s: Skip, rule: str, year: int | None, lang: str) -> pd.DataFrame:
    frame = pd.DataFrame({"zone": ["study area"], "numerator": [np.nan],
                          "denominator": [np.nan], "value": [np.nan]})
    out = _rows(d, frame, "study_area", "all", "", rule, year)
    out["note"] = f"{t('ind_skipped', lang)}: {_reason(s, lang)}"
    return out


def _land_zones(ctx: _Context, zones: dict) -> dict[str, np.ndarray]:
    """Each residential land polygon's zone: that of the demand unit nearest its inside."""
    pts = shapely.point_on_surface(ctx.land)
    qx, qy = shapely.get_x(pts), shapely.get_y(pts)
    return {kind: zone_codes(nearest_labels(qx, qy, ctx.dx, ctx.dy, names[codes]))
            for kind, (codes, names) in zones.items()}


def coverage_by_group(data: CoverageData) -> pd.DataFrame:
    """Residents covered per category and for the basket (the run's thresholds), per zone and
    group (all, 60+, 0–6 where present): ``zone_type``, ``zone``, ``category``, ``group``,
    ``persons``, ``covered``, ``share_pct``."""
    d = data.demand
    flags = {c: d[f"cov_{c}"].to_numpy(bool) for c in data.categories if f"cov_{c}" in d}
    if "basket_covered" in d.columns:
        flags["basket"] = d["basket_covered"].to_numpy(bool)
    frames = []
    for kind, labels in zone_labels(data).items():
        labels = zone_codes(labels.astype(str))
        for group, w in group_weights(d).items():
            for cat, f in flags.items():
                r = ratios(f * w, w, labels)
                frames.append(pd.DataFrame({"zone_type": kind, "zone": r["zone"],
                                            "category": cat, "group": group,
                                            "persons": r["denominator"],
                                            "covered": r["numerator"],
                                            "share_pct": np.round(100 * r["value"], 3)}))
    cols = ["zone_type", "zone", "category", "group", "persons", "covered", "share_pct"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def definitions_table(defs: pd.DataFrame) -> pd.DataFrame:
    """The definitions used, as text (as in the CSV)."""
    out = defs.drop(columns=["tier_threshold"]).copy()
    out["categories"] = [";".join(c) for c in defs["categories"]]
    out["threshold_min"] = ["tier" if tt else ("" if pd.isna(m) else f"{m:g}")
                            for tt, m in zip(defs["tier_threshold"], defs["threshold_min"])]
    out["area_classes"] = [";".join(f"{lo:g}+:{r:g}" if math.isinf(hi) else f"{lo:g}-{hi:g}:{r:g}"
                                    for lo, hi, r in ac) for ac in defs["area_classes"]]
    out["targets"] = [";".join(f"{y}:{p:g}" for y, p in tg) for tg in defs["targets"]]
    return out


def run_indicators(inputs: Inputs, *, year: int | None = None,
                   definitions: pd.DataFrame | None = None,
                   standards: pd.DataFrame | None = None, lang: str = "zh") -> IndicatorResult:
    """Every indicator of ``definitions`` (default the bundled table) in force in ``year``
    (None: the latest definitions), for the study area and each zone and group present.

    An indicator that cannot be computed on these inputs (a missing layer, a run that
    stopped short of its threshold) gets one row with an empty value and the reason in
    ``note``, and a :class:`~geo_app.errors.CoverageWarning`. Texts (rule, note) in ``lang``.
    """
    from geo_app.io.export import run_info
    from layers.facilities import load_basket

    defs = for_year(load_indicators() if definitions is None else definitions, year)
    if not inputs.levels:
        inputs.levels = load_basket()["level_min"].astype(float).to_dict()
    data = inputs.data
    comp = run_compliance(data, standards)
    ctx = _Context(inputs, comp)
    zones = {k: zone_codes(v.astype(str)) for k, v in zone_labels(data).items()}
    weights = group_weights(data.demand)
    units = comp.units.copy()
    land, land_zones = None, {}
    if ctx.land is not None:
        land_zones = _land_zones(ctx, zones)
        land = inputs.residential_land[["name"]].copy() if "name" in \
            inputs.residential_land.columns else gpd.GeoDataFrame(index=range(len(ctx.land)))
        land = gpd.GeoDataFrame(land.reset_index(drop=True),
                                geometry=inputs.residential_land.geometry.to_numpy(), crs=4326)
        land["area_m2"] = np.round(shapely.area(ctx.land), 1)
        for kind, labels in land_zones.items():
            if kind != "study_area":
                land[kind] = labels[1][labels[0]]
    rows, warnings = [], []
    for d in defs.itertuples(index=False):
        rule = rule_text(d, lang)
        try:
            if d.denominator in UNIT_DENOMINATORS:
                mask = ctx.unit_mask(d)
                units[f"ok_{d.id}"] = mask
                groups = (weights if d.denominator == "population"
                          else {"all": np.ones(len(mask))})
                unit = t("unit_persons" if d.denominator == "population" else "unit_units", lang)
                for kind, labels in zones.items():
                    for g, w in groups.items():
                        rows.append(_rows(d, ratios(mask * w, w, labels), kind, g, unit, rule,
                                          year))
            else:
                if ctx.land is None:
                    raise Skip("why_needs_input", "needs --residential-land",
                               what="residential_land")
                area, covered = covered_area(ctx.land, ctx.land_cover(d))
                land[f"covered_m2_{d.id}"] = np.round(covered, 1)
                for kind, labels in land_zones.items():
                    rows.append(_rows(d, ratios(covered, area, labels), kind, "all", "m²", rule,
                                      year))
        except Skip as s:
            warn(warnings, f"indicator {d.id} not computed: {s}", CoverageWarning,
                 key="warn_indicator_skipped", stacklevel=2, id=d.id, reason=s.key, **s.values)
            rows.append(_skipped(d, s, rule, year, lang))
    table = pd.concat(rows, ignore_index=True).reindex(columns=TABLE_COLUMNS) if rows else \
        pd.DataFrame(columns=TABLE_COLUMNS)
    info = {"coverage": data.source, "year": year if year is not None else "latest",
            "indicators": len(defs), "not_computed": len(warnings), "lang": lang,
            "metric_crs": data.metric_crs,
            "walking_not_assessed": "; ".join(f"{k}: {v}" for k, v in comp.not_assessed.items())
            or "none",
            "residential_land_polygons": 0 if land is None else len(land)}
    return IndicatorResult(table, units, land, comp.zones, coverage_by_group(data),
                           definitions_table(defs), run_info(info), lang, warnings,
                           comp.types, inputs.parks, inputs.greenways)
