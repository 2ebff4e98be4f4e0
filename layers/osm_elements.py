"""OpenStreetMap elements, and the tables built from them.

Every OSM source other than ``.osm.pbf`` (which pyrosm reads) goes through here: an
``.osm`` XML file (streamed through ElementTree's C parser, no element tree kept), an
Overpass API answer (JSON) and the cached street tables of a download all become
:class:`OsmElements` — nodes with coordinates, ways with their node references and all
their tags, relations with their members. From those:

- :func:`street_tables`: the node and segment tables that
  :func:`layers.network._from_graph_tables` turns into a walk or drive network, as it does
  with pyrosm's tables of a ``.osm.pbf``;
- :func:`street_ways`, :func:`write_street_tables`, :func:`read_street_tables`: the cache of
  a download, a GeoPackage of ways (``osm_ways``: node references and tags) and nodes
  (``osm_nodes``), written atomically;
- :func:`features`: points, lines and polygons of tagged elements (buildings, points of
  interest, boundaries), one row per element with a column per tag.

A segment joins two consecutive nodes of a way, in the way's node order; a node repeated
right after itself counts once, and a segment whose node is missing from the data is
dropped. Lengths are great-circle metres by OSMnx's formula, so a network equals the one
OSMnx builds from the same file. Nothing here reads or changes ``osmnx.settings``: the
work is vectorised after the parse, with no Python object per segment.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

EARTH_RADIUS_M = 6_371_009.0  # OSMnx's mean Earth radius (metres)
NODES_LAYER, WAYS_LAYER = "osm_nodes", "osm_ways"
OTHER_TAGS = "other_tags"  # JSON of the tags that have no column of their own
_FEATURE_META = ("osm_type", "id", "geometry")  # columns of features(), not tags
_CHUNK = 1 << 20  # bytes fed to the XML parser at a time

# Closed ways that are areas rather than rings, after the OSM wiki's "Overpass turbo/Polygon
# Features": keys any value of which is an area, keys only some values of which are, and
# keys every value of which but some is.
_AREA_ANY = frozenset({"amenity", "area", "area:highway", "boundary", "building",
                       "building:part", "craft", "golf", "healthcare", "historic", "indoor",
                       "landuse", "leisure", "military", "office", "place", "public_transport",
                       "ruins", "shop", "tourism"})
_AREA_ONLY = {"barrier": {"city_wall", "ditch", "hedge", "retaining_wall", "spikes"},
              "highway": {"elevator", "escape", "rest_area", "services"},
              "power": {"generator", "plant", "substation", "transformer"},
              "railway": {"platform", "roundhouse", "station", "turntable"},
              "waterway": {"boatyard", "dam", "dock", "riverbank"}}
_AREA_BUT = {"aeroway": {"taxiway"}, "man_made": {"cutline", "embankment", "pipeline"},
             "natural": {"arete", "cliff", "coastline", "ridge", "tree_row"}}


def is_area(tags: dict[str, str]) -> bool:
    """Whether a closed way with these tags is an area (a polygon) rather than a ring."""
    if tags.get("area") == "no":
        return False
    for key, value in tags.items():
        if key in _AREA_ANY or value in _AREA_ONLY.get(key, ()) or (
                key in _AREA_BUT and value not in _AREA_BUT[key]):
            return True
    return False


@dataclass(frozen=True)
class Relation:
    """An OSM relation: ``members`` are ``(type, ref, role)``."""

    id: int
    tags: dict[str, str]
    members: list[tuple[str, int, str]]


@dataclass(frozen=True)
class OsmElements:
    """Nodes, ways and relations of some OSM data.

    ``node_id``/``lon``/``lat``: every node (degrees); ``node_tags``: tags of the tagged
    nodes by id. ``way_id``: every way; ``refs``: their node ids one way after another,
    way ``i`` being ``refs[ref_start[i]:ref_start[i + 1]]``; ``way_tags``: a dict per way,
    or a table with a column per tag (missing values null) and optionally
    :data:`OTHER_TAGS` (JSON).
    """

    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    way_id: np.ndarray
    refs: np.ndarray
    ref_start: np.ndarray
    way_tags: Sequence[dict[str, str]] | pd.DataFrame
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    @property
    def n_ways(self) -> int:
        return len(self.way_id)

    def way_tag(self, key: str) -> np.ndarray:
        """Value of tag ``key`` of every way (object array, ``None`` where untagged)."""
        tags = self.way_tags
        if not isinstance(tags, pd.DataFrame):
            return np.array([t.get(key) for t in tags], dtype=object)
        if key in tags.columns:
            col = tags[key]
            return col.astype(object).where(col.notna(), None).to_numpy(object)
        out = np.full(len(tags), None, dtype=object)
        if OTHER_TAGS in tags.columns:
            rows, other = self._other_tags()
            out[rows] = [d.get(key) for d in other]
        return out

    def _other_tags(self) -> tuple[np.ndarray, list[dict[str, str]]]:
        """The rows with :data:`OTHER_TAGS` and their tags, parsed once and kept."""
        cached = self.__dict__.get("_other")
        if cached is None:
            text = self.way_tags[OTHER_TAGS].to_numpy(object)
            rows = np.flatnonzero([isinstance(t, str) and bool(t) for t in text])
            cached = (rows, [json.loads(text[i]) for i in rows])
            self.__dict__["_other"] = cached  # the elements never change
        return cached

    def way_tag_dicts(self) -> list[dict[str, str]]:
        """All tags of every way, a dict each."""
        tags = self.way_tags
        if not isinstance(tags, pd.DataFrame):
            return list(tags)
        cols = [c for c in tags.columns if c != OTHER_TAGS]
        other = tags[OTHER_TAGS].to_numpy(object) if OTHER_TAGS in tags.columns \
            else np.full(len(tags), None, dtype=object)
        out = []
        for row, extra in zip(tags[cols].to_numpy(object), other):
            d = {k: v for k, v in zip(cols, row) if isinstance(v, str)}
            if isinstance(extra, str) and extra:
                d.update(json.loads(extra))
            out.append(d)
        return out


def great_circle_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances (metres) between points given in degrees: the haversine
    formula with OSMnx's Earth radius and operations, so lengths equal OSMnx's to the bit."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    x1, x2 = np.deg2rad(lon1), np.deg2rad(lon2)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    h = np.minimum(1, h)
    dist = 2 * np.arcsin(np.sqrt(h)) * EARTH_RADIUS_M
    return np.where(np.isnan(dist), 0.0, dist)


# ------------------------------------------------------------------------ reading

class _XmlTarget:
    """ElementTree parser target collecting OSM XML elements as they stream past."""

    def __init__(self):
        self.node_id: list[int] = []
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.node_tags: dict[int, dict[str, str]] = {}
        self.way_id: list[int] = []
        self.way_tags: list[dict[str, str]] = []
        self.refs: list[int] = []
        self.n_refs: list[int] = []
        self.relations: list[Relation] = []
        self._tags: dict[str, str] | None = None
        self._members: list[tuple[str, int, str]] = []
        self._first_ref = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == "nd":
            self.refs.append(int(attrib["ref"]))
        elif tag == "tag":
            if self._tags is not None:
                self._tags[attrib["k"]] = attrib["v"]
        elif tag == "node":
            self.node_id.append(int(attrib["id"]))
            self.lat.append(float(attrib["lat"]))
            self.lon.append(float(attrib["lon"]))
            self._tags = {}
        elif tag == "way":
            self.way_id.append(int(attrib["id"]))
            self._first_ref = len(self.refs)
            self._tags = {}
        elif tag == "relation":
            self._rel_id = int(attrib["id"])
            self._tags, self._members = {}, []
        elif tag == "member":
            self._members.append((attrib["type"], int(attrib["ref"]), attrib.get("role", "")))

    def end(self, tag: str) -> None:
        if tag == "node":
            if self._tags:
                self.node_tags[self.node_id[-1]] = self._tags
            self._tags = None
        elif tag == "way":
            self.way_tags.append(self._tags or {})
            self.n_refs.append(len(self.refs) - self._first_ref)
            self._tags = None
        elif tag == "relation":
            self.relations.append(Relation(self._rel_id, self._tags or {}, self._members))
            self._tags = None

    def close(self) -> OsmElements:
        return OsmElements(
            node_id=np.array(self.node_id, dtype=np.int64),
            lon=np.array(self.lon, dtype=float), lat=np.array(self.lat, dtype=float),
            way_id=np.array(self.way_id, dtype=np.int64),
            refs=np.array(self.refs, dtype=np.int64),
            ref_start=np.r_[0, np.cumsum(self.n_refs, dtype=np.int64)],
            way_tags=self.way_tags, node_tags=self.node_tags, relations=self.relations)


def read_xml(path: str | Path) -> OsmElements:
    """Elements of an OSM XML file, streamed (the file is never held as a tree).

    Raises ``xml.etree.ElementTree.ParseError`` on broken XML and ``KeyError``/
    ``ValueError`` on elements without their ``id``, ``lat``, ``lon`` or ``ref``."""
    parser = ET.XMLParser(target=_XmlTarget())
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            parser.feed(chunk)
    return parser.close()


def from_overpass_json(data: dict) -> OsmElements:
    """Elements of an Overpass API answer in JSON (``[out:json]`` … ``out;``)."""
    node_id, lon, lat, node_tags = [], [], [], {}
    way_id, way_tags, refs, n_refs, relations = [], [], [], [], []
    for e in data.get("elements", ()):
        kind = e.get("type")
        if kind == "node":
            node_id.append(int(e["id"]))
            lat.append(float(e["lat"]))
            lon.append(float(e["lon"]))
            if e.get("tags"):
                node_tags[int(e["id"])] = dict(e["tags"])
        elif kind == "way":
            way_id.append(int(e["id"]))
            way_tags.append(dict(e.get("tags") or {}))
            nodes = e.get("nodes") or []
            refs.extend(nodes)
            n_refs.append(len(nodes))
        elif kind == "relation":
            relations.append(Relation(int(e["id"]), dict(e.get("tags") or {}),
                                      [(m["type"], int(m["ref"]), m.get("role", ""))
                                       for m in e.get("members", ())]))
    return OsmElements(
        node_id=np.array(node_id, dtype=np.int64), lon=np.array(lon, dtype=float),
        lat=np.array(lat, dtype=float), way_id=np.array(way_id, dtype=np.int64),
        refs=np.array(refs, dtype=np.int64), ref_start=np.r_[0, np.cumsum(n_refs, dtype=np.int64)],
        way_tags=way_tags, node_tags=node_tags, relations=relations)


# ------------------------------------------------------------------------ streets

def _prepared(polygon):
    """A prepared copy of ``polygon`` for many point tests (the caller's geometry, which
    other threads may share, is left as it is)."""
    copy = shapely.from_wkb(shapely.to_wkb(polygon))
    shapely.prepare(copy)
    return copy


def _node_lookup(el: OsmElements) -> tuple[pd.Index, np.ndarray]:
    """Unique node ids (the last of repeated ones wins, as in OSM change order) and their
    positions in ``el``'s node arrays."""
    ids = pd.Index(el.node_id)
    if ids.is_unique:
        return ids, np.arange(len(ids))
    last = ~ids.duplicated(keep="last")
    return ids[last], np.flatnonzero(last)


