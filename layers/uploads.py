"""Checking an uploaded file with the loader the app will use, and reporting every
rejected row, suspected datum shifts and what the file holds (what a file offers before
it is read: :mod:`layers.upload_info`).

Files are only parsed (GDAL/pyogrio, pandas CSV, openpyxl/xlrd, rasterio, pyrosm, OSMnx
XML); nothing in them is executed.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

KINDS = ("network", "facilities", "demand", "candidates", "pois", "centres", "bases", "dem")
_NEAR_CHONGQING_DEG = 0.1  # layers within this margin of the districts' bounds are checked
MAX_UNMATCHED = 100  # category values listed for the mapping table
_PATH = re.compile(r"(?<![\w.:/])(?:/vsi\w+/)?(?:/[^/\s'\"]+)+/([^/\s'\"]+)")


@dataclass
class UploadCheck:
    """What loading one file gave.

    ``ok``: the layer loads (rows listed in ``rejected`` dropped, where the loader can
    drop rows). ``rejected``: (row, reason); rows are file rows (CSV: the header is row
    1) or feature numbers from 1. ``summary``: counts (network ``nodes``, ``edges``,
    ``street_km``; demand ``population`` persons and ``estimate``; facilities and POIs
    ``per_category``; facilities ``unmatched``: {value: rows} of category values that match
    no basket category before ``category_map``; DEM ``size``, ``cell_m``, ``z_min``,
    ``z_max``). ``bounds``: (west, south, east, north) in degrees, WGS-84.
    ``error``: why the file cannot be used at all, and ``problems`` its lines. Messages
    name the file, never the folder it was saved in. ``warning_keys``: (label key or
    None, values) of each warning, for showing it in the session's language.
    ``data``: the loaded layer.
    """

    kind: str
    path: Path
    ok: bool = False
    rows_read: int = 0
    rows_kept: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    bounds: tuple[float, float, float, float] | None = None
    error: str = ""
    problems: list[str] = field(default_factory=list)
    warning_keys: list[tuple[str | None, dict]] = field(default_factory=list)
    data: object = field(default=None, repr=False, compare=False)


def hide_paths(text: str) -> str:
    """``text`` with every absolute path shortened to its file name (no server folders)."""
    return _PATH.sub(lambda m: m.group(1), str(text))


def _opts(layer, columns) -> dict:
    """The reader options that are set (readers without them still work)."""
    out = {}
    if layer:
        out["layer"] = layer
    if columns:
        out["columns"] = dict(columns)
    return out


def _pre_read(check: UploadCheck, datum, required=(), geometry_types=None, opts=None):
    """Read a user file leniently to list rejected rows; ``None`` for OSM files and rasters."""
    from layers.sources import RASTER_SUFFIXES, is_osm
    from layers.userfile import read_user_layer

    if is_osm(check.path) or check.path.name.lower().endswith(RASTER_SUFFIXES):
        return None
    gdf, report = read_user_layer(check.path, datum=datum, required_columns=required,
                                  geometry_types=geometry_types, on_bad_rows="drop",
                                  **(opts or {}))
    check.rows_read, check.rejected = report.rows_read, list(report.rejected)
    for name in ("columns", "encoding", "cleaned"):  # how the reader read it, where it says
        if getattr(report, name, None):
            check.summary[f"read_{name}"] = getattr(report, name)
    return gdf


def _number_problems(gdf: gpd.GeoDataFrame, column: str) -> list[tuple[int, str]]:
    """Rows whose ``column`` is not a number ≥ 0 (as :func:`layers.demand.read_demand_file`
    rejects them)."""
    value = pd.to_numeric(gdf[column].astype("string").str.strip(), errors="coerce")
    bad = value.isna() | (value < 0)
    return [(int(r), f"column '{column}': expected a number ≥ 0, got {gdf.at[r, column]!r}")
            for r in gdf.index[bad]]


def _unmatched(raw: gpd.GeoDataFrame | None) -> dict[str, int]:
    """{value: rows} of category values that name no basket category (by key, name or
    alias), before a planner's mapping."""
    from layers.facilities import load_basket, map_categories

    if raw is None or "category" not in raw.columns:
        return {}
    values = raw["category"].astype("string").str.strip().fillna("")
    _, unknown = map_categories(values[values != ""], load_basket())
    return {str(v): int(n) for v, n in unknown.head(MAX_UNMATCHED).items()}


