"""Numbers as a planner writes them: the one formatter for screens, CSV downloads and reports.

Persons are whole numbers with thousands separators, shares are percentages with one
decimal, metres whole, minutes at most one decimal; never "-0", never "None" (an empty
value is "—"). GeoPackage and GeoParquet files keep full precision: only what people read
goes through here.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

EMPTY = "—"

# column name -> kind of number (first match wins)
_KINDS = [
    (re.compile(r"^(lon|lat|x|y)$"), "coord"),
    (re.compile(r"(_m_s|speed)$"), "speed"),
    (re.compile(r"(^|_)(id|adcode|rank|cluster|year|order|n|count)(_|$)"), "count"),
    (re.compile(r"(_pct|_percent|percent|覆盖率|占比|\(%\)|（%）)"), "percent"),
    (re.compile(r"(^|_)(share|rate|coverage)(_|$)|share$"), "share"),
    (re.compile(r"(^|_)(pop|population|residents|persons|covered|uncovered|gain|unique_gain|"
                r"expected_visitors|visitors|demand)(_|$)|人口|居民|人数"), "persons"),
    (re.compile(r"(_m|_metres|_meters|米\)|（米）)$|^(m|metres|distance)$"), "metres"),
    (re.compile(r"(_min|_minutes|minutes|分钟\)|（分钟）)$"), "minutes"),
    (re.compile(r"(_s|_seconds|seconds)$|^t_"), "seconds"),
    (re.compile(r"(km2|km²)"), "km2"),
]
_DIGITS = {"persons": 0, "metres": 0, "minutes": 1, "seconds": 1, "km2": 2, "count": 0,
           "percent": 1, "speed": 2}
_TRIM = ("km2", "seconds", "speed")


def _empty(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:
        return False


def fmt_number(v, digits: int = 0, *, trim: bool = False) -> str:
    """``v`` with thousands separators and ``digits`` decimals ("—" when empty, no "-0");
    ``trim``: drop trailing zeros of the decimals (5.0 -> "5")."""
    if _empty(v):
        return EMPTY
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
        return str(v)
    if not math.isfinite(float(v)):
        return EMPTY  # unreachable, undefined
    x = round(float(v), digits)
    if x == 0:
        x = 0.0  # no "-0"
    text = f"{x:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_persons(v) -> str:
    """Persons: a whole number with separators (18,687)."""
    return fmt_number(v, 0)


def fmt_signed(v) -> str:
    """A change in persons with its sign (+1,234, -56; 0 without one)."""
    text = fmt_number(v, 0)
    return text if text in (EMPTY, "0") or text.startswith("-") else "+" + text


def fmt_share(v) -> str:
    """A share given as a fraction (0.7334) as a percentage with one decimal (73.3%)."""
    return EMPTY if _empty(v) else fmt_number(100.0 * float(v), 1) + "%"


def fmt_percent(v) -> str:
    """A figure already in percent (73.34) with one decimal (73.3%)."""
    return EMPTY if _empty(v) else fmt_number(float(v), 1) + "%"


def fmt_metres(v) -> str:
    """Metres as a whole number (1,234)."""
    return fmt_number(v, 0)


def fmt_minutes(v) -> str:
    """Minutes with at most one decimal (5, 7.5)."""
    return fmt_number(v, 1, trim=True)


def kind_of(column) -> str | None:
    """The kind of number a column holds, from its name (None: leave it as it is)."""
    name = str(column).lower()
    for pattern, kind in _KINDS:
        if pattern.search(name):
            return kind
    return None


def fmt_value(v, kind: str | None) -> str:
    """One value of ``kind`` (see :func:`kind_of`) as text."""
    if _empty(v):
        return EMPTY
    if kind == "share":
        return fmt_share(v)
    if kind == "percent":
        return fmt_percent(v)
    if kind == "minutes":
        return fmt_minutes(v)
    if kind == "coord":
        return fmt_number(v, 6, trim=True)
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return fmt_number(v, 0)
    if isinstance(v, (float, np.floating)):
        if kind in _DIGITS:
            return fmt_number(v, _DIGITS[kind], trim=kind in _TRIM)
        return fmt_number(v, 2, trim=True)
    return str(v)


def shown(frame: pd.DataFrame, kinds: dict | None = None) -> pd.DataFrame:
    """A table for the screen or a report: every number as text by its column's kind
    (``kinds`` overrides the kind read from a column's name); geometry dropped."""
    kinds = kinds or {}
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).copy()
    for c in out.columns:
        col = out[c]
        if not (pd.api.types.is_numeric_dtype(col) or col.dtype == object):
            continue
        kind = kinds.get(c, kind_of(c))
        if col.dtype == object and not col.map(lambda v: isinstance(v, (int, float))
                                             or _empty(v)).all():
            out[c] = col.map(lambda v: EMPTY if _empty(v) or str(v) == "None" else v)
            continue
        if pd.api.types.is_bool_dtype(col):
            continue
        out[c] = [fmt_value(v, kind) for v in col.tolist()]
    return out


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for a CSV people open (Excel): persons and metres whole, minutes to one
    decimal, shares as percentages to one decimal (column renamed ``<name>_pct``),
    coordinates to 7 decimals; no "-0". Numbers stay numbers."""
    out = pd.DataFrame(frame).copy()
    renames = {}
    for c in out.columns:
        col = out[c]
        if c == "geometry" or not pd.api.types.is_float_dtype(col):
            continue
        kind = kind_of(c)
        if kind == "share":
            out[c] = (100.0 * col).round(1) + 0.0
            renames[c] = f"{c}_pct"
        elif kind == "coord":
            out[c] = col.round(7)
        elif kind in ("persons", "metres", "count"):
            out[c] = col.round(0).astype("Int64")
        elif kind in ("minutes", "percent", "seconds"):
            out[c] = col.round(1) + 0.0
        elif kind in ("km2", "speed"):
            out[c] = col.round(3) + 0.0
    return out.rename(columns=renames)


def people_csv(frame: pd.DataFrame, *, lonlat_at: int = 0, lang: str | None = None) -> bytes:
    """A CSV download for people: :func:`tidy` numbers, UTF-8 with a byte-order mark; with
    ``lang`` the engine's own zone words ("study area", "(outside)") in that language."""
    import geopandas as gpd

    from geo_app.io.export import csv_bytes

    if lang is not None and "zone" in frame.columns:
        from geo_app.labels import t

        words = {"study area": t("zone_study_area", lang), "(outside)": t("zone_outside", lang)}
        frame = frame.assign(zone=frame["zone"].map(lambda z: words.get(z, z)))

    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        frame = frame.to_crs(4326) if frame.crs is not None else frame
        if (frame.geom_type == "Point").all():
            geom = frame.geometry.values
            table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            table.insert(lonlat_at, "lat", geom.y)
            table.insert(lonlat_at, "lon", geom.x)
            frame = table
        else:
            frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return csv_bytes(tidy(frame))


