"""Saving an indicator result (Excel, CSV with BOM, GeoPackage) through the atomic writer, and
its tables laid out for people (labelled columns, percentages) for the app and the report."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.errors import OutputError
from geo_app.io.export import csv_bytes, write_gpkg_layers
from geo_app.io.files import replace_atomically, write_atomic
from geo_app.labels import facility_label, t

OUT_SUFFIXES = (".xlsx", ".csv", ".gpkg")
SHEET_ORDER = ("indicators", "compliance", "coverage_groups", "units", "residential_land",
               "definitions", "run_info")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for a spreadsheet: points as lon/lat, other geometries dropped."""
    if isinstance(frame, gpd.GeoDataFrame):
        geom = frame.to_crs(4326).geometry
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        if len(frame) and (geom.geom_type == "Point").all():
            table.insert(0, "lat", geom.y.to_numpy())
            table.insert(0, "lon", geom.x.to_numpy())
        return table
    return pd.DataFrame(frame)


EXCEL_ROWS = 1_048_575  # rows below the header a worksheet holds


def sheets(result) -> dict[str, pd.DataFrame]:
    """The result's tables in sheet order, as plain frames (no geometry). A table longer
    than a worksheet holds (the units of a very large area) is left out, with a warning:
    the GeoPackage has it."""
    from geo_app.errors import DataWarning, warn

    layers = result.layers()
    out = {}
    for name in SHEET_ORDER:
        if name not in layers:
            continue
        if len(layers[name]) > EXCEL_ROWS:
            warn(None, f"the {name} table has {len(layers[name]):,} rows, more than a worksheet "
                 "holds: left out of the workbook (write .gpkg to keep it)", DataWarning,
                 key="warn_sheet_too_long", table=name, rows=len(layers[name]))
            continue
        out[name] = _plain(layers[name])
    return out


