"""What an uploaded file offers before it is read: its layers or sheets, its columns, its own
CRS and the columns the alias table finds for each role (the app's upload step asks these).

Files are only parsed (GDAL/pyogrio, pandas, openpyxl/xlrd, pyarrow, rasterio).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.uploads import hide_paths

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
ROLES_OF = {"network": (), "dem": (), "facilities": ("name", "category", "capacity", "id"),
            "demand": ("population", "id"), "candidates": ("name", "capacity", "id"),
            "pois": ("name", "category"), "centres": ("name",), "bases": ("name",)}


@dataclass
class FileInfo:
    """What a file offers before it is read.

    ``layers``: the layers (GeoPackage, zip) or sheets with data (Excel)
    to choose from, when there are several; ``layer``: the one described. ``columns``: its
    attribute columns. ``table``: coordinates are in columns (CSV/Excel). ``crs``: the
    file's own CRS as text (``crs_epsg`` its code, ``projected`` whether it is) and
    ``crs_datum`` as a datum for the readers ("wgs84", "cgcs2000" or "EPSG:<code>"); None
    without one. ``osm``/``raster``: read as they are.
    ``roles``: the column roles that apply to the kind; ``guess``: {role: column} from the
    alias table. ``problem``: why the file could not be looked into (the check says more).
    """

    kind: str
    layers: list[str] = field(default_factory=list)
    layer: str | None = None
    columns: list[str] = field(default_factory=list)
    table: bool = False
    crs: str | None = None
    crs_datum: str | None = None
    crs_epsg: int | None = None
    projected: bool = False
    osm: bool = False
    raster: bool = False
    roles: tuple[str, ...] = ()
    guess: dict[str, str] = field(default_factory=dict)
    problem: str = ""


def _zip_layers(path: Path) -> list[str]:
    """Names of the layers a zip holds, as the reader names them (``layer=``)."""
    import zipfile

    try:
        from layers.formats import _zip_layers as listed
    except ImportError:  # an older reader: shapefiles by stem
        with zipfile.ZipFile(path) as z:
            return [Path(n).stem for n in z.namelist() if n.lower().endswith(".shp")]
    with zipfile.ZipFile(path) as z:
        return [name for name, _, _ in listed(z)]


def _whole(path: Path, layer: str | None) -> tuple[list[str], object, bool]:
    """(columns, CRS, coordinates in columns) of a zip, KML/KMZ or GeoParquet layer, read as
    the reader reads it."""
    try:
        from layers.formats import open_source
    except ImportError:
        import pyogrio

        meta = pyogrio.read_info(path, layer=layer)
        return [str(c) for c in meta["fields"]], meta.get("crs"), False
    frame = open_source(path, layer=layer).frame
    geo = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    columns = [str(c) for c in frame.columns if not geo or c != frame.geometry.name]
    return columns, frame.crs if geo else None, not geo


def _sheets(path: Path) -> list[str]:
    """Sheets of a workbook with at least one filled cell."""
    if path.suffix.lower() == ".xls":
        import xlrd

        book = xlrd.open_workbook(str(path), on_demand=True)
        return [s.name for s in book.sheets() if s.nrows > 0]
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [ws.title for ws in book.worksheets
                if any(v not in (None, "") for row in ws.iter_rows(max_row=50, values_only=True)
                       for v in row)]
    finally:
        book.close()


def _table_columns(path: Path, sheet: str | None) -> list[str]:
    """Header of a CSV/TXT or Excel table (as the table reader finds it)."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    try:
        from layers import tables
    except ImportError:  # a plain reading: UTF-8 or GBK, the separator sniffed
        if suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, sheet_name=sheet or 0, nrows=5, dtype=str)
        else:
            text = data[: 1 << 18].decode("utf-8-sig", errors="ignore") if _utf8(data) \
                else data[: 1 << 18].decode("gb18030", errors="ignore")
            import io

            frame = pd.read_csv(io.StringIO(text), sep=None, engine="python", nrows=5, dtype=str)
        return [str(c).strip() for c in frame.columns]
    if suffix in (".xlsx", ".xls"):
        table = tables.read_excel_table(data, suffix=suffix, sheet=sheet)
    else:
        cut = data[: 1 << 18]
        if len(cut) < len(data) and b"\n" in cut:
            cut = cut[: cut.rindex(b"\n") + 1]
        table = tables.read_text_table(cut, suffix=suffix)
    return [str(c) for c in table.frame.columns]