def run_info_value(key: str, value, lang: str = "zh") -> str:
    """A run-information value in plain words: no server paths, no internal codes, times in
    the configured zone."""
    from geo_app.labels import facility_label, t
    from geo_app.workflows.inputs import hide_paths

    text = "" if _empty(value) else str(value)
    if key.endswith("run_at") and text:
        from geo_app.config import Settings

        s = Settings.from_env()
        zone = t("tz_beijing", lang) if s.timezone == "Asia/Shanghai" else s.timezone
        try:
            return f"{s.local_time(text).strftime('%Y-%m-%d %H:%M')}({zone})"
        except ValueError:  # already shown in the zone
            return text.replace(f" ({s.timezone})", f"({zone})")
    if key == "thresholds_min":
        pairs = [p.split("=", 1) for p in text.split(";") if "=" in p]
        return ";".join(f"{facility_label(k.strip(), lang)} {fmt_minutes(float(v))}"
                        for k, v in pairs)
    if key in ("category", "categories"):
        return "、".join(facility_label(c.strip(), lang) for c in text.split(",") if c.strip())
    low = text.lower()
    words = {"true": "rv_true", "false": "rv_false", "buildings": "rv_buildings",
             "plain walk graph": "rv_plain_walk", "none (flat)": "rv_flat", "none": "none",
             "street": "rv_street", "node": "rv_node", "category": "rv_category",
             "facility": "rv_facility", "osm": "rv_osm_tags", "dbscan": "rv_dbscan",
             "hdbscan": "rv_hdbscan", "urban": "urban", "rural": "rural"}
    if low in words:
        return t(words[low], lang)
    dem = re.fullmatch(r"DEM (.+?)( \(level where it has no height\))?", text)
    if dem:  # the elevation source of a coverage run
        return t("rv_dem_partial" if dem.group(2) else "rv_dem", lang).format(
            file=run_info_value("file", dem.group(1), lang))
    if low.startswith("data_extent"):
        return t("rv_data_extent", lang)
    if low.startswith("drawn"):
        return t("rv_drawn", lang)
    if low.startswith(("grid:", "grid ")):
        return t("rv_grid", lang).format(n=low.split(":")[-1].split()[-1])
    if low in ("low", "medium", "high"):
        return t(low, lang)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        v = float(text)
        kind = kind_of(key)
        return fmt_value(int(v) if v.is_integer() and kind in (None, "count") else v, kind)
    cut = re.fullmatch(r"(.*) \(cut to (.*?)(?: \(([^()]*)\))? \+ ([\d,.]+) m\)", text)
    if cut:  # a network clipped to the study area with a margin
        file, zh, en, margin = cut.groups()
        area = zh if lang == "zh" or not en else en
        return t("rv_cut_to", lang).format(file=run_info_value("file", file, lang), area=area,
                                          margin=margin)
    shown_text = hide_paths(text)
    if "/" in shown_text or "\\" in shown_text:  # a path hide_paths left: its file name
        shown_text = re.split(r"[\\/]", shown_text)[-1]
    return shown_text


