"""Saving results: GeoPackages and GeoTIFFs written atomically (through
:func:`geo_app.io.files.replace_atomically`), so a failed save never corrupts an old one."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.io.files import output_kind, replace_atomically

log = logging.getLogger(__name__)


def write_gpkg_layers(layers: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write frames as layers of one GeoPackage (tables without geometry as plain tables).

    The file is built next to ``path`` and renamed over it only when complete.
    """
    def write(tmp: str) -> None:
        for name, frame in layers.items():
            gdf = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame.copy())
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")

    out = replace_atomically(path, write, ".gpkg")
    log.info("wrote %s (layers: %s)", out, ", ".join(layers))
    return out


def parquet_paths(layers, path: str | Path) -> dict[str, Path]:
    """Where :func:`write_layers` puts each layer in GeoParquet: ``folder/<layer>.parquet`` for
    a folder; for ``result.parquet`` the first layer in it and ``result.<layer>.parquet`` for
    the others."""
    p = Path(path)
    names = list(layers)
    if str(path).endswith(("/", "\\")) or p.is_dir():
        return {n: p / f"{n}.parquet" for n in names}
    return {n: p if k == 0 else p.with_name(f"{p.stem}.{n}.parquet") for k, n in enumerate(names)}


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """One layer as (Geo)Parquet, atomically: GeoParquet with its CRS where the frame has a
    geometry column, plain Parquet otherwise."""
    def write(tmp: str) -> None:
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(tmp, index=False)
        else:
            pd.DataFrame(frame).to_parquet(tmp, index=False)

    return replace_atomically(path, write, ".parquet")


def write_layers(layers: Mapping[str, pd.DataFrame], path: str | Path) -> list[Path]:
    """Write a result's layers where the user asked (see :func:`output_kind`); returns the
    files written."""
    if output_kind(path) == "gpkg":
        return [write_gpkg_layers(layers, path)]
    targets = parquet_paths(layers, path)
    out = [write_parquet(layers[n], target) for n, target in targets.items()]
    log.info("wrote %d GeoParquet files (%s …)", len(out), out[0] if out else path)
    return out


def _profile(array, transform, crs, nodata) -> tuple[np.ndarray, dict]:
    """The float32 band and the rasterio creation options of a single-band GeoTIFF.

    ``transform`` is an ``affine.Affine`` or a GDAL tuple ``(x0, cell, 0, y_top, 0, -cell)``;
    ``crs`` anything rasterio accepts (EPSG code, "EPSG:32648", WKT, pyproj CRS).
    """
    from affine import Affine
    from rasterio.crs import CRS

    band = np.asarray(array, dtype=np.float32)
    if band.ndim != 2 or 0 in band.shape:
        raise ValueError(f"a GeoTIFF band must be a non-empty 2-D array, got shape {band.shape}")
    if not isinstance(transform, Affine):
        if len(transform) != 6:
            raise ValueError("transform must be an Affine or a GDAL tuple "
                             "(x0, cell, 0, y_top, 0, -cell)")
        transform = Affine.from_gdal(*map(float, transform))
    crs = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    profile = dict(driver="GTiff", height=band.shape[0], width=band.shape[1], count=1,
                   dtype="float32", crs=crs, transform=transform, nodata=nodata,
                   compress="deflate")
    if band.shape[0] >= 256 and band.shape[1] >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return band, profile


def _fill(dst, band: np.ndarray, description: str) -> None:
    dst.write(band, 1)
    if description:
        dst.set_band_description(1, description)


def write_geotiff(array, transform, crs, path: str | Path, *, nodata: float | None = None,
                  description: str = "") -> Path:
    """Write a 2-D array (row 0 north) as a single-band float32 GeoTIFF, atomically.

    ``transform`` maps pixels to ``crs`` units (an ``affine.Affine`` or a GDAL tuple
    ``(x0, cell, 0, y_top, 0, -cell)``); ``description`` names the band (e.g. "persons/km²").
    """
    import rasterio

    band, profile = _profile(array, transform, crs, nodata)

    def write(tmp: str) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            _fill(dst, band, description)

    return replace_atomically(path, write, ".tif")


def geotiff_bytes(array, transform, crs, *, nodata: float | None = None,
                  description: str = "") -> bytes:
    """The GeoTIFF of :func:`write_geotiff` as bytes (for a download button)."""
    from rasterio.io import MemoryFile

    band, profile = _profile(array, transform, crs, nodata)
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            _fill(dst, band, description)
        return mem.read()


def gpkg_bytes(layers: Mapping[str, pd.DataFrame], name: str = "result") -> bytes:
    """Frames as the bytes of one GeoPackage (for a download button)."""
    with tempfile.TemporaryDirectory(prefix="cq_gpkg_") as tmp:
        return write_gpkg_layers(layers, Path(tmp) / f"{name}.gpkg").read_bytes()


def csv_bytes(frame: pd.DataFrame, *, lonlat_at: int = 0) -> bytes:
    """A table as UTF-8 CSV (with a byte-order mark, so that Excel shows Chinese); points
    get ``lon``/``lat`` columns (WGS-84 degrees) instead of their geometry, at column
    position ``lonlat_at``.

    Every CSV the app or the CLI offers goes through here."""
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs(4326)
        geom = frame.geometry.values
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        if (frame.geom_type == "Point").all():  # an empty layer gets the columns too
            table.insert(lonlat_at, "lat", geom.y)
            table.insert(lonlat_at, "lon", geom.x)
        frame = table
    return frame.to_csv(index=False).encode("utf-8-sig")


def geojson_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """A layer as GeoJSON (EPSG:4326)."""
    return gdf.to_crs(4326).to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def run_info(params: Mapping[str, object]) -> pd.DataFrame:
    """A run's parameters as a ``key``/``value`` table (the ``run_info`` layer of a result)."""
    return pd.DataFrame({"key": list(params), "value": [str(v) for v in params.values()]})


def result_layer_names(path, needed, what: str, command: str) -> set[str]:
    """The layer names of a result GeoPackage ``path`` that a command wrote, checked: the
    file exists, is a GeoPackage and holds every layer of ``needed``. ``what`` names the
    result ("coverage result"), ``command`` the one that writes it (for the message).
    Raises :class:`~geo_app.errors.InputError`."""
    import pyogrio

    from geo_app.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (write one with {command})")
    try:
        present = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    except Exception as exc:  # pyogrio raises DataSourceError and others
        raise InputError(f"{path}: not a GeoPackage of a {what} ({exc})") from None
    missing = [n for n in needed if n not in present]
    if missing:
        raise InputError(f"{path}: no layer {', '.join(missing)}: not a {what} (write one "
                         f"with {command})")
    return present