@dataclass(frozen=True)
class _Segments:
    """Segments of the chosen ways: ``way`` (index into the ways), ``pos`` (rank of the
    start node among the chosen ways' nodes: consecutive along a way, never across two
    ways), ``iu``/``iv`` (indices into the node arrays)."""

    way: np.ndarray
    pos: np.ndarray
    iu: np.ndarray
    iv: np.ndarray


def _segments(el: OsmElements, ways: np.ndarray, polygon=None) -> _Segments:
    """Segments of the ways ``ways`` (bool mask) whose two nodes are known and, with a
    ``polygon``, lie inside it or on its edge."""
    counts = np.diff(el.ref_start)
    way_of = np.repeat(np.arange(el.n_ways), counts)
    pos = np.flatnonzero(np.repeat(ways, counts))
    refs, way_of = el.refs[pos], way_of[pos]
    # a node repeated right after itself counts once (OSMnx does the same)
    keep = np.r_[True, (refs[1:] != refs[:-1]) | (way_of[1:] != way_of[:-1])][:len(refs)]
    refs, way_of = refs[keep], way_of[keep]
    pos = np.arange(len(refs))
    same = way_of[1:] == way_of[:-1]
    ids, at = _node_lookup(el)
    idx = ids.get_indexer(refs)
    iu, iv = idx[:-1][same], idx[1:][same]
    ok = (iu >= 0) & (iv >= 0)
    iu, iv = at[np.where(ok, iu, 0)], at[np.where(ok, iv, 0)]
    if polygon is not None:
        inside = shapely.intersects_xy(_prepared(polygon), el.lon, el.lat)
        ok &= inside[iu] & inside[iv]
    return _Segments(way_of[:-1][same][ok], pos[:-1][same][ok], iu[ok], iv[ok])


