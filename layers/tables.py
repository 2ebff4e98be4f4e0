"""Text and spreadsheet tables (CSV/TXT/TSV, Excel .xlsx/.xls) as frames of strings.

Text is UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), GBK/GB18030
or, failing those, what ``charset-normalizer`` recognises; the separator (``, ; tab |``)
is found from the header and the first lines. A binary or undecodable file is refused in
one short line. Every frame carries the row numbers a user sees (text line, Excel row);
empty rows and empty unnamed columns are dropped and counted.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

SEPARATORS = (",", ";", "\t", "|")
SNIFF_LINES = 50
DETECT_BYTES = 1 << 18  # how much text the encoding guess looks at
SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class TableError(ValueError):
    """A table cannot be read; the message is one short line."""


@dataclass
class Table:
    """A user's table: text cells, the row number of each row, how it was read."""

    frame: pd.DataFrame
    rows: list[int]
    format: str
    encoding: str | None = None
    separator: str | None = None
    layer: str | None = None
    skipped: list[int] = field(default_factory=list)  # empty rows dropped


def gb_plausible(text: str) -> bool:
    """True when the non-ASCII characters of text decoded as GB18030 are mostly GB2312 ones
    (common hanzi and symbols), not the rare characters Latin-1 bytes decode to."""
    counts = Counter(ch for ch in text[:DETECT_BYTES] if ord(ch) > 127)
    total = sum(counts.values())
    if not total:
        return True
    common = 0
    for ch, n in counts.items():
        try:
            ch.encode("gb2312")
            common += n
        except UnicodeEncodeError:
            pass
    return common >= 0.8 * total


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of a text file's bytes, or :class:`TableError`."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"),
                     (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise TableError(f"starts with a {enc} byte-order mark but is not {enc} text "
                                 f"(bad bytes at offset {exc.start})") from None
    if b"\x00" in data[:DETECT_BYTES]:
        raise TableError("is not a text table (binary content); give a CSV/TXT saved as text, "
                         "an Excel workbook (.xlsx/.xls) or a GIS file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    for enc in ("gbk", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if gb_plausible(text):
            return text, enc
        break
    from charset_normalizer import from_bytes

    best = from_bytes(data[:DETECT_BYTES]).best()
    if best is not None and best.encoding not in ("utf_8", "gb18030", "gbk"):
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise TableError(f"is not readable text: neither UTF-8 (bad byte at offset {first_bad}) "
                     "nor GBK/GB18030; save it as CSV UTF-8 or Excel")


def sniff_separator(text: str, preferred: str = ",") -> str:
    """The separator whose header has the most fields and which the first lines agree on."""
    head = text[:1 << 16].splitlines()
    if len(text) > 1 << 16:
        head = head[:-1]  # the last line may be cut
    lines = [ln for ln in head[:SNIFF_LINES * 2] if ln.strip()][:SNIFF_LINES]
    if not lines:
        return preferred
    best = (preferred, -1.0, 1)
    for sep in sorted(SEPARATORS, key=lambda s: s != preferred):
        counts = [len(r) for r in csv.reader(lines, delimiter=sep)]
        width = counts[0]
        if width < 2:
            continue
        agree = sum(c == width for c in counts) / len(counts)
        if (agree, width) > best[1:]:
            best = (sep, agree, width)
    return best[0]


def _tidy(frame: pd.DataFrame, rows: list[int], table: Table) -> Table:
    """Drop empty unnamed columns and empty rows (counting the rows), keep the row numbers."""
    frame = frame.fillna("").astype(str)
    blank = frame.apply(lambda c: c.str.strip() == "").to_numpy()
    unnamed = np.array([str(c).startswith("Unnamed: ") or str(c).strip() == ""
                        for c in frame.columns], dtype=bool)
    keep_cols = ~(unnamed & blank.all(axis=0)) if len(frame) else ~unnamed
    frame = frame.loc[:, keep_cols]
    empty_rows = blank[:, keep_cols].all(axis=1) if frame.shape[1] else np.ones(len(frame), bool)
    table.skipped = [r for r, e in zip(rows, empty_rows) if e]
    table.frame = frame.loc[~empty_rows].reset_index(drop=True)
    table.rows = [r for r, e in zip(rows, empty_rows) if not e]
    return table


def read_text_table(data: bytes, *, suffix: str = ".csv") -> Table:
    """A CSV/TXT/TSV file's bytes as a frame of strings; row numbers are text lines."""
    text, encoding = decode_text(data)
    sep = sniff_separator(text, "\t" if suffix in (".tsv", ".tab") else ",")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c")
    except pd.errors.EmptyDataError:
        raise TableError("the file has no header and no rows") from None
    except pd.errors.ParserError as exc:
        raise TableError(f"not a readable CSV file ({SEP_NAMES[sep]}-separated): "
                         f"{str(exc).strip()[:160]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = [i + 2 for i in range(len(frame))]  # the header is line 1
    return _tidy(frame, rows, Table(frame, rows, "text", encoding=encoding, separator=sep))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not np.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _sheet_table(name: str, grid: list[list[str]]) -> tuple[pd.DataFrame, list[int]] | None:
    """Header and rows of one sheet: the header is the first row with two or more cells
    (one-cell title rows above it are skipped); None for an empty sheet."""
    filled = [sum(1 for v in row if v != "") for row in grid]
    if not any(filled):
        return None
    wide = max(filled) >= 2
    start = next(i for i, n in enumerate(filled) if n >= (2 if wide else 1))
    header = grid[start]
    width = max(len(r) for r in grid[start:])
    header = header + [""] * (width - len(header))
    names, seen = [], Counter()
    for j, h in enumerate(header):
        base = h or f"Unnamed: {j}"
        names.append(base if not seen[base] else f"{base}.{seen[base]}")
        seen[base] += 1
    body = [r + [""] * (width - len(r)) for r in grid[start + 1:]]
    frame = pd.DataFrame(body, columns=names, dtype=object)
    return frame, [start + 2 + i for i in range(len(body))]


def _grids_xlsx(data: bytes) -> dict[str, list[list[str]]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {ws.title: [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
                for ws in book.worksheets}
    finally:
        book.close()


def _grids_xls(data: bytes) -> dict[str, list[list[str]]]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    out = {}
    for sheet in book.sheets():
        grid = []
        for i in range(sheet.nrows):
            row = []
            for cell in sheet.row(i):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(_cell(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    row.append(_cell(bool(cell.value)))
                elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
                    row.append("")
                else:
                    row.append(_cell(cell.value))
            grid.append(row)
        out[sheet.name] = grid
    return out


def read_excel_table(data: bytes, *, suffix: str, sheet: str | None = None) -> Table:
    """One sheet of an Excel workbook as a frame of strings; row numbers are Excel rows.

    ``sheet`` names the sheet; without it the workbook must have exactly one sheet with data.
    """
    try:
        grids = _grids_xls(data) if suffix == ".xls" else _grids_xlsx(data)
    except Exception as exc:  # openpyxl/xlrd/zipfile raise many kinds
        raise TableError(f"cannot be read as an Excel workbook ({suffix}): "
                         f"{str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}"
                         ) from None
    names = list(grids)
    if sheet is not None:
        if sheet not in grids:
            raise TableError(f"has no sheet {sheet!r}; its sheets are {', '.join(names)}")
        chosen = sheet
    else:
        full = [n for n in names if _sheet_table(n, grids[n]) is not None]
        if not full:
            raise TableError("the workbook has no data in any sheet")
        if len(full) > 1:
            raise TableError(f"holds {len(full)} sheets with data ({', '.join(full)}); say "
                             "which one to read (--layer SHEET)")
        chosen = full[0]
    found = _sheet_table(chosen, grids[chosen])
    if found is None:
        raise TableError(f"sheet {chosen!r} is empty")
    frame, rows = found
    return _tidy(frame, rows, Table(frame, rows, "excel", layer=chosen))