def _network(check: UploadCheck, datum, layer):
    from layers.network import read_network
    from layers.sources import is_osm

    path, raw = check.path, None
    if not is_osm(path):
        raw = _pre_read(check, datum, opts=_opts(layer, None))
        kinds = set(raw.geom_type)
        if not kinds & {"LineString", "MultiLineString"}:
            raise ValueError(f"{path.name}: not a street network: expected road centre-lines "
                             f"(lines) or an OSM file (.osm.pbf/.osm); it holds "
                             f"{', '.join(sorted(kinds))}")
    if layer and raw is not None:  # the chosen layer alone, already in WGS-84
        from geo_app.io.export import write_gpkg_layers

        path = write_gpkg_layers({"layer": raw.reset_index(drop=True)},
                                 check.path.with_name(f"{check.path.stem}.{_slug(layer)}.gpkg"))
        datum = "wgs84"
    net = read_network(path, datum=datum)
    check.summary.update({"nodes": len(net.nodes), "edges": len(net.edges),
                          "street_km": round(float(net.edges["length_m"].sum()) / 1000, 1)})
    check.rows_read = check.rows_read or len(net.edges)
    check.rows_kept = check.rows_read - len({r for r, _ in check.rejected})
    return net, net.edges, raw


def _slug(text: str) -> str:
    return re.sub(r"[^\w-]", "_", str(text))[:40] or "layer"