def _utf8(data: bytes) -> bool:
    try:
        data[: 1 << 16].decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start > (1 << 16) - 4  # a character cut at the end


def _crs_of(info: FileInfo, crs) -> None:
    """Fill ``info``'s CRS: its name, EPSG code, and the datum the readers should be given."""
    from pyproj import CRS

    if crs is None or str(crs) == "":
        return
    try:
        c = CRS.from_user_input(crs)
    except Exception:  # pyproj.exceptions.CRSError: an unreadable .prj
        return
    info.crs_epsg = c.to_epsg(min_confidence=70)
    info.crs = f"{c.name} (EPSG:{info.crs_epsg})" if info.crs_epsg else c.name
    if c.is_geographic:
        info.crs_datum = "cgcs2000" if info.crs_epsg == 4490 else "wgs84"
    else:  # a projected .prj without a code is used as it is
        info.crs_datum = f"EPSG:{info.crs_epsg}" if info.crs_epsg else "wgs84"
    info.projected = not c.is_geographic


def _guess(columns: list[str], roles: tuple[str, ...]) -> dict[str, str]:
    """{role: column} by the alias table; roles two columns could fill are left out."""
    try:
        from layers.columns import ColumnChoiceError, resolve_columns
    except ImportError:
        lower = {c.strip().lower(): c for c in columns}
        names = {"lon": ("lon", "lng", "longitude", "x", "经度"),
                 "lat": ("lat", "latitude", "y", "纬度")}
        return {r: next(lower[n] for n in names.get(r, (r,)) if n in lower) for r in roles
                if any(n in lower for n in names.get(r, (r,)))}
    try:
        return resolve_columns(columns, roles=roles, ambiguous="skip")
    except ColumnChoiceError:
        return {}


def file_info(kind: str, path: str | Path, layer: str | None = None) -> FileInfo:
    """What ``path`` offers as a ``kind`` upload; never raises for a bad file (``problem``
    says why it could not be looked into)."""
    from layers.sources import RASTER_SUFFIXES, is_osm

    path = Path(path)
    info = FileInfo(kind)
    name = path.name.lower()
    if is_osm(path):
        info.osm = True
        return info
    if name.endswith(RASTER_SUFFIXES):
        info.raster = True
        try:
            from layers.validate import open_raster

            with open_raster(path) as src:
                _crs_of(info, src.crs.to_wkt() if src.crs else None)
        except Exception as exc:  # the check reports it with the file named
            info.problem = hide_paths(str(exc).splitlines()[0])
        return info
    info.table = name.endswith(TABLE_SUFFIXES)
    whole = name.endswith((".zip", ".kml", ".kmz", ".parquet", ".geoparquet"))
    try:
        if name.endswith((".xlsx", ".xls")):
            info.layers = _sheets(path)
        elif name.endswith(".zip"):
            info.layers = _zip_layers(path)
        elif not whole and not info.table:
            import pyogrio

            info.layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        info.layers = info.layers if len(info.layers) > 1 else []
        info.layer = layer if layer in info.layers else (info.layers[0] if info.layers else None)
        if info.table:
            info.columns = _table_columns(path, info.layer)
        elif whole:
            info.columns, crs, info.table = _whole(path, info.layer)
            _crs_of(info, crs)
        else:
            import pyogrio

            meta = pyogrio.read_info(path, layer=info.layer)
            info.columns = [str(c) for c in meta["fields"]]
            _crs_of(info, meta.get("crs"))
    except Exception as exc:  # unreadable: the check names the problem
        info.problem = hide_paths(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    info.roles = (("lon", "lat") if info.table else ()) + ROLES_OF.get(kind, ())
    info.guess = _guess(info.columns, (*info.roles, "location", "wkt") if info.table
                        else info.roles)
    if info.table and ("location" in info.guess or "wkt" in info.guess):
        info.roles = (*info.roles, *(r for r in ("location", "wkt") if r in info.guess))
    return info
