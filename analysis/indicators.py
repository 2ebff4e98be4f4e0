"""Indicator arithmetic on arrays and metric geometries: which units meet a rule, how much
residential land lies within a service area or radius, and ratios by zone.

Geometries are shapely 2 arrays in one metric CRS (metres); every operation is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree


def combine(masks: Sequence[np.ndarray], how: str, n: int) -> np.ndarray:
    """``any`` or ``all`` of boolean masks of length ``n`` (no mask: nobody)."""
    if not len(masks):
        return np.zeros(n, bool)
    stack = np.vstack([np.asarray(m, bool) for m in masks])
    if how == "any":
        return stack.any(axis=0)
    if how == "all":
        return stack.all(axis=0)
    raise ValueError(f"how must be 'any' or 'all', got {how!r}")


def near_features(px: np.ndarray, py: np.ndarray, geoms: np.ndarray,
                  distance_m: float) -> np.ndarray:
    """Whether each point lies within ``distance_m`` (straight line) of any of ``geoms``
    (points, lines or polygons; inside a polygon is distance 0)."""
    px = np.asarray(px, float)
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(px), bool)
    if not len(geoms) or not len(px):
        return out
    hits = shapely.STRtree(geoms).query(shapely.points(px, np.asarray(py, float)),
                                         predicate="dwithin", distance=float(distance_m))
    out[hits[0]] = True
    return out


def buffer_cover(geoms: np.ndarray, distance_m: float) -> shapely.Geometry:
    """The area within ``distance_m`` of any of ``geoms`` (one geometry; empty without any)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return shapely.Polygon()
    return shapely.union_all(shapely.buffer(geoms, float(distance_m), quad_segs=16))


def class_of_area(areas_m2: np.ndarray, classes: Sequence[tuple[float, float, float]]
                  ) -> np.ndarray:
    """Index of the first area class (min ≤ area < max) each area falls in, −1 for none."""
    a = np.asarray(areas_m2, float)
    out = np.full(len(a), -1)
    for k, (lo, hi, _) in reversed(list(enumerate(classes))):
        out[(a >= lo) & (a < hi)] = k
    return out


def covered_area(land: np.ndarray, cover: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Area (m²) of each land polygon and the part of it inside ``cover``."""
    land = np.asarray(land, dtype=object)
    area = shapely.area(land)
    if cover is None or shapely.is_empty(cover) or not len(land):
        return area, np.zeros(len(land))
    shapely.prepare(cover)  # prepared: the first argument of covers/intersects
    inside = shapely.covers(cover, land)  # whole polygons need no intersection
    touch = ~inside & shapely.intersects(cover, land)
    covered = np.where(inside, area, 0.0)
    covered[touch] = shapely.area(shapely.intersection(land[touch], cover))
    return area, covered


def nearest_labels(qx: np.ndarray, qy: np.ndarray, px: np.ndarray, py: np.ndarray,
                   labels: np.ndarray) -> np.ndarray:
    """The label of the nearest of the points (px, py) to each query point."""
    labels = np.asarray(labels, dtype=object)
    if not len(qx):
        return np.empty(0, dtype=object)
    if not len(px):
        return np.full(len(qx), None, dtype=object)
    _, idx = cKDTree(np.column_stack([px, py])).query(np.column_stack([qx, qy]), k=1)
    return labels[idx]


def zone_codes(labels) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, zones)``: each unit's position in the sorted distinct labels (−1 for a
    missing label), to pass to :func:`ratios` many times."""
    if isinstance(labels, tuple):
        return labels
    codes, zones = pd.factorize(pd.Series(np.asarray(labels, dtype=object), dtype=object),
                                sort=True)
    return codes, np.asarray(zones, dtype=object)


def ratios(numerator: np.ndarray, denominator: np.ndarray, labels) -> pd.DataFrame:
    """Sums of ``numerator`` and ``denominator`` by label (an array, or the ``(codes,
    zones)`` of :func:`zone_codes`), and their ratio (NaN for a zero denominator): columns
    ``zone``, ``numerator``, ``denominator``, ``value``."""
    codes, zones = zone_codes(labels)
    keep = codes >= 0  # a missing label counts nowhere
    num = np.bincount(codes[keep], weights=np.asarray(numerator, float)[keep],
                      minlength=len(zones))
    den = np.bincount(codes[keep], weights=np.asarray(denominator, float)[keep],
                      minlength=len(zones))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return pd.DataFrame({"zone": zones, "numerator": num, "denominator": den, "value": value})
