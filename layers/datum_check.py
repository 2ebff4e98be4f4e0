"""Detect layers that sit off the district boundaries by the GCJ-02 or BD-09 offset."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo_app.errors import DataWarning
from layers.coords import bd09_to_wgs84, convert_geometries, gcj02_to_wgs84
from layers.crs import metric_crs
from layers.validate import located

log = logging.getLogger(__name__)

NEAR_BOUNDARY_M = 2_000.0  # vertices farther than this from any boundary say nothing
MAX_VERTICES = 20_000


class DatumShiftWarning(DataWarning):
    """A layer looks shifted by a Chinese web-map datum offset (a
    :class:`~geo_app.errors.DataWarning`)."""


@dataclass(frozen=True)
class DatumSuspicion:
    """Evidence that a layer is in another datum than declared."""

    datum: str  # {"gcj02", "bd09"}
    evidence: str

    def message(self, source: str) -> str:
        return (f"{source}: looks like {self.datum.upper()} coordinates read as WGS-84 "
                f"({self.evidence}); declare datum={self.datum!r} when loading it")


def _vertices(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    xy = shapely.get_coordinates(geoms)
    if len(xy) > MAX_VERTICES:
        xy = xy[rng.choice(len(xy), MAX_VERTICES, replace=False)]
    return xy


def _boundary_tree(districts: gpd.GeoDataFrame, crs: str) -> shapely.STRtree:
    """Boundary segments of the districts in the metric ``crs``."""
    rings = shapely.boundary(districts.to_crs(crs).geometry.values)
    parts = shapely.get_parts(rings)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    same = idx[1:] == idx[:-1]
    segs = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return shapely.STRtree(segs)


def _boundary_distances(xy: np.ndarray, tree: shapely.STRtree, crs: str) -> np.ndarray:
    """Distance (m) from WGS-84 points ``xy`` to the nearest segment of ``tree`` (in ``crs``)."""
    from pyproj import Transformer

    to_m = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_m.transform(xy[:, 0], xy[:, 1])
    _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
    return dist


def _by_boundaries(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> DatumSuspicion | None:
    """Lines and polygons that follow the district boundaries, but offset from them."""
    geoms = gdf.geometry.values
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return None
    rng = np.random.default_rng(0)
    xy = _vertices(geoms, rng)
    crs = metric_crs(districts)  # distances only: the districts' UTM zone
    tree = _boundary_tree(districts, crs)
    asis = _boundary_distances(xy, tree, crs)
    near = asis < NEAR_BOUNDARY_M
    if near.sum() < 20:
        return None
    med_asis = float(np.median(asis[near]))
    best = None
    for datum in ("gcj02", "bd09"):
        moved = shapely.get_coordinates(
            convert_geometries(shapely.points(xy[near]), datum, "wgs84"))
        med = float(np.median(_boundary_distances(moved, tree, crs)))
        if med_asis > 150.0 and med < med_asis / 3.0 and (best is None or med < best[1]):
            best = (datum, med)
    if best is None:
        return None
    return DatumSuspicion(best[0], f"median distance to the district boundaries {med_asis:.0f} m "
                                   f"as given, {best[1]:.0f} m after {best[0].upper()} → WGS-84")


def _by_district_labels(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                        column: str) -> DatumSuspicion | None:
    """Points that carry their district: count how many fall in another one."""
    key = "adcode" if gdf[column].astype(str).str.fullmatch(r"\d{6}").mean() > 0.5 else "name_zh"
    pts = located(gdf)
    pts = pts[pts[column].notna()]
    pts = pts[pts.geom_type == "Point"]
    if len(pts) < 10:
        return None
    labels = pts[column].astype(str).to_numpy()
    tree = shapely.STRtree(districts.geometry.values)
    names = districts[key].astype(str).to_numpy()

    def misplaced(geoms: np.ndarray) -> int:
        inside = np.full(len(geoms), "", dtype=object)
        p, d = tree.query(geoms, predicate="within")
        inside[p] = names[d]
        return int((inside != labels).sum())

    n_asis = misplaced(pts.geometry.values)
    best = None
    for datum in ("gcj02", "bd09"):
        n = misplaced(convert_geometries(pts.geometry.values, datum, "wgs84"))
        if n_asis - n >= 3 and n <= n_asis / 2 and (best is None or n < best[1]):
            best = (datum, n)
    if best is None:
        return None
    return DatumSuspicion(best[0], f"{n_asis} of {len(pts)} points fall outside their own "
                                   f"'{column}' district as given, {best[1]} after "
                                   f"{best[0].upper()} → WGS-84")


def datum_shift_suspicion(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, *,
                          district_column: str | None = None) -> DatumSuspicion | None:
    """Return why a WGS-84 layer looks GCJ-02 or BD-09 shifted, or ``None``.

    Lines and polygons are compared with the district boundaries (median distance of
    vertices within 2 km of a boundary, as given and after each inverse). Points are
    checked when ``district_column`` names their district (adcode or ``name_zh``).
    """
    if len(gdf) == 0:
        return None
    if district_column is not None and district_column in gdf.columns:
        found = _by_district_labels(gdf, districts, district_column)
        if found is not None:
            return found
    if (gdf.geom_type.isin(["Point", "MultiPoint"])).all():
        return None
    return _by_boundaries(gdf, districts)


def warn_if_shifted(gdf: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, source: str, *,
                    district_column: str | None = None) -> str | None:
    """Issue a :class:`DatumShiftWarning` when the layer looks shifted; return its text."""
    found = datum_shift_suspicion(gdf, districts, district_column=district_column)
    if found is None:
        return None
    text = found.message(source)
    warnings.warn(text, DatumShiftWarning, stacklevel=2)
    return text


FIT_SAMPLE = 5_000  # points compared with the streets (a random sample of larger layers)


def _local_xy(lon: np.ndarray, lat: np.ndarray, lat0: float) -> np.ndarray:
    """Metres on a local equirectangular frame (good to < 0.1 % over a city)."""
    return np.column_stack([np.radians(lon) * 6_371_008.8 * np.cos(np.radians(lat0)),
                            np.radians(lat) * 6_371_008.8])


def fit_sample(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The points compared with the streets (at most :data:`FIT_SAMPLE`, a fixed random draw)
    and the latitude of their local frame."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if len(lon) > FIT_SAMPLE:
        pick = np.random.default_rng(0).choice(len(lon), FIT_SAMPLE, replace=False)
        lon, lat = lon[pick], lat[pick]
    return lon, lat, float(np.median(lat))


def street_distances(lon: np.ndarray, lat: np.ndarray, lat0: float, streets: np.ndarray
                     ) -> dict[str, np.ndarray]:
    """Distance (m) from each point to the nearest street line (WGS-84 LineStrings), as
    declared and once a GCJ-02 or BD-09 shift is undone: ``{"wgs84", "gcj02", "bd09"}``.
    A piece of the network is enough for points whose streets lie in it (sharded runs).

    Each point is measured against the streets whose bounding boxes meet a square of
    :data:`NEAR_STREET_M` around it (then four, sixteen times that for points with none
    that near, then every street), so every distance is the exact nearest one without
    measuring a city's streets for a few thousand points."""
    out = {name: np.full(len(lon), np.inf) for name in SHIFTS}
    if not len(lon) or not len(streets):
        return out
    streets = np.asarray(streets, dtype=object)
    shifted = {"wgs84": (np.asarray(lon, float), np.asarray(lat, float)),
               "gcj02": gcj02_to_wgs84(lon, lat), "bd09": bd09_to_wgs84(lon, lat)}
    x = np.concatenate([shifted[name][0] for name in SHIFTS])  # all shifts in one search
    y = np.concatenate([shifted[name][1] for name in SHIFTS])
    best = np.full(len(x), np.inf)
    todo = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    radius = NEAR_STREET_M
    while len(todo) and radius <= 16 * NEAR_STREET_M:
        d = _nearest_within(x[todo], y[todo], lat0, streets, radius)
        found = d <= radius
        best[todo[found]] = d[found]
        todo, radius = todo[~found], 4 * radius
    if len(todo):  # far from every street: all of them
        tree = shapely.STRtree(_to_local(streets, lat0))
        _, best[todo] = tree.query_nearest(shapely.points(_local_xy(x[todo], y[todo], lat0)),
                                           return_distance=True, all_matches=False)
    for k, name in enumerate(SHIFTS):
        out[name] = best[k * len(lon):(k + 1) * len(lon)]
    return out


