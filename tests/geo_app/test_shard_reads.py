"""Sharded coverage whose Dask workers read their own tiles of the network file: the same
result as one process reading it whole, the same datum warnings, and clear refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_app.workflows import shard_reads
from geo_app.workflows.coverage import load_inputs, run
from tests.geo_app.test_sharding import assert_same


@pytest.fixture(scope="module")
def helsinki_files(helsinki_inputs, tmp_path_factory):
    """The Helsinki sample as a planner's files: centre-lines (GeoPackage), facilities and
    residents (CSV)."""
    tmp = tmp_path_factory.mktemp("shared")
    e = helsinki_inputs.network.edges
    e[["highway", "geometry"]].to_file(tmp / "streets.gpkg", driver="GPKG")
    for name, layer in (("facilities", helsinki_inputs.facilities),
                        ("demand", helsinki_inputs.demand)):
        pts = layer.geometry.values
        frame = pd.DataFrame(layer.drop(columns="geometry")).assign(
            lon=shapely.get_x(pts), lat=shapely.get_y(pts))
        keep = ["lon", "lat", *(["category", "name"] if name == "facilities" else
                                ["population"])]
        frame[keep].to_csv(tmp / f"{name}.csv", index=False)
    return tmp


@pytest.fixture(scope="module")
def client():
    from geo_app.workflows.dask_cluster import client_for

    c = client_for("local:2")
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


def _inputs(files, by_tiles):
    return load_inputs(files / "streets.gpkg", files / "facilities.csv", files / "demand.csv",
                       network_by_tiles=by_tiles)


@pytest.mark.parametrize("km", [0.7, 1.2])
def test_workers_reading_tiles_equal_the_single_run(helsinki_files, client, km):
    single = run(_inputs(helsinki_files, False), isochrones="category")
    shared_inputs = _inputs(helsinki_files, True)
    assert isinstance(shared_inputs.network, shard_reads.NetworkFile)
    shared = run(shared_inputs, isochrones="category", shard_by="tiles", shard_km=km,
                 client=client)
    note = shared.info("shards")
    assert "read by the workers from streets.gpkg" in note and int(note.split()[0]) > 1
    assert shared.info("metric_crs") == single.info("metric_crs")
    assert shared.info("network_nodes") == single.info("network_nodes")
    assert_same(single, shared)


def test_a_tile_box_owns_each_point_once():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(106.2, 106.9, 50_000), rng.uniform(29.3, 29.9, 50_000)
    lon[:4], lat[:4] = [106.2, 106.9, 106.2, 106.9], [29.3, 29.9, 29.9, 29.3]  # the corners
    grid = shard_reads.plan_grid((106.2, 29.3, 106.9, 29.9), 7.0)
    own = grid.owner(lon, lat)
    assert (own >= 0).all() and own.max() < grid.nx * grid.ny
    for k in np.unique(own)[:20]:
        x0, y0, x1, y1 = grid.box(k)
        inside = (lon >= x0) & (lon < x1) & (lat >= y0) & (lat < y1)
        np.testing.assert_array_equal(inside, own == k)
    # a 1 km halo is at least 1 km on the ground every way
    x0, y0, x1, y1 = grid.box(0)
    gx0, gy0, gx1, gy1 = shard_reads.grown(grid.box(0), 1000.0)
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    assert geod.inv(x0, y1, gx0, y1)[2] >= 1000 and geod.inv(x0, y0, x0, gy0)[2] >= 1000


def _grid_files(tmp_path, lon0: float, lat0: float, *, step: float = 0.0015, n: int = 30,
                highway: str = "residential") -> None:
    """A street grid of ``n`` × ``n`` lines from (``lon0``, ``lat0``), 60 clinics on its
    streets written shifted into GCJ-02 (declared WGS-84), and 500 residents."""
    from layers.coords import wgs84_to_gcj02

    lines = [shapely.LineString([(lon0 + j * step, lat0 + i * step) for j in range(n)])
             for i in range(n)] + \
            [shapely.LineString([(lon0 + i * step, lat0 + j * step) for j in range(n)])
             for i in range(n)]
    gpd.GeoDataFrame({"highway": [highway] * len(lines)}, geometry=lines,
                     crs=4326).to_file(tmp_path / "streets.gpkg", driver="GPKG")
    rng = np.random.default_rng(2)
    span = (n - 1) * step
    on = rng.integers(0, n, 60)
    flon, flat = lon0 + on * step, lat0 + rng.uniform(0, span, 60)
    glon, glat = wgs84_to_gcj02(flon, flat)
    pd.DataFrame({"lon": glon, "lat": glat, "category": "clinic",
                  "name": [f"c{k}" for k in range(60)]}).to_csv(tmp_path / "facilities.csv",
                                                               index=False)
    pd.DataFrame({"lon": lon0 + rng.uniform(0, span, 500), "lat": lat0 + rng.uniform(0, span, 500),
                  "population": 10}).to_csv(tmp_path / "demand.csv", index=False)


def _shift_warnings(caught) -> list[str]:
    from layers.datum_check import DatumShiftWarning

    return [str(w.message) for w in caught if w.category is DatumShiftWarning]


def test_datum_shift_found_from_the_workers_pieces(tmp_path, client):
    """A GCJ-02 facility file declared WGS-84 on a Chongqing grid: both runs warn the same
    (each tile reports its sample distances in the task that walks it)."""
    from layers.datum_check import DatumShiftWarning

    _grid_files(tmp_path, 106.50, 29.50)
    with pytest.warns(DatumShiftWarning, match="--facilities-datum gcj02") as one:
        _inputs(tmp_path, False)
    shared_inputs = _inputs(tmp_path, True)
    with pytest.warns(DatumShiftWarning, match="--facilities-datum gcj02") as many:
        run(shared_inputs, isochrones="none", shard_by="tiles", shard_km=1.5, client=client)
    assert _shift_warnings(one) == _shift_warnings(many)


def test_an_extent_across_utm_zones_waits_for_the_nodes(tmp_path, client):
    """Streets across 108° E (UTM 48N and 49N, as Chongqing's east is): the pieces report
    their nodes first, the median node's zone is the one process's, the results and the
    datum warning are the same."""
    from layers.datum_check import DatumShiftWarning

    _grid_files(tmp_path, 107.985, 29.50, step=0.001)
    with pytest.warns(DatumShiftWarning) as one:
        single = run(_inputs(tmp_path, False), isochrones="category")
    shared_inputs = _inputs(tmp_path, True)
    grid = shard_reads.plan_grid(shard_reads.file_bounds(shared_inputs.network), 1.0)
    assert shard_reads.one_zone(grid) is None  # the path under test
    with pytest.warns(DatumShiftWarning) as many:
        shared = run(shared_inputs, isochrones="category", shard_by="tiles", shard_km=1.0,
                     client=client)
    assert _shift_warnings(one) == _shift_warnings(many)
    assert shared.info("metric_crs") == single.info("metric_crs")
    assert_same(single, shared)


def test_a_file_without_walkable_streets_is_refused_as_in_one_process(tmp_path, client):
    from layers.validate import LayerValidationError

    _grid_files(tmp_path, 106.50, 29.50, highway="motorway")
    with pytest.raises(LayerValidationError, match="no walkable streets") as one:
        run(_inputs(tmp_path, False), isochrones="none")
    with pytest.raises((LayerValidationError, ValueError), match="no walkable streets"):
        run(_inputs(tmp_path, True), isochrones="none", shard_by="tiles", shard_km=1.5,
            client=client)
    assert "streets.gpkg" in str(one.value)


def test_shared_reads_need_a_readable_file_and_a_cluster(helsinki_files, cli, tmp_path):
    common = ("--facilities", helsinki_files / "facilities.csv", "--demand",
              helsinki_files / "demand.csv", "--minutes", 10, "--out", tmp_path / "x.gpkg")
    r = cli.run("coverage", "--network", helsinki_files / "streets.gpkg", *common,
                "--shard-inputs", "shared")
    assert r.returncode == 2 and "--shard-inputs shared needs --scheduler" in r.stderr
    r = cli.run("coverage", "--network", helsinki_files / "streets.gpkg", *common,
                "--shard-inputs", "shared", "--scheduler", "local:1", "--profile", "elderly")
    assert r.returncode == 2 and "use --shard-inputs scatter" in r.stderr


def test_one_zone_is_the_median_nodes_zone_or_nothing():
    """When the whole extent lies in one UTM zone, that is the zone of any median node, so
    the tiles need not wait for every piece before walking; across zones (or where Norway's
    zones bend) the nodes decide."""
    from geo_app.workflows.shard_reads import one_zone, plan_grid
    from layers.crs import metric_crs

    rng = np.random.default_rng(3)
    for bounds in ((106.03, 29.36, 107.08, 30.28), (-70.9, -33.7, -70.4, -33.3),
                   (150.9, -34.1, 151.4, -33.7)):
        grid = plan_grid(bounds, 10.0)
        zone = one_zone(grid)
        lon = rng.uniform(bounds[0], bounds[2], 1001)
        lat = rng.uniform(bounds[1], bounds[3], 1001)
        assert zone is not None and zone == metric_crs((lon, lat))
    for bounds in ((107.5, 29.4, 108.5, 30.0),  # across 108° E: zones 48 and 49
                   (30.0, -0.5, 30.5, 0.5),  # across the equator
                   (5.0, 59.5, 6.0, 60.5)):  # Norway's wide zone 32V
        assert one_zone(plan_grid(bounds, 10.0)) is None
    assert one_zone(plan_grid((102.0, 29.0, 102.5, 29.5), 10.0)) is None  # on 102° E, an edge


def test_one_zone_agrees_with_the_nodes_on_random_extents():
    """Random city-sized extents the world over: where one_zone names a zone, random nodes
    inside have that median zone; where it names none, the extent touches two zones, the
    equator or Norway's bend."""
    from geo_app.workflows.shard_reads import one_zone, plan_grid
    from layers.crs import metric_crs

    rng = np.random.default_rng(11)
    named = 0
    for _ in range(14):
        x0, y0 = rng.uniform(-179, 178), rng.uniform(-60, 70)
        w = rng.choice([0.3, 1.5, 4.0])
        bounds = (x0, y0, x0 + w, y0 + 0.5 * w)
        zone = one_zone(plan_grid(bounds, 20.0))
        if zone is None:
            continue
        named += 1
        lon = rng.uniform(bounds[0], bounds[2], 501)
        lat = rng.uniform(bounds[1], bounds[3], 501)
        assert zone == metric_crs((lon, lat))
    assert named >= 5


def test_dask_knows_a_piece_weight_and_keeps_walks_where_pieces_are(helsinki_files, client):
    """A network piece weighs what its tables hold (not 56 bytes), and the LocalCluster
    neither steals work (a walk would leave its piece's worker) nor trims memory at every
    free (its workers allocate as one process does)."""
    import os

    from dask.sizeof import sizeof

    piece = shard_reads.read_piece(shard_reads.NetworkFile(str(helsinki_files / "streets.gpkg")),
                                   (-180.0, -90.0, 180.0, 90.0))
    assert sizeof(piece) >= piece.edges.memory_usage(deep=False).sum() > 10_000
    assert not client.run_on_scheduler(lambda dask_scheduler: "stealing"
                                       in dask_scheduler.extensions)
    assert set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}


