"""Walkable or drivable street networks from OSM files, OpenStreetMap online, or road
centre-lines."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.errors import GeoAppError
from layers import connectors
from layers.resources import data_dir
from layers.validate import Column, LayerValidationError, Problems, read_table

# OSMnx's "walk" rules, applied to every source so that all networks mean the same thing.
_EXCLUDED_HIGHWAY = (r"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
                     r"proposed|raceway|razed|rest_area|services")
WALK_TAGS = ("highway", "area", "access", "foot", "service", "sidewalk", "sidewalk:both",
              "sidewalk:left", "sidewalk:right")
# OSMnx's "drive" rules (public roads a car may use; no service roads, no motor_vehicle=no).
_DRIVE_EXCLUDED_HIGHWAY = (r"abandoned|bridleway|bus_guideway|construction|corridor|cycleway|"
                           r"elevator|escalator|footway|no|path|pedestrian|planned|platform|"
                           r"proposed|raceway|razed|rest_area|service|services|steps|track")
_DRIVE_EXCLUDED_SERVICE = r"alley|driveway|emergency_access|parking|parking_aisle|private"
DRIVE_TAGS = ("highway", "area", "access", "motor_vehicle", "motorcar", "service", "oneway",
               "junction", "maxspeed")
MODES = ("walk", "drive")
MPH_KMH, KNOT_KMH = 1.609344, 1.852
OVERPASS_HOST = "overpass-api.de"


class NetworkUnavailableError(GeoAppError, RuntimeError):
    """OpenStreetMap cannot be reached; the message says how to supply a local file."""


@dataclass(frozen=True)
class StreetNetwork:
    """Street segments and their end nodes, EPSG:4326.

    ``nodes``: ``node_id`` (int64), ``lon``, ``lat`` (degrees). ``edges``: ``u``, ``v``
    (node ids), ``length_m`` (metres), ``highway`` (OSM class or empty), ``geometry``.
    Walk networks add the connectors of :mod:`layers.connectors`: edges ``kind`` (street,
    steps, escalator, elevator, footbridge …), ``direction`` (int8: 0 both ways, 1 only
    u→v, -1 only v→u), ``incline`` (int8: 1 rises u→v, -1 falls, 0 unknown), ``steps``
    (steps on the segment, NaN unknown), ``way_share`` (share of its way's length); nodes
    ``lift`` (a ``highway=elevator`` node) and ``ele_m`` (OSM ``ele``, NaN where untagged).
    Drive networks add ``oneway`` (int8: 0 both ways, 1 only u→v, -1 only v→u) and
    ``maxspeed_kmh`` (km/h, NaN where not tagged or not a number).
    """

    nodes: pd.DataFrame
    edges: gpd.GeoDataFrame
    source: str


def _tag(tags: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``tags`` as text, empty where missing."""
    if name in tags.columns:
        return tags[name].astype("string").fillna("")
    return pd.Series("", index=tags.index, dtype="string")


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def walkable(tags: pd.DataFrame) -> np.ndarray:
    """Mask of ways a pedestrian may use, by OSMnx's walk rules (no motorways, no foot=no…)."""
    hw = _tag(tags, "highway")
    ok = hw != ""
    ok &= ~hw.str.contains(_EXCLUDED_HIGHWAY, regex=True)
    ok &= ~_tag(tags, "area").str.contains("yes") & ~_tag(tags, "access").str.contains("private")
    ok &= ~_tag(tags, "foot").str.contains("no") & ~_tag(tags, "service").str.contains("private")
    for side in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"):
        ok &= ~_tag(tags, side).str.contains("separate")
    return ok.to_numpy(dtype=bool)


def drivable(tags: pd.DataFrame) -> np.ndarray:
    """Mask of ways a car may use, by OSMnx's drive rules (no footways, paths, steps,
    tracks, service roads, private access, motor_vehicle=no or motorcar=no, areas)."""
    hw = _tag(tags, "highway")
    ok = hw != ""
    ok &= ~hw.str.contains(_DRIVE_EXCLUDED_HIGHWAY, regex=True)
    ok &= ~_tag(tags, "area").str.contains("yes") & ~_tag(tags, "access").str.contains("private")
    ok &= ~_tag(tags, "motor_vehicle").str.contains("no")
    ok &= ~_tag(tags, "motorcar").str.contains("no")
    ok &= ~_tag(tags, "service").str.contains(_DRIVE_EXCLUDED_SERVICE, regex=True)
    return ok.to_numpy(dtype=bool)


def oneway_code(tags: pd.DataFrame) -> np.ndarray:
    """Direction of travel along each way's node order (int8): 1 only forward, -1 only
    backward, 0 both ways.

    ``oneway`` = yes/true/1 (and OSMnx's F) is forward, -1/reverse (and T) backward,
    no/false/0 two-way. Untagged roundabouts (``junction=roundabout|circular``) and
    motorways are one-way forward, as OSM implies; an explicit ``oneway=no`` wins.
    """
    tag = _tag(tags, "oneway").str.strip().str.lower().str.replace(r"\.0$", "", regex=True)
    fwd = tag.isin(["yes", "true", "1", "f"]).to_numpy(bool)
    back = tag.isin(["-1", "reverse", "t"]).to_numpy(bool)
    both = tag.isin(["no", "false", "0"]).to_numpy(bool)
    implied = (_tag(tags, "junction").isin(["roundabout", "circular"])
               | (_tag(tags, "highway") == "motorway")).to_numpy(bool)
    code = np.where(fwd, 1, np.where(back, -1, np.where(both, 0, np.where(implied, 1, 0))))
    return code.astype(np.int8)


def parse_maxspeed(values) -> np.ndarray:
    """Speed limits in km/h from OSM ``maxspeed`` text: "50", "50 km/h", "30 mph",
    "10 knots"; NaN for anything else (none, signals, "CN:urban", several values)."""
    text = pd.Series(values).astype("string").fillna("").str.strip().str.lower()
    parts = text.str.extract(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")
    number = pd.to_numeric(parts[0].str.replace(",", "."), errors="coerce").to_numpy(float)
    unit = parts[1].fillna("").to_numpy(object)
    kmh = number * np.where(unit == "mph", MPH_KMH, np.where(unit == "knots", KNOT_KMH, 1.0))
    return np.where(kmh > 0, kmh, np.nan)


def _from_graph_tables(nodes: pd.DataFrame, edges: pd.DataFrame, source: str,
                       mode: str = "walk", *, ruled: bool = False) -> StreetNetwork:
    """Keep walkable (or drivable) edges with finite lengths and the nodes they use
    (``ruled``: the caller already applied the walk or drive rules to the ways)."""
    problems = Problems(source)
    if len(edges) == 0 and not ruled:
        problems.add("the network has no streets")
        problems.raise_if_any()
    if not ruled:
        edges = edges.loc[walkable(edges) if mode == "walk" else drivable(edges)]
    if len(edges) == 0 and mode == "drive":
        problems.add("the network has no drivable roads (only footways, paths, steps, "
                     "service, private or motor_vehicle=no ways)")
        problems.raise_if_any()
    if len(edges) == 0:
        problems.add("the network has no walkable streets (only motorways, private or "
                     "foot=no ways)")
        problems.raise_if_any()
    used = np.r_[edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)]
    keep = [c for c in nodes.columns if c in ("node_id", "lon", "lat")
            or mode == "walk" and c.startswith("node:")]
    nodes = nodes.loc[nodes["node_id"].isin(used), keep]  # a hash set
    columns = {
        "u": edges["u"].to_numpy(np.int64), "v": edges["v"].to_numpy(np.int64),
        "length_m": edges["length"].to_numpy(float),
        "highway": edges["highway"].astype("string").fillna("").to_numpy(object),
    }
    if mode == "walk":
        columns.update(connectors.walk_columns(edges))
        flags = connectors.node_columns(nodes)
        nodes = nodes[["node_id", "lon", "lat"]].assign(**flags)
    if mode == "drive":
        columns["oneway"] = oneway_code(edges)
        columns["maxspeed_kmh"] = parse_maxspeed(_tag(edges, "maxspeed").to_numpy(object))
    out = gpd.GeoDataFrame(columns, geometry=edges.geometry.to_numpy(), crs=4326)
    return StreetNetwork(nodes.reset_index(drop=True), out, source)


def read_osm_pbf(path: Path, *, mode: str = "walk", reader: str = "auto") -> StreetNetwork:
    """Walkable (or, with ``mode="drive"``, drivable) network of a ``.osm.pbf`` extract;
    each row is one segment in its way's node order.

    ``reader="auto"`` reads through DuckDB's spatial extension (:mod:`layers.osm_pbf`,
    about 3x faster than pyrosm on a million-node extract, with less memory) when it is
    installed, else with pyrosm; ``"duckdb"`` or ``"pyrosm"`` force one. Both give the
    same network.
    """
    from layers import osm_pbf

    _check_mode(mode)
    if reader not in ("auto", "duckdb", "pyrosm"):
        raise ValueError(f"reader must be 'auto', 'duckdb' or 'pyrosm', got {reader!r}")
    if reader == "duckdb" or (reader == "auto" and osm_pbf.available()):
        return _read_pbf_duckdb(path, mode)
    return _read_pbf_pyrosm(path, mode)


def _read_pbf_duckdb(path: Path, mode: str) -> StreetNetwork:
    from layers import osm_pbf

    tags, rule = (WALK_TAGS, walkable) if mode == "walk" else (DRIVE_TAGS, drivable)
    walk = dict(derive=connectors.classify, derive_keys=connectors.CONNECTOR_TAGS,
                node_keys=connectors.NODE_KEYS) if mode == "walk" else {}
    try:  # the rules apply to each way once, not to each of its segments
        nodes, edges, n_pyrosm = osm_pbf.street_tables(path, mode, tags, way_rule=rule,
                                                       **walk)
    except osm_pbf.PbfReadError as exc:
        raise LayerValidationError(str(path), [f"not a readable OSM PBF file: {exc}"]) \
            from None
    if n_pyrosm == 0:  # the words of the pyrosm reader
        what = "walkable streets" if mode == "walk" else "drivable roads"
        raise LayerValidationError(str(path), [f"the extract has no {what}"])
    return _from_graph_tables(nodes, edges, str(path), mode, ruled=True)


def _read_pbf_pyrosm(path: Path, mode: str) -> StreetNetwork:
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network(network_type="walking" if mode == "walk" else "driving",
                                       nodes=True)
    except Exception as exc:  # pyrosm raises bare errors on files that are not PBF
        raise LayerValidationError(str(path), [f"not a readable OSM PBF file: {exc}"]) from None
    if edges is None or nodes is None or len(edges) == 0:
        what = "walkable streets" if mode == "walk" else "drivable roads"
        raise LayerValidationError(str(path), [f"the extract has no {what}"])
    nodes = nodes.rename(columns={"id": "node_id"})
    if mode == "walk":  # the connector tags pyrosm keeps in its JSON column, node tags
        edges = connectors.tags_from_json(edges.rename(columns={"id": "way_id"}),
                                          connectors.CONNECTOR_TAGS)
        nodes = connectors.node_tags_from_dicts(nodes, connectors.NODE_KEYS)
    return _from_graph_tables(nodes, edges, str(path), mode)


def _from_elements(elements, source: str, mode: str, polygon=None) -> StreetNetwork:
    """Network of OSM elements (:mod:`layers.osm_elements`): their segment tables go
    through :func:`_from_graph_tables` like pyrosm's tables of a ``.osm.pbf``."""
    from layers.osm_elements import street_tables

    walk = mode == "walk"
    nodes, edges = street_tables(elements, (*WALK_TAGS, *connectors.CONNECTOR_TAGS) if walk
                                 else DRIVE_TAGS, polygon,
                                 node_keys=connectors.NODE_KEYS if walk else ())
    if len(edges) == 0:
        raise LayerValidationError(source, ["the file has no streets"])
    return _from_graph_tables(nodes, edges, source, mode)


def read_osm_xml(path: Path, *, mode: str = "walk") -> StreetNetwork:
    """Walkable (or, with ``mode="drive"``, drivable) network of an ``.osm`` XML file.

    Each row is one segment of a way in its node order, with OSMnx's great-circle length
    (the network equals OSMnx's unsimplified graph of the file); the file is streamed,
    and ``osmnx.settings`` is neither read nor changed.
    """
    import xml.etree.ElementTree as ET

    from layers.osm_elements import read_xml

    _check_mode(mode)
    try:
        elements = read_xml(path)
    except (ET.ParseError, KeyError, ValueError) as exc:
        what = f"missing attribute {exc}" if isinstance(exc, KeyError) else str(exc)
        raise LayerValidationError(str(path), [f"not a readable OSM XML file: {what}"]) from None
    return _from_elements(elements, str(path), mode)


def read_osm_tables(path: Path, *, mode: str = "walk") -> StreetNetwork:
    """Walkable (or drivable) network of the street tables of an OpenStreetMap download
    (a GeoPackage of ways and nodes, see :func:`layers.osm_fetch.fetch_area_data`)."""
    from layers.osm_elements import read_street_tables

    _check_mode(mode)
    try:
        elements = read_street_tables(path)
    except Exception as exc:  # pyogrio/GDAL errors, missing columns
        raise LayerValidationError(str(path), [f"not readable OSM street tables: {exc}"]) \
            from None
    return _from_elements(elements, str(path), mode)


def _shared_vertices(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct points of ``xy`` (rows), sorted by x then y, and the index of each
    row's point among them: ``np.unique(xy, axis=0, return_inverse=True)``, by hashing
    the points and sorting only the distinct ones (several times faster)."""
    codes, uniq = pd.factorize(xy[:, 0] + 1j * xy[:, 1])
    order = np.lexsort((uniq.imag, uniq.real))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.column_stack([uniq.real[order], uniq.imag[order]]), rank[codes]


def read_centrelines(path: Path, *, datum: str | int = "wgs84",
                     mode: str = "walk", layer: str | None = None,
                     bbox: tuple | None = None) -> StreetNetwork:
    """Network from road centre-lines, noded at shared vertices only.

    Lines cross without meeting unless they share a vertex, so a bridge or tunnel over
    a street stays unconnected. A ``highway`` column, when present, applies the walk (or
    drive) rules; without it every line is kept. For drive, optional ``oneway`` (OSM
    values, along the line's vertex order) and ``maxspeed`` (km/h or OSM text) columns
    are read. For walking, a ``kind`` column (steps/stairs, escalator, elevator,
    footbridge, underpass, passage, crossing …; empty: street) gives each line's connector
    kind (a line with a kind is kept without a ``highway`` class), else the OSM connector
    tags present as columns (:mod:`layers.connectors`) do.
    """
    from layers.userfile import read_user_layer

    _check_mode(mode)
    gdf, _ = read_user_layer(path, datum=datum, geometry_types=("LineString", "MultiLineString"),
                             use_arrow=True, layer=layer, bbox=bbox)
    if bbox is not None and len(gdf) == 0:  # a piece of a large file with no lines in it
        return empty_network(str(path))
    geoms = np.asarray(gdf.geometry.values)
    if (shapely.get_type_id(geoms) == 1).all():  # LineStrings only: no parts to split
        lines, part_row = geoms, np.arange(len(geoms))
    else:
        lines = shapely.get_parts(geoms)
        part_row = np.repeat(np.arange(len(gdf)), shapely.get_num_geometries(geoms))
    xy, seg_line = shapely.get_coordinates(lines, return_index=True)
    same = seg_line[1:] == seg_line[:-1]
    start, end = xy[:-1][same], xy[1:][same]
    keys, node_of = _shared_vertices(np.round(np.r_[start, end], 9))
    u, v = node_of[: len(start)], node_of[len(start):]
    from pyproj import Geod

    length = Geod(ellps="WGS84").inv(start[:, 0], start[:, 1], end[:, 0], end[:, 1])[2]
    row = part_row[seg_line[:-1][same]]
    tags = {}
    names = (*WALK_TAGS, *connectors.CONNECTOR_TAGS, "kind") if mode == "walk" else DRIVE_TAGS
    if mode == "walk" and "kind" in gdf.columns:
        connectors.check_kind_column(gdf["kind"], str(path))
    for c in names:
        if c in gdf.columns:  # as text once per line, then taken per segment
            tags[c] = gdf[c].astype("string").array.take(row)
    if mode == "walk":
        tags["way_id"] = row
    if "highway" not in tags:
        tags["highway"] = np.full(len(u), "road", dtype=object)  # no classes: keep every line
    elif "kind" in tags:  # a line given a connector kind is kept without a class
        no_class = (pd.Series(tags["highway"]).fillna("") == "").to_numpy(bool) & \
            (pd.Series(tags["kind"]).fillna("") != "").to_numpy(bool)
        tags["highway"] = np.where(no_class, "road", np.asarray(tags["highway"], dtype=object))
    if len(lines) == len(start) and (shapely.get_num_coordinates(lines) == 2).all() \
            and not shapely.has_z(lines).any():
        segments = lines  # one straight line per segment already (a common export)
    else:
        segments = shapely.linestrings(np.stack([start, end], axis=1))
    edges = gpd.GeoDataFrame({**tags, "u": u, "v": v, "length": length}, geometry=segments,
                             crs=4326)
    nodes = pd.DataFrame({"node_id": np.arange(len(keys), dtype=np.int64),
                          "lon": keys[:, 0], "lat": keys[:, 1]})
    net = _from_graph_tables(nodes, edges, str(path), mode)
    net.edges.loc[net.edges["highway"] == "road", "highway"] = ""
    return net


def empty_network(source: str) -> StreetNetwork:
    """A network with no nodes and no segments (a piece of an area without streets)."""
    nodes = pd.DataFrame({"node_id": np.zeros(0, np.int64), "lon": np.zeros(0),
                          "lat": np.zeros(0)})
    edges = gpd.GeoDataFrame({"u": np.zeros(0, np.int64), "v": np.zeros(0, np.int64),
                              "length_m": np.zeros(0), "highway": np.zeros(0, object)},
                             geometry=[], crs=4326)
    return StreetNetwork(nodes, edges, source)


def read_network(path: str | Path, *, datum: str | int = "wgs84",
                 mode: str = "walk", layer: str | None = None) -> StreetNetwork:
    """Load a walkable (``mode="walk"``) or drivable (``mode="drive"``) network from a
    local file, chosen by its extension.

    ``.osm.pbf``/``.pbf``: OSM extract (:func:`read_osm_pbf`: DuckDB, else pyrosm);
    ``.osm``/``.xml``: OSM XML; a GeoPackage
    of OSM street tables (an OpenStreetMap download, see
    :func:`layers.osm_fetch.fetch_area_data`); any other vector file the layer loader
    reads (GeoJSON, GeoPackage, Shapefile…): road centre-lines in ``datum`` (``layer``: the
    layer of a file holding several).
    """
    from layers.osm_elements import is_street_tables

    _check_mode(mode)
    path = Path(path)
    if not path.is_file():
        raise LayerValidationError(str(path), ["file not found"])
    name = path.name.lower()
    if name.endswith(".pbf"):
        return read_osm_pbf(path, mode=mode)
    if name.endswith((".osm", ".xml", ".osm.xml")):
        return read_osm_xml(path, mode=mode)
    if is_street_tables(path):
        return read_osm_tables(path, mode=mode)
    return read_centrelines(path, datum=datum, mode=mode, layer=layer)


DRIVE_SPEEDS_SCHEMA = (
    Column("highway", doc="OSM highway class, or 'default' for any other class"),
    Column("speed_kmh", "float", lo=1, hi=150, doc="assumed travel speed (km/h)"),
    Column("source"),
)


def load_drive_speeds(path: str | Path | None = None) -> pd.DataFrame:
    """Travel speed (km/h) by OSM highway class, indexed by ``highway``.

    Reads ``data/gis/drive_speeds.csv`` unless ``path`` is given; a ``default`` row
    serves classes the table does not list.
    """
    path = Path(path) if path is not None else data_dir() / "drive_speeds.csv"
    df, problems = read_table(path, DRIVE_SPEEDS_SCHEMA, unique="highway")
    if "highway" in df.columns and "default" not in set(df["highway"]):
        problems.add("no 'default' row (the speed of classes not listed)", column="highway")
    problems.raise_if_any()
    return df.set_index("highway", drop=False)


_OFFLINE_HINT = ("Offline, supply a local network instead: an .osm.pbf extract (e.g. Geofabrik's "
                 "Chongqing extract), an .osm XML file, or a road centre-line file "
                 "(GeoJSON/GeoPackage/Shapefile).")


def require_internet(host: str = OVERPASS_HOST, timeout_s: float = 3.0, *,
                     hint: str = _OFFLINE_HINT) -> None:
    """Raise :class:`NetworkUnavailableError` at once when ``host`` cannot be reached."""
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return
    except OSError as exc:
        raise NetworkUnavailableError(
            f"cannot reach OpenStreetMap ({host}: {exc.strerror or exc}). {hint}") from None


GEOFABRIK_HOST = "download.geofabrik.de"


def download_osm_extract(region: str = "chongqing", directory: str | Path = "osm_cache") -> Path:
    """Download a Geofabrik extract once (pyrosm's index knows "chongqing", ~31 MB) and
    return its path; later calls reuse the cached file without the network."""
    directory = Path(directory)
    cached = sorted(directory.glob(f"{region}*.osm.pbf")) if directory.is_dir() else []
    if cached:
        return cached[0]
    require_internet(GEOFABRIK_HOST)
    import pyrosm

    directory.mkdir(parents=True, exist_ok=True)
    return Path(pyrosm.get_data(region, directory=str(directory)))


def fetch_network(polygon: shapely.Polygon | shapely.MultiPolygon, *,
                  mode: str = "walk") -> StreetNetwork:
    """Download the walkable (or drivable) network inside a WGS-84 polygon from
    OpenStreetMap (Overpass API): segments with both nodes inside the polygon or on its
    edge.

    Fails at once with :class:`NetworkUnavailableError` when there is no internet; a
    failed download raises it too (connection lost) or
    :class:`layers.overpass.FetchError` (Overpass error, no streets there).
    """
    from layers.overpass import FetchError, fetch_elements, highway_ways

    _check_mode(mode)
    require_internet()
    elements = fetch_elements(polygon, highway_ways(), "the street network")
    try:
        return _from_elements(elements, "OpenStreetMap (Overpass API)", mode, polygon)
    except LayerValidationError as exc:  # no streets, or none under the walk/drive rules
        what = "; ".join(exc.problems).replace("the file has", "there are")
        raise FetchError(f"OpenStreetMap has no usable streets inside the area: {what}") \
            from None


def fetch_townships(polygon: shapely.Polygon | shapely.MultiPolygon) -> gpd.GeoDataFrame:
    """Township and street (乡镇/街道, OSM ``boundary=administrative`` with
    ``admin_level=8``) boundaries intersecting a WGS-84 polygon, from the Overpass API.

    Returns ``name`` and polygon geometry; fails at once with
    :class:`NetworkUnavailableError` when there is no internet (supply a file instead).
    """
    require_internet(hint="Offline, supply township boundaries as a file (GeoJSON/GeoPackage/"
                          "Shapefile with a name column).")
    from layers.osm_elements import features
    from layers.overpass import fetch_elements, selector

    tags = {"boundary": "administrative", "admin_level": "8"}
    elements = fetch_elements(polygon, [selector(kind, tags) for kind in ("way", "relation")],
                              "township boundaries")
    f = features(elements, lambda t: all(t.get(k) == v for k, v in tags.items()), polygon)
    f = f[f.geom_type.isin(["Polygon", "MultiPolygon"])]
    name = f["name"] if "name" in f.columns else pd.Series("", index=f.index)
    return gpd.GeoDataFrame({"name": name.fillna("").astype(str).to_numpy()},
                            geometry=f.geometry.to_numpy(), crs=4326)