def street_tables(el: OsmElements, tags: Sequence[str], polygon=None, *,
                  node_keys: Sequence[str] = ()) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Node table (``node_id``, ``lon``, ``lat``, a ``node:<key>`` column per node tag in
    ``node_keys``) and segment table (``u``, ``v``, ``length`` metres, ``way_id``, a column
    per tag in ``tags``, straight-line geometry from ``u`` to ``v``) of the ways with a
    ``highway`` tag, one row per segment in its way's node order; with a WGS-84 ``polygon``
    only segments with both nodes inside it or on its edge."""
    highway = el.way_tag("highway")
    seg = _segments(el, pd.notna(highway), polygon)
    lon, lat = el.lon, el.lat
    start = np.column_stack([lon[seg.iu], lat[seg.iu]])
    end = np.column_stack([lon[seg.iv], lat[seg.iv]])
    columns = {"u": el.node_id[seg.iu], "v": el.node_id[seg.iv],
               "length": great_circle_m(lat[seg.iu], lon[seg.iu], lat[seg.iv], lon[seg.iv]),
               "way_id": el.way_id[seg.way]}
    for key in dict.fromkeys(tags):
        columns[key] = (highway if key == "highway" else el.way_tag(key))[seg.way]
    edges = gpd.GeoDataFrame(columns, geometry=shapely.linestrings(np.stack([start, end], 1)),
                             crs=4326)
    nodes = pd.DataFrame({"node_id": el.node_id, "lon": lon, "lat": lat})
    for key in node_keys:
        nodes[f"node:{key}"] = pd.array(node_tag(el, key), dtype="string")
    return nodes, edges


def node_tag(el: OsmElements, key: str) -> np.ndarray:
    """Value of tag ``key`` of every node (object array, ``None`` where untagged); only
    the tagged nodes are looked at."""
    out = np.full(len(el.node_id), None, dtype=object)
    found = {nid: t[key] for nid, t in el.node_tags.items() if key in t}
    if found:
        ids = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        values = np.array(list(found.values()), dtype=object)
        hit = np.isin(el.node_id, ids)
        out[hit] = values[pd.Index(ids).get_indexer(el.node_id[hit])]
    return out


def street_ways(el: OsmElements, tags: Sequence[str], polygon=None,
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ways with a ``highway`` tag as tables to keep: ways (``way_id``, ``nodes`` —
    node ids separated by spaces —, a column per tag in ``tags``, :data:`OTHER_TAGS` JSON,
    line geometry) and the nodes they use (``node_id``, point geometry).

    With a ``polygon``, each way keeps only its segments with both nodes inside it or on
    its edge: a way the polygon cuts in two becomes two rows with the same ``way_id``.
    """
    highway = el.way_tag("highway")
    seg = _segments(el, pd.notna(highway), polygon)
    # a piece is a run of kept segments that follow each other along the way
    new = np.r_[True, (seg.pos[1:] != seg.pos[:-1] + 1)] if len(seg.pos) else np.zeros(0, bool)
    piece = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    n_pieces = len(first)
    # node indices of every piece: the start node of each segment, then the last end node
    last = np.r_[first[1:], len(seg.pos)] - 1
    node_idx = np.insert(seg.iu, last + 1, seg.iv[last]) if n_pieces else np.zeros(0, np.int64)
    node_piece = np.insert(piece, last + 1, piece[last]) if n_pieces else np.zeros(0, np.int64)
    ids = el.node_id[node_idx]
    text = [" ".join(map(str, chunk)) for chunk in
            np.split(ids, np.flatnonzero(np.diff(node_piece)) + 1)] if n_pieces else []
    way = seg.way[first]
    columns = {"way_id": el.way_id[way], "nodes": np.array(text, dtype=object)}
    keys = list(dict.fromkeys(tags))
    for key in keys:
        columns[key] = el.way_tag(key)[way]
    dicts = el.way_tag_dicts()
    other = [{k: v for k, v in dicts[w].items() if k not in keys} for w in way.tolist()]
    columns[OTHER_TAGS] = np.array([json.dumps(o, ensure_ascii=False) if o else None
                                    for o in other], dtype=object)
    xy = np.column_stack([el.lon[node_idx], el.lat[node_idx]])
    lines = shapely.linestrings(xy, indices=node_piece) if n_pieces else np.array([], object)
    ways = gpd.GeoDataFrame(columns, geometry=lines, crs=4326)
    used = np.unique(node_idx)
    nodes = gpd.GeoDataFrame({"node_id": el.node_id[used]},
                             geometry=shapely.points(el.lon[used], el.lat[used]), crs=4326)
    return ways, nodes


