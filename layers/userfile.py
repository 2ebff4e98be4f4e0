"""Read a user's vector or CSV file into a checked GeoDataFrame in EPSG:4326."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.coords import convert_gdf, normalise_datum
from layers.datum_check import warn_if_shifted
from layers.validate import LayerValidationError, Problems, file_row

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".fgb", ".gml")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")


@dataclass
class LoadReport:
    """What happened while loading a user file."""

    source: str
    datum: str
    rows_read: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    repaired: list[int] = field(default_factory=list)  # rows whose geometry make_valid fixed
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_kept(self) -> int:
        return self.rows_read - len({row for row, _ in self.rejected})

    def summary(self) -> str:
        text = (f"{self.source}: {self.rows_read} rows read, {self.rows_kept} kept, "
                f"{len(self.rejected)} rejected, {len(self.repaired)} geometries repaired")
        return "\n".join([text, *(f"  row {r}: {why}" for r, why in self.rejected[:20]),
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


def _pick(columns: Sequence[str], wanted: str | None, names: Sequence[str]) -> str | None:
    if wanted is not None:
        return wanted if wanted in columns else None
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _read_csv(path: Path, problems: Problems, lon_col: str | None,
              lat_col: str | None) -> tuple[gpd.GeoDataFrame, list[int], list[tuple[int, str]]]:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    df = None
    for encoding in ("utf-8-sig", "gb18030"):  # UTF-8, then the GBK family common in China
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            problems.add("the file has no header and no rows")
        except pd.errors.ParserError as exc:
            problems.add(f"not a readable CSV file: {exc}")
        problems.raise_if_any()
    if df is None:
        problems.add("text is neither UTF-8 nor GBK/GB18030")
        problems.raise_if_any()
    lon = _pick(list(df.columns), lon_col, LON_NAMES)
    lat = _pick(list(df.columns), lat_col, LAT_NAMES)
    for name, found, wanted in (("longitude", lon, lon_col), ("latitude", lat, lat_col)):
        if found is None:
            hint = f"'{wanted}'" if wanted else " or ".join(
                repr(n) for n in (LON_NAMES if name == "longitude" else LAT_NAMES))
            problems.add(f"missing {name} column: expected {hint}; "
                         f"found {', '.join(map(str, df.columns))}")
    problems.raise_if_any()
    rows = [file_row(i) for i in range(len(df))]
    x = pd.to_numeric(df[lon].str.strip(), errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[lat].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad: list[tuple[int, str]] = []
    for i in np.flatnonzero(~np.isfinite(x) | ~np.isfinite(y)):
        bad.append((rows[i], f"coordinates ({df[lon].iloc[i]!r}, {df[lat].iloc[i]!r}) "
                             f"in columns '{lon}', '{lat}' are not numbers"))
    ok = np.isfinite(x) & np.isfinite(y)
    geom = np.full(len(df), None, dtype=object)
    geom[ok] = shapely.points(x[ok], y[ok])
    return gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=geom), rows, bad


def _read_vector(path: Path, problems: Problems, layer: str | None,
                 use_arrow: bool = False) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        problems.add(f"cannot be read as a vector file: {str(exc).splitlines()[0]}")
        problems.raise_if_any()
    names = [str(n) for n in layers[:, 0]]
    if layer is None and len(names) > 1:
        problems.add(f"holds {len(names)} layers ({', '.join(names)}); say which one to read")
        problems.raise_if_any()
    if layer is not None and layer not in names:
        problems.add(f"has no layer {layer!r}; it has {', '.join(names)}")
        problems.raise_if_any()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(path, layer=layer or names[0], engine="pyogrio",
                                 use_arrow=use_arrow)
    except Exception as exc:
        problems.add(f"cannot be read as a vector file: {str(exc).splitlines()[0]}")
        problems.raise_if_any()
    raise AssertionError("unreachable")


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
        if new is None or new.is_empty or shapely.get_dimensions(new) != shapely.get_dimensions(geoms[i]):
            bad.append((rows[i], f"invalid geometry ({reason}) that make_valid cannot repair"))
        else:
            fixed[i] = new
            repaired.append(rows[i])
    gdf[gdf.geometry.name] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
    if geometry_types:
        kinds = gdf.geom_type.to_numpy()
        for i in np.flatnonzero(~missing & ~np.isin(kinds, list(geometry_types))):
            bad.append((rows[i], f"geometry is a {kinds[i]}, expected {' or '.join(geometry_types)}"))
    return bad, repaired


def read_user_layer(path: str | Path, *, datum: str | int = "wgs84", layer: str | None = None,
                    lon_col: str | None = None, lat_col: str | None = None,
                    required_columns: Sequence[str] = (),
                    geometry_types: Sequence[str] | None = None,
                    on_bad_rows: str = "raise",
                    districts: gpd.GeoDataFrame | None = None,
                    district_column: str | None = None,
                    use_arrow: bool = False) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read a GeoJSON, GeoPackage, Shapefile, KML or CSV (lon/lat columns) file.

    ``datum`` is the source datum of the coordinates ({"wgs84", "cgcs2000", "gcj02",
    "bd09"} or an EPSG code such as "EPSG:4545", CGCS2000 Gauss-Kruger CM 108E);
    the result is always EPSG:4326.
    Rows whose coordinates or geometry cannot be used are raised together as a
    :class:`~layers.LayerValidationError` (``on_bad_rows="raise"``) or dropped and listed
    in the report (``"drop"``). Invalid geometries that ``make_valid`` repairs are kept
    and counted. With ``districts`` given, a layer that looks offset by GCJ-02/BD-09
    gets a :class:`~layers.DatumShiftWarning`.

    ``use_arrow`` reads vector files through Arrow (pyogrio ``use_arrow=True``: columns
    arrive whole, several times faster on large files; text columns are pandas strings).

    Returns the frame (its index is the row number reported in errors) and a
    :class:`LoadReport`.
    """
    path = Path(path)
    problems = Problems(str(path))
    if on_bad_rows not in ("raise", "drop"):
        raise ValueError(f"on_bad_rows must be 'raise' or 'drop', got {on_bad_rows!r}")
    try:
        kind, crs = _source_crs(datum)
    except ValueError as exc:
        problems.add(str(exc))
        problems.raise_if_any()
    if not path.exists():
        problems.add("file not found")
        problems.raise_if_any()
    if path.is_dir() or path.stat().st_size == 0:
        problems.add("the file is empty" if path.is_file() else "is a folder, not a file")
        problems.raise_if_any()
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        gdf, rows, bad = _read_csv(path, problems, lon_col, lat_col)
    elif suffix in VECTOR_SUFFIXES:
        gdf = _read_vector(path, problems, layer, use_arrow)
        rows = list(range(1, len(gdf) + 1))
        bad = []
    else:
        problems.add(f"unsupported file type {suffix or '(none)'}: use one of "
                     f"{', '.join(CSV_SUFFIXES + VECTOR_SUFFIXES)}")
        problems.raise_if_any()
    report = LoadReport(str(path), str(datum), rows_read=len(gdf))
    if len(gdf) == 0:
        problems.add("the file has no rows")
        problems.raise_if_any()
    missing_cols = [c for c in required_columns if c not in gdf.columns]
    if missing_cols:
        problems.add(f"missing column(s) {', '.join(missing_cols)}; "
                     f"found {', '.join(c for c in map(str, gdf.columns) if c != gdf.geometry.name)}")
        problems.raise_if_any()
    gdf.index = pd.Index(rows, name="row")

    # Coordinate reference: declared datum or CRS against what the file says.
    file_crs = gdf.crs
    if kind == "epsg":
        if file_crs is not None and not CRS(file_crs).equals(crs):
            problems.add(f"the file says its CRS is {CRS(file_crs).to_string()}, "
                         f"but datum {datum!r} was declared")
            problems.raise_if_any()
        gdf = gdf.set_crs(crs, allow_override=True)
    elif file_crs is not None and not CRS(file_crs).is_geographic:
        if kind != "wgs84":
            problems.add(f"the file is projected ({CRS(file_crs).name}); {kind.upper()} applies "
                         "only to longitude/latitude data")
            problems.raise_if_any()
    else:
        gdf = gdf.set_crs(4326, allow_override=True)
    if gdf.crs.is_geographic:
        xy = shapely.get_coordinates(gdf.geometry.values)
        if len(xy) and (np.abs(xy[:, 0]).max() > 180 or np.abs(xy[:, 1]).max() > 90):
            problems.add("coordinates exceed ±180/±90, so they are not degrees: declare the "
                         "projected CRS as datum='EPSG:<code>' (in Chongqing CGCS2000 3-degree "
                         "Gauss-Kruger: EPSG:4544 CM 105E, 4545 CM 108E, 4546 CM 111E)")
            problems.raise_if_any()

    bad_geom, report.repaired = _check_geometries(gdf, rows, geometry_types,
                                                  {r for r, _ in bad})
    bad = sorted(set(bad) | set(bad_geom))
    if bad and on_bad_rows == "raise":
        raise LayerValidationError(str(path), [f"row {r}: {why}" for r, why in bad])
    report.rejected = bad
    gdf = gdf.drop(index=[r for r, _ in bad])
    if len(gdf) == 0:
        problems.add("no usable rows: every row was rejected")
        problems.raise_if_any()

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
