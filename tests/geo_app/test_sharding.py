"""Sharded coverage (tiles, districts; in process, on a LocalCluster, on a scheduler and two
workers over loopback) equals the single-process run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from geo_app.workflows.coverage import run
from tests.conftest import free_port


def assert_same(a, b, *, polygons=True):
    """Times within 1e-6 s, the same summary, facilities, service areas and life circles."""
    assert list(a.demand.columns) == list(b.demand.columns)
    for col in a.demand.columns:
        if col.startswith("t_"):
            x, y = a.demand[col].to_numpy(float), b.demand[col].to_numpy(float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), col
            assert np.all(np.abs(x - y)[~np.isnan(x)] <= 1e-6), col
        elif col != "geometry":
            pd.testing.assert_series_equal(a.demand[col], b.demand[col])
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.facilities.drop(columns="geometry"),
                                  b.facilities.drop(columns="geometry"))
    pd.testing.assert_series_equal(a.life_circles["residents"], b.life_circles["residents"])
    if polygons:
        for x, y in ((a.service_areas, b.service_areas), (a.isochrones, b.isochrones),
                     (a.gaps, b.gaps)):
            assert len(x) == len(y)
            if len(x):
                diff = x.geometry.symmetric_difference(y.geometry, align=False)
                assert diff.to_crs(3067).area.max() < 1e-4  # m²: float noise of split nodes


@pytest.mark.parametrize("km", [0.6, 1.5])
def test_tiles_equal_the_single_run(helsinki_inputs, helsinki_coverage, km):
    sharded = run(helsinki_inputs, isochrones="facility", shard_by="tiles", shard_km=km)
    assert "tiles of" in sharded.info("shards") and int(sharded.info("shards").split()[0]) > 1
    assert_same(helsinki_coverage, sharded)


def test_tiles_with_slopes_equal_the_single_run(helsinki_inputs, tmp_path):
    """A DEM (a tilted plane with a ridge) read on the client: shards walk the same slopes."""
    west, south, east, north = helsinki_inputs.network.edges.total_bounds
    w, h = 300, 200
    xs = np.linspace(0, 1, w)[None, :]
    ys = np.linspace(0, 1, h)[:, None]
    z = (40 * xs + 30 * np.sin(6 * ys) + 20 * np.cos(9 * xs * ys)).astype("float32")
    dem = tmp_path / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west - 0.01, north + 0.01,
                                                              (east - west + 0.02) / w,
                                                              (north - south + 0.02) / h)) as d:
        d.write(z, 1)
    single = run(helsinki_inputs, dem=str(dem), isochrones="none")
    sharded = run(helsinki_inputs, dem=str(dem), isochrones="none", shard_by="tiles",
                  shard_km=0.8)
    flat = run(helsinki_inputs, isochrones="none")
    assert not np.allclose(single.demand["t_clinic"], flat.demand["t_clinic"], equal_nan=True)
    assert_same(single, sharded)


def test_local_cluster_equals_the_single_run(helsinki_inputs):
    from geo_app.workflows.dask_cluster import client_for

    single = run(helsinki_inputs)
    client = client_for("local:2")
    try:
        assert len(client.scheduler_info()["workers"]) == 2
        sharded = run(helsinki_inputs, shard_by="tiles", shard_km=1.0, client=client)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert "on Dask (tcp://127.0.0.1:" in sharded.info("shards")
    assert_same(single, sharded)


LON0, LAT0, STEP, N = 106.50, 29.50, 0.0015, 40  # spans 九龙坡, 渝中, 南岸 and a bit of 江北


@pytest.fixture(scope="module")
def districts_case(tmp_path_factory):
    """A generated street grid across four Chongqing districts (not real streets), with
    facilities and residents; files as a user gives them."""
    tmp = tmp_path_factory.mktemp("districts")
    rng = np.random.default_rng(5)
    feats = []
    for i in range(N):
        row = [[LON0 + j * STEP, LAT0 + i * STEP] for j in range(N)]
        col = [[LON0 + i * STEP, LAT0 + j * STEP] for j in range(N)]
        for coords in (row, col):
            feats.append({"type": "Feature", "properties": {"highway": "residential"},
                          "geometry": {"type": "LineString", "coordinates": coords}})
    (tmp / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                     "features": feats}))
    span = (N - 1) * STEP
    cats = ["clinic", "market", "childcare", "community_service"]
    fac = pd.DataFrame({"lon": LON0 + rng.uniform(0, span, 40),
                        "lat": LAT0 + rng.uniform(0, span, 40),
                        "category": np.repeat(cats, 10), "name": [f"f{k}" for k in range(40)]})
    fac.to_csv(tmp / "facilities.csv", index=False)
    dem = pd.DataFrame({"id": [f"r{k}" for k in range(3000)],
                        "lon": LON0 + rng.uniform(-0.001, span + 0.001, 3000),
                        "lat": LAT0 + rng.uniform(-0.001, span + 0.001, 3000),
                        "population": rng.integers(1, 60, 3000)})
    dem.to_csv(tmp / "demand.csv", index=False)
    return tmp


def _args(case, out, *more):
    return ("--network", case / "streets.geojson", "--facilities", case / "facilities.csv",
            "--demand", case / "demand.csv", "--minutes", 10, "--out", out, *more)


def test_batch_by_district_equals_the_single_run(districts_case, tmp_path, cli):
    cli("coverage", *_args(districts_case, tmp_path / "single.gpkg"))
    r = cli("batch", "coverage", *_args(districts_case, tmp_path / "batch.gpkg"), "--by",
            "district")
    assert "shards by district" in r.stdout
    single = gpd.read_file(tmp_path / "single.gpkg", layer="demand")
    batch = gpd.read_file(tmp_path / "batch.gpkg", layer="demand")
    for col in [c for c in single.columns if c.startswith("t_")]:
        np.testing.assert_allclose(batch[col], single[col], atol=1e-6, equal_nan=True)
    by = pd.read_csv(tmp_path / "batch.district.csv", encoding="utf-8-sig")
    assert {"九龙坡区", "渝中区", "南岸区"} <= set(by["zone"])
    summary = gpd.read_file(tmp_path / "single.gpkg", layer="summary")
    want = summary[summary["zone_type"] == "district"].set_index("zone")
    np.testing.assert_allclose(by.set_index("zone").loc[want.index, "pop_basket"],
                               want["pop_basket"])
    assert by["population"].sum() == pd.read_csv(districts_case / "demand.csv")["population"].sum()


def test_scheduler_and_two_workers_on_loopback(districts_case, tmp_path, cli):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, as the README starts them."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                               "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--host", "127.0.0.1", "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        from dask.distributed import Client

        deadline = time.monotonic() + 60
        with Client(address, timeout="30s") as c:
            while len(c.scheduler_info()["workers"]) < 2:
                assert time.monotonic() < deadline, "the two workers did not join in 60 s"
                time.sleep(0.3)
        cli("coverage", *_args(districts_case, tmp_path / "single.gpkg"))
        r = cli("coverage", *_args(districts_case, tmp_path / "dask.gpkg"), "--scheduler",
                address, "--shard-km", 1.5)
        assert f"run on Dask ({address})" in r.stdout
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    single = gpd.read_file(tmp_path / "single.gpkg", layer="demand")
    sharded = gpd.read_file(tmp_path / "dask.gpkg", layer="demand")
    for col in [c for c in single.columns if c.startswith(("t_", "cov_"))]:
        np.testing.assert_allclose(sharded[col].astype(float), single[col].astype(float),
                                   atol=1e-6, equal_nan=True)
    for layer in ("summary", "service_areas"):
        a = gpd.read_file(tmp_path / "single.gpkg", layer=layer)
        b = gpd.read_file(tmp_path / "dask.gpkg", layer=layer)
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(b.drop(columns="geometry", errors="ignore")))


def test_bad_shard_options_are_refused(districts_case, tmp_path, cli):
    r = cli.run("coverage", *_args(districts_case, tmp_path / "x.gpkg"), "--shard-km", -1)
    assert r.returncode == 2 and "argument --shard-km: -1 is out of range" in r.stderr
    r = cli.run("coverage", *_args(districts_case, tmp_path / "x.gpkg"), "--scheduler", "lokal")
    assert r.returncode == 2 and "expected local, local:N or tcp://HOST:PORT" in r.stderr
    r = cli.run("coverage", *_args(districts_case, tmp_path / "x.gpkg"), "--by", "township")
    assert r.returncode == 2 and "townships need --townships" in r.stderr


def test_site_by_district(districts_case, tmp_path, cli):
    """Each district of the quota table solved on its own (here and on a LocalCluster): the
    union is evaluated over the whole area, never beats the joint optimum with the same
    quotas, and each district's choice is optimal for its own residents."""
    quotas = tmp_path / "quotas.csv"
    pd.DataFrame({"district": ["九龙坡区", "渝中区", "南岸区"], "min": [1, 1, 1],
                  "max": [2, 3, 2]}).to_csv(quotas, index=False)
    common = ("--network", districts_case / "streets.geojson", "--demand",
              districts_case / "demand.csv", "--candidates", "grid:400", "--minutes", 5,
              "--quotas", quotas)
    cli("site", *common, "--by", "district", "--out", tmp_path / "here.gpkg")
    r = cli("site", *common, "--by", "district", "--scheduler", "local:2", "--out",
            tmp_path / "dask.gpkg")
    assert "distributed" not in r.stderr  # Dask's own INFO lines are not the user's
    cli("site", *common, "--n", 7, "--out", tmp_path / "joint.gpkg")
    here = gpd.read_file(tmp_path / "here.gpkg", layer="sites")
    dask = gpd.read_file(tmp_path / "dask.gpkg", layer="sites")
    assert sorted(here["name"]) == sorted(dask["name"]) and len(here) == 7
    by = gpd.read_file(tmp_path / "here.gpkg", layer="by_district")
    assert dict(zip(by["zone"], by["chosen"])) == {"九龙坡区": 2, "渝中区": 3, "南岸区": 2}
    assert (by["status"] == "Optimal").all() and (by["gap"] <= 1e-9).all()
    union = gpd.read_file(tmp_path / "here.gpkg", layer="summary")["newly_covered"].iloc[0]
    joint = gpd.read_file(tmp_path / "joint.gpkg", layer="summary")["newly_covered"].iloc[0]
    assert union <= joint + 1e-6 and union >= by["value"].sum() - 1e-6
    r = cli.run("site", *common[:-2], "--by", "district", "--out", tmp_path / "x.gpkg")
    assert r.returncode == 2 and "--by district needs --quotas" in r.stderr


