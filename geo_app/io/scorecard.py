"""Scorecards and life circles written for people and files: the scorecard's views as tables
with labelled columns (shares in percent), one Excel sheet per view, and the life circles as a
GeoPackage; every file through the atomic writer (:mod:`geo_app.io.files`)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from geo_app.errors import OutputError
from geo_app.io.export import write_gpkg_layers
from geo_app.io.files import replace_atomically
from geo_app.labels import facility_label, t

VIEWS = ("scorecard", "regions", "coverage", "circles", "targets", "targets_by_zone",
         "sources")
SHARES = ("share", "basket_share", "progress", "progress_with_proposed", "share_of_target")
COUNTS = ("residents", "residents_census", "covered", "circles", "circles_meeting",
          "facilities", "hubs_existing", "hubs_proposed", "business_circles",
          "logistics_bases", "clusters", "districts", "units", "below_floor", "above_ceiling",
          "residents_meeting", "needed", "analysed", "built", "proposed", "candidates",
          "achieved", "with_proposed")


SHARED_LABELS = ("adcode", "region_group", "area_km2", "business_circles", "logistics_bases",
                 "clusters", "category")
AVERAGED = ("share_basket", "facilities_per_10k", "circles_meeting")


def column_label(col: str, lang: str = "zh") -> str:
    """The header of a scorecard column in ``lang`` (the key itself when none is known)."""
    own = t(f"card_{col}", lang)
    if own != f"card_{col}":
        return own
    if col in SHARED_LABELS:
        return t(col, lang)
    if col.startswith("mean_") and col[5:] in AVERAGED:
        return t("card_mean", lang).format(what=column_label(col[5:], lang))
    if col.startswith("rank_"):
        return t("card_rank", lang).format(what=column_label(col[5:], lang))
    if col.startswith("share_"):
        return t("card_share_of", lang).format(what=facility_label(col[6:], lang))
    return col


def is_share(col: str) -> bool:
    return col in SHARES or (col.startswith(("share_", "mean_share_")))


def display(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A view for people: shares as percent (one decimal), counts rounded, labelled
    columns, category keys as names."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        v = frame[col]
        if col == "category":
            v = v.map(lambda c: facility_label(str(c), lang))
        elif col == "zone":  # the engine's own words for places outside every zone
            words = {"(unknown)": t("zone_unknown", lang), "(outside)": t("zone_outside", lang),
                     "(none)": t("zone_none", lang), "study area": t("zone_study_area", lang)}
            v = v.map(lambda z: words.get(z, z))
        elif is_share(col) and pd.api.types.is_numeric_dtype(v):
            v = (100 * v.astype(float)).round(1)
        elif col in COUNTS or col.endswith("_per_10k") or col.startswith("rank_"):
            v = pd.to_numeric(v, errors="coerce").round(1 if col.endswith("_10k") else 0)
        elif pd.api.types.is_float_dtype(v):
            v = v.round(2)
        elif pd.api.types.is_bool_dtype(v):
            v = v.map(lambda b: t("ind_pass" if b else "ind_fail", lang))
        out[column_label(col, lang)] = v
    return out.reset_index(drop=True)


def display_kinds(frame: pd.DataFrame, lang: str = "zh") -> dict[str, str]:
    """The kind of number of each labelled column of :func:`display` (for
    :func:`geo_app.io.display.on_screen`): shares in percent, counts whole."""
    kinds = {}
    for col in frame.columns:
        if is_share(col):
            kinds[column_label(col, lang)] = "percent"
        elif col in COUNTS or col.startswith("rank_"):
            kinds[column_label(col, lang)] = "count"
        elif col.endswith("_per_10k"):
            kinds[column_label(col, lang)] = "minutes"  # one decimal at most
    return kinds


def sheet_name(view: str, lang: str) -> str:
    name = t(f"card_sheet_{view}", lang)
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]


def workbook_sheets(card, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The scorecard's views in order, labelled, by sheet name (empty views left out)."""
    out = {}
    for view in VIEWS:
        frame = card.views.get(view)
        if frame is not None and len(frame.columns):
            out[sheet_name(view, lang)] = display(frame, lang)
    return out


def fill_workbook(target, frames: dict[str, pd.DataFrame]) -> None:
    """Write ``frames`` as sheets (header row frozen, columns sized) with openpyxl."""
    with pd.ExcelWriter(target, engine="openpyxl") as xw:
        for name, frame in frames.items():
            frame = frame.astype(object).where(frame.notna(), None)
            frame.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"
            for k, col in enumerate(frame.columns, start=1):
                width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
                ws.column_dimensions[ws.cell(row=1, column=k).column_letter].width = \
                    min(max(8, width + 2), 50)


def scorecard_xlsx_bytes(card, lang: str = "zh") -> bytes:
    """The scorecard as an Excel workbook (one sheet per view), as bytes."""
    buf = io.BytesIO()
    fill_workbook(buf, workbook_sheets(card, lang))
    return buf.getvalue()


def write_scorecard(card, path: str | Path, lang: str = "zh") -> Path:
    """Write the scorecard to ``path`` (``.xlsx``: one sheet per view), atomically."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise OutputError(f"{path}: a scorecard is written as .xlsx")
    return replace_atomically(path, lambda tmp: fill_workbook(tmp, workbook_sheets(card, lang)),
                              ".xlsx")


def write_circles(circles, path: str | Path, extra: dict | None = None) -> Path:
    """Write life circles (layers ``circles``, ``units``, ``run_info`` and any ``extra``
    tables) to a GeoPackage, atomically."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise OutputError(f"{path}: life circles are written as .gpkg")
    import geopandas as gpd

    layers = {**circles.layers(), **(extra or {})}
    layers = {k: (v if isinstance(v, gpd.GeoDataFrame) else pd.DataFrame(v))
              for k, v in layers.items()}
    return write_gpkg_layers(layers, path)


def read_circles(path: str | Path):
    """The ``circles`` layer of a life-circle GeoPackage (``geo-app life-circles``)."""
    import geopandas as gpd

    from geo_app.errors import InputError
    from geo_app.io.export import result_layer_names

    result_layer_names(path, ("circles",), "life-circle result",
                       "geo-app life-circles --out circles.gpkg")
    c = gpd.read_file(path, layer="circles", engine="pyogrio")
    if "meets_standard" not in c.columns:
        raise InputError(f"{path}, layer circles: missing column meets_standard")
    c["meets_standard"] = c["meets_standard"].astype(bool)
    return c


def percent(v) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.1f}%"
