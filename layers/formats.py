"""Opening a user's file whatever its format: text and Excel tables, GIS files, zips.

:func:`open_source` looks at the first bytes before the extension (an Excel workbook named
``.csv`` is still a workbook) and returns a :class:`~layers.tables.Table`: text cells for
CSV/TXT/Excel and plain Parquet, a GeoDataFrame for GIS files (GeoJSON, GeoPackage,
Shapefile, KML/KMZ through :mod:`layers.kml`, FlatGeobuf, GML, GeoParquet). A zip (a KMZ
too) is searched at any depth for the layers it holds (shapefiles with their side files,
tables, other GIS files); ``layer`` chooses among several (``name`` or ``name:inner`` for
a sheet or a GeoPackage layer). A shapefile without ``.cpg`` has the encoding of its
``.dbf`` text detected (UTF-8 or GBK/GB18030) instead of GDAL's Latin-1 guess. Problems
raise :class:`~layers.tables.TableError` with one short line.
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pandas as pd

from layers.kml import read_kml
from layers.tables import Table, TableError, gb_plausible, read_excel_table, read_text_table

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".kml", ".kmz", ".fgb", ".gml")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")
SUFFIXES = TEXT_SUFFIXES + EXCEL_SUFFIXES + VECTOR_SUFFIXES + PARQUET_SUFFIXES + (".zip",)
SHAPE_SIDES = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
MAX_UNZIPPED = 4 << 30  # bytes a chosen zip member may expand to


def sniff_kind(path: Path, head: bytes) -> str:
    """'zip', 'xlsx', 'xls', 'gpkg', 'parquet', 'text', 'vector' or 'unknown'."""
    suffix = path.suffix.lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return "xlsx" if suffix in EXCEL_SUFFIXES else "zip"
        return "xlsx" if "xl/workbook.xml" in names else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PAR1"):
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx" if suffix != ".xls" else "xls"
    for kind, group in (("text", TEXT_SUFFIXES), ("vector", VECTOR_SUFFIXES),
                        ("parquet", PARQUET_SUFFIXES), ("zip", (".zip",))):
        if suffix in group:
            return kind
    return "unknown"


def open_source(path: Path, *, layer: str | None = None, use_arrow: bool = False,
                bbox: tuple | None = None) -> Table:
    """Read ``path`` into a :class:`Table` (see the module docstring); ``bbox`` (in the
    layer's CRS) reads only the features of a GIS file that meet it (its spatial index)."""
    with open(path, "rb") as f:
        head = f.read(16)
    kind = sniff_kind(path, head)
    suffix = path.suffix.lower()
    if kind == "unknown":
        raise TableError(f"unsupported file type {suffix or '(none)'}: use one of "
                         f"{', '.join(SUFFIXES)}")
    if kind == "text":
        return read_text_table(path.read_bytes(), suffix=suffix)
    if kind in ("xlsx", "xls"):
        return read_excel_table(path.read_bytes(), suffix=f".{kind}", sheet=layer)
    if kind == "zip":
        return _read_zip(path, layer, use_arrow)
    if kind == "parquet":
        return _read_parquet(path)
    if suffix == ".kml":
        frame = read_kml(path.read_bytes(), layer)
        return Table(frame, list(range(1, len(frame) + 1)), "kml", layer=layer)
    return _read_vector(path, layer, use_arrow, bbox)


# --- zips ---------------------------------------------------------------------------------


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's path, undoing the cp437 reading of GBK names zipped on Chinese Windows."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _zip_layers(zf: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo, list[zipfile.ZipInfo]]]:
    """``(name, member, side files)`` of every readable layer in the zip."""
    members = [(PurePosixPath(_member_name(i)), i) for i in zf.infolist() if not i.is_dir()]
    members = [(p, i) for p, i in members if not any(part.startswith(("__MACOSX", "."))
                                                     for part in p.parts)]
    found = []
    for p, info in members:
        suffix = p.suffix.lower()
        if suffix not in SUFFIXES or suffix in (".zip",):
            continue
        sides = []
        if suffix == ".shp":
            stem = str(p.with_suffix("")).casefold()
            sides = [i for q, i in members if str(q.with_suffix("")).casefold() == stem
                     and q.suffix.lower() in SHAPE_SIDES]
        found.append((p, info, sides))
    stems = [p.stem for p, _, _ in found]
    return [(p.stem if stems.count(p.stem) == 1 else str(p), info, sides)
            for p, info, sides in found]


def zip_layer_names(path: Path) -> list[str]:
    """Names of the layers a zip holds, as ``layer=`` takes them (a member's stem, or its
    path where two members share a stem)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [name for name, _, _ in _zip_layers(zf)]
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableError(f"is not a readable zip file: {str(exc)[:120]}") from None


def _choose(names: list[str], layer: str | None, what: str) -> tuple[int, str | None]:
    """Index of the chosen entry and the inner layer to pass on."""
    if layer is not None:
        for candidate, inner in ((layer, None), *([tuple(layer.split(":", 1))]
                                                  if ":" in layer else [])):
            if candidate in names:
                return names.index(candidate), inner
        if len(names) == 1:
            return 0, layer
        raise TableError(f"has no {what} {layer!r}; it holds {', '.join(names)}")
    if len(names) > 1:
        raise TableError(f"holds {len(names)} layers ({', '.join(names)}); say which one to "
                         "read (--layer NAME)")
    return 0, None


def _read_zip(path: Path, layer: str | None, use_arrow: bool) -> Table:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableError(f"is not a readable zip file: {str(exc)[:120]}") from None
    with zf, tempfile.TemporaryDirectory(prefix="geo-app-zip-") as tmp:
        layers = _zip_layers(zf)
        if not layers:
            found = [PurePosixPath(_member_name(i)).name for i in zf.infolist()
                     if not i.is_dir()][:12]
            raise TableError(f"the zip holds no table or GIS layer (found "
                             f"{', '.join(found) or 'nothing'}); supported: "
                             f"{', '.join(s for s in SUFFIXES if s != '.zip')}")
        index, inner = _choose([n for n, _, _ in layers], layer, "layer")
        name, info, sides = layers[index]
        chosen = [info, *sides]
        if sum(i.file_size for i in chosen) > MAX_UNZIPPED:
            raise TableError(f"layer {name!r} expands to more than {MAX_UNZIPPED >> 30} GB")
        target = None
        for member in chosen:
            out = Path(tmp) / PurePosixPath(_member_name(member)).name
            with zf.open(member) as src, open(out, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            if member is info:
                target = out
        try:
            table = open_source(target, layer=inner, use_arrow=use_arrow)
        except TableError as exc:
            raise TableError(f"{_member_name(info)} in the zip: "
                             f"{str(exc).replace(str(tmp) + '/', '')}") from None
        if len(layers) > 1 or table.layer is None:
            table.layer = name if table.layer is None else f"{name}:{table.layer}"
        return table


# --- GIS files ------------------------------------------------------------------------------


def dbf_encoding(dbf: Path) -> str | None:
    """Encoding of a ``.dbf``'s field names and text ('UTF-8', 'GB18030'), or None when it
    is plain ASCII or not recognised (GDAL's own choice then stands)."""
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    header_len = int.from_bytes(data[8:10], "little")
    names = b"".join(data[i:i + 11] for i in range(32, min(header_len, len(data)) - 1, 32))
    text = names.replace(b"\x00", b"") + data[header_len:]
    if text.isascii():
        return None
    try:
        text.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return "GB18030" if gb_plausible(text.decode("gb18030")) else None
    except UnicodeDecodeError:
        return None


def _shape_encoding(path: Path) -> str | None:
    if path.suffix.lower() != ".shp":
        return None
    siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{path.stem}.*")
                if p.stem == path.stem}
    if ".cpg" in siblings or ".dbf" not in siblings:
        return None
    return dbf_encoding(siblings[".dbf"])


def _read_one(path: Path, layer: str, use_arrow: bool, encoding: str | None,
              bbox: tuple | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        kwargs = {"encoding": encoding} if encoding else {}
        if bbox is not None:
            kwargs["bbox"] = tuple(bbox)
        return gpd.read_file(path, layer=layer, engine="pyogrio", use_arrow=use_arrow, **kwargs)


def _first_line(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _read_vector(path: Path, layer: str | None, use_arrow: bool,
                 bbox: tuple | None = None) -> Table:
    import pyogrio

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        raise TableError(f"cannot be read as a vector file: {_first_line(exc)}") from None
    if not names:
        raise TableError("the file holds no layer")
    if layer is not None and layer not in names:
        raise TableError(f"has no layer {layer!r}; it has {', '.join(names)}")
    if layer is None and len(names) > 1:
        raise TableError(f"holds {len(names)} layers ({', '.join(names)}); say which one to "
                         "read (--layer NAME)")
    encoding = _shape_encoding(path)
    try:
        frame = _read_one(path, layer or names[0], use_arrow, encoding, bbox)
    except Exception as exc:
        raise TableError(f"cannot be read as a vector file: {_first_line(exc)}") from None
    rows = list(range(1, len(frame) + 1))
    info = Table(frame, rows, "vector", encoding=encoding,
                 layer=layer if layer is not None else (names[0] if len(names) == 1 else None))
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        return _as_text_table(pd.DataFrame(frame), info)
    return info


def _as_text_table(frame: pd.DataFrame, table: Table) -> Table:
    """A table without geometry (a CSV read by GDAL, an attribute table): cells as text."""
    text = frame.drop(columns=[c for c in ("geometry",) if c in frame.columns])
    table.frame = text.astype(object).where(text.notna(), "").astype(str)
    table.format = "table"
    return table


def _read_parquet(path: Path) -> Table:
    try:
        frame = gpd.read_parquet(path)
        return Table(frame, list(range(1, len(frame) + 1)), "geoparquet")
    except ValueError as exc:  # a plain Parquet table has no 'geo' metadata
        if "geo" not in str(exc).lower():
            raise TableError(f"cannot be read as GeoParquet: {_first_line(exc)}") from None
    except Exception as exc:
        raise TableError(f"cannot be read as Parquet: {_first_line(exc)}") from None
    frame = pd.read_parquet(path)
    return Table(frame, list(range(1, len(frame) + 1)), "parquet")