def test_tiles_with_network_edits_equal_the_single_run(helsinki_inputs):
    """Edits crossing tile borders (a footbridge, a lift, closures of long streets): each
    shard applies the edits touching it and gets the single edited run's times."""
    import shapely

    from layers.edits import edits_from_frame

    edges = helsinki_inputs.network.edges
    longest = list(edges.sort_values("length_m").geometry.iloc[-12:])
    west, south, east, north = edges.total_bounds
    mid_x, mid_y = (west + east) / 2, (south + north) / 2
    added = [shapely.LineString([(24.9385, 60.1695), (24.9410, 60.1700)]),
             shapely.LineString([(mid_x - 0.004, mid_y), (mid_x + 0.004, mid_y + 0.001)])]
    edits = edits_from_frame(gpd.GeoDataFrame(
        {"kind": ["footbridge", "elevator"] + ["closed"] * len(longest)},
        geometry=added + longest, crs=4326))
    single = run(helsinki_inputs, isochrones="none", profile="elderly", edits=edits)
    plain = run(helsinki_inputs, isochrones="none", profile="elderly")
    a = np.nan_to_num(single.demand["t_clinic"].to_numpy(float), nan=1e9)
    b = np.nan_to_num(plain.demand["t_clinic"].to_numpy(float), nan=1e9)
    assert np.sum(np.abs(a - b) > 1) > 0  # the edits change times
    for km in (0.6, 1.0):
        sharded = run(helsinki_inputs, isochrones="none", profile="elderly", edits=edits,
                      shard_by="tiles", shard_km=km)
        assert int(sharded.info("shards").split()[0]) > 1
        assert sharded.info("network_edits") == str(len(edits))
        assert_same(single, sharded, polygons=False)


