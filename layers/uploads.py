"""Checking an uploaded file with the loader the app will use, and reporting every
rejected row, suspected datum shifts and what the file holds.

Files are only parsed (GDAL/pyogrio, pandas CSV, rasterio, pyrosm, OSMnx XML); nothing
in them is executed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

KINDS = ("network", "facilities", "demand", "candidates", "pois", "centres", "bases")
_NEAR_CHONGQING_DEG = 0.1  # layers within this margin of the districts' bounds are checked


@dataclass
class UploadCheck:
    """What loading one file gave.

    ``ok``: the layer loads (rows listed in ``rejected`` dropped, where the loader can
    drop rows). ``rejected``: (row, reason); rows are file rows (CSV: the header is row
    1) or feature numbers from 1. ``summary``: counts (network ``nodes``, ``edges``,
    ``street_km``; demand ``population`` persons and ``estimate``; facilities and POIs
    ``per_category``). ``bounds``: (west, south, east, north) in degrees, WGS-84.
    ``error``: why the file cannot be used at all. ``data``: the loaded layer.
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
    data: object = field(default=None, repr=False, compare=False)


def _pre_read(check: UploadCheck, datum, required=(), geometry_types=None):
    """Read a user file leniently to list rejected rows; ``None`` for OSM files and rasters."""
    from layers.sources import RASTER_SUFFIXES, is_osm
    from layers.userfile import read_user_layer

    if is_osm(check.path) or check.path.name.lower().endswith(RASTER_SUFFIXES):
        return None
    gdf, report = read_user_layer(check.path, datum=datum, required_columns=required,
                                  geometry_types=geometry_types, on_bad_rows="drop")
    check.rows_read, check.rejected = report.rows_read, list(report.rejected)
    return gdf


def _number_problems(gdf: gpd.GeoDataFrame, column: str) -> list[tuple[int, str]]:
    """Rows whose ``column`` is not a number ≥ 0 (as :func:`layers.demand.read_demand_file`
    rejects them)."""
    value = pd.to_numeric(gdf[column].astype("string").str.strip(), errors="coerce")
    bad = value.isna() | (value < 0)
    return [(int(r), f"column '{column}': expected a number ≥ 0, got {gdf.at[r, column]!r}")
            for r in gdf.index[bad]]


def _load(check: UploadCheck, datum, category_column: str, name_column: str):
    """Load with the app's loader; fill rows and summary; return the raw frame (user
    files) for the datum check."""
    from layers.sources import RASTER_SUFFIXES, is_osm, load_demand, load_facilities

    path, kind = check.path, check.kind
    if kind == "network":
        from layers.network import read_network

        raw = None
        if not is_osm(path):
            raw = _pre_read(check, datum)
            kinds = set(raw.geom_type)
            if not kinds & {"LineString", "MultiLineString"}:
                raise ValueError(f"{path.name}: not a street network: expected road centre-lines "
                                 f"(lines) or an OSM file (.osm.pbf/.osm); it holds "
                                 f"{', '.join(sorted(kinds))}")
        net = read_network(path, datum=datum)
        check.summary = {"nodes": len(net.nodes), "edges": len(net.edges),
                         "street_km": round(float(net.edges["length_m"].sum()) / 1000, 1)}
        check.rows_read = check.rows_read or len(net.edges)
        check.rows_kept = check.rows_read - len({r for r, _ in check.rejected})
        return net, net.edges, raw
    if kind == "demand":
        from layers.demand import read_demand_file

        raw = _pre_read(check, datum, required=("population",))
        if raw is None:
            layer = load_demand("buildings", network=path) if is_osm(path) else load_demand(path)
        else:
            check.rejected += _number_problems(raw, "population")
            layer = read_demand_file(path, datum=datum, on_bad_rows="drop")
        estimate = bool(layer["estimate"].any())
        if raw is not None and "estimate" in raw.columns:  # the loader does not keep the flag
            estimate = bool(raw["estimate"].astype(str).str.lower().isin(["1", "true"]).any())
        check.summary = {"population": round(float(layer["population"].sum())),
                         "estimate": estimate, "points": len(layer)}
        if raw is None or path.name.lower().endswith(RASTER_SUFFIXES):
            check.rows_read = len(layer)
    elif kind == "facilities":
        from layers.facilities import read_user_facilities

        raw = _pre_read(check, datum, required=("category",))
        layer = load_facilities(path) if raw is None else read_user_facilities(
            path, datum=datum, on_bad_rows="drop")
    elif kind == "pois":
        from layers.pois import read_osm_pois, read_user_pois

        raw = _pre_read(check, datum, required=(category_column,))
        layer = read_osm_pois(path) if raw is None else read_user_pois(
            path, category_column=category_column, datum=datum)
        check.summary = {"with_sector": int((layer["sector_9611"] != "").sum())}
    elif kind == "candidates":
        from geo_app.workflows.siting import osm_candidates, read_sites

        raw = _pre_read(check, datum)
        layer = osm_candidates(path) if raw is None else read_sites(path, datum=datum)
    else:  # centres, bases: named points
        from layers.userfile import read_user_layer

        raw = _pre_read(check, datum, required=(name_column,), geometry_types=("Point",))
        if raw is None:
            raise ValueError(f"{path.name}: {kind} are read from a CSV/GeoJSON/GeoPackage file "
                             f"of points with a '{name_column}' column")
        layer, _ = read_user_layer(path, datum=datum, required_columns=(name_column,),
                                   geometry_types=("Point",), on_bad_rows="drop")
    if raw is None:
        check.rows_read = check.rows_read or len(layer)
    if "category" in layer.columns:
        check.summary["per_category"] = layer["category"].value_counts().to_dict()
    check.summary.setdefault("points", len(layer))
    check.rows_kept = check.rows_read - len({r for r, _ in check.rejected})
    return layer, layer, raw


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