def write_street_tables(ways: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame,
                        path: str | Path) -> Path:
    """Write :func:`street_ways`' tables as one GeoPackage (ways first, so that a GIS or a
    centre-line reader opens the lines), atomically."""
    from geo_app.io.files import replace_atomically

    def write(tmp: str) -> None:
        ways.to_file(tmp, layer=WAYS_LAYER, driver="GPKG", engine="pyogrio")
        nodes.to_file(tmp, layer=NODES_LAYER, driver="GPKG", engine="pyogrio")

    return replace_atomically(path, write, ".gpkg")


def is_street_tables(path: str | Path) -> bool:
    """Whether ``path`` is a GeoPackage written by :func:`write_street_tables`."""
    import pyogrio

    if not str(path).lower().endswith(".gpkg"):
        return False
    try:
        names = set(pyogrio.list_layers(path)[:, 0])
    except Exception:  # not a readable GeoPackage: the caller's reader will say why
        return False
    return {NODES_LAYER, WAYS_LAYER} <= names


def read_street_tables(path: str | Path) -> OsmElements:
    """Elements of a GeoPackage written by :func:`write_street_tables`."""
    import pyogrio

    ways = pyogrio.read_dataframe(path, layer=WAYS_LAYER, read_geometry=False)
    nodes = pyogrio.read_dataframe(path, layer=NODES_LAYER)
    xy = shapely.get_coordinates(nodes.geometry.values)
    text = ways["nodes"].astype(str)
    refs = np.array(" ".join(text).split(), dtype=np.int64)
    counts = text.str.count(" ").to_numpy(np.int64) + 1
    keyed = [c for c in nodes.columns if c.startswith("node:")]  # kept node tags
    node_tags = {} if not keyed else {
        int(i): {c[5:]: v for c, v in zip(keyed, row) if isinstance(v, str)}
        for i, *row in nodes.loc[nodes[keyed].notna().any(axis=1),
                                 ["node_id", *keyed]].itertuples(index=False)}
    return OsmElements(
        node_id=nodes["node_id"].to_numpy(np.int64), lon=xy[:, 0], lat=xy[:, 1],
        way_id=ways["way_id"].to_numpy(np.int64), refs=refs,
        ref_start=np.r_[0, np.cumsum(counts)],
        way_tags=ways.drop(columns=["way_id", "nodes"]), node_tags=node_tags)


