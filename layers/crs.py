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
    WGS-84 shapely geometry or an ``(lon, lat)`` pair of arrays. The zone is that of the
    median coordinate, so that a far outlier does not move
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


EARTH_KM = 6_371.0088  # mean Earth radius


def _lonlat(data) -> tuple[np.ndarray, np.ndarray]:
    """Point (or first-vertex) longitudes and latitudes of a layer, in degrees."""
    crs = getattr(data, "crs", None)
    if crs is not None and not crs.is_geographic:
        data = data.to_crs(4326)
    geoms = getattr(data, "geometry", data)
    geoms = np.asarray(getattr(geoms, "values", geoms), dtype=object).ravel()
    pts = shapely.get_point(geoms, 0)
    plain = shapely.get_type_id(geoms) == 0
    pts[plain] = geoms[plain]
    return shapely.get_x(pts), shapely.get_y(pts)


def distances_from_bulk(data) -> tuple[float, float, np.ndarray]:
    """``(lon, lat, km)``: the median point of a layer and each feature's great-circle distance
    (km) from it (NaN where a feature has no coordinates)."""
    lon, lat = _lonlat(data)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return np.nan, np.nan, np.full(len(lon), np.nan)
    lon0, lat0 = float(np.median(lon[ok])), float(np.median(lat[ok]))
    p1, p2 = np.radians(lat), np.radians(lat0)
    a = (np.sin((p1 - p2) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon - lon0) / 2) ** 2)
    return lon0, lat0, 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def far_note(data, far_km: float) -> str | None:
    """A sentence on the features lying more than ``far_km`` km from the median point of
    ``data`` (count, the farthest with its row and place), or None when there are none."""
    lon0, lat0, km = distances_from_bulk(data)
    far = np.flatnonzero(np.nan_to_num(km) > far_km)
    if not len(far):
        return None
    lon, lat = _lonlat(data)
    order = far[np.argsort(-km[far])]
    index = getattr(data, "index", None)
    if index is not None and index.name == "row":  # file rows (layers.userfile)
        where = [f"row {r}" for r in index]
    else:
        where = [f"feature {i + 1}" for i in range(len(km))]
    listed = ", ".join(f"{where[i]} at ({lon[i]:.4f}, {lat[i]:.4f}), {km[i]:,.0f} km"
                       for i in order[:3])
    more = f" and {len(far) - 3} more" if len(far) > 3 else ""
    verb = "lies" if len(far) == 1 else "lie"
    return (f"{len(far)} of {len(km)} points {verb} more than {far_km:,.0f} km from the median "
            f"point ({lon0:.4f}, {lat0:.4f}) of the layer: {listed}{more}; metric work uses "
            f"the UTM zone of the bulk ({metric_crs((lon, lat))})")


def warn_if_far(data, source: str, far_km: float | None = None) -> str | None:
    """Warn (a :class:`~geo_app.errors.DataWarning`) when features of ``data`` lie farther
    than ``far_km`` (default: the settings' ``far_points_km``) from the bulk; return the
    text."""
    from geo_app.config import DEFAULT
    from geo_app.errors import DataWarning, warn

    far_km = DEFAULT.far_points_km if far_km is None else far_km
    note = far_note(data, far_km)
    if note is None:
        return None
    text = f"{source}: {note}; check those rows"
    warn(None, text, DataWarning, key="warn_far_points", stacklevel=3, path=str(source))
    return text
