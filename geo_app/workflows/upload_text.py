"""The upload checks' messages in the session's language.

The readers write English lines ("row 3, column 'category': empty"); in Chinese each line is
matched to a catalogue key (``upl_e_*`` for a file that cannot be used, ``upl_r_*`` for a
rejected row, ``upl_w_*`` for a warning) and said again from the label catalogue. A line no
pattern knows becomes a plain Chinese sentence that points to the English view, so the
Chinese page never shows English text. In English the reader's own line is shown (without
server folders).
"""

from __future__ import annotations

import re

import pandas as pd

from geo_app.labels import facility_label, t

# (pattern, key): the first match wins; named groups fill the key's {placeholders}
_ERRORS = (
    (r"file not found", "upl_e_not_found"),
    (r"holds (?P<n>\d+) (?:layers|sheets)[^(]*\((?P<names>[^)]*)\)", "upl_e_layers"),
    (r"has no (?:layer|sheet|folder) '(?P<name>[^']*)'", "upl_e_no_layer"),
    (r"unsupported file type (?P<suffix>\S+?):", "upl_e_type"),
    (r"look swapped", "upl_e_swapped"),
    (r"exceed ±180/±90|not degrees", "upl_e_projected"),
    (r"says its CRS is (?P<crs>.+?), but", "upl_e_crs_conflict"),
    (r"is projected \((?P<crs>.+?)\); \w+ applies only", "upl_e_projected_datum"),
    (r"unknown CRS '?(?P<code>[^':]*)", "upl_e_bad_crs"),
    (r"no usable rows|every row was rejected", "upl_e_all_rejected"),
    (r"not a street network", "upl_e_not_network"),
    (r"of points with a '[^']*' column", "upl_e_named_points"),
    (r"missing longitude and latitude|^no coordinates", "upl_e_missing_coords"),
    (r"missing (?P<role>longitude|latitude) column", "upl_e_missing_role"),
    (r"^no (?P<role>lon|lat|name|category|population|capacity|id) column", "upl_e_missing_role"),
    (r"no column '(?P<column>[^']*)' for (?P<role>\w+)", "upl_e_no_column"),
    (r"missing column\(s\) (?P<names>[^;]+)", "upl_e_missing_columns"),
    (r"could each be the (?P<role>\w+)", "upl_e_ambiguous"),
    (r"is named for both", "upl_e_ambiguous_pick"),
    (r"expands to more than", "upl_e_too_big"),
    (r"empty$|has no rows|no header and no rows|no data in any sheet|is empty|holds no layer"
     r"|holds no placemark|holds no table", "upl_e_empty"),
    (r"cannot be read|not a readable|not a text|binary|neither UTF-8|undecodable|not a raster"
     r"|not recognized|no band|no-data|is a folder|not readable text|byte-order mark",
     "upl_e_unreadable"),
    (r"no OSM feature|no points of interest|no community centre", "upl_e_no_osm_features"),
)
_REASONS = (
    (r"look swapped", "upl_r_swapped"),
    (r"are outside ±180/±90", "upl_r_outside_degrees"),
    (r"^coordinates \((?P<values>.*?)\) in columns .*not numbers", "upl_r_coords"),
    (r"^location (?P<value>.*) in column '[^']*' is not", "upl_r_location"),
    (r"^geometry .* in column '[^']*' is (?:empty|not WKT)", "upl_r_wkt"),
    (r"^no geometry", "upl_r_no_geometry"),
    (r"invalid geometry", "upl_r_invalid_geometry"),
    (r"geometry is an? (?P<got>\w+), expected (?P<expected>.+)", "upl_r_geometry_type"),
    (r"expected a number ≥ 0, got (?P<value>.*)", "upl_r_number"),
    (r"^empty$", "upl_r_empty"),
    (r"repeat|duplicate|same id|same point", "upl_r_duplicate"),
    (r"outside|far from", "upl_r_outside"),
)
_ROLES = {"longitude": "lon", "latitude": "lat"}
_GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
               "MultiPolygon", "GeometryCollection")


