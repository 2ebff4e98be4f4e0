"""A DEM that covers only part of the network: refused with the option that allows it, and with
``--dem-partial`` slopes where it covers and level ground elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from analysis.graph import build_walk_graph
from geo_app.workflows.coverage import run


def test_unknown_heights_are_level():
    g = build_walk_graph(np.array([0, 1]), np.array([1, 2]), np.array([100.0, 100.0]),
                         x=np.array([0.0, 100, 200]), y=np.zeros(3), crs="EPSG:32648",
                         elevation_m=np.array([0.0, np.nan, 30.0]), speed_m_s=1.25)
    assert np.allclose(g.time.data, 80.0)  # both segments touch the unknown node: flat
    with pytest.raises(ValueError, match="NaN: unknown"):
        build_walk_graph(np.array([0]), np.array([1]), np.array([100.0]), x=np.zeros(2),
                         y=np.zeros(2), crs="EPSG:32648", elevation_m=np.array([0, np.inf]))


@pytest.fixture(scope="module")
def west_dem(helsinki_inputs, tmp_path_factory):
    """A steep plane over the western half of the sample only."""
    west, south, east, north = helsinki_inputs.network.edges.total_bounds
    mid = (west + east) / 2
    w, h = 200, 200
    z = (np.linspace(0, 120, w)[None, :] + np.zeros((h, 1))).astype("float32")
    path = tmp_path_factory.mktemp("dem") / "west.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west - 0.01, north + 0.01,
                                                              (mid - west + 0.01) / w,
                                                              (north - south + 0.02) / h)) as d:
        d.write(z, 1)
    return str(path)


def test_partial_dem_refused_without_the_option(helsinki_inputs, west_dem):
    with pytest.raises(ValueError, match="--dem-partial"):
        run(helsinki_inputs, dem=west_dem, isochrones="none")


def test_partial_dem_gives_slopes_where_it_covers(helsinki_inputs, west_dem):
    flat = run(helsinki_inputs, isochrones="none")
    hilly = run(helsinki_inputs, dem=west_dem, dem_partial=True, isochrones="none")
    assert "level where it has no height" in hilly.info("elevation")
    from geo_app.io.display import run_info_value

    shown = run_info_value("elevation", hilly.info("elevation"))
    assert shown == "DEM west.tif(未覆盖处按平地计)"  # the file name only, in Chinese
    a, b = flat.demand["t_clinic"].to_numpy(float), hilly.demand["t_clinic"].to_numpy(float)
    ok = np.isfinite(a) & np.isfinite(b)
    assert (np.abs(a - b)[ok] > 1).any()  # the slopes change some walks


def test_cli_names_the_option(helsinki_inputs, west_dem, cli, tmp_path):
    from geo_app.workflows.coverage import sample_path

    common = ("--network", sample_path(), "--facilities", sample_path(), "--demand", "buildings",
              "--minutes", 10, "--isochrones", "none",
              "--dem", west_dem)
    r = cli.run("coverage", *common, "--out", tmp_path / "a.gpkg")
    assert r.returncode == 2 and "--dem-partial" in r.stderr and "Traceback" not in r.stderr
    cli("coverage", *common, "--dem-partial", "--out", tmp_path / "b.gpkg")


def test_app_offers_level_ground_where_the_dem_has_no_height(monkeypatch, tmp_path, west_dem):
    """On the coverage page a DEM over half the sample is refused in Chinese with the way out
    (the sidebar box); ticking it runs with slopes where it covers, named in the run info."""
    from geo_app.ui.common import sample_data
    from tests.conftest import open_app

    app = open_app(monkeypatch, tmp_path)
    app.session_state["data"] = {**sample_data(), "dem": west_dem}
    app.session_state["cov_minutes"] = 10.0
    app.sidebar.radio(key="page").set_value("coverage").run()
    assert not app.exception
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception
    (error,) = [e.value for e in app.error]
    assert "west.tif" in error and "DEM 未覆盖处按平地计" in error
    assert not any(w in error for w in ("network nodes", "--dem-partial", west_dem[:-8]))
    app.sidebar.checkbox(key="cov_dem_partial").check().run()
    app.sidebar.button(key="cov_run").click().run()
    assert not app.exception and not app.error
    info = app.dataframe[-1].value
    assert "DEM west.tif(未覆盖处按平地计)" in set(info["数值"])