def _fill_workbook(target, frames: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(target, engine="openpyxl") as xw:
        for name, frame in frames.items():
            frame = frame.copy()
            for c in frame.columns:  # Excel takes no Python objects: booleans/None as text
                if frame[c].dtype == object:
                    frame[c] = frame[c].map(lambda v: "" if v is None or v is pd.NA else v)
            frame.to_excel(xw, sheet_name=name[:31], index=False)
            ws = xw.sheets[name[:31]]
            ws.freeze_panes = "A2"
            for k, col in enumerate(frame.columns, start=1):
                width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
                ws.column_dimensions[ws.cell(row=1, column=k).column_letter].width = \
                    min(max(8, width + 2), 60)


def xlsx_bytes(result) -> bytes:
    """The result as an Excel workbook (one sheet per table), as bytes."""
    buf = io.BytesIO()
    _fill_workbook(buf, sheets(result))
    return buf.getvalue()


def write_indicators(result, path: str | Path) -> list[Path]:
    """Write the result where the extension says: ``.xlsx`` (one sheet per table),
    ``.gpkg`` (layers ``indicators``, ``units``, ``compliance``, ``residential_land`` …) or
    ``.csv`` (the indicator table, UTF-8 with BOM, and ``<name>.compliance.csv`` beside it).
    Every file is written atomically. Returns the files written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return [replace_atomically(path, lambda tmp: _fill_workbook(tmp, sheets(result)),
                                   ".xlsx")]
    if suffix == ".gpkg":
        layers = {k: (v if isinstance(v, gpd.GeoDataFrame) else pd.DataFrame(v))
                  for k, v in result.layers().items()}
        return [write_gpkg_layers(layers, path)]
    if suffix == ".csv":
        other = path.with_name(f"{path.stem}.compliance.csv")
        return [write_atomic(path, csv_bytes(result.table)),
                write_atomic(other, csv_bytes(result.compliance))]
    raise OutputError(f"{path}: the extension decides the format; use .xlsx, .csv or .gpkg")


# ---------------------------------------------------------------- tables for people


def _pct(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.1f}"


def zone_text(zone_type: str, zone: str, lang: str) -> str:
    """A zone's name for people (the study area, and zones with no name, in ``lang``)."""
    if zone_type == "study_area":
        return t("zone_study_area", lang)
    return {"(none)": t("zone_none", lang), "(outside)": t("zone_outside", lang)}.get(
        str(zone), str(zone))


def display_table(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The indicator table with labelled columns in ``lang``: name, zone kind, zone, group,
    value (%), numerator, denominator, denominator kind, target (%), target year, meets
    target, status (rules, sources and notes: :func:`definitions_display`)."""
    name = table["name_zh"] if lang == "zh" else table["name_en"]
    meets = [("—" if m is None or pd.isna(m) else t("ind_pass" if m else "ind_fail", lang))
             for m in table["meets_target"]]
    return pd.DataFrame({
        t("ind_name", lang): name.to_numpy(),
        t("ind_zone_type", lang): [t(f"zone_{z}", lang) for z in table["zone_type"]],
        t("ind_zone", lang): [zone_text(a, b, lang) for a, b in
                              zip(table["zone_type"], table["zone"])],
        t("ind_group", lang): [t(f"group_{g}", lang) for g in table["group"]],
        t("ind_value", lang): table["value_pct"].round(1).to_numpy(),
        t("ind_numerator", lang): table["numerator"].round(1).to_numpy(),
        t("ind_denominator", lang): table["denominator"].round(1).to_numpy(),
        t("ind_den_kind", lang): [t(f"den_{k}", lang) for k in table["denominator_kind"]],
        t("ind_target", lang): ["—" if pd.isna(v) else f"{v:g}" for v in table["target_pct"]],
        t("ind_target_year", lang): table["target_year"].astype("string").fillna("—")
        .to_numpy(),
        t("ind_meets", lang): meets,
        t("ind_status", lang): [t(f"status_{s}", lang) for s in table["status"]],
    })


def definitions_display(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """One row per indicator: name, the rule used (in ``lang``), definition year, source,
    target source and the note (as written in the table)."""
    first = table.drop_duplicates("indicator")
    return pd.DataFrame({
        t("ind_name", lang): (first["name_zh"] if lang == "zh" else first["name_en"])
        .to_numpy(),
        t("ind_rule", lang): first["rule"].to_numpy(),
        t("ind_year", lang): first["year"].to_numpy(),
        t("ind_source", lang): [f"{a}" + (f"; {b}" if b else "") for a, b in
                                zip(first["source"], first["target_source"])],
        t("ind_note", lang): first["note"].to_numpy(),
    })


def compliance_display(zones: pd.DataFrame, types: pd.DataFrame, lang: str = "zh",
                       zone_type: str = "study_area") -> pd.DataFrame:
    """The compliance of one zone kind, all residents: facility type (or level), category,
    walking time and radius, shares met by walking and by radius (percent)."""
    z = zones[(zones["zone_type"] == zone_type) & (zones["group"] == "all")]
    names = dict(zip(types["type"], types["name_zh" if lang == "zh" else "name_en"]))
    item = [names.get(i, i) if k == "type" else t("ind_level", lang).format(level=int(lv))
            for i, k, lv in zip(z["item"], z["kind"], z["tier_min"])]
    return pd.DataFrame({
        t("ind_zone", lang): [zone_text(zone_type, v, lang) for v in z["zone"]],
        t("ind_item", lang): item,
        t("category", lang): [facility_label(c, lang) if c else "" for c in z["category"]],
        t("ind_walk_min", lang): z["walk_min"].to_numpy(),
        t("ind_radius_m", lang): z["radius_m"].to_numpy(),
        t("ind_walk_share", lang): [_pct(100 * v) if pd.notna(v) else
                                    t("ind_not_assessed", lang) for v in z["walk_share"]],
        t("ind_radius_share", lang): [_pct(100 * v) for v in z["radius_share"]],
        t("ind_persons", lang): np.round(z["persons"].to_numpy(float)),
    })