def _datum_warning(layer: gpd.GeoDataFrame, raw: gpd.GeoDataFrame | None) -> str | None:
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
    found = datum_shift_suspicion(frame, districts,
                                  district_column=_district_column(frame, districts))
    return None if found is None else found.message("the layer")


def _declared_wgs84(datum) -> bool:
    from layers.coords import normalise_datum

    try:
        return normalise_datum(str(datum)) == "wgs84"
    except ValueError:  # an EPSG code: projected data is not GCJ-02/BD-09
        return False


def validate_upload(kind: str, path: str | Path, *, datum: str | int = "wgs84",
                    category_column: str = "category", name_column: str = "name") -> UploadCheck:
    """Load ``path`` as a ``kind`` layer (one of :data:`KINDS`) the way the app does and
    report what happened; never raises for a bad file (see :class:`UploadCheck`).

    Rows with unusable coordinates, geometry or (demand) population are dropped and
    listed where the loader can drop rows (facilities, demand, centres, bases); POIs,
    candidates and networks fail as a whole on such rows, with ``rejected`` still
    listing them. ``category_column`` applies to POIs (facilities always read
    ``category``); ``name_column`` to centres and bases. ``datum`` is that of user files
    (OSM files are WGS-84); a WGS-84 layer in or near Chongqing that looks GCJ-02 or
    BD-09 shifted gets a warning naming the datum.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    check = UploadCheck(kind, Path(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check.data, layer, raw = _load(check, datum, category_column, name_column)
            check.ok = len(layer) > 0
            if len(layer):
                check.bounds = tuple(float(x) for x in layer.to_crs(4326).total_bounds)
            if _declared_wgs84(datum):
                text = _datum_warning(layer, raw)
                if text:
                    check.warnings.append(text)
        except ValueError as exc:  # LayerValidationError names the file, row and column
            check.error = str(exc)
        except Exception as exc:  # a reader failing on a malformed file: report, not crash
            check.error = f"{check.path.name}: cannot be read ({type(exc).__name__}: {exc})"
    check.warnings += [str(w.message).splitlines()[0] for w in caught if _own(w.category)]
    if check.error:
        check.ok = False
    return check


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


def as_table(checks: list[UploadCheck], lang: str = "zh") -> pd.DataFrame:
    """One row per checked file for display: kind, file name, rows read, kept and
    rejected, status and notes, with labels in ``lang`` ({"zh", "en"})."""
    from geo_app.labels import t

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
        t("val_notes", lang): [_notes(c, lang) for c in checks],
    })
