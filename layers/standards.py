"""The standards and indicator tables a planner edits: facility types with their life-circle
level, walking time and service radius (``data/gis/standards.csv``), and the indicator
definitions with their rule, denominator, threshold, year, source and targets
(``data/gis/indicators.csv``). Definitions change by year, so several rows may share an ``id``
with different ``year`` values; :func:`for_year` picks the one in force.

Every refusal is one line naming the file, row and column.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from layers.resources import data_dir
from layers.validate import (
    Column,
    LayerValidationError,
    Problems,
    check_frame,
    check_unique,
    file_row,
)

TIERS = (5, 10, 15)  # life-circle levels (minutes), GB 50180-2018 表3.0.4
TIER_RADIUS_M = {5: 300.0, 10: 500.0, 15: 1000.0}  # the levels' walking distances (upper ends)
RULES = ("walk_any", "walk_all", "radius_any", "radius_all", "tier_basket")
DENOMINATORS = ("population", "buildings", "residential_land_area")
LAYERS = ("facilities", "parks", "greenways")
STATUSES = ("verify", "checked")
RADIUS_KINDS = ("stated", "tier")
TIER = "tier"  # threshold_min: each category's own life-circle level

STANDARD_COLUMNS = (
    Column("type", doc="facility type key"),
    Column("name_zh"), Column("name_en"),
    Column("category", doc="basket category (data/gis/facility_basket.csv)"),
    Column("tier_min", "int", allowed=(), lo=5, hi=15, doc="life-circle level: 5, 10 or 15"),
    Column("walk_min", "float", lo=0.1, hi=180, doc="walking time the type must be within"),
    Column("radius_m", "float", lo=1, hi=100_000, doc="service radius (straight line)"),
    Column("radius_kind", allowed=RADIUS_KINDS, doc="stated by the source, or the level's"),
    Column("source"), Column("clause"),
    Column("indicators", required=False, doc="indicator ids the type feeds, ';'-separated"),
    Column("status", allowed=STATUSES), Column("notes", required=False),
)

INDICATOR_COLUMNS = (
    Column("id"), Column("name_zh"), Column("name_en"),
    Column("dimension", required=False),
    Column("numerator", allowed=RULES), Column("denominator", allowed=DENOMINATORS),
    Column("layer", allowed=LAYERS),
    Column("categories", required=False, doc="basket categories, ';'-separated"),
    Column("threshold_min", required=False, doc="minutes, or 'tier'"),
    Column("threshold_m", "float", required=False, lo=1, hi=100_000),
    Column("area_classes", required=False, doc="MIN-MAX:RADIUS or MIN+:RADIUS (m², m), ';'"),
    Column("year", "int", lo=1990, hi=2100),
    Column("source"),
    Column("targets", required=False, doc="YEAR:PERCENT, ';'-separated"),
    Column("target_source", required=False),
    Column("status", allowed=STATUSES), Column("notes", required=False),
)


class TableError(LayerValidationError):
    """A standards or indicator table that cannot be used: one line naming file, row, column."""

    def __init__(self, source: str, problems: list[str], fix: str = ""):
        self.source, self.problems, self.fix = source, list(problems), fix
        shown = "; ".join(self.problems[:6])
        more = len(self.problems) - 6
        text = f"{source}: {shown}" + (f"; … and {more} more" if more > 0 else "")
        super(LayerValidationError, self).__init__(text + (f" (fix: {fix})" if fix else ""))


def _read_text(path: Path) -> pd.DataFrame:
    """A CSV as text, UTF-8 (with or without BOM) or GB18030, as Excel saves it in China."""
    if not path.is_file():
        raise TableError(str(path), ["no such file"])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            raise TableError(str(path), [f"not a readable CSV: {str(exc).strip()}"]) from None
    raise TableError(str(path), ["not UTF-8 or GB18030 text"])


def _check(path: Path, schema) -> tuple[pd.DataFrame, Problems, list[int]]:
    raw = _read_text(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    problems = Problems(str(path))
    df = check_frame(raw, schema, problems)
    return df, problems, [file_row(i) for i in range(len(df))]


def _raise(problems: Problems) -> None:
    if problems.items:
        raise TableError(problems.source, problems.items)


def _basket_categories() -> set[str]:
    from layers.facilities import load_basket

    return set(load_basket()["category"])


def _split(text) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(text or "").split(";") if p.strip())


def parse_area_classes(text: str) -> list[tuple[float, float, float]]:
    """``"5000+:500;2000-5000:300"`` → ``[(5000, inf, 500), (2000, 5000, 300)]``: polygons of
    at least MIN and less than MAX m² serve RADIUS m. Raises ``ValueError`` on bad text."""
    out = []
    for part in _split(text):
        span, sep, radius = part.partition(":")
        if not sep:
            raise ValueError(f"{part!r} has no ':RADIUS'")
        span = span.strip()
        if span.endswith("+"):
            lo, hi = float(span[:-1]), math.inf
        else:
            a, dash, b = span.partition("-")
            if not dash:
                raise ValueError(f"{part!r}: expected MIN-MAX:RADIUS or MIN+:RADIUS")
            lo, hi = float(a), float(b)
        r = float(radius)
        if not (0 <= lo < hi and r > 0 and math.isfinite(r)):
            raise ValueError(f"{part!r}: need 0 ≤ MIN < MAX and RADIUS > 0")
        out.append((lo, hi, r))
    return out


def parse_targets(text: str) -> list[tuple[int, float]]:
    """``"2025:85;2035:99"`` → ``[(2025, 85.0), (2035, 99.0)]`` (year, percent), by year."""
    out = []
    for part in _split(text):
        year, sep, pct = part.partition(":")
        if not sep:
            raise ValueError(f"{part!r}: expected YEAR:PERCENT")
        y, p = int(year), float(pct)
        if not (1990 <= y <= 2100 and 0 <= p <= 100):
            raise ValueError(f"{part!r}: need a year 1990–2100 and a percent 0–100")
        out.append((y, p))
    return sorted(out)


def read_standards(path: str | Path | None = None) -> pd.DataFrame:
    """The facility standards table (bundled ``standards.csv`` by default), checked.

    Columns as in the file; ``tier_min`` int, ``walk_min``/``radius_m`` float,
    ``indicators`` a tuple of ids. Raises :class:`TableError`.
    """
    path = Path(path) if path is not None else data_dir() / "standards.csv"
    df, problems, rows = _check(path, STANDARD_COLUMNS)
    check_unique(df, "type", problems)
    if "tier_min" in df.columns:
        for r, v in zip(rows, df["tier_min"]):
            if pd.notna(v) and int(v) not in TIERS:
                problems.add(f"{int(v)} is not a level: use 5, 10 or 15", row=r,
                             column="tier_min")
    if "category" in df.columns:
        known = _basket_categories()
        for r, c in zip(rows, df["category"]):
            if c is not None and c not in known:
                problems.add(f"{c!r} is not a basket category (facility_basket.csv)", row=r,
                             column="category")
    _raise(problems)
    df["tier_min"] = df["tier_min"].astype(int)
    df["indicators"] = [_split(v) for v in df["indicators"]]
    return df.reset_index(drop=True)


def read_indicators(path: str | Path | None = None) -> pd.DataFrame:
    """The indicator definitions (bundled ``indicators.csv`` by default), checked.

    Parsed columns: ``categories`` (tuple), ``tier_threshold`` (True where
    ``threshold_min`` is "tier"), ``threshold_min`` (float, NaN for "tier" or empty),
    ``area_classes`` (list of (min m², max m², radius m)), ``targets`` (list of (year,
    percent)). Raises :class:`TableError`.
    """
    path = Path(path) if path is not None else data_dir() / "indicators.csv"
    df, problems, rows = _check(path, INDICATOR_COLUMNS)
    if not problems.items:
        _check_definitions(df, rows, problems)
    _raise(problems)
    df["categories"] = [_split(v) for v in df["categories"]]
    df["tier_threshold"] = [str(v).strip().lower() == TIER for v in df["threshold_min"]]
    df["threshold_min"] = [np.nan if t or v is None else float(v)
                           for t, v in zip(df["tier_threshold"], df["threshold_min"])]
    df["area_classes"] = [parse_area_classes(v) if v else [] for v in df["area_classes"]]
    df["targets"] = [parse_targets(v) if v else [] for v in df["targets"]]
    df["year"] = df["year"].astype(int)
    return df.reset_index(drop=True)


def _check_definitions(df: pd.DataFrame, rows: list[int], problems: Problems) -> None:
    """Rules that tie the columns of one indicator row together."""
    known = _basket_categories()
    key = df["id"].astype(str) + "@" + df["year"].astype(str)
    for r, k in zip(rows, key.duplicated()):
        if k:
            problems.add("the same id and year again", row=r, column="year")
    for r, d in zip(rows, df.itertuples(index=False)):
        cats = _split(d.categories)
        for c in cats:
            if c not in known:
                problems.add(f"{c!r} is not a basket category (facility_basket.csv)", row=r,
                             column="categories")
        minutes = None if d.threshold_min is None else str(d.threshold_min).strip()
        if minutes is not None and minutes.lower() != TIER:
            try:
                value = float(minutes)
                if not 0 < value <= 180:
                    raise ValueError
            except ValueError:
                problems.add(f"expected minutes (0–180] or 'tier', got {minutes!r}", row=r,
                             column="threshold_min")
                continue
        walk = d.numerator.startswith("walk")
        if d.numerator == "tier_basket":
            if minutes is None or minutes.lower() == TIER or float(minutes) not in TIERS:
                problems.add("tier_basket needs the level (5, 10 or 15) here", row=r,
                             column="threshold_min")
        elif walk and d.layer != "facilities":
            problems.add(f"{d.numerator} works on facilities (walking times), not {d.layer}",
                         row=r, column="layer")
        elif walk and minutes is None:
            problems.add(f"{d.numerator} needs minutes or 'tier'", row=r, column="threshold_min")
        if d.layer == "facilities" and d.numerator != "tier_basket" and not cats:
            problems.add("facility rules need at least one category", row=r, column="categories")
        if d.numerator.startswith("radius"):
            if d.area_classes and d.layer != "parks":
                problems.add("area classes apply to the parks layer only", row=r,
                             column="area_classes")
            elif not d.area_classes and pd.isna(d.threshold_m):
                problems.add(f"{d.numerator} needs threshold_m or area_classes", row=r,
                             column="threshold_m")
        for column, parse in (("area_classes", parse_area_classes), ("targets", parse_targets)):
            text = getattr(d, column)
            if text:
                try:
                    parse(text)
                except ValueError as exc:
                    problems.add(str(exc), row=r, column=column)


def check_links(standards: pd.DataFrame, indicators: pd.DataFrame, source: str) -> None:
    """Refuse indicator ids in the standards' ``indicators`` column that the indicator table
    does not define (one line naming the standards file and row)."""
    ids = set(indicators["id"])
    problems = Problems(source)
    for i, feeds in enumerate(standards["indicators"]):
        for k in feeds:
            if k not in ids:
                problems.add(f"indicator {k!r} is not in the indicator table", row=file_row(i),
                             column="indicators")
    _raise(problems)


def for_year(indicators: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Per indicator id the definition in force in ``year``: the row of the latest ``year``
    not after it (``None``: the latest of each). Ids defined only later are left out."""
    df = indicators if year is None else indicators[indicators["year"] <= year]
    latest = df.sort_values("year", kind="stable").groupby("id", sort=False).tail(1)
    order = {k: i for i, k in enumerate(dict.fromkeys(indicators["id"]))}
    return latest.sort_values("id", key=lambda s: s.map(order)).reset_index(drop=True)


def target_for(targets: list[tuple[int, float]], year: int | None) -> tuple[int, float] | None:
    """The reference target for ``year``: the first milestone in or after it, else the last
    (``None`` year: the first). None without targets."""
    if not targets:
        return None
    if year is None:
        return targets[0]
    later = [t for t in targets if t[0] >= year]
    return later[0] if later else targets[-1]


@lru_cache(maxsize=4)
def _bundled(name: str, folder: str) -> pd.DataFrame:
    read = read_standards if name == "standards" else read_indicators
    return read(Path(folder) / f"{name}.csv")


def load_standards() -> pd.DataFrame:
    """The bundled (or ``GEO_APP_DATA_DIR``) ``standards.csv``, read once."""
    return _bundled("standards", str(data_dir())).copy()


def load_indicators() -> pd.DataFrame:
    """The bundled (or ``GEO_APP_DATA_DIR``) ``indicators.csv``, read once."""
    return _bundled("indicators", str(data_dir())).copy()