# ------------------------------------------------------------------------ features

def _way_index(el: OsmElements) -> pd.Series:
    """Position of each way id in ``el`` (the last of repeated ones)."""
    ids = pd.Index(el.way_id)
    keep = ~ids.duplicated(keep="last")
    return pd.Series(np.flatnonzero(keep), index=ids[keep])


def _way_coords(el: OsmElements, pick: np.ndarray) -> dict[int, np.ndarray]:
    """Coordinates (lon, lat rows) of the picked ways (bool mask) whose nodes are all
    known, by way index."""
    counts = np.diff(el.ref_start)
    way_of = np.repeat(np.arange(el.n_ways), counts)[np.repeat(pick, counts)]
    ids, at = _node_lookup(el)
    idx = ids.get_indexer(el.refs[np.repeat(pick, counts)])
    bad = np.unique(way_of[idx < 0])
    good = ~np.isin(way_of, bad)
    node_i = at[idx[good]]
    xy = np.column_stack([el.lon[node_i], el.lat[node_i]])
    ways = way_of[good]
    cut = np.flatnonzero(np.diff(ways)) + 1
    return dict(zip(ways[np.r_[0, cut]].tolist() if len(ways) else [], np.split(xy, cut)))


def _rings(lines: list[np.ndarray]) -> list[shapely.Polygon]:
    """Polygons of the rings that member ways (coordinate arrays) form: closed ways as
    they are, open ones joined end to end; pieces that close no ring are dropped."""
    out, open_lines = [], []
    for xy in lines:
        if len(xy) >= 4 and (xy[0] == xy[-1]).all():
            out.append(shapely.Polygon(xy))
        elif len(xy) >= 2:
            open_lines.append(shapely.LineString(xy))
    if open_lines:
        merged = shapely.line_merge(shapely.MultiLineString(open_lines))
        for line in shapely.get_parts(merged):
            if line.is_closed and len(line.coords) >= 4:
                out.append(shapely.Polygon(line.coords))
    return out


