"""Walkable street networks from OSM files, OpenStreetMap online, or road centre-lines."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers._validate import LayerValidationError, Problems

# OSMnx's "walk" rules, applied to every source so that all networks mean the same thing.
_EXCLUDED_HIGHWAY = (r"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
                     r"proposed|raceway|razed|rest_area|services")
_RULE_TAGS = ("highway", "area", "access", "foot", "service", "sidewalk", "sidewalk:both",
              "sidewalk:left", "sidewalk:right")
OVERPASS_HOST = "overpass-api.de"


class NetworkUnavailableError(RuntimeError):
    """OpenStreetMap cannot be reached; the message says how to supply a local file."""


@dataclass(frozen=True)
class StreetNetwork:
    """Street segments and their end nodes, EPSG:4326.

    ``nodes``: ``node_id`` (int64), ``lon``, ``lat`` (degrees). ``edges``: ``u``, ``v``
    (node ids), ``length_m`` (metres), ``highway`` (OSM class or empty), ``geometry``.
    """

    nodes: pd.DataFrame
    edges: gpd.GeoDataFrame
    source: str


def walkable(tags: pd.DataFrame) -> np.ndarray:
    """Mask of ways a pedestrian may use, by OSMnx's walk rules (no motorways, no foot=no…)."""
    def col(name: str) -> pd.Series:
        if name in tags.columns:
            return tags[name].astype("string").fillna("")
        return pd.Series("", index=tags.index, dtype="string")

    hw = col("highway")
    ok = hw != ""
    ok &= ~hw.str.contains(_EXCLUDED_HIGHWAY, regex=True)
    ok &= ~col("area").str.contains("yes") & ~col("access").str.contains("private")
    ok &= ~col("foot").str.contains("no") & ~col("service").str.contains("private")
    for side in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"):
        ok &= ~col(side).str.contains("separate")
    return ok.to_numpy(dtype=bool)


def _from_graph_tables(nodes: pd.DataFrame, edges: pd.DataFrame, source: str) -> StreetNetwork:
    """Keep walkable edges with finite lengths and the nodes they use."""
    problems = Problems(source)
    if len(edges) == 0:
        problems.add("the network has no streets")
        problems.raise_if_any()
    keep = walkable(edges)
    edges = edges.loc[keep]
    if len(edges) == 0:
        problems.add("the network has no walkable streets (only motorways, private or "
                     "foot=no ways)")
        problems.raise_if_any()
    used = np.unique(np.r_[edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)])
    nodes = nodes.loc[nodes["node_id"].isin(used), ["node_id", "lon", "lat"]]
    out = gpd.GeoDataFrame({
        "u": edges["u"].to_numpy(np.int64), "v": edges["v"].to_numpy(np.int64),
        "length_m": edges["length"].to_numpy(float),
        "highway": edges["highway"].astype("string").fillna("").to_numpy(object),
    }, geometry=edges.geometry.to_numpy(), crs=4326)
    return StreetNetwork(nodes.reset_index(drop=True), out, source)


def read_osm_pbf(path: Path) -> StreetNetwork:
    """Walkable network of a ``.osm.pbf`` extract, read with pyrosm."""
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network(network_type="walking", nodes=True)
    except Exception as exc:  # pyrosm raises bare errors on files that are not PBF
        raise LayerValidationError(str(path), [f"not a readable OSM PBF file: {exc}"]) from None
    if edges is None or nodes is None or len(edges) == 0:
        raise LayerValidationError(str(path), ["the extract has no walkable streets"])
    nodes = nodes.rename(columns={"id": "node_id"})
    return _from_graph_tables(nodes, edges, str(path))


def read_osm_xml(path: Path) -> StreetNetwork:
    """Walkable network of an ``.osm`` XML file, read with OSMnx (not simplified)."""
    import osmnx as ox

    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys(saved + list(_RULE_TAGS)))
    try:
        g = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=True)
    except Exception as exc:  # ElementTree.ParseError, ValueError from OSMnx
        raise LayerValidationError(str(path), [f"not a readable OSM XML file: {exc}"]) from None
    finally:
        ox.settings.useful_tags_way = saved
    if g.number_of_edges() == 0:
        raise LayerValidationError(str(path), ["the file has no streets"])
    nodes, edges = ox.graph_to_gdfs(g, fill_edge_geometry=True)
    nodes = pd.DataFrame({"node_id": nodes.index.to_numpy(np.int64), "lon": nodes["x"],
                          "lat": nodes["y"]})
    edges = edges.reset_index()
    for c in _RULE_TAGS:  # OSMnx keeps lists where merged ways disagree
        if c in edges.columns:
            edges[c] = edges[c].map(lambda x: ";".join(map(str, x)) if isinstance(x, list) else x)
    # one row per street segment: drop the reverse copy of each two-way segment
    a, b = np.minimum(edges["u"], edges["v"]), np.maximum(edges["u"], edges["v"])
    edges = edges.loc[~pd.DataFrame({"a": a, "b": b, "k": edges["key"]}).duplicated()]
    return _from_graph_tables(nodes, edges, str(path))