def _fill(key: str, found: dict, lang: str) -> str:
    values = {k: v for k, v in found.items() if v is not None}
    if "role" in values:
        values["role"] = t(f"role_{_ROLES.get(values['role'], values['role'])}", lang)
    for k in ("got", "expected"):
        if k in values:
            values[k] = re.sub("|".join(_GEOMETRIES[::-1]),
                               lambda m: t(f"geom_{m.group(0)}", lang), values[k])
            values[k] = values[k].replace(" or ", "、")
    if "names" in values:
        values["names"] = values["names"].strip().replace(", ", "、")
    try:
        return t(key, lang).format(**values)
    except (KeyError, IndexError):
        return t(key, lang)


def _match(text: str, table) -> tuple[str, dict] | None:
    for pattern, key in table:
        m = re.search(pattern, text)
        if m:
            return key, m.groupdict()
    return None


def _where(line: str) -> tuple[str | None, str | None, str]:
    """(row, column, rest) of "row 3, column 'x': rest", "row 3: rest" or "column 'x': rest"."""
    m = re.match(r"^row (\d+)(?:,\s*|:\s*|\s+)", line)
    row = m.group(1) if m else None
    rest = line[m.end():] if m else line
    c = re.match(r"^column '([^']*)'[:,]?\s*", rest)
    column = c.group(1) if c else None
    return row, column, rest[c.end():] if c else rest


def problem_text(line: str, lang: str, *, table=_ERRORS, other: str = "upl_e_other") -> str:
    """One problem line of a reader in ``lang`` (Chinese by key; English as it is)."""
    line = str(line).strip()
    if lang != "zh":
        return line
    row, column, text = _where(line)
    head = t("upl_row", lang).format(row=row) if row else ""
    if column:
        head += t("upl_in_column", lang).format(column=column)
    head += ":" if head else ""
    tables = (_REASONS, _ERRORS) if (row or table is _REASONS) else (_ERRORS, _REASONS)
    found = _match(text, tables[0]) or _match(text, tables[1])
    if found is None:
        return head + t("upl_r_other" if row else other, lang)
    key, values = found
    return head + _fill(key, {"column": column or "", **values}, lang)


def reason_text(reason: str, lang: str) -> str:
    """Why a row was rejected, in ``lang``."""
    return problem_text(reason, lang, table=_REASONS, other="upl_r_other")


