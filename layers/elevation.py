"""Node elevations from a DEM GeoTIFF in any CRS (SRTM, ASTER, a local survey) and from
OSM ``ele`` tags."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from layers.validate import LayerValidationError, open_raster

log = logging.getLogger(__name__)
PARTIAL_HINT = ("use a DEM covering the whole study area, or allow partial coverage "
                "(--dem-partial: slopes where the DEM covers, level ground elsewhere)")


def sample_dem(path: str | Path, lon: np.ndarray, lat: np.ndarray, *,
               partial: bool = False) -> np.ndarray:
    """Elevation (m) of a DEM raster at WGS-84 points, nearest cell (band 1, its scale and
    offset applied).

    The points are projected into the raster's CRS with pyproj (a raster without a CRS
    must be in degrees). Points outside the raster or on no-data cells raise a
    :class:`~layers.LayerValidationError` counting them; with ``partial`` they get NaN
    instead (their segments are then taken as level).
    """
    import rasterio
    from pyproj import Transformer

    path = Path(path)
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    with open_raster(path) as src:
        if src.crs is None or src.crs.is_geographic:  # WGS-84 or CGCS2000 degrees
            if src.crs is None and not _degrees_like(src):
                raise LayerValidationError(str(path), [
                    "the raster has no CRS and its extent is not in degrees: save it as a "
                    "GeoTIFF with its CRS (e.g. gdal_translate -a_srs EPSG:32648)"])
            x, y = lon, lat
        else:
            x, y = Transformer.from_crs(4326, src.crs, always_xy=True).transform(lon, lat)
        col, row = ~src.transform @ (np.asarray(x), np.asarray(y))
        ok = np.isfinite(col) & np.isfinite(row)
        row = np.floor(np.where(ok, row, -1)).astype(np.int64)
        col = np.floor(np.where(ok, col, -1)).astype(np.int64)
        inside = (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
        z = np.full(len(lon), np.nan)
        if inside.any():
            r0, r1 = row[inside].min(), row[inside].max() + 1
            c0, c1 = col[inside].min(), col[inside].max() + 1
            win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
            band = src.read(1, window=win, masked=True).astype(float).filled(np.nan)
            scale, offset = (src.scales or (1.0,))[0], (src.offsets or (0.0,))[0]
            z[inside] = band[row[inside] - r0, col[inside] - c0] * scale + offset
    bad = ~np.isfinite(z)
    if bad.any() and not partial:
        raise LayerValidationError(str(path), [
            f"{int(bad.sum())} of {len(z)} network nodes fall outside the DEM or on no-data "
            f"cells: {PARTIAL_HINT}"], key="err_dem_uncovered", file=path.name,
            missing=int(bad.sum()), total=len(z))
    if bad.any():
        log.info("%s: %d of %d nodes without elevation (taken as level)", path, bad.sum(),
                 len(z))
    return z


def _degrees_like(src) -> bool:
    left, bottom, right, top = src.bounds
    return -180.5 <= min(left, right) and max(left, right) <= 360.5 and \
        -90.5 <= min(bottom, top) and max(bottom, top) <= 90.5


def node_elevations(lon: np.ndarray, lat: np.ndarray, *, dem: str | Path | None = None,
                    osm_ele: np.ndarray | None = None, partial: bool = False,
                    prefer: str = "dem") -> np.ndarray:
    """Elevation (m) of network nodes from a ``dem`` and OSM ``ele`` values (NaN where
    untagged): ``prefer="dem"`` takes the DEM and fills its gaps with ``ele``,
    ``prefer="osm"`` the other way round. NaN remains where neither has a value (slopes
    there are taken as level). Without ``partial`` a DEM that misses nodes not covered by
    ``ele`` is refused (see :func:`sample_dem`)."""
    if prefer not in ("dem", "osm"):
        raise ValueError(f"prefer must be 'dem' or 'osm', got {prefer!r}")
    lon = np.asarray(lon, float)
    tagged = np.full(len(lon), np.nan) if osm_ele is None else np.asarray(osm_ele, float)
    if dem is None:
        return tagged.copy()
    z = sample_dem(dem, lon, lat, partial=True)
    missing = ~np.isfinite(z) & ~np.isfinite(tagged)
    if missing.any() and not partial:
        raise LayerValidationError(str(dem), [
            f"{int(missing.sum())} of {len(z)} network nodes fall outside the DEM or on "
            f"no-data cells: {PARTIAL_HINT}"], key="err_dem_uncovered", file=Path(dem).name,
            missing=int(missing.sum()), total=len(z))
    if prefer == "dem":
        return np.where(np.isfinite(z), z, tagged)
    return np.where(np.isfinite(tagged), tagged, z)
