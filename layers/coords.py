"""Datum conversions between WGS-84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

All functions are vectorised over numpy arrays of longitudes and latitudes in
decimal degrees, in ``(lon, lat)`` order. Points outside China's bounding box
are returned unchanged, as the published GCJ-02 formula does. CGCS2000
(EPSG:4490) agrees with WGS-84 to well under a metre and needs no conversion.

The GCJ-02 forward formula is the public one; its inverses are solved by
fixed-point iteration until the forward image of the result matches the input
to 1e-10 degrees (about 0.01 mm).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02 (m)
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")

ArrayPair = tuple[np.ndarray, np.ndarray]


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return a boolean mask of points inside the box where GCJ-02 applies."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to a WGS-84 point."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _as_arrays(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    lon_a = np.array(lon, dtype=float, copy=True)
    lat_a = np.array(lat, dtype=float, copy=True)
    if lon_a.shape != lat_a.shape:
        raise ValueError(f"lon and lat differ in shape: {lon_a.shape} vs {lat_a.shape}")
    return lon_a, lat_a


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Convert WGS-84 (lon, lat) degrees to GCJ-02 degrees; outside China unchanged."""
    lon, lat = _as_arrays(lon, lat)
    mask = in_china(lon, lat)
    dlon, dlat = _gcj_delta(lon[mask], lat[mask])
    lon[mask] += dlon
    lat[mask] += dlat
    return lon, lat


def _gcj02_to_bd09_raw(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Convert GCJ-02 (lon, lat) degrees to BD-09 degrees; outside China unchanged."""
    lon, lat = _as_arrays(lon, lat)
    mask = in_china(lon, lat)
    lon[mask], lat[mask] = _gcj02_to_bd09_raw(lon[mask], lat[mask])
    return lon, lat


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], ArrayPair],
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    tol_deg: float = 1e-10,
    max_iter: int = 30,
) -> ArrayPair:
    """Solve forward(p) = (lon, lat) for p by fixed-point iteration."""
    x, y = lon.copy(), lat.copy()
    for _ in range(max_iter):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        if x.size == 0 or max(np.abs(ex).max(), np.abs(ey).max()) < tol_deg:
            break
    return x, y


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Convert GCJ-02 (lon, lat) degrees to WGS-84 by iterative inversion.

    The result's forward image matches the input to 1e-10 degrees (~0.01 mm);
    points outside China are returned unchanged.
    """
    lon, lat = _as_arrays(lon, lat)
    mask = in_china(lon, lat)

    def forward(x: np.ndarray, y: np.ndarray) -> ArrayPair:
        dx, dy = _gcj_delta(x, y)
        return x + dx, y + dy

    lon[mask], lat[mask] = _invert(forward, lon[mask], lat[mask])
    return lon, lat


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Convert BD-09 (lon, lat) degrees to GCJ-02 by iterative inversion; outside China unchanged."""
    lon, lat = _as_arrays(lon, lat)
    mask = in_china(lon, lat)
    lon[mask], lat[mask] = _invert(_gcj02_to_bd09_raw, lon[mask], lat[mask])
    return lon, lat


def wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Convert WGS-84 (lon, lat) degrees to BD-09 degrees; outside China unchanged."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> ArrayPair:
    """Convert BD-09 (lon, lat) degrees to WGS-84 degrees; outside China unchanged."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS: dict[tuple[str, str], Callable[[np.ndarray, np.ndarray], ArrayPair]] = {
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("bd09", "wgs84"): bd09_to_wgs84,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
}


def normalise_datum(datum: str) -> str:
    """Return the canonical name of a datum, with CGCS2000 folded into WGS-84.

    Raises ``ValueError`` listing the accepted names for anything else.
    """
    key = str(datum).strip().lower().replace("-", "").replace("_", "").replace(":", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gps": "wgs84", "cgcs2000": "wgs84",
               "epsg4490": "wgs84", "gcj02": "gcj02", "amap": "gcj02", "gaode": "gcj02",
               "tencent": "gcj02", "mars": "gcj02", "bd09": "bd09", "baidu": "bd09",
               "bd09ll": "bd09"}
    if key not in aliases:
        raise ValueError(f"unknown datum {datum!r}: expected one of {', '.join(DATUMS)}")
    return aliases[key]


def convert_xy(lon: np.ndarray, lat: np.ndarray, src: str, dst: str = "wgs84") -> ArrayPair:
    """Convert (lon, lat) degrees from datum ``src`` to ``dst`` ({"wgs84", "cgcs2000", "gcj02", "bd09"})."""
    src, dst = normalise_datum(src), normalise_datum(dst)
    if src == dst:
        return _as_arrays(lon, lat)
    return _CONVERTERS[(src, dst)](lon, lat)


def convert_geometries(geoms: np.ndarray, src: str, dst: str = "wgs84") -> np.ndarray:
    """Convert every vertex of an array of shapely geometries between datums.

    Works for every geometry type (points, lines, polygons with holes, multi-parts,
    collections); Z values are kept.
    """
    src, dst = normalise_datum(src), normalise_datum(dst)
    geoms = np.asarray(geoms, dtype=object)
    if src == dst:
        return geoms.copy()

    def move(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = convert_xy(coords[:, 0], coords[:, 1], src, dst)
        return out

    return shapely.transform(geoms, move, include_z=None)


def convert_gdf(gdf: gpd.GeoDataFrame, src: str, dst: str = "wgs84") -> gpd.GeoDataFrame:
    """Return a copy of a geographic GeoDataFrame with its geometry moved between datums.

    The frame must hold longitude/latitude degrees (EPSG:4326, EPSG:4490 or no CRS);
    the result is labelled EPSG:4326.
    """
    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise ValueError(
            f"datum conversion needs longitude/latitude degrees, but the layer is in {gdf.crs.name}"
        )
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        convert_geometries(gdf.geometry.values, src, dst), index=gdf.index
    )
    return out.set_crs(4326, allow_override=True)
