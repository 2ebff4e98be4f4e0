"""The metric CRS of a layer: the UTM zone of the bulk of its coordinates."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely

MAX_SAMPLE = 100_000  # coordinates read to find the bulk of a large layer


@lru_cache(maxsize=256)
def _utm_of(lon: float, lat: float) -> str:
    import geopandas as gpd

    crs = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).estimate_utm_crs()
    return crs.to_string()


def metric_crs(data) -> str:
    """UTM zone (``"EPSG:326xx"``/``"EPSG:327xx"``) of the bulk of ``data``.

    ``data`` is a GeoDataFrame or GeoSeries (WGS-84, or projected with its CRS set), a
    WGS-84 shapely geometry or an ``(lon, lat)`` pair of arrays. The zone is that of the median coordinate, so that a far outlier does not move
    it (the bounding-box centre would); GeoPandas' ``estimate_utm_crs`` names the zone.
    """
    if isinstance(data, tuple):
        lon, lat = (np.asarray(a, float).ravel() for a in data)
    else:
        crs = getattr(data, "crs", None)
        if crs is not None and not crs.is_geographic:  # projected input: look at it in degrees
            data = data.to_crs(4326)
        geoms = getattr(data, "geometry", data)
        geoms = np.asarray(getattr(geoms, "values", geoms), dtype=object).ravel()
        xy = shapely.get_coordinates(geoms[: MAX_SAMPLE])
        lon, lat = xy[:, 0], xy[:, 1]
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise ValueError("no coordinates to choose a metric CRS from")
    lon_m, lat_m = float(np.median(lon[ok])), float(np.median(lat[ok]))
    if not (-180 <= lon_m <= 180 and -80 <= lat_m <= 84):
        raise ValueError(f"coordinates ({lon_m:.3f}, {lat_m:.3f}) are not WGS-84 longitude and "
                         "latitude inside the UTM zones")
    return _utm_of(round(lon_m, 3), round(lat_m, 3))
