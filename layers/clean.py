"""Safe cleaning of coordinate and count values typed by people, each change counted.

Only readings that cannot mean anything else are made: full-width digits and punctuation
(``１０６．５``), a degree sign or hemisphere letter (``106.5°E``), degrees-minutes-seconds
(``106°30'15"E``, ``29°33′N``, ``东经106度30分``), a decimal comma where no thousands
separator can be meant, and thousands separators in counts (``1,234``, ``1 234``). Whatever
is left unparsed stays NaN for the caller to report as a bad row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_SYMBOLS = {"′′": '"', "''": '"', "″": '"', "”": '"', "“": '"', "〃": '"', "秒": '"',
            "′": "'", "’": "'", "‘": "'", "分": "'", "º": "°", "度": "°", "˚": "°"}
_HEMI = {"东经": "E", "西经": "W", "北纬": "N", "南纬": "S",
         "东": "E", "西": "W", "北": "N", "南": "S"}
_NUMBER = r"\d+(?:\.\d*)?"
_DMS = (rf"^(?P<h1>[NSEW])?(?P<sign>[+-])?(?P<d>{_NUMBER})(?:°|D(?=\d)|(?=\s*[NSEW]?$))"
        rf"(?:(?P<m>{_NUMBER})')?(?:(?P<s>{_NUMBER})\")?(?P<h2>[NSEW])?$")
_SPACES = r"[\s\u00a0\u2009\u202f\u3000]"


@dataclass
class Cleaned:
    """Numbers parsed from one column, with what was changed to get them."""

    values: np.ndarray  # float, NaN where nothing could be read
    changed: np.ndarray  # bool: read only after cleaning
    column: str
    what: str  # the kinds of cleaning applied

    def note(self, raw: pd.Series, rows) -> str | None:
        """One line for the load report, or None when nothing was cleaned."""
        n = int(self.changed.sum())
        if not n:
            return None
        i = int(np.flatnonzero(self.changed)[0])
        return (f"column '{self.column}': {n} value(s) cleaned ({self.what}), e.g. "
                f"row {rows[i]}: {str(raw.iloc[i])!r} → {self.values[i]:.10g}")


def as_text(values: pd.Series) -> pd.Series:
    """Values as stripped, NFKC-normalised strings ('' for missing)."""
    text = values.astype("string").fillna("")
    return text.str.normalize("NFKC").str.replace("\u2212", "-", regex=False).str.strip()


def _plain(text: pd.Series) -> np.ndarray:
    return pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)


def _start(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Stripped text, the plain numbers read from it, and the non-empty cells not read."""
    raw = values.astype("string").fillna("").str.strip()
    out = _plain(raw)
    return raw, out, np.isnan(out) & (raw != "").to_numpy(dtype=bool)


def _numeric(values: pd.Series, column: str) -> Cleaned:
    arr = values.to_numpy(dtype=float)
    return Cleaned(arr, np.zeros(len(arr), bool), column, "")


def _dms(text: pd.Series) -> tuple[np.ndarray, np.ndarray, bool]:
    """Values read as degrees[-minutes-seconds] with hemisphere, a mask of those read, and
    whether any had minutes or seconds."""
    t = text.str.upper()
    for key, value in {**_HEMI, **_SYMBOLS}.items():
        t = t.str.replace(key.upper(), value, regex=False)
    parts = t.str.replace(_SPACES, "", regex=True).str.extract(_DMS)
    deg = pd.to_numeric(parts["d"], errors="coerce").to_numpy(float)
    mins = pd.to_numeric(parts["m"], errors="coerce").fillna(0).to_numpy(float)
    secs = pd.to_numeric(parts["s"], errors="coerce").fillna(0).to_numpy(float)
    hemi = parts["h1"].fillna("") + parts["h2"].fillna("")
    minus = (parts["sign"] == "-").fillna(False).to_numpy(dtype=bool)
    ok = (~np.isnan(deg) & (mins < 60) & (secs < 60) & (hemi.str.len() <= 1).to_numpy()
          & ~(minus & (hemi != "").to_numpy()))
    neg = hemi.isin(["S", "W"]).to_numpy() | minus
    value = np.where(neg, -1.0, 1.0) * (deg + mins / 60.0 + secs / 3600.0)
    has_ms = bool((parts["m"].notna() | parts["s"].notna()).to_numpy()[ok].any())
    return value, ok, has_ms


