"""Read a user's table or GIS file into a checked GeoDataFrame in EPSG:4326.

The one entry is :func:`read_user_layer`. Opening the file (encodings, separators, Excel
sheets, zips, KML, GeoParquet) is :mod:`layers.formats`; which column is which
(aliases such as 经度/纬度, 名称, 类别, 人口) is :mod:`layers.columns`; safe value
cleaning (DMS, full-width digits, thousands separators) is :mod:`layers.clean`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.clean import parse_counts
from layers.columns import (
    ATTRIBUTE_ROLES,
    GEOMETRY_ROLES,
    NUMERIC_ROLES,
    ColumnChoiceError,
    candidates,
    columns_text,
    option,
    resolve_columns,
)
from layers.coords import convert_gdf, normalise_datum
from layers.datum_check import warn_if_shifted
from layers.formats import open_source
from layers.table_geometry import check_degrees, missing_geometry_message, table_points
from layers.tables import TableError
from layers.validate import LayerValidationError, Problems

log = logging.getLogger(__name__)

@dataclass
class LoadReport:
    """What happened while loading a user file.

    ``columns`` maps each role found (lon, lat, location, wkt, name, category, population,
    capacity, id) to the user's column; ``ambiguous`` the roles left out because columns
    tie for them (and the caller did not need them); ``cleaned`` has one line per cleaned
    column;
    ``skipped`` lists empty rows dropped; ``format``/``encoding``/``separator``/``layer``
    say how the file was read.
    """

    source: str
    datum: str
    rows_read: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    repaired: list[int] = field(default_factory=list)  # rows whose geometry make_valid fixed
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # role: tied columns, unused
    cleaned: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    format: str = ""
    encoding: str | None = None
    separator: str | None = None
    layer: str | None = None

    @property
    def rows_kept(self) -> int:
        return self.rows_read - len({row for row, _ in self.rejected})

    def summary(self) -> str:
        text = (f"{self.source}: {self.rows_read} rows read, {self.rows_kept} kept, "
                f"{len(self.rejected)} rejected, {len(self.repaired)} geometries repaired")
        how = [f"{k} {v!r}" for k, v in (("format", self.format), ("encoding", self.encoding),
                                          ("separator", self.separator),
                                          ("layer", self.layer)) if v]
        cols = ", ".join(f"{role} = '{col}'" for role, col in self.columns.items())
        return "\n".join([text, *([f"  read as {', '.join(how)}"] if how else []),
                          *([f"  columns: {cols}"] if cols else []),
                          *(f"  columns {', '.join(map(repr, c))} could each be the {r}; "
                            f"none used" for r, c in self.ambiguous.items()),
                          *([f"  {len(self.skipped)} empty row(s) skipped"]
                            if self.skipped else []),
                          *(f"  cleaned: {c}" for c in self.cleaned),
                          *(f"  row {r}: {why}" for r, why in self.rejected[:20]),
                          *(f"  warning: {w}" for w in self.warnings)])


def _source_crs(datum: str | int) -> tuple[str, CRS | None]:
    """Split a declared datum into a datum name for lon/lat data, or an explicit CRS."""
    text = str(datum).strip()
    if isinstance(datum, int) or text.upper().startswith("EPSG:") or text.isdigit():
        try:
            crs = CRS.from_user_input(int(text.split(":")[-1]))
        except Exception as exc:  # pyproj raises CRSError
            raise ValueError(f"unknown CRS {datum!r}: {exc}") from None
        if crs.equals(CRS.from_epsg(4326)) or crs.equals(CRS.from_epsg(4490)):
            return "wgs84", None
        return "epsg", crs
    return normalise_datum(text), None


def _check_geometries(gdf: gpd.GeoDataFrame, rows: list[int],
                      geometry_types: Sequence[str] | None,
                      already_bad: set[int]) -> tuple[list, list[int]]:
    """Repair invalid geometries in place; return (rejected, repaired).

    Rows in ``already_bad`` (e.g. unparseable coordinates) are not reported again.
    """
    geoms = gdf.geometry.values
    bad: list[tuple[int, str]] = []
    repaired: list[int] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    missing_new = missing & ~np.isin(np.asarray(rows), list(already_bad))
    for i in np.flatnonzero(missing_new):
        bad.append((rows[i], "no geometry"))
    invalid = ~missing & ~shapely.is_valid(geoms)
    fixed = geoms.copy()
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        new = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        if (new is None or new.is_empty
                or shapely.get_dimensions(new) != shapely.get_dimensions(geoms[i])):
            bad.append((rows[i], f"invalid geometry ({reason}) that make_valid cannot repair"))
        else:
            fixed[i] = new
            repaired.append(rows[i])
    gdf[gdf.geometry.name] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
    if geometry_types:
        kinds = gdf.geom_type.to_numpy()
        for i in np.flatnonzero(~missing & ~np.isin(kinds, list(geometry_types))):
            bad.append((rows[i], f"geometry is a {kinds[i]}, "
                                 f"expected {' or '.join(geometry_types)}"))
    return bad, repaired


def _columns(columns: Mapping[str, str] | None, lon_col: str | None,
             lat_col: str | None) -> dict[str, str]:
    out = {k: v for k, v in (columns or {}).items() if v}
    for role, col in (("lon", lon_col), ("lat", lat_col)):
        if col:
            out[role] = col
    return out


def _resolve(frame: pd.DataFrame, geo: bool, given: dict[str, str],
             required: Sequence[str]) -> dict[str, str]:
    """Roles of the frame's columns: geometry roles only for tables; ambiguity refused for
    lon/lat and for the roles the caller needs (required or named)."""
    names = [str(c) for c in frame.columns if not (geo and c == frame.geometry.name)]
    if geo:
        named = sorted(set(given) & set(GEOMETRY_ROLES))
        if named:
            raise ColumnChoiceError([f"{', '.join(option(r) for r in named)} apply to tables "
                                     "(CSV, Excel); this file has its own geometry"])
    roles = ATTRIBUTE_ROLES if geo else GEOMETRY_ROLES + ATTRIBUTE_ROLES
    strict = {"lon", "lat", *(r for r in ATTRIBUTE_ROLES if r in required)} - set(given)
    loose = resolve_columns(names, given, roles, ambiguous="skip")
    for role in strict & set(roles):  # the same resolution, refusing ties for these roles
        resolve_columns(names, {k: v for k, v in loose.items() if k != role}, [role])
    return loose


def _ties(frame: pd.DataFrame, geo: bool, mapping: dict[str, str]) -> dict[str, list[str]]:
    """Attribute roles left out because two or more columns tie for them."""
    names = [str(c) for c in frame.columns if not (geo and c == frame.geometry.name)]
    out = {}
    for role in ATTRIBUTE_ROLES:
        found = [(r, c) for r, c in candidates(names, role) if c not in mapping.values()]
        if role not in mapping and len(found) > 1 and found[0][0] == found[1][0]:
            out[role] = [c for r, c in found if r == found[0][0]]
    return out


def _numbers(gdf: gpd.GeoDataFrame, mapping: dict[str, str], needed: set[str],
             rows: list[int], report: LoadReport) -> list[tuple[int, str]]:
    """Clean the population/capacity columns to floats; bad values of needed ones are bad rows."""
    bad = []
    for role in NUMERIC_ROLES:
        if role not in mapping:
            continue
        col = role if role in gdf.columns and mapping[role] not in gdf.columns else mapping[role]
        raw = gdf[col]
        parsed = parse_counts(raw, mapping[role])
        unread = np.flatnonzero(~np.isfinite(parsed.values))
        text = raw.iloc[unread].astype("string").fillna("").str.strip().to_numpy(str)
        if role in needed:
            for i, value in zip(unread, text):
                why = "empty, a number is required" if value == "" else (
                    f"{value[:40]!r} is not a number")
                bad.append((rows[i], f"column '{mapping[role]}': {why}"))
        elif (text != "").any():
            continue  # a column the caller does not use: left as it is
        gdf[col] = parsed.values
        note = parsed.note(raw, rows)
        if note:
            report.cleaned.append(note)
    return bad


def _rename(gdf: gpd.GeoDataFrame, mapping: dict[str, str],
            keep: Sequence[str]) -> gpd.GeoDataFrame:
    """Give the columns of the attribute roles their canonical names, unless that name is
    taken or the caller asked for the column by its own name."""
    rename = {col: role for role, col in mapping.items() if role in ATTRIBUTE_ROLES
              and col != role and role not in gdf.columns and col not in keep}
    return gdf.rename(columns=rename)


def read_user_layer(path: str | Path, *, datum: str | int = "wgs84", layer: str | None = None,
                    columns: Mapping[str, str] | None = None,
                    lon_col: str | None = None, lat_col: str | None = None,
                    required_columns: Sequence[str] = (),
                    geometry_types: Sequence[str] | None = None,
                    on_bad_rows: str = "raise",
                    districts: gpd.GeoDataFrame | None = None,
                    district_column: str | None = None,
                    use_arrow: bool = False,
                    bbox: tuple | None = None) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read a planner's table or GIS file into a GeoDataFrame in EPSG:4326.

    Formats: CSV/TXT/TSV (UTF-8, UTF-8-BOM, UTF-16, GBK/GB18030; any of ``, ; tab |``),
    Excel ``.xlsx``/``.xls``, GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped at any
    depth, ``.cpg`` honoured, GBK detected), KML/KMZ, FlatGeobuf, GML, GeoParquet, and zips
    holding any of these. ``layer`` picks a GeoPackage layer, an Excel sheet or a zip member
    (``member`` or ``member:inner``) where there are several.

    Tables locate points by longitude/latitude columns, an Amap-style ``location`` column
    ("lon,lat") or a WKT column. ``columns`` maps roles (lon, lat, location, wkt, name,
    category, population, capacity, id) to the user's columns (``{"lon": "东经"}``;
    ``lon_col``/``lat_col`` are shorthands); other roles are found through
    ``data/gis/column_aliases.csv``. Attribute roles are renamed to their canonical name
    unless that name exists or the column is in ``required_columns``, which is checked after
    renaming (so ``population`` is satisfied by a 人口 column). Coordinates with degree signs,
    DMS, full-width digits and counts with thousands separators are cleaned and reported.

    ``datum`` is the source datum of the coordinates ({"wgs84", "cgcs2000", "gcj02",
    "bd09"} or an EPSG code such as "EPSG:4545", CGCS2000 Gauss-Kruger CM 108E); a CRS in
    the file (``.prj``, GeoPackage) is used when no code is declared. Swapped longitude and
    latitude, and planar numbers without a CRS, are refused with the fix.
    Rows whose coordinates, counts or geometry cannot be used are raised together as a
    :class:`~layers.LayerValidationError` (``on_bad_rows="raise"``) or dropped and listed
    in the report (``"drop"``). Invalid geometries that ``make_valid`` repairs are kept
    and counted. With ``districts`` given, a layer that looks offset by GCJ-02/BD-09
    gets a :class:`~layers.DatumShiftWarning`.

    ``use_arrow`` reads vector files through Arrow (pyogrio ``use_arrow=True``); ``bbox`` (in
    the layer's CRS) reads only the features of a GIS file that meet it.

    Returns the frame (its index is the row number reported in errors: text line, Excel
    row or feature number) and a :class:`LoadReport`.
    """
    path = Path(path)
    problems = Problems(str(path))

    def refuse(*lines: str):
        problems.items.extend(lines)
        problems.raise_if_any()

    if on_bad_rows not in ("raise", "drop"):
        raise ValueError(f"on_bad_rows must be 'raise' or 'drop', got {on_bad_rows!r}")
    try:
        kind, crs = _source_crs(datum)
    except ValueError as exc:
        refuse(str(exc))
    if not path.exists():
        refuse("file not found")
    if path.is_dir() or path.stat().st_size == 0:
        refuse("the file is empty" if path.is_file() else "is a folder, not a file")
    given = _columns(columns, lon_col, lat_col)
    try:
        table = open_source(path, layer=layer, use_arrow=use_arrow, bbox=bbox)
    except TableError as exc:
        refuse(str(exc))
    frame = table.frame
    report = LoadReport(str(path), str(datum), rows_read=len(frame), format=table.format,
                        encoding=table.encoding, separator=table.separator, layer=table.layer,
                        skipped=table.skipped)
    if len(frame) == 0 and bbox is not None:  # a piece of a large file: nothing there
        return gpd.GeoDataFrame(geometry=[], crs=4326), report
    if len(frame) == 0:
        refuse("the file has no rows")
    geo = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    try:
        mapping = _resolve(frame, geo, given, required_columns)
    except ColumnChoiceError as exc:
        refuse(*exc.problems)
    rows = list(table.rows)
    bad: list[tuple[int, str]] = []
    used: list[str] = []
    source = "vector"
    if geo:
        gdf = frame
    else:
        located = {r: mapping[r] for r in ("lon", "lat") if r in mapping}
        if len(located) < 2:
            located = next(({r: mapping[r]} for r in ("location", "wkt") if r in mapping),
                           located)
        if not ({"lon", "lat"} <= set(located) or {"location"} & set(located)
                or {"wkt"} & set(located)):
            refuse(missing_geometry_message(mapping, [str(c) for c in frame.columns]))
        geom, bad, used, source = table_points(frame, rows, located, report.cleaned)
        for role in GEOMETRY_ROLES:
            if role in mapping and mapping[role] not in used:
                del mapping[role]  # found but not used (lon/lat win over location and WKT)
        gdf = gpd.GeoDataFrame(frame.drop(columns=used), geometry=gpd.GeoSeries(geom))
    report.columns = dict(mapping)
    report.ambiguous = _ties(frame, geo, mapping)
    needed = {r for r in NUMERIC_ROLES if r in mapping and (
        r in required_columns or mapping[r] in required_columns or r in given)}
    gdf = _rename(gdf, mapping, required_columns)
    bad += _numbers(gdf, mapping, needed, rows, report)
    missing_cols = [c for c in required_columns if c not in gdf.columns]
    if missing_cols:
        hint = [option(c) for c in missing_cols if c in ATTRIBUTE_ROLES]
        refuse(f"missing column(s) {', '.join(missing_cols)}; found "
               f"{columns_text(c for c in gdf.columns if c != gdf.geometry.name)}"
               + (f"; name it with {', '.join(hint)}" if hint else ""))
    gdf.index = pd.Index(rows, name="row")

    # Coordinate reference: declared datum or CRS against what the file says.
    file_crs = gdf.crs
    if kind == "epsg":
        if file_crs is not None and not CRS(file_crs).equals(crs):
            refuse(f"the file says its CRS is {CRS(file_crs).to_string()}, "
                   f"but datum {datum!r} was declared")
        gdf = gdf.set_crs(crs, allow_override=True)
    elif file_crs is not None and not CRS(file_crs).is_geographic:
        if kind != "wgs84":
            refuse(f"the file is projected ({CRS(file_crs).name}); {kind.upper()} applies "
                   "only to longitude/latitude data")
    else:
        gdf = gdf.set_crs(4326, allow_override=True)
    if gdf.crs.is_geographic:
        layer_problems, bad_xy = check_degrees(gdf, rows, used, source)
        if layer_problems:
            refuse(*layer_problems)
        bad += bad_xy

    bad_geom, report.repaired = _check_geometries(gdf, rows, geometry_types,
                                                  {r for r, _ in bad})
    bad = sorted(set(bad) | set(bad_geom))
    if bad and on_bad_rows == "raise":
        raise LayerValidationError(str(path), [f"row {r}: {why}" for r, why in bad])
    report.rejected = bad
    gdf = gdf.drop(index=sorted({r for r, _ in bad}))
    if len(gdf) == 0:
        refuse("no usable rows: every row was rejected")

    if kind in ("gcj02", "bd09"):
        gdf = convert_gdf(gdf, kind, "wgs84")
    elif gdf.crs is not None and not gdf.crs.equals(CRS.from_epsg(4326)):
        gdf = gdf.to_crs(4326)
    if districts is not None and kind == "wgs84":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_if_shifted(gdf, districts, str(path), district_column=district_column)
        for w in caught:
            report.warnings.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, __file__, 0)
    return gdf, report
