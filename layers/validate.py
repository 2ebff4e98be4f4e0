"""Schema checks that gather every problem and name the file, row and column at fault."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo_app.errors import InputError

MAX_LISTED = 12  # problems spelled out in one message; the rest are counted


class LayerValidationError(InputError):
    """A layer failed its checks; ``problems`` holds one line per fault."""

    def __init__(self, source: str, problems: Sequence[str], fix: str = "", *,
                 key: str | None = None, **values):
        self.source = source
        self.problems = list(problems)
        self.fix = fix
        self.key, self.values = key, values  # the label catalogue's words for the app
        shown = self.problems[:MAX_LISTED]
        more = len(self.problems) - len(shown)
        if len(self.problems) == 1:  # one fault: one line
            text = f"{source}: {self.problems[0]}" + (f"; fix: {fix}" if fix else "")
        else:
            text = f"{source}: {len(self.problems)} problem(s)\n  " + "\n  ".join(shown)
            if more:
                text += f"\n  … and {more} more"
            if fix:
                text += f"\n  fix: {fix}"
        super().__init__(text)


@dataclass(frozen=True)
class Column:
    """One column of a layer schema.

    ``kind`` is one of {"str", "float", "int", "code6"}; ``allowed`` restricts values;
    ``lo``/``hi`` bound numbers; ``required`` forbids empty cells.
    """

    name: str
    kind: str = "str"
    required: bool = True
    allowed: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    doc: str = ""


@dataclass
class Problems:
    """Collects problems for one source; ``raise_if_any`` raises them together."""

    source: str
    items: list[str] = field(default_factory=list)

    def add(self, text: str, *, row: int | None = None, column: str | None = None) -> None:
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        self.items.append(f"{', '.join(where)}: {text}" if where else text)

    def raise_if_any(self) -> None:
        if self.items:
            raise LayerValidationError(self.source, self.items)


def file_row(index: int, *, header_lines: int = 1) -> int:
    """Row number a user sees in a text file for 0-based data row ``index`` (header is row 1)."""
    return int(index) + header_lines + 1


def _rows(mask: np.ndarray, labels: Iterable[int]) -> list[int]:
    return [int(r) for r, bad in zip(labels, mask) if bad]


def check_frame(df: pd.DataFrame, schema: Sequence[Column], problems: Problems,
                *, row_labels: Sequence[int] | None = None) -> pd.DataFrame:
    """Check ``df`` against ``schema`` and return a copy with typed columns.

    Missing columns, empty required cells, unparseable numbers, out-of-range values,
    malformed codes and values outside ``allowed`` are added to ``problems``;
    ``row_labels`` gives the row numbers to report (default: CSV line numbers).
    """
    labels = list(row_labels) if row_labels is not None else [file_row(i) for i in range(len(df))]
    out = df.copy()
    missing = [c.name for c in schema if c.name not in df.columns]
    if missing:
        problems.add(f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}")
    for col in schema:
        if col.name not in df.columns:
            continue
        raw = df[col.name]
        text = raw.astype("string").str.strip()
        empty = (text.isna() | (text == "")).to_numpy()
        if col.required:
            for r in _rows(empty, labels):
                problems.add("empty, a value is required", row=r, column=col.name)
        if col.kind in ("float", "int"):
            values = pd.to_numeric(text.where(~empty), errors="coerce")
            bad = (values.isna().to_numpy() & ~empty)
            for r, v in zip(_rows(bad, labels), text[bad]):
                problems.add(f"expected a number, got {v!r}", row=r, column=col.name)
            arr = values.to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                out_of_range = np.zeros(len(arr), dtype=bool)
                if col.lo is not None:
                    out_of_range |= arr < col.lo
                if col.hi is not None:
                    out_of_range |= arr > col.hi
            for r, v in zip(_rows(out_of_range, labels), arr[out_of_range]):
                problems.add(f"value {v:g} outside [{col.lo}, {col.hi}]", row=r, column=col.name)
            out[col.name] = values.astype("Int64" if col.kind == "int" else "float64")
        else:
            if col.kind == "code6":
                bad = ~empty & ~text.str.fullmatch(r"\d{6}").fillna(False).to_numpy(dtype=bool)
                for r, v in zip(_rows(bad, labels), text[bad]):
                    problems.add(f"expected a 6-digit code, got {v!r}", row=r, column=col.name)
            if col.allowed:
                bad = ~empty & ~text.isin(col.allowed).to_numpy(dtype=bool)
                for r, v in zip(_rows(bad, labels), text[bad]):
                    problems.add(f"{v!r} is not one of {', '.join(col.allowed)}", row=r, column=col.name)
            out[col.name] = text.astype(object).where(~empty, None)
    return out


def check_unique(df: pd.DataFrame, column: str, problems: Problems,
                 *, row_labels: Sequence[int] | None = None) -> None:
    """Add a problem for every repeated value of ``column``."""
    if column not in df.columns:
        return
    labels = list(row_labels) if row_labels is not None else [file_row(i) for i in range(len(df))]
    dup = df[column].duplicated(keep="first").to_numpy()
    for r, v in zip(_rows(dup, labels), df[column][dup]):
        problems.add(f"duplicate value {v!r}", row=r, column=column)


def read_table(path, schema: Sequence[Column], *, unique: str | None = None
               ) -> tuple[pd.DataFrame, Problems]:
    """Read a UTF-8 CSV as text, check it against ``schema`` (and ``unique``'s values).

    Returns the typed frame and the problems found, so that callers can add their own
    checks before ``problems.raise_if_any()``.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    problems = Problems(str(path))
    df = check_frame(raw, schema, problems)
    if unique is not None:
        check_unique(df, unique, problems)
    return df, problems


def open_raster(path):
    """Open a raster with rasterio, or raise a :class:`LayerValidationError` naming the file."""
    import rasterio

    try:
        return rasterio.open(path)
    except Exception as exc:  # rasterio.errors.RasterioIOError
        raise LayerValidationError(str(path), [f"not a readable raster: {exc}"]) from None


def located(gdf):
    """The rows of a GeoDataFrame that have a geometry that is neither missing nor empty."""
    import shapely

    geoms = gdf.geometry.values
    return gdf[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]


def nonnegative_column(frame, name: str, what: str = "the layer"):
    """Column ``name`` of ``frame`` as floats, or a ValueError naming the column and rows
    that are missing or hold something other than a number ≥ 0."""
    import numpy as np
    import pandas as pd

    if name not in frame.columns:
        raise ValueError(f"no column '{name}' in {what}; found "
                         f"{', '.join(str(c) for c in frame.columns if c != 'geometry')}")
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValueError(f"column '{name}' must hold numbers ≥ 0; {int(bad.sum())} row(s) do "
                         f"not: {', '.join(map(str, frame.index[bad][:10]))}")
    return values