def read_centrelines(path: Path, *, datum: str | int = "wgs84") -> StreetNetwork:
    """Network from road centre-lines, noded at shared vertices only.

    Lines cross without meeting unless they share a vertex, so a bridge or tunnel over
    a street stays unconnected. A ``highway`` column, when present, applies the walk rules.
    """
    from layers.userfile import read_user_layer

    gdf, _ = read_user_layer(path, datum=datum, geometry_types=("LineString", "MultiLineString"))
    lines = shapely.get_parts(gdf.geometry.values)
    part_row = np.repeat(np.arange(len(gdf)), shapely.get_num_geometries(gdf.geometry.values))
    xy, seg_line = shapely.get_coordinates(lines, return_index=True)
    same = seg_line[1:] == seg_line[:-1]
    start, end = xy[:-1][same], xy[1:][same]
    keys, node_of = np.unique(np.round(np.r_[start, end], 9), axis=0, return_inverse=True)
    node_of = node_of.ravel()
    u, v = node_of[: len(start)], node_of[len(start):]
    from pyproj import Geod

    length = Geod(ellps="WGS84").inv(start[:, 0], start[:, 1], end[:, 0], end[:, 1])[2]
    row = part_row[seg_line[:-1][same]]
    tags = pd.DataFrame(index=np.arange(len(u)))
    for c in _RULE_TAGS:
        if c in gdf.columns:
            tags[c] = gdf[c].to_numpy()[row]
    if "highway" not in tags.columns:
        tags["highway"] = "road"  # no classes given: every centre-line is walkable
    edges = gpd.GeoDataFrame(tags.assign(u=u, v=v, length=length),
                             geometry=shapely.linestrings(np.stack([start, end], axis=1)),
                             crs=4326)
    nodes = pd.DataFrame({"node_id": np.arange(len(keys), dtype=np.int64),
                          "lon": keys[:, 0], "lat": keys[:, 1]})
    net = _from_graph_tables(nodes, edges, str(path))
    net.edges.loc[net.edges["highway"] == "road", "highway"] = ""
    return net


def read_network(path: str | Path, *, datum: str | int = "wgs84") -> StreetNetwork:
    """Load a walkable network from a local file, chosen by its extension.

    ``.osm.pbf``/``.pbf``: OSM extract (pyrosm); ``.osm``/``.xml``: OSM XML (OSMnx);
    any vector file the layer loader reads (GeoJSON, GeoPackage, Shapefile…): road
    centre-lines in ``datum``.
    """
    path = Path(path)
    if not path.is_file():
        raise LayerValidationError(str(path), ["file not found"])
    name = path.name.lower()
    if name.endswith(".pbf"):
        return read_osm_pbf(path)
    if name.endswith((".osm", ".xml", ".osm.xml")):
        return read_osm_xml(path)
    return read_centrelines(path, datum=datum)


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


def fetch_network(polygon: shapely.Polygon | shapely.MultiPolygon) -> StreetNetwork:
    """Download the walkable network inside a WGS-84 polygon from OpenStreetMap (OSMnx).

    Fails at once with :class:`NetworkUnavailableError` when there is no internet.
    """
    require_internet()
    import osmnx as ox

    g = ox.graph_from_polygon(polygon, network_type="walk", simplify=False, retain_all=True)
    nodes, edges = ox.graph_to_gdfs(g, fill_edge_geometry=True)
    nodes = pd.DataFrame({"node_id": nodes.index.to_numpy(np.int64), "lon": nodes["x"],
                          "lat": nodes["y"]})
    return _from_graph_tables(nodes, edges.reset_index(), "OpenStreetMap (Overpass API)")


def fetch_townships(polygon: shapely.Polygon | shapely.MultiPolygon) -> gpd.GeoDataFrame:
    """Township and street (乡镇/街道, OSM admin_level 8) boundaries inside a WGS-84 polygon.

    Returns ``name`` and polygon geometry; fails at once with
    :class:`NetworkUnavailableError` when there is no internet (supply a file instead).
    """
    require_internet(hint="Offline, supply township boundaries as a file (GeoJSON/GeoPackage/"
                          "Shapefile with a name column).")
    import osmnx as ox

    f = ox.features_from_polygon(polygon, tags={"boundary": "administrative", "admin_level": "8"})
    f = f[f.geom_type.isin(["Polygon", "MultiPolygon"])]
    name = f["name"] if "name" in f.columns else pd.Series("", index=f.index)
    return gpd.GeoDataFrame({"name": name.fillna("").astype(str).to_numpy()},
                            geometry=f.geometry.to_numpy(), crs=4326)