def test_default_tiles_give_each_worker_about_two():
    """Four reaches at least; on a large extent about two tiles a worker (a 101 km square
    city on two workers: 2 × 2 tiles), never more segments a tile than a worker can hold."""
    from geo_app.workflows.shard_reads import plan_grid
    from geo_app.workflows.sharding import MAX_TILE_SEGMENTS, default_shard_km

    assert default_shard_km(900.0) == 3.6
    assert default_shard_km(300.0) == 2.0
    assert default_shard_km(900.0, extent_km2=4.0, workers=2) == 3.6  # small: the floor
    side = default_shard_km(900.0, extent_km2=101.0 ** 2, workers=2, segments=2_000_000)
    lat = 29.8
    span_lon = 101_000 / (111_320 * np.cos(np.radians(lat)))
    grid = plan_grid((106.0, lat - 0.4567, 106.0 + span_lon, lat + 0.4567), side)
    assert (grid.nx, grid.ny) == (2, 2)
    for workers in (3, 8, 32):
        side = default_shard_km(900.0, extent_km2=200.0 ** 2, workers=workers)
        tiles = (200.0 / side) ** 2
        assert 1.5 * workers <= tiles <= 2.0 * workers
    dense = default_shard_km(900.0, extent_km2=100.0 ** 2, workers=2, segments=8_000_000)
    assert (dense ** 2) * 8_000_000 / 100.0 ** 2 <= MAX_TILE_SEGMENTS * 1.01