def run_info_table(info: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A run-information table (``key``, ``value``) for people: keys in ``lang``, values in
    plain words (:func:`run_info_value`)."""
    from geo_app.labels import has_label, t

    keys = [str(k) for k in info["key"]]
    names = [t(f"ri_{k}", lang) if has_label(f"ri_{k}") else t(k, lang) if has_label(k) else k
             for k in keys]
    values = [run_info_value(k, v, lang) for k, v in zip(keys, info["value"])]
    return pd.DataFrame({t("key", lang): names, t("value", lang): values})


_SCREEN_FORMATS = {"persons": "%,d", "metres": "%,d", "count": "%,d", "seconds": "%,.1f",
                   "minutes": "localized", "km2": "localized", "speed": "localized",
                   "share": "%.1f%%", "percent": "%.1f%%"}


def on_screen(frame: pd.DataFrame, kinds: dict | None = None, *, hide=(),
              names=None) -> dict:
    """Keyword arguments for ``st.dataframe``: the table with its numbers rounded as a planner
    writes them (shares as percentages), a ``column_config`` that shows them with thousands
    separators, and the columns of ``hide`` kept but not shown. A column with empty values
    becomes text, so that an empty cell reads "—", never "None"."""
    import streamlit as st

    kinds = kinds or {}
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).copy()
    config: dict = {c: None for c in hide}
    for c in out.columns:
        col = out[c]
        if c in hide or pd.api.types.is_bool_dtype(col):
            continue
        kind = kinds.get(c, kind_of(c))
        if col.dtype == object:
            if col.map(_empty).any() or (col.astype(str) == "None").any():
                out[c] = col.map(lambda v: EMPTY if _empty(v) or str(v) == "None" else v)
            continue
        if not pd.api.types.is_numeric_dtype(col):
            continue
        if col.isna().any():
            out[c] = [fmt_value(v, kind) for v in col.tolist()]
            continue
        if kind == "share":
            out[c] = (100.0 * col).round(1) + 0.0
        elif kind in ("persons", "metres", "count"):
            out[c] = col.round(0).astype("int64")
        elif kind in _DIGITS or kind is None and pd.api.types.is_float_dtype(col):
            out[c] = col.round(_DIGITS.get(kind, 2)) + 0.0
        if kind in _SCREEN_FORMATS:
            config[c] = st.column_config.NumberColumn(format=_SCREEN_FORMATS[kind])
        elif pd.api.types.is_float_dtype(out[c]):
            config[c] = st.column_config.NumberColumn(format="localized")
        elif pd.api.types.is_integer_dtype(out[c]):
            config[c] = st.column_config.NumberColumn(format="%,d")
    if names is not None:  # column names for people (a function of the data's names)
        out = out.rename(columns={c: names(c) for c in out.columns})
        config = {names(c): v for c, v in config.items()}
    return {"data": out, "column_config": config, "hide_index": True, "width": "stretch"}
