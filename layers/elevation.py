"""Node elevations from a user's DEM GeoTIFF."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from layers.validate import LayerValidationError, open_raster

log = logging.getLogger(__name__)


def sample_dem(path: str | Path, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Elevation (m) of a DEM raster at WGS-84 points, nearest cell.

    Raises :class:`~layers.LayerValidationError` when the file is not a raster or
    points fall outside it or on no-data cells (counted in the message).
    """
    import rasterio
    from pyproj import Transformer

    path = Path(path)
    with open_raster(path) as src:
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if src.crs is None or src.crs.is_geographic:  # WGS-84 or CGCS2000 degrees
            x, y = lon, lat
        else:
            x, y = Transformer.from_crs(4326, src.crs, always_xy=True).transform(lon, lat)
        col, row = ~src.transform @ (np.asarray(x), np.asarray(y))
        row, col = np.floor(row).astype(np.int64), np.floor(col).astype(np.int64)
        inside = (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
        z = np.full(len(lon), np.nan)
        if inside.any():
            r0, r1 = row[inside].min(), row[inside].max() + 1
            c0, c1 = col[inside].min(), col[inside].max() + 1
            win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
            band = src.read(1, window=win, masked=True).astype(float).filled(np.nan)
            z[inside] = band[row[inside] - r0, col[inside] - c0]
    bad = ~np.isfinite(z)
    if bad.any():
        raise LayerValidationError(str(path), [
            f"{int(bad.sum())} of {len(z)} network nodes fall outside the DEM or on no-data "
            "cells: use a DEM covering the whole study area"])
    return z