FORKED = """
import gc, json, os, signal, sys, threading
from geo_app.workflows.dask_cluster import client_for, close

if sys.argv[1] == "thread":  # another thread running: the workers must be spawned
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
client = client_for("local:2")
try:
    def cmdline():
        with open("/proc/self/cmdline", "rb") as f:
            return f.read()
    mine = cmdline()
    def look():
        import sys
        return {"spawned": cmdline() != mine,  # a spawned worker runs python -c spawn_main
                "imported": "geo_app.workflows.coverage_steps" in sys.modules,
                "sigint_ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
                "trim": os.environ.get("MALLOC_TRIM_THRESHOLD_")}
    seen = list(client.run(look).values())
    stealing = client.run_on_scheduler(lambda dask_scheduler: "stealing"
                                       in dask_scheduler.extensions)
    print(json.dumps({"workers": seen, "stealing": stealing,
                      "frozen": gc.get_freeze_count()}))
finally:
    close(client)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forking is for Linux only")
@pytest.mark.parametrize("case", ["alone", "thread"])
def test_a_command_forks_its_workers_and_a_threaded_process_spawns_them(case):
    """A command-line process (one thread) forks its LocalCluster's workers, which start
    with the task modules already imported (~0.1 s against ~1 s each to start Python and
    import them); a process with other threads spawns them, as a lock another thread holds
    would stay held in a forked worker. Either way: the same settings, Ctrl+C ignored by
    the workers, and nothing of the fork left in the parent (its objects unfrozen)."""
    proc = subprocess.run([sys.executable, "-c", FORKED, case], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(seen["workers"]) == 2
    for worker in seen["workers"]:
        assert worker["spawned"] == (case == "thread")
        assert worker["sigint_ignored"] and worker["trim"] is None
        if case == "alone":
            assert worker["imported"]
    assert not seen["stealing"] and seen["frozen"] == 0