def test_tiles_fit_the_extent(helsinki_inputs):
    """Tiles are fitted to the extent, not to the CRS origin: a side of half the extent's
    width and height gives 2 × 2 tiles (origin-aligned squares would need up to 3 × 3); each
    resident, facility and node is in exactly one tile, and that tile covers it."""
    import shapely

    from geo_app.workflows.sharding import plan_tiles
    from layers.crs import metric_crs

    inputs = helsinki_inputs
    net, fac, dem = inputs.network, inputs.facilities, inputs.demand
    crs = metric_crs((net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()))
    pts = gpd.GeoSeries(gpd.points_from_xy(net.nodes["lon"], net.nodes["lat"]), crs=4326)
    every = pd.concat([dem.geometry, fac.geometry, pts], ignore_index=True).to_crs(crs)
    x0, y0, x1, y1 = every.total_bounds
    side_km = max(x1 - x0, y1 - y0) / 2 / 1000 * 1.001
    plan = plan_tiles(net, fac, dem, crs=crs, side_km=side_km)
    assert len(plan) == 4
    for rows, layer in ((lambda s: s.demand_rows, dem), (lambda s: s.facility_rows, fac)):
        got = np.sort(np.concatenate([rows(s) for s in plan]))
        assert np.array_equal(got, np.arange(len(layer)))
        for s in plan:
            assert shapely.dwithin(s.core, layer.geometry.values[rows(s)], 1e-7).all()
    nodes = np.sort(np.concatenate([s.node_ids for s in plan]))
    assert np.array_equal(nodes, np.sort(net.nodes["node_id"].to_numpy()))


def test_cluster_command_serves_several_runs(districts_case, tmp_path, cli):
    """`geo-app cluster` keeps a LocalCluster (the --scheduler local settings) running: two
    runs join it by its address and equal the single run; Ctrl+C in its terminal (SIGINT to
    the whole process group, workers included) stops it without a traceback; a port in use is
    refused in one line."""
    import signal
    import socket

    proc = subprocess.Popen([sys.executable, "-m", "geo_app.cli", "cluster", "--workers", "2",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("scheduler tcp://127.0.0.1:") and "with 2 workers" in first, \
            first + proc.stderr.read()
        address = first.split()[1]
        cli("coverage", *_args(districts_case, tmp_path / "single.gpkg"))
        for k in range(2):
            r = cli("coverage", *_args(districts_case, tmp_path / f"dask{k}.gpkg"),
                    "--scheduler", address, "--shard-km", 1.5)
            assert f"run on Dask ({address})" in r.stdout
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl+C in a terminal
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "cluster stopped" in out, out + err
    assert "Traceback" not in err and "distributed" not in err, err
    single = gpd.read_file(tmp_path / "single.gpkg", layer="demand")
    for k in range(2):
        sharded = gpd.read_file(tmp_path / f"dask{k}.gpkg", layer="demand")
        for col in [c for c in single.columns if c.startswith("t_")]:
            np.testing.assert_allclose(sharded[col].astype(float), single[col].astype(float),
                                       atol=1e-6, equal_nan=True)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        r = cli.run("cluster", "--workers", 1, "--port", busy.getsockname()[1])
    assert r.returncode == 2 and "is in use" in r.stderr and "--port" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
