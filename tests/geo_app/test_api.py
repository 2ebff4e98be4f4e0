"""The Python API (``import geo_app as ga``): the README's notebook example, GeoDataFrame
inputs, warnings and errors, settings, and a fast CLI start."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

import geo_app as ga

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("geopandas", "shapely", "folium", "streamlit", "osmnx", "pyrosm")


def readme_notebook_code() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### 在 Python 中使用 · In a notebook", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_gives_the_cli_times(tmp_path, cli):
    scope: dict = {}
    exec(compile(readme_notebook_code(), "README.md", "exec"), scope)
    result = scope["result"]
    assert scope["m"] is not None and len(scope["times"]) == len(result.demand)

    sample = ga.sample_path()
    out = tmp_path / "c.gpkg"
    cli("coverage", "--network", sample, "--facilities", sample, "--demand", "buildings",
        "--minutes", 15, "--no-isochrones", "--out", out)
    written = gpd.read_file(out, layer="demand")
    t_cols = [c for c in result.demand.columns if c.startswith("t_")]
    assert len(t_cols) >= 5 and len(written) == len(result.demand)
    for col in t_cols:
        a, b = result.demand[col].to_numpy(float), written[col].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def small(helsinki_inputs):
    """Network, facilities and the first 2,000 residents of the sample."""
    return (helsinki_inputs.network, helsinki_inputs.facilities,
            helsinki_inputs.demand.iloc[:2000].reset_index(drop=True))


def test_coverage_takes_geodataframes_in_any_crs(small):
    net, fac, dem = small
    base = ga.coverage(net, fac, dem, minutes=10, isochrones=False)
    metric = ga.coverage(net, fac.to_crs(3067), dem.to_crs(3067), minutes=10, isochrones=False)
    assert list(base.demand.index) == list(range(len(dem)))  # one row per demand row, in order
    for col in [c for c in base.demand.columns if c.startswith("t_")]:
        np.testing.assert_allclose(base.demand[col], metric.demand[col], atol=1e-6)
        assert np.nanmax(base.demand[col]) <= 600 + 1e-9  # seconds, NaN beyond 10 min


def test_bad_inputs_are_project_errors(small):
    net, fac, dem = small
    with pytest.raises(ga.InputError, match="read it first"):
        ga.coverage(net, "sites.csv", dem)
    with pytest.raises(ga.InputError, match="no CRS"):
        ga.coverage(net, fac.set_crs(None, allow_override=True), dem)
    with pytest.raises(ga.InputError, match="'population'"):
        ga.coverage(net, fac, dem.drop(columns="population"))
    with pytest.raises(ga.ParameterError, match="minutes"):
        ga.coverage(net, fac, dem, minutes=float("inf"))
    assert issubclass(ga.InputError, ga.GeoAppError) and issubclass(ga.InputError, ValueError)


def test_warnings_are_raised_and_listed(small):
    net, fac, dem = small
    with pytest.warns(ga.CoverageWarning, match="no 'no_such_service' facilities") as caught:
        res = ga.coverage(net, fac, dem, minutes=10, isochrones=False,
                          categories=["no_such_service"])
    assert any(isinstance(w, ga.CoverageWarning) for w in res.warnings)
    w = next(w for w in res.warnings if "no_such_service" in str(w))
    assert w.key == "warn_no_facilities" and w.values == {"category": "no_such_service"}
    assert any(r.category is ga.CoverageWarning for r in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ga.CoverageWarning)
        with pytest.raises(ga.CoverageWarning):
            ga.coverage(net, fac, dem, minutes=10, isochrones=False,
                        categories=["no_such_service"])


def test_settings_drive_the_run(small):
    net, fac, dem = small
    fast = ga.coverage(net, fac, dem, minutes=10, isochrones=False,
                       settings=ga.Settings(walk_speed_m_s=2.0))
    slow = ga.coverage(net, fac, dem, minutes=10, isochrones=False,
                       settings=ga.Settings(walk_speed_m_s=1.0))
    assert fast.info("speed_m_s") == "2.0"
    assert fast.summary["pop_basket"].iloc[0] >= slow.summary["pop_basket"].iloc[0]


def test_settings_are_checked_and_match_the_kernels():
    from analysis.graph import DEFAULT_SPEED_M_S, DEFAULT_STEPS_SPEED_M_S
    from analysis.snap import DEFAULT_MAX_SNAP_M

    s = ga.Settings()
    assert (s.walk_speed_m_s, s.steps_speed_m_s, s.max_snap_m) == (
        DEFAULT_SPEED_M_S, DEFAULT_STEPS_SPEED_M_S, DEFAULT_MAX_SNAP_M)
    for bad in ({"max_snap_m": -1}, {"walk_speed_m_s": 0}, {"urban_minutes": float("nan")},
                {"gap_cell_m": "200"}, {"max_upload_mb": 0}):
        with pytest.raises(ga.ParameterError, match=next(iter(bad))):
            ga.Settings(**bad)
    rows = {r["name"]: r for r in ga.Settings.describe()}
    assert rows["max_snap_m"]["unit"] == "m" and rows["max_snap_m"]["range"] == "> 0, <= 10000"


def test_env_is_read_in_one_place(monkeypatch, tmp_path):
    monkeypatch.setenv("GEO_APP_PROJECT_DIR", str(tmp_path / "p"))
    monkeypatch.setenv("GEO_APP_CACHE_DIR", str(tmp_path / "c"))
    s = ga.Settings.from_env(max_snap_m=300)
    assert s.projects_path() == tmp_path / "p" and s.osm_cache_path() == tmp_path / "c" / "osm"
    assert s.max_snap_m == 300
    for path in (REPO / "geo_app", REPO / "layers", REPO / "analysis"):
        for py in path.rglob("*.py"):
            if py.name != "config.py":
                text = py.read_text(encoding="utf-8")
                assert "os.environ" not in text and "getenv(" not in text, py


def test_site_and_evaluate_agree_with_the_workflow(helsinki_inputs, helsinki_siting):
    net, dem = helsinki_inputs.network, helsinki_inputs.demand
    existing = helsinki_siting.existing
    cand = ga.grid_candidates(net, 300)
    out = ga.site(net, dem, cand, n=3, existing=existing)
    assert list(out.sites["name"]) == list(
        helsinki_siting.run.candidates.loc[helsinki_siting.result.sites, "name"])
    again = ga.evaluate(net, dem, out.sites[["name", "geometry"]], existing=existing)
    np.testing.assert_allclose(again.summary["newly_covered"], out.summary["newly_covered"])
    assert set(out.layers()) == {"sites", "summary", "uncovered"}


def test_cluster_functions_take_geodataframes(helsinki_pois, helsinki_inputs):
    c = ga.clusters(helsinki_pois, eps_m=60, min_samples=8)
    assert c.params["clusters"] >= 3 and (c.points["cluster"] >= -1).all()
    h = ga.hotspots(helsinki_pois, grid="square", cell_m=300, permutations=99)
    assert len(h.cells) > 10 and {"z", "significant"} <= set(h.cells.columns)
    dem = helsinki_inputs.demand
    centres = helsinki_pois[helsinki_pois["category"].str.startswith("shop=")].iloc[:4]
    centres = centres.assign(name=[f"c{i}" for i in range(len(centres))])
    k = ga.catchments(centres, dem, cell_m=500, max_km=5)
    np.testing.assert_allclose(k.circles["expected_visitors"].sum(),
                               k.cells.loc[k.cells["dominant"] >= 0, "population"].sum(),
                               rtol=1e-9)


def test_maps_only_draw(helsinki_coverage):
    m = ga.maps.coverage_map(helsinki_coverage, category="basket", lang="en")
    assert "Leaflet" in m.get_root().render() or m is not None


@pytest.mark.parametrize("args", [["--help"], ["coverage", "--help"], ["coverage"],
                                  ["site", "--minutes", "x"]])
def test_cli_answers_without_the_geo_stack(args):
    code = ("import sys\nfrom geo_app.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_import_is_lazy():
    code = (f"import sys, geo_app as ga\nga.Settings\nga.GeoAppError\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
    assert set(ga.__all__) <= set(dir(ga)) and callable(ga.coverage)