def parse_degrees(values: pd.Series, column: str = "") -> Cleaned:
    """Longitudes or latitudes as floats: plain numbers, then the safe readings above.

    A hemisphere letter S or W makes the value negative. Minutes and seconds must be < 60.
    Only the cells that are not plain numbers are looked at again.
    """
    if pd.api.types.is_numeric_dtype(values):
        return _numeric(values, column)
    raw, out, todo = _start(values)
    what: list[str] = []
    idx = np.flatnonzero(todo)
    if len(idx):
        text = as_text(raw.iloc[idx])
        value = _plain(text)
        hit = ~np.isnan(value)
        out[idx[hit]] = value[hit]
        if hit.any():
            what.append("full-width characters")
        idx, text = idx[~hit], text[~hit]
    if len(idx):
        value, hit, has_ms = _dms(text)
        out[idx[hit]] = value[hit]
        if hit.any():
            what.append("degrees-minutes-seconds" if has_ms else "degree signs")
        idx, text = idx[~hit], text[~hit]
    if len(idx) and _decimal_comma(raw):
        value = _plain(text.str.replace(",", ".", regex=False))
        hit = ~np.isnan(value)
        out[idx[hit]] = value[hit]
        if hit.any():
            what.append("decimal commas")
    return Cleaned(out, todo & ~np.isnan(out), column, ", ".join(what))


def _decimal_comma(text: pd.Series) -> bool:
    """True when the column's commas are decimal commas without doubt: no value has a point,
    and some value has a comma followed by other than exactly three digits (so that no
    comma can be a thousands separator)."""
    body = text[text != ""]
    if body.str.contains(".", regex=False).any():
        return False
    return bool(body.str.fullmatch(r"[+-]?\d+,\d{1,2}|[+-]?\d+,\d{4,}").any())


def parse_counts(values: pd.Series, column: str = "") -> Cleaned:
    """Counts (population, capacity) as floats: plain numbers, full-width digits, and
    thousands separators (``1,234``, ``1 234``, ``1'234``; one kind per value) in their
    proper places only."""
    if pd.api.types.is_numeric_dtype(values):
        return _numeric(values, column)
    raw, out, todo = _start(values)
    what: list[str] = []
    idx = np.flatnonzero(todo)
    if len(idx):
        text = as_text(raw.iloc[idx])
        value = _plain(text)
        hit = ~np.isnan(value)
        out[idx[hit]] = value[hit]
        if hit.any():
            what.append("full-width characters")
        idx, text = idx[~hit], text[~hit]
    if len(idx):
        grouped = text.str.fullmatch(rf"[+-]?\d{{1,3}}(?P<sep>[,'’]|{_SPACES})\d{{3}}"
                                     r"(?:(?P=sep)\d{3})*(?:\.\d+)?").to_numpy(dtype=bool)
        value = _plain(text.str.replace(rf"[,'’]|{_SPACES}", "", regex=True))
        hit = grouped & ~np.isnan(value)
        out[idx[hit]] = value[hit]
        if hit.any():
            what.append("thousands separators")
    return Cleaned(out, todo & ~np.isnan(out), column, ", ".join(what))


def split_location(values: pd.Series) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """An Amap-style ``"lon,lat"`` column as two text columns and a mask of values of that
    shape (full-width comma accepted; ``;`` separated point lists are not points)."""
    text = as_text(values)
    parts = text.str.extract(r"^\s*([^,;\s]+)\s*[,\s]\s*([^,;\s]+)\s*$")
    ok = parts[0].notna().to_numpy()
    return parts[0].fillna(""), parts[1].fillna(""), ok