NEAR_STREET_M = 250.0  # first search radius of :func:`street_distances`


def _to_local(lines: np.ndarray, lat0: float) -> np.ndarray:
    return shapely.transform(lines, lambda c: _local_xy(c[:, 0], c[:, 1], lat0))


def _nearest_within(x: np.ndarray, y: np.ndarray, lat0: float, streets: np.ndarray,
                    radius: float) -> np.ndarray:
    """Each point's distance (m, local frame) to the nearest street whose bounding box meets
    the square of ``radius`` around it (inf: none does). The local frame is linear in
    longitude and latitude, so the square is exact in degrees."""
    m_per_lon, m_per_lat = _local_xy(np.ones(1), np.ones(1), lat0)[0]  # metres a degree
    dx, dy = radius / m_per_lon, radius / m_per_lat
    boxes = shapely.box(x - dx, y - dy, x + dx, y + dy)
    street, point = shapely.STRtree(boxes).query(streets)
    out = np.full(len(x), np.inf)
    if not len(street):
        return out
    used, which = np.unique(street, return_inverse=True)
    lines = _to_local(streets[used], lat0)
    pts = shapely.points(_local_xy(x, y, lat0))
    np.minimum.at(out, point, shapely.distance(pts[point], lines[which]))
    return out


SHIFTS = ("wgs84", "gcj02", "bd09")