def _dem(check: UploadCheck):
    """A DEM raster: its footprint (the layer), size, cell size and elevation range."""
    import rasterio
    import shapely
    from rasterio.warp import transform_bounds

    from layers.validate import open_raster

    with open_raster(check.path) as src:
        if src.count < 1:
            raise ValueError(f"{check.path.name}: the raster has no band")
        crs = src.crs or "EPSG:4326"
        bounds = transform_bounds(crs, "EPSG:4326", *src.bounds) if src.crs else src.bounds
        step = max(1, int(np.ceil(max(src.width, src.height) / 1000)))
        band = src.read(1, masked=True, out_shape=(max(1, src.height // step),
                                                   max(1, src.width // step)),
                        resampling=rasterio.enums.Resampling.nearest).astype(float)
        z = band.compressed()
        cell = abs(src.transform.a)
        if src.crs is None or src.crs.is_geographic:
            cell *= 111_320.0 * np.cos(np.radians((bounds[1] + bounds[3]) / 2))
        check.summary = {"size": (src.width, src.height), "cell_m": round(float(cell), 1),
                         "z_min": round(float(z.min()), 1) if len(z) else None,
                         "z_max": round(float(z.max()), 1) if len(z) else None}
    if not len(z):
        raise ValueError(f"{check.path.name}: every cell of the DEM is no-data")
    check.rows_read = check.rows_kept = 1
    footprint = gpd.GeoDataFrame({"name": [check.path.name]},
                                 geometry=[shapely.box(*bounds)], crs=4326)
    return footprint, footprint, None


def _load(check: UploadCheck, datum, category_column: str, name_column: str, layer=None,
          columns=None, category_map=None):
    """Load with the app's loader; fill rows and summary; return (data, layer, raw frame of
    user files for the datum check)."""
    from layers.sources import RASTER_SUFFIXES, is_osm, load_demand, load_facilities

    path, kind = check.path, check.kind
    opts = _opts(layer, columns)
    if kind == "network":
        return _network(check, datum, layer)
    if kind == "dem":
        return _dem(check)
    if kind == "demand":
        from layers.demand import read_demand_file

        raw = _pre_read(check, datum, required=("population",), opts=opts)
        if raw is None:
            layer_ = load_demand("buildings", network=path) if is_osm(path) else load_demand(path)
        else:
            check.rejected += _number_problems(raw, "population")
            layer_ = read_demand_file(path, datum=datum, on_bad_rows="drop", **opts)
        estimate = bool(layer_["estimate"].any())
        if raw is not None and "estimate" in raw.columns:  # the loader does not keep the flag
            estimate = bool(raw["estimate"].astype(str).str.lower().isin(["1", "true"]).any())
        check.summary.update({"population": round(float(layer_["population"].sum())),
                              "estimate": estimate, "points": len(layer_)})
        if raw is None or path.name.lower().endswith(RASTER_SUFFIXES):
            check.rows_read = len(layer_)
    elif kind == "facilities":
        from layers.facilities import read_user_facilities

        raw = _pre_read(check, datum, required=("category",), opts=opts)
        extra = {"category_map": dict(category_map)} if category_map else {}
        layer_ = load_facilities(path) if raw is None else read_user_facilities(
            path, datum=datum, on_bad_rows="drop", **extra, **opts)
        check.summary["unmatched"] = _unmatched(raw)
    elif kind == "pois":
        from layers.pois import read_osm_pois, read_user_pois

        wanted = "category" if columns and columns.get("category") else category_column
        raw = _pre_read(check, datum, required=(wanted,), opts=opts)
        layer_ = read_osm_pois(path) if raw is None else read_user_pois(
            path, category_column=wanted, datum=datum, **opts)
        check.summary["with_sector"] = int((layer_["sector_9611"] != "").sum())
    elif kind == "candidates":
        from geo_app.workflows.siting import osm_candidates, read_sites

        raw = _pre_read(check, datum, opts=opts)
        layer_ = osm_candidates(path) if raw is None else read_sites(path, datum=datum, **opts)
    else:  # centres, bases: named points
        wanted = "name" if columns and columns.get("name") else name_column
        raw = _pre_read(check, datum, required=(wanted,), geometry_types=("Point",), opts=opts)
        if raw is None:
            raise ValueError(f"{path.name}: {kind} are read from a table or vector file "
                             f"of points with a '{wanted}' column")
        layer_ = raw
    if raw is None:
        check.rows_read = check.rows_read or len(layer_)
    if "category" in layer_.columns:
        check.summary["per_category"] = layer_["category"].value_counts().to_dict()
    check.summary.setdefault("points", len(layer_))
    check.rows_kept = check.rows_read - len({r for r, _ in check.rejected})
    return layer_, layer_, raw


def _district_column(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> str | None:
    """A column whose values are mostly Chongqing district names or codes."""
    known = set(districts["name_zh"].astype(str)) | set(districts["adcode"].astype(str))
    for c in gdf.columns:
        if c == gdf.geometry.name:
            continue
        values = gdf[c].dropna().astype(str).str.strip()
        if len(values) and values.isin(known).mean() > 0.5:
            return c
    return None


def _datum_suspicion(layer: gpd.GeoDataFrame, raw: gpd.GeoDataFrame | None):
    """The datum-shift suspicion of a WGS-84 layer in or near Chongqing, if any."""
    from layers import datum_shift_suspicion, load_districts
    from layers.districts import near_chongqing

    frame = raw if raw is not None else layer
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if len(frame) == 0:
        return None
    if not near_chongqing(frame, margin_deg=_NEAR_CHONGQING_DEG):
        return None
    districts = load_districts()
    return datum_shift_suspicion(frame, districts,
                                 district_column=_district_column(frame, districts))


def _declared_wgs84(datum) -> bool:
    from layers.coords import normalise_datum

    try:
        return normalise_datum(str(datum)) == "wgs84"
    except ValueError:  # an EPSG code: projected data is not GCJ-02/BD-09
        return False


def validate_upload(kind: str, path: str | Path, *, datum: str | int = "wgs84",
                    category_column: str = "category", name_column: str = "name",
                    layer: str | None = None, columns: dict[str, str] | None = None,
                    category_map: dict[str, str] | None = None) -> UploadCheck:
    """Load ``path`` as a ``kind`` layer (one of :data:`KINDS`) the way the app does and
    report what happened; never raises for a bad file (see :class:`UploadCheck`).

    Rows with unusable coordinates, geometry or (demand) population are dropped and
    listed where the loader can drop rows (facilities, demand, centres, bases); POIs,
    candidates and networks fail as a whole on such rows, with ``rejected`` still
    listing them. ``category_column`` applies to POIs (facilities always read
    ``category``); ``name_column`` to centres and bases. ``datum`` is that of user files
    (OSM files are WGS-84); a WGS-84 layer in or near Chongqing that looks GCJ-02 or
    BD-09 shifted gets a warning naming the datum. ``layer`` (a layer of a GeoPackage or
    zip, a sheet of a workbook), ``columns`` ({role: the file's column}, roles as
    ``layers.columns.ROLES``; found columns are renamed to the role) and ``category_map``
    ({value: basket category}, facilities) go to the readers when given. A ``dem`` is a
    raster of elevations (m) in its own CRS.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    check = UploadCheck(kind, Path(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check.data, layer_, raw = _load(check, datum, category_column, name_column,
                                            layer, columns, category_map)
            check.ok = len(layer_) > 0
            if len(layer_):
                check.bounds = tuple(float(x) for x in layer_.to_crs(4326).total_bounds)
            if kind != "dem" and _declared_wgs84(datum):
                found = _datum_suspicion(layer_, raw)
                if found is not None:
                    check.warnings.append(found.message("the layer"))
                    check.warning_keys.append(("upl_w_datum", {"datum": found.datum}))
        except ValueError as exc:  # LayerValidationError names the file, row and column
            check.error = str(exc)
            check.problems = list(getattr(exc, "problems", None) or [str(exc)])
        except Exception as exc:  # a reader failing on a malformed file: report, not crash
            check.error = f"{check.path.name}: cannot be read ({type(exc).__name__}: {exc})"
            check.problems = [f"cannot be read ({type(exc).__name__})"]
    _collect(check, caught)
    if check.error:
        check.ok = False
    check.error = hide_paths(check.error)
    check.problems = [hide_paths(p) for p in check.problems]
    check.warnings = [hide_paths(w) for w in check.warnings]
    check.rejected = [(r, hide_paths(why)) for r, why in check.rejected]
    return check


def _collect(check: UploadCheck, caught) -> None:
    """The project's warnings of a check; rows a loader dropped join ``rejected``."""
    listed = {r for r, _ in check.rejected}
    for w in caught:
        if not _own(w.category):
            continue
        key = getattr(w.message, "key", None)
        values = dict(getattr(w.message, "values", {}) or {})
        if key == "warn_rows_dropped":
            for line in values.get("rows", []):
                m = re.match(r"row (\d+)[:,]\s*(.*)", str(line))
                if m and int(m.group(1)) not in listed:
                    check.rejected.append((int(m.group(1)), m.group(2)))
                    listed.add(int(m.group(1)))
            continue
        if key == "warn_unknown_categories":
            continue  # listed in summary["unmatched"] for the mapping table
        check.warnings.append(str(w.message).splitlines()[0])
        check.warning_keys.append((key, values))
    check.rejected.sort()
    if check.ok:
        check.rows_kept = check.rows_read - len(listed)


def _own(category: type[Warning]) -> bool:
    """A warning of the project (kept in the check), not library noise (dropped): chosen by
    class, never by the file that raised it, so that an installed copy behaves the same."""
    from geo_app.errors import GeoAppWarning
    from layers.datum_check import DatumShiftWarning

    return issubclass(category, (GeoAppWarning, DatumShiftWarning))


def _notes(check: UploadCheck, lang: str) -> str:
    from geo_app.labels import t

    s = check.summary
    parts = []
    if check.error:
        parts.append(check.error.replace("\n", " "))
    if "nodes" in s:
        parts.append(f"{t('val_nodes', lang)} {s['nodes']:,}, {t('val_edges', lang)} "
                     f"{s['edges']:,}, {t('val_street_km', lang)} {s['street_km']:,}")
    if "population" in s:
        parts.append(f"{t('val_population', lang)} {s['population']:,}"
                     + (f" ({t('val_estimate', lang)})" if s["estimate"] else ""))
    if s.get("per_category"):
        parts.append(f"{t('val_categories', lang)} {len(s['per_category'])}")
    parts += [f"{t('val_row', lang)} {r}: {why}" for r, why in check.rejected[:5]]
    if len(check.rejected) > 5:
        parts.append(f"… +{len(check.rejected) - 5}")
    parts += check.warnings
    return "; ".join(parts)


def as_table(checks: list[UploadCheck], lang: str = "zh", notes=None) -> pd.DataFrame:
    """One row per checked file for display: kind, file name, rows read, kept and
    rejected, status and notes, with labels in ``lang`` ({"zh", "en"}). ``notes``
    (check, lang) → text replaces the default notes (English messages of the readers)."""
    from geo_app.labels import t

    notes = notes or _notes

    def status(c: UploadCheck) -> str:
        if not c.ok:
            return t("val_failed", lang)
        return t("val_partial" if c.rejected else "val_ok", lang)

    return pd.DataFrame({
        t("val_kind", lang): [t(f"val_kind_{c.kind}", lang) for c in checks],
        t("val_file", lang): [c.path.name for c in checks],
        t("val_rows_read", lang): np.array([c.rows_read for c in checks], dtype=int),
        t("val_rows_kept", lang): np.array([c.rows_kept if c.ok else 0 for c in checks],
                                           dtype=int),
        t("val_rows_rejected", lang): np.array([len({r for r, _ in c.rejected}) for c in checks],
                                               dtype=int),
        t("val_status", lang): [status(c) for c in checks],
        t("val_notes", lang): [notes(c, lang) for c in checks],
    })