def _multipolygon(outer: list[np.ndarray], inner: list[np.ndarray]):
    """(Multi)polygon of a multipolygon or boundary relation (``None`` when its ways close
    no ring): each inner ring becomes a hole of the outer ring it lies in."""
    holes = _rings(inner)
    parts = []
    for shell in _rings(outer):
        inside = [h.exterior.coords for h in holes
                  if shell.contains(h.representative_point())]
        parts.append(shapely.Polygon(shell.exterior.coords, inside))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def features(el: OsmElements, wanted: Callable[[dict[str, str]], bool],
             polygon=None) -> gpd.GeoDataFrame:
    """Elements whose tags ``wanted`` accepts, as a GeoDataFrame in EPSG:4326.

    Columns: ``osm_type`` (node, way, relation), ``id``, one per tag key, and the
    geometry (made valid): nodes are points; a way is a polygon when closed (at least 4
    nodes) and tagged as an area (:func:`is_area`), a line otherwise; ``multipolygon`` and
    ``boundary`` relations are (multi)polygons assembled from their member ways (other
    relations are skipped). Ways with a node missing from the data, and relations with a
    member way missing, are skipped. With a ``polygon`` only features intersecting it
    are kept.
    """
    kinds: list[str] = []
    ids: list[int] = []
    tags: list[dict[str, str]] = []
    geoms: list = []
    # nodes
    node_ids = [nid for nid, t in el.node_tags.items() if wanted(t)]
    if node_ids:
        index, at = _node_lookup(el)
        i = at[index.get_indexer(np.array(node_ids, dtype=np.int64))]
        kinds += ["node"] * len(node_ids)
        ids += node_ids
        tags += [el.node_tags[n] for n in node_ids]
        geoms += list(shapely.points(el.lon[i], el.lat[i]))
    # ways
    dicts = el.way_tag_dicts()
    pick = np.fromiter((wanted(t) for t in dicts), dtype=bool, count=len(dicts))
    coords = _way_coords(el, pick)
    for w, xy in coords.items():
        if len(xy) < 2:
            continue
        closed = (len(xy) >= 4 and el.refs[el.ref_start[w]] == el.refs[el.ref_start[w + 1] - 1]
                  and is_area(dicts[w]))
        kinds.append("way")
        ids.append(int(el.way_id[w]))
        tags.append(dicts[w])
        geoms.append(shapely.Polygon(xy) if closed else shapely.LineString(xy))
    # relations
    rels = [r for r in el.relations
            if r.tags.get("type") in ("multipolygon", "boundary") and wanted(r.tags)]
    if rels:
        where = _way_index(el)
        members = where.reindex([ref for r in rels for kind, ref, _ in r.members
                                 if kind == "way"]).dropna().astype(int)
        member_xy = _way_coords(el, np.isin(np.arange(el.n_ways), members.to_numpy()))
        for rel in rels:
            outer, inner = [], []
            for kind, ref, role in rel.members:
                if kind != "way":
                    continue
                xy = member_xy.get(int(where.get(ref, -1)))
                if xy is None:  # a member way missing from the data: no reliable area
                    outer = []
                    break
                (inner if role == "inner" else outer).append(xy)
            geom = _multipolygon(outer, inner)
            if geom is not None:
                kinds.append("relation")
                ids.append(rel.id)
                tags.append(rel.tags)
                geoms.append(geom)
    table = pd.DataFrame.from_records(
        [{k: v for k, v in t.items() if k not in _FEATURE_META} for t in tags],
        index=pd.RangeIndex(len(tags)))
    head = pd.DataFrame({"osm_type": pd.Series(kinds, dtype=object),
                         "id": np.array(ids, dtype=np.int64)})
    geoms = shapely.make_valid(np.array(geoms, dtype=object))
    out = gpd.GeoDataFrame(pd.concat([head, table], axis=1), geometry=geoms, crs=4326)
    if polygon is not None and len(out):
        out = out[shapely.intersects(_prepared(polygon), out.geometry.values)]
    return out.reset_index(drop=True)
