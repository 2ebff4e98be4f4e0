"""Points from a table's columns (lon/lat, an Amap ``location``, WKT) and the checks that the
numbers are degrees the right way round."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.clean import parse_degrees, split_location
from layers.columns import columns_text, option
from layers.coords import in_china

CQ_GK = ("EPSG:4544 CM 105E, 4545 CM 108E, 4546 CM 111E (CGCS2000 3-degree Gauss-Kruger, "
         "Chongqing)")


def _short(value: object, n: int = 40) -> str:
    text = repr(str(value))
    return text if len(text) <= n else text[:n - 2] + "…'"


def table_points(frame: pd.DataFrame, rows: list[int], mapping: dict[str, str],
                 notes: list[str]) -> tuple[np.ndarray, list[tuple[int, str]], list[str], str]:
    """Geometries of a table's rows, the bad rows, the columns used and what they were.

    ``mapping`` holds the columns of the roles lon and lat, or location, or wkt (in that
    order of preference). Cleaning notes are appended to ``notes``.
    """
    bad: list[tuple[int, str]] = []
    geom = np.full(len(frame), None, dtype=object)
    if "lon" in mapping and "lat" in mapping:
        lon, lat = mapping["lon"], mapping["lat"]
        cx, cy = parse_degrees(frame[lon], lon), parse_degrees(frame[lat], lat)
        for c, col in ((cx, lon), (cy, lat)):
            note = c.note(frame[col], rows)
            if note:
                notes.append(note)
        ok = np.isfinite(cx.values) & np.isfinite(cy.values)
        for i in np.flatnonzero(~ok):
            bad.append((rows[i], f"coordinates ({_short(frame[lon].iloc[i])}, "
                                 f"{_short(frame[lat].iloc[i])}) in columns '{lon}', '{lat}' "
                                 "are not numbers"))
        geom[ok] = shapely.points(cx.values[ok], cy.values[ok])
        return geom, bad, [lon, lat], "lonlat"
    if "location" in mapping:
        col = mapping["location"]
        xs, ys, shaped = split_location(frame[col])
        cx, cy = parse_degrees(xs, col), parse_degrees(ys, col)
        ok = shaped & np.isfinite(cx.values) & np.isfinite(cy.values)
        for i in np.flatnonzero(~ok):
            bad.append((rows[i], f"location {_short(frame[col].iloc[i])} in column '{col}' is "
                                 "not 'lon,lat'"))
        geom[ok] = shapely.points(cx.values[ok], cy.values[ok])
        return geom, bad, [col], "location"
    col = mapping["wkt"]
    text = frame[col].astype("string").fillna("").str.strip()
    parsed = shapely.from_wkt(text.where(text != "", None).to_numpy(object), on_invalid="ignore")
    for i in np.flatnonzero(shapely.is_missing(parsed)):
        why = "is empty" if text.iloc[i] == "" else "is not WKT"
        bad.append((rows[i], f"geometry {_short(text.iloc[i])} in column '{col}' {why}"))
    return parsed, bad, [col], "wkt"


def _planar_hint(x: np.ndarray) -> str:
    """Likely CRS codes for planar coordinates from their eastings."""
    east = float(np.nanmedian(np.abs(x)))
    zone = int(east // 1_000_000)
    if 25 <= zone <= 45:
        return (f"eastings start with {zone}, a 3-degree Gauss-Kruger zone number: "
                f"EPSG:{4513 + zone - 25} (CGCS2000 3-degree zone {zone}, CM {3 * zone}E)")
    if 13 <= zone <= 23:
        return (f"eastings start with {zone}, a 6-degree Gauss-Kruger zone number: "
                f"EPSG:{4491 + zone - 13} (CGCS2000 zone {zone}, CM {6 * zone - 3}E)")
    return f"e.g. {CQ_GK}, or EPSG:32648/32649 (UTM 48N/49N)"


def check_degrees(gdf: gpd.GeoDataFrame, rows: list[int], used: list[str], source: str,
                  ) -> tuple[list[str], list[tuple[int, str]]]:
    """Layer-level problems and bad rows of a layer in degrees.

    Most values beyond ±180/±90 are planar numbers (a CRS to declare) or swapped axes
    (when swapping puts them in range); a few are bad rows. A layer inside the China box
    only when swapped is swapped too.
    """
    geoms = gdf.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = bool(present.any()) and bool((shapely.get_type_id(geoms[present]) == 0).all())
    if points:
        x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
        x[present], y[present] = shapely.get_x(geoms[present]), shapely.get_y(geoms[present])
    else:
        xy = shapely.get_coordinates(geoms)
        x, y = xy[:, 0], xy[:, 1]
    valid = np.isfinite(x) & np.isfinite(y)
    if not valid.any():
        return [], []
    out = valid & ((np.abs(x) > 180) | (np.abs(y) > 90))
    fits_swapped = valid & (np.abs(y) <= 180) & (np.abs(x) <= 90)
    if out.sum() >= 0.5 * valid.sum():
        if fits_swapped[out].mean() >= 0.9:
            return [swapped_message(x, y, used, source)], []
        return [f"coordinates exceed ±180/±90, so they are not degrees: declare the projected "
                f"CRS as datum='EPSG:<code>' (--datum EPSG:<code>); {_planar_hint(x[valid])}"], []
    if out.any():
        if not points:
            return [f"{int(out.sum())} coordinate(s) exceed ±180/±90 (not degrees)"], []
        bad = []
        for i in np.flatnonzero(out):
            hint = "; longitude and latitude look swapped" if fits_swapped[i] else ""
            bad.append((rows[i], f"coordinates ({x[i]:.6g}, {y[i]:.6g}) are outside "
                                 f"±180/±90{hint}"))
        return [], bad
    inside = in_china(x[valid], y[valid]).mean()
    inside_swapped = in_china(y[valid], x[valid]).mean()
    if inside_swapped >= 0.9 and inside <= 0.1:
        return [swapped_message(x, y, used, source)], []
    return [], []


def swapped_message(x: np.ndarray, y: np.ndarray, used: list[str], source: str) -> str:
    ok = np.isfinite(x) & np.isfinite(y)
    sample = f"first point ({x[ok][0]:.6g}, {y[ok][0]:.6g})"
    if source == "lonlat":
        lon, lat = used
        return (f"longitude and latitude look swapped: column '{lat}' holds longitudes and "
                f"'{lon}' latitudes ({sample}); read it with {option('lon')} '{lat}' "
                f"{option('lat')} '{lon}'")
    if source == "location":
        return (f"column '{used[0]}' looks like 'lat,lon' ({sample}), not 'lon,lat': put "
                "longitude first")
    return (f"x and y look swapped: the file stores latitude as x ({sample}); export it "
            "with longitude as x")


def missing_geometry_message(mapping: dict[str, str], columns: list[str]) -> str:
    """The problem line for a table without usable coordinate columns."""
    found = columns_text(columns)
    for role, name, other in (("lat", "latitude", "lon"), ("lon", "longitude", "lat")):
        if other in mapping and role not in mapping:
            ex = "'lat' or '纬度' or 'y'" if role == "lat" else "'lon' or '经度' or 'x'"
            return (f"missing {name} column: expected {ex} (or name it with {option(role)}); "
                    f"found {found}")
    return ("missing longitude and latitude columns: expected lon/lat, 经度/纬度 or x/y "
            f"(or name them with {option('lon')}/{option('lat')}), an Amap 'location' "
            f"('lon,lat') or a WKT column; found {found}")