def fit_to_streets(lon: np.ndarray, lat: np.ndarray, streets: np.ndarray) -> dict[str, float]:
    """Median distance (m) from the points to the nearest street line (WGS-84 LineStrings)
    as declared and once a GCJ-02 or BD-09 shift is undone: ``{"wgs84", "gcj02", "bd09"}``."""
    d = street_distances(*fit_sample(lon, lat), streets)
    return {name: float(np.median(v)) for name, v in d.items()}


def shift_verdict(d: dict[str, float]) -> DatumSuspicion | None:
    """A suspicion from the median distances of :func:`fit_to_streets`: markedly nearer the
    streets once a shift is undone (median under half, and at least 5 m less)."""
    best = min(("gcj02", "bd09"), key=d.get)
    if d[best] < 0.5 * d["wgs84"] and d["wgs84"] - d[best] >= 5.0:
        return DatumSuspicion(best, f"its points lie a median {d['wgs84']:,.0f} m from the "
                                    f"nearest street as given, {d[best]:,.0f} m once a "
                                    f"{best.upper()} shift is undone")
    return None


def shift_against_streets(gdf: gpd.GeoDataFrame, streets: np.ndarray | None, *,
                          distances: Callable | None = None) -> DatumSuspicion | None:
    """A GCJ-02 or BD-09 suspicion for a point layer read as WGS-84 inside China: its points
    lie markedly nearer the street lines (``streets``, WGS-84) once that shift is undone
    (median under half, and at least 5 m less). ``distances(lon, lat, lat0)`` may compute
    :func:`street_distances` elsewhere (a sharded run's workers, each on its piece)."""
    from layers.coords import in_china

    pts = located(gdf).geometry
    pts = pts[shapely.get_type_id(pts.values) == 0]
    if len(pts) < 10 or (distances is None and (streets is None or len(streets) < 10)):
        return None
    lon, lat = shapely.get_x(pts.values), shapely.get_y(pts.values)
    if not in_china(lon, lat).mean() > 0.9:
        return None
    if distances is None:
        return shift_verdict(fit_to_streets(lon, lat, streets))
    d = distances(*fit_sample(lon, lat))
    return shift_verdict({name: float(np.median(d[name])) for name in SHIFTS})


#: Headers of a column naming each point's district (Amap exports: adname, adcode).
DISTRICT_HEADERS = ("adname", "adcode", "district", "区县", "区县名称", "所属区县", "所在区县",
                    "行政区", "行政区划", "区县代码", "区划代码", "district_name")


def district_column(gdf: gpd.GeoDataFrame) -> str | None:
    """The column of ``gdf`` naming each point's district (adcode or 区县 name), if any."""
    from layers.columns import header_key

    keys = {header_key(h) for h in DISTRICT_HEADERS}
    return next((str(c) for c in gdf.columns if c != gdf.geometry.name
                 and header_key(c) in keys), None)


def check_point_datum(gdf: gpd.GeoDataFrame, source: str, datum, *, option: str | None = None,
                      streets: np.ndarray | None = None,
                      districts: gpd.GeoDataFrame | None = None,
                      distances: Callable | None = None) -> str | None:
    """Warn when a point layer declared WGS-84 (or CGCS2000) inside China looks GCJ-02 or
    BD-09 shifted; return the warning's text (None: nothing found or nothing to check with).

    The evidence is the street network (``streets``, WGS-84 lines: the points fit them
    markedly better once the shift is undone), else the district boundaries (Chongqing's
    districts by default) against a column naming each point's district (adname, adcode,
    区县 …). ``option`` is the command-line option that declares this layer's datum; the
    warning names it with the likely datum (e.g. ``--sites-datum gcj02``).
    """
    from geo_app.errors import warn
    from layers.coords import in_china, normalise_datum

    try:
        declared = normalise_datum(str(datum))
    except ValueError:
        return None  # an EPSG code: a projected CRS has no web-map shift
    if declared not in ("wgs84", "cgcs2000") or len(gdf) == 0:
        return None
    pts = located(gdf)
    pts = pts[shapely.get_type_id(pts.geometry.values) == 0]
    if len(pts) < 10 or not in_china(shapely.get_x(pts.geometry.values),
                                     shapely.get_y(pts.geometry.values)).mean() > 0.9:
        return None
    found = None
    if distances is not None or (streets is not None and len(streets)):
        found = shift_against_streets(pts, streets, distances=distances)
    else:
        column = district_column(pts)
        if column is not None:
            if districts is None:
                from layers import load_districts

                districts = load_districts()
            found = _by_district_labels(pts, districts, column)
    if found is None:
        return None
    how = f"{option} {found.datum}" if option else f"datum={found.datum!r}"
    text = (f"{source}: looks like {found.datum.upper()} coordinates read as WGS-84 "
            f"({found.evidence}); declare its datum as {found.datum} ({how})")
    warn(None, text, DatumShiftWarning, key="warn_datum_vs_streets", stacklevel=3,
         path=str(source), datum=found.datum, option=option or "")
    return text