def error_line(check, lang: str) -> str:
    """Why ``check``'s file cannot be used, in one line naming the file (not its folder)."""
    name = check.path.name
    problems = [p for p in (check.problems or [check.error]) if p]
    first = problems[0] if problems else ""
    if first.startswith(name):  # "name: 2 problem(s)" or "name: reason"
        first = first[len(name):].lstrip(": ")
    if lang != "zh":
        text = first.splitlines()[0] if first else check.error.splitlines()[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"{name}: {text}{more}"
    more = t("upl_more", lang).format(n=len(problems) - 1) if len(problems) > 1 else ""
    return f"{name}:{problem_text(first, lang)}{more}"


def warning_text(key: str | None, values: dict, text: str, lang: str) -> str:
    """A warning of a check, in ``lang``."""
    if lang != "zh":
        return text
    if key == "upl_w_datum":
        return t("upl_w_datum", lang).format(datum=t(values.get("datum", ""), lang))
    if key and t(key, lang) != key:
        try:
            return t(key, lang).format(**values)
        except (KeyError, IndexError, ValueError):
            return t(key, lang)
    return t("upl_w_other", lang)


def warnings_of(check, lang: str) -> list[str]:
    keys = list(check.warning_keys) + [(None, {})] * (len(check.warnings) - len(check.warning_keys))
    return [warning_text(k, v, w, lang) for (k, v), w in zip(keys, check.warnings)]


def unmatched_text(values: dict[str, int], lang: str, minutes: float) -> str | None:
    """Category values ({value: rows}) that match no basket category, in one sentence."""
    if not values:
        return None
    listed = "、".join(f"{v}({n})" for v, n in list(values.items())[:8])
    if len(values) > 8:
        listed += "…"
    return t("upl_w_unmatched", lang).format(n=len(values), rows=sum(values.values()),
                                             minutes=f"{minutes:g}", values=listed)


def crs_label(info, lang: str) -> str:
    """A file's own CRS for the datum choice: the full name in English; in Chinese the
    datum's own name, CGCS2000 Gauss-Krüger zones and UTM zones said in Chinese, else the
    EPSG code (or "custom projection")."""
    code = info.crs_epsg
    if lang != "zh":
        return info.crs or ""
    if code in (4326, 4490):
        return t("wgs84" if code == 4326 else "cgcs2000", lang) + f"(EPSG:{code})"
    if code and 4491 <= code <= 4554:
        return t("upl_crs_gk", lang).format(code=code)
    if code and (32601 <= code <= 32660 or 32701 <= code <= 32760):
        zone = f"{code % 100}{'N' if code < 32700 else 'S'}"
        return t("upl_crs_utm", lang).format(zone=zone, code=code)
    if code:
        return f"EPSG:{code}"
    return t("upl_crs_custom" if info.projected else "upl_crs_geographic", lang)


def summary_text(check, lang: str) -> str:
    """What the file holds (nodes and street length, residents, categories, DEM size)."""
    s = check.summary
    parts = []
    if "nodes" in s:
        parts.append(f"{t('val_nodes', lang)} {s['nodes']:,}, {t('val_edges', lang)} "
                     f"{s['edges']:,}, {t('val_street_km', lang)} {s['street_km']:,}")
    if "population" in s:
        parts.append(f"{t('val_population', lang)} {s['population']:,}"
                     + (f" ({t('val_estimate', lang)})" if s["estimate"] else ""))
    if s.get("per_category"):
        top = sorted(s["per_category"].items(), key=lambda kv: -kv[1])[:6]
        parts.append(f"{t('val_categories', lang)} {len(s['per_category'])}: " + ", ".join(
            f"{facility_label(str(k), lang)} {n}" for k, n in top))
    if "z_min" in s:
        parts.append(t("upl_dem_summary", lang).format(
            w=s["size"][0], h=s["size"][1], cell=s["cell_m"], lo=s["z_min"], hi=s["z_max"]))
    return "; ".join(parts)


def read_text(check, lang: str) -> str:
    """How the file was read: the column of each role, a non-UTF-8 encoding, values cleaned."""
    s, parts = check.summary, []
    if s.get("read_columns"):
        parts.append(t("upl_read_columns", lang) + ", ".join(
            f"{t('role_' + r, lang)} = {c}" for r, c in s["read_columns"].items()))
    if s.get("read_encoding") and str(s["read_encoding"]).lower() not in ("utf-8", "utf-8-sig"):
        parts.append(t("upl_read_encoding", lang).format(encoding=str(s["read_encoding"]).upper()))
    if s.get("read_cleaned"):
        parts.append(t("upl_read_cleaned", lang).format(n=len(s["read_cleaned"])) if lang == "zh"
                     else "cleaned: " + "; ".join(s["read_cleaned"]))
    return "; ".join(parts)


def notes(check, lang: str) -> str:
    """The notes column of the checks table, in ``lang``."""
    parts = [error_line(check, lang)] if check.error else []
    if summary_text(check, lang):
        parts.append(summary_text(check, lang))
    return "; ".join(parts + warnings_of(check, lang))


def rejected_table(check, lang: str, limit: int = 500) -> pd.DataFrame:
    """The rejected rows: row and reason, in ``lang`` (at most ``limit``)."""
    rows = check.rejected[:limit]
    return pd.DataFrame({t("val_row", lang): [r for r, _ in rows],
                         t("upl_reason", lang): [reason_text(why, lang) for _, why in rows]})
