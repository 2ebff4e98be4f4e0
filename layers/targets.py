"""The plans' spatial targets for 2027 (``data/gis/targets.csv``: target, number, year, the seed
clause and how it is counted) and the facilities a planner marks as built or proposed for them.

``counted_from`` says where progress comes from: ``life_circles`` (delineated circles meeting
the standard), ``sites:<category>`` (sites of saved siting scenarios whose existing category is
that basket category, as proposed) or ``marked`` (only facilities marked for the target).
Facilities marked for a target always count. ``candidates_from`` names a bundled layer
(``business_circles``, ``logistics_bases``, ``clusters``, optionally ``:<category>``) whose
places could count, shown beside the progress. Every refusal names the file, row and column.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pandas as pd

from layers.resources import data_dir
from layers.validate import Column, LayerValidationError, Problems, check_frame, file_row

COMPARISONS = ("at_least", "more_than", "range")
KINDS = ("new", "stock", "upgrade")
PLACE_LAYERS = ("business_circles", "logistics_bases", "clusters")
MARK_STATUSES = ("built", "proposed")

TARGET_COLUMNS = (
    Column("id", doc="target key"),
    Column("name_zh"), Column("name_en"),
    Column("number", "float", lo=0, hi=1e6, doc="the number the plan sets"),
    Column("number_max", "float", required=False, lo=0, hi=1e6, doc="upper end of a range"),
    Column("comparison", allowed=COMPARISONS, doc="at_least (≥), more_than (>), range"),
    Column("year", "int", lo=2000, hi=2100),
    Column("kind", allowed=KINDS, doc="new units, a stock to reach, or upgrades"),
    Column("unit_zh"),
    Column("seed_id", doc="the target's id in shared/reference/seed-inventory.md"),
    Column("section", doc="section of the seed document (A-三(三) …)"),
    Column("clause", doc="the target as the seed inventory words it"),
    Column("source"),
    Column("counted_from", doc="life_circles, sites:<category> or marked"),
    Column("candidates_from", required=False, doc="bundled layer[:category] of candidates"),
    Column("baseline", "float", required=False, lo=0, hi=1e6),
    Column("baseline_date", required=False), Column("baseline_source", required=False),
    Column("lead_unit", required=False), Column("notes", required=False),
)

MARK_COLUMNS = (
    Column("target", doc="id of targets.csv"),
    Column("name"),
    Column("status", allowed=MARK_STATUSES),
    Column("district", required=False, doc="district name (区县) where it is"),
    Column("lon", "float", required=False, lo=-180, hi=180, doc="WGS-84 degrees"),
    Column("lat", "float", required=False, lo=-90, hi=90, doc="WGS-84 degrees"),
    Column("date", required=False), Column("note", required=False),
)


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV as text: UTF-8 (with or without BOM) or GB18030, as Excel saves it in China."""
    if not path.is_file():
        raise LayerValidationError(str(path), ["no such file"])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            raise LayerValidationError(str(path), [f"not a readable CSV: {exc}"]) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    raise LayerValidationError(str(path), ["not UTF-8 or GB18030 text"])


def _basket() -> set[str]:
    from layers.facilities import load_basket

    return set(load_basket()["category"])


def check_targets(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """The targets table checked: one line per fault naming ``source``, row and column."""
    problems = Problems(source)
    df = check_frame(raw, TARGET_COLUMNS, problems)
    rows = [file_row(i) for i in range(len(df))]
    if "id" in df.columns:
        for r, dup in zip(rows, df["id"].duplicated()):
            if dup:
                problems.add("repeated id", row=r, column="id")
    if not problems.items:
        basket = _basket()
        for r, t in zip(rows, df.itertuples(index=False)):
            how = str(t.counted_from)
            if how.startswith("sites:"):
                if how[6:] not in basket:
                    problems.add(f"{how[6:]!r} is not a basket category (facility_basket.csv)",
                                 row=r, column="counted_from")
            elif how not in ("life_circles", "marked"):
                problems.add(f"{how!r}: expected life_circles, marked or sites:<category>",
                             row=r, column="counted_from")
            if t.candidates_from and str(t.candidates_from).split(":")[0] not in PLACE_LAYERS:
                problems.add(f"{t.candidates_from!r}: expected one of {', '.join(PLACE_LAYERS)}"
                             " (optionally :category)", row=r, column="candidates_from")
            if t.comparison == "range" and not (t.number_max >= t.number):
                problems.add("a range needs number_max ≥ number", row=r, column="number_max")
    problems.raise_if_any()
    df["year"] = df["year"].astype(int)
    return df.reset_index(drop=True)


def read_targets(path: str | Path | None = None) -> pd.DataFrame:
    """The targets table (bundled ``targets.csv`` by default), checked."""
    path = Path(path) if path is not None else data_dir() / "targets.csv"
    return check_targets(_read_csv(path), str(path))


@lru_cache(maxsize=2)
def _bundled(path: str) -> pd.DataFrame:
    return read_targets(path)


def load_targets() -> pd.DataFrame:
    """The bundled targets (cached; a copy)."""
    return _bundled(str((data_dir() / "targets.csv").resolve())).copy()


def needed(target) -> float:
    """How many units satisfy a target: ``number`` (at least, range) or the next whole number
    above it (more than)."""
    if target.comparison == "more_than":
        return float(math.floor(target.number) + 1)
    return float(target.number)


def check_marks(raw: pd.DataFrame, source: str, targets: pd.DataFrame) -> pd.DataFrame:
    """Facilities marked for targets (``target``, ``name``, ``status`` built/proposed, optional
    ``district``, ``lon``/``lat``, ``date``, ``note``), checked against the targets' ids."""
    problems = Problems(source)
    raw = raw.astype(object).where(raw.notna(), "").astype(str)
    for c in MARK_COLUMNS:  # optional columns may be left out of the file
        if not c.required and c.name not in raw.columns:
            raw[c.name] = ""
    df = check_frame(raw, MARK_COLUMNS, problems)
    rows = [file_row(i) for i in range(len(df))]
    if "target" in df.columns:
        known = set(targets["id"])
        for r, v in zip(rows, df["target"]):
            if v is not None and v not in known:
                problems.add(f"{v!r} is not a target id ({', '.join(sorted(known))})", row=r,
                             column="target")
    if {"lon", "lat"} <= set(df.columns):
        half = df["lon"].isna() != df["lat"].isna()
        for r, bad in zip(rows, half):
            if bad:
                problems.add("give both lon and lat, or neither", row=r, column="lon")
    problems.raise_if_any()
    return df.reset_index(drop=True)


def read_marks(path: str | Path, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030) or Excel file of marked facilities, checked."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xls"):
        if not path.is_file():
            raise LayerValidationError(str(path), ["no such file"])
        raw = pd.read_excel(path, dtype=str).fillna("")
    else:
        raw = _read_csv(path)
    return check_marks(raw, str(path), load_targets() if targets is None else targets)
