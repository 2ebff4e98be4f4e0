"""Walker profiles, street-front joins and network edits through the coverage workflow
and ``geo-app coverage`` (the engine's own oracles are in tests/analysis)."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_app.workflows.coverage import run
from tests.geo_app.test_sharding import assert_same


@pytest.fixture(scope="module")
def by_profile(helsinki_inputs):
    # nearest-node joins: every walker starts from the same node, so times compare one to one
    # (street-front joins skip streets a walker may not use, e.g. stairs for a wheelchair)
    return {p: run(helsinki_inputs, isochrones="none", profile=p, join="node")
            for p in ("adult", "elderly", "wheelchair")}


def test_slower_walkers_reach_no_one_sooner(by_profile):
    adult, elderly, chair = (by_profile[p].demand for p in ("adult", "elderly", "wheelchair"))
    for col in (c for c in adult.columns if c.startswith("t_")):
        # beyond the threshold a time is NaN: count it as never
        a, e, w = (np.nan_to_num(f[col].to_numpy(float), nan=np.inf)
                   for f in (adult, elderly, chair))
        ok = np.isfinite(a)
        assert np.all(e[ok] >= a[ok] - 1e-6), col   # elderly: slower on flat and stairs
        assert np.all(w[ok] >= a[ok] - 1e-6), col   # wheelchair: slower and no stairs
    t = {p: np.nan_to_num(r.demand["t_clinic"].to_numpy(float), nan=np.inf)
         for p, r in by_profile.items()}
    assert np.mean(t["elderly"] > t["adult"] + 1) > 0.5  # the profile really is walked
    assert by_profile["wheelchair"].info("walker_profile") == "wheelchair"
    assert by_profile["adult"].info("join") == "node"


def test_street_join_differs_from_node_join_and_is_recorded(helsinki_inputs, helsinki_coverage):
    node = run(helsinki_inputs, isochrones="none", join="node")
    assert node.info("join") == "node" and helsinki_coverage.info("join") == "street"
    a = node.demand["t_clinic"].to_numpy(float)
    b = helsinki_coverage.demand["t_clinic"].to_numpy(float)
    assert np.nanmax(np.abs(a - b)) > 1.0  # the two joins really differ


def test_profile_tiles_equal_the_single_run(helsinki_inputs):
    single = run(helsinki_inputs, isochrones="category", profile="wheelchair")
    sharded = run(helsinki_inputs, isochrones="category", profile="wheelchair",
                  shard_by="tiles", shard_km=1.0)
    assert int(sharded.info("shards").split()[0]) > 1
    assert_same(single, sharded)


def test_closing_every_segment_near_residents_only_lengthens_walks(helsinki_inputs, by_profile):
    from layers.edits import edits_from_frame

    edges = helsinki_inputs.network.edges
    longest = edges.sort_values("length_m").geometry.iloc[-20:]
    closed = edits_from_frame(gpd.GeoDataFrame({"kind": ["closed"] * len(longest)},
                                               geometry=list(longest), crs=4326))
    after = run(helsinki_inputs, isochrones="none", profile="adult", edits=closed, join="node")
    assert after.info("network_edits") == "20"
    before = by_profile["adult"].demand
    kept = before["snap_m"].to_numpy() == after.demand["snap_m"].to_numpy()  # same node
    assert kept.mean() > 0.95
    changed = 0
    for col in (c for c in before.columns if c.startswith("t_")):
        a = np.nan_to_num(before[col].to_numpy(float), nan=np.inf)
        b = np.nan_to_num(after.demand[col].to_numpy(float), nan=np.inf)
        ok = kept & np.isfinite(a)
        assert np.all(b[ok] >= a[ok] - 1e-6), col
        changed += int((b[ok] > a[ok] + 1e-6).sum())
    assert changed > 0  # the closures were felt (sharded runs: tests/geo_app/test_sharding.py)


def test_cli_profile_edits_and_refusals(cli, tmp_path):
    from geo_app.workflows.coverage import sample_path

    sample = str(sample_path())
    common = ("coverage", "--network", sample, "--facilities", sample, "--demand", "buildings",
              "--isochrones", "none")
    bridge = tmp_path / "edits.geojson"
    gpd.GeoDataFrame({"kind": ["天桥"]}, geometry=[shapely.LineString(
        [(24.9385, 60.1695), (24.9410, 60.1700)])], crs=4326).to_file(bridge)
    out = cli(*common, "--profile", "elderly", "--edits", str(bridge), "--join", "node",
              "--out", str(tmp_path / "a.gpkg"))
    assert "clinic" in out.stdout
    info = gpd.read_file(tmp_path / "a.gpkg", layer="run_info")
    values = dict(zip(info["key"], info["value"]))
    assert values["walker_profile"] == "elderly" and values["join"] == "node"
    bad = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"kind": ["rope bridge"]}, geometry=[shapely.LineString(
        [(24.9385, 60.1695), (24.9410, 60.1700)])], crs=4326).to_file(bad)
    proc = cli.run(*common, "--edits", str(bad), "--out", str(tmp_path / "b.gpkg"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "bad.geojson" in proc.stderr and "kind" in proc.stderr
    proc = cli.run(*common, "--profile", "cyclist", "--out", str(tmp_path / "c.gpkg"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
