"""`geo-app coverage` as a user runs it, on small files written by the test."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod

LON0, LAT0 = 106.55, 29.56  # central Chongqing
STEP = 0.001  # grid spacing in degrees


def grid_network(path, n=6):
    """Centre-lines of an n×n street grid sharing vertices at every crossing."""
    feats = []
    for i in range(n):
        row = [[LON0 + j * STEP, LAT0 + i * STEP] for j in range(n)]
        col = [[LON0 + i * STEP, LAT0 + j * STEP] for j in range(n)]
        for coords in (row, col):
            feats.append({"type": "Feature", "properties": {"highway": "residential"},
                          "geometry": {"type": "LineString", "coordinates": coords}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


@pytest.fixture()
def inputs(tmp_path):
    net = grid_network(tmp_path / "streets.geojson")
    fac = tmp_path / "facilities.csv"
    fac.write_text(f"lon,lat,category,name\n{LON0},{LAT0},clinic,A\n"
                   f"{LON0 + 5 * STEP},{LAT0 + 5 * STEP},market,B\n")
    dem = tmp_path / "demand.csv"
    dem.write_text("id,lon,lat,population\n"
                   f"h3,{LON0 + STEP},{LAT0},100\n"  # 1 block from the clinic
                   f"h1,{LON0 + 5 * STEP},{LAT0 + 4 * STEP},50\n"  # 1 block from the market
                   f"h2,{LON0 + 0.05},{LAT0},10\n")  # ~4.8 km east: off the network
    return tmp_path, net, fac, dem


def test_coverage_writes_the_contracted_layers(inputs, cli):
    tmp, net, fac, dem = inputs
    out = tmp / "out.gpkg"
    r = cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out,
                "--minutes", 3)
    assert r.returncode == 0, r.stderr
    names = set(pyogrio.list_layers(out)[:, 0])
    assert {"demand", "summary", "gaps", "isochrones"} <= names
    d = gpd.read_file(out, layer="demand")
    assert list(d["id"]) == ["h3", "h1", "h2"]  # input order, id carried
    block = Geod(ellps="WGS84").inv(LON0, LAT0, LON0 + STEP, LAT0)[2]  # ~96.8 m
    assert d.loc[0, "t_clinic"] == pytest.approx(block, abs=0.5)  # walked at 1 m/s
    assert np.isnan(d.loc[0, "t_market"])  # far beyond 3 minutes
    assert np.isnan(d.loc[2, "t_clinic"]) and not d.loc[2, "on_network"]
    assert "warning: 1 of 3 demand points (10 residents)" in r.stderr  # warnings on stderr
    s = gpd.read_file(out, layer="summary")
    area = s[s["zone_type"] == "study_area"].iloc[0]
    assert area["pop_clinic"] == 100 and area["pop_market"] == 50
    assert (s["zone_type"] == "district").any()  # inside Chongqing: summaries by district
    assert "渝中区" in set(s["zone"])
    areas = gpd.read_file(out, layer="service_areas")  # default: --isochrones category
    assert list(areas["category"]) == ["clinic", "market"] and list(areas["minutes"]) == [3, 3]
    assert len(gpd.read_file(out, layer="isochrones")) == 0


def test_isochrone_modes_and_geoparquet(inputs, cli):
    tmp, net, fac, dem = inputs
    common = ("--network", net, "--facilities", fac, "--demand", dem, "--minutes", 3)
    cli("coverage", *common, "--out", tmp / "f.gpkg", "--isochrones", "facility")
    iso = gpd.read_file(tmp / "f.gpkg", layer="isochrones")
    areas = gpd.read_file(tmp / "f.gpkg", layer="service_areas")
    assert sorted(iso["category"]) == sorted(pd.read_csv(fac)["category"])
    for cat in ("clinic", "market"):  # the service area is the union of the isochrones
        own = iso[iso["category"] == cat].to_crs(32648).geometry.union_all()
        area = areas[areas["category"] == cat].to_crs(32648).geometry.iloc[0]
        assert area.symmetric_difference(own).area < 0.05 * own.area
    cli("coverage", *common, "--out", tmp / "n.gpkg", "--no-isochrones")
    assert len(gpd.read_file(tmp / "n.gpkg", layer="service_areas")) == 0
    r = cli("coverage", *common, "--out", f"{tmp / 'pq'}/")
    assert "8 GeoParquet files" in r.stdout
    demand = gpd.read_parquet(tmp / "pq" / "demand.parquet")
    np.testing.assert_allclose(demand["t_clinic"], gpd.read_file(tmp / "n.gpkg", layer="demand")[
        "t_clinic"], equal_nan=True)
    assert demand.crs.to_epsg() == 4326
    cli("coverage", *common, "--out", tmp / "one.parquet")
    assert (tmp / "one.parquet").is_file() and (tmp / "one.summary.parquet").is_file()
    bad = cli.run("coverage", *common, "--out", tmp / "x.csv")
    assert bad.returncode == 2 and "extension decides the format" in bad.stderr
    assert not (tmp / "x.csv").exists()


def test_speed_changes_times(inputs, cli):
    tmp, net, fac, dem = inputs
    out = tmp / "fast.gpkg"
    r = cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out,
            "--minutes", 3, "--speed", 2.0, "--no-isochrones")
    assert r.returncode == 0, r.stderr
    d = gpd.read_file(out, layer="demand")
    block = Geod(ellps="WGS84").inv(LON0, LAT0, LON0 + STEP, LAT0)[2]
    assert d.loc[0, "t_clinic"] == pytest.approx(block / 2, abs=0.5)


def test_basket_levels_without_minutes(inputs, cli):
    tmp, net, fac, dem = inputs
    out = tmp / "levels.gpkg"
    r = cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out,
            "--no-isochrones")
    assert r.returncode == 0, r.stderr
    info = gpd.read_file(out, layer="run_info").set_index("key")["value"]
    assert info["thresholds_min"] == "clinic=15; market=10"  # basket levels
    r = cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out,
            "--no-isochrones", "--area-type", "rural")
    info = gpd.read_file(out, layer="run_info").set_index("key")["value"]
    assert info["thresholds_min"] == "clinic=30; market=30"


@pytest.mark.parametrize("case, message", [
    ("wrong_column", "missing column(s) population"),
    ("not_pbf", "not a readable OSM PBF"),
    ("no_category", "missing column(s) category"),
    ("empty_network", "the file has no rows"),
])
def test_bad_input_gets_a_clear_error(inputs, case, message, cli):
    tmp, net, fac, dem = inputs
    if case == "wrong_column":
        dem.write_text("lon,lat,people\n106.55,29.56,3\n")
    elif case == "not_pbf":
        net = tmp / "x.osm.pbf"
        net.write_bytes(b"garbage")
    elif case == "no_category":
        fac.write_text("lon,lat,kind\n106.55,29.56,clinic\n")
    elif case == "empty_network":
        net.write_text('{"type": "FeatureCollection", "features": []}')
    out = tmp / "bad.gpkg"
    r = cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_failed_run_keeps_earlier_result(inputs, cli):
    tmp, net, fac, dem = inputs
    out = tmp / "keep.gpkg"
    assert cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out,
               "--no-isochrones").returncode == 0
    before = out.read_bytes()
    dem.write_text("lon,lat,population\n106.55,29.56,-4\n")
    r = cli.run("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", out)
    assert r.returncode == 2 and "expected a number ≥ 0" in r.stderr
    assert out.read_bytes() == before


def test_category_names_map_to_the_basket(inputs, cli):
    """幼儿园, 养老院, 'kindergarten', ' CHILDCARE ' and an Amap type name all get the basket's
    5-minute threshold and the same times as the basket keys; unknown values are listed."""
    tmp, net, fac, dem = inputs
    clean = tmp / "clean.csv"
    clean.write_text(f"lon,lat,category\n{LON0},{LAT0},childcare\n"
                     f"{LON0 + 5 * STEP},{LAT0 + 5 * STEP},elderly_care\n")
    messy = tmp / "messy.csv"
    messy.write_text(f"经度,纬度,category\n{LON0},{LAT0},幼儿园\n"
                     f"{LON0},{LAT0}, CHILDCARE \n"
                     f"{LON0},{LAT0},科教文化服务;学校;幼儿园\n"
                     f"{LON0},{LAT0},kindergarten\n"
                     f"{LON0 + 5 * STEP},{LAT0 + 5 * STEP},养老院\n"
                     f"{LON0 + 5 * STEP},{LAT0 + 5 * STEP},幼稚所\n")
    common = ("--network", net, "--demand", dem)
    cli("coverage", *common, "--facilities", clean, "--out", tmp / "clean.gpkg")
    r = cli("coverage", *common, "--facilities", messy, "--out", tmp / "messy.gpkg")
    assert "match no basket category and keep the 15-minute default: '幼稚所' (1)" in r.stderr
    a = gpd.read_file(tmp / "clean.gpkg", layer="demand")
    b = gpd.read_file(tmp / "messy.gpkg", layer="demand")
    for col in ("t_childcare", "t_elderly_care"):
        np.testing.assert_allclose(a[col], b[col], equal_nan=True)
    info = gpd.read_file(tmp / "messy.gpkg", layer="run_info").set_index("key")["value"]
    assert "childcare=5" in info["thresholds_min"] and "幼稚所=15" in info["thresholds_min"]
    mapping = tmp / "map.csv"
    mapping.write_text("value,category\n幼稚所,childcare\n", encoding="utf-8")
    r = cli("coverage", *common, "--facilities", messy, "--category-map", mapping, "--out",
            tmp / "mapped.gpkg")
    assert "match no basket category" not in r.stderr
    bad = tmp / "bad_map.csv"
    bad.write_text("value,category\n幼稚所,kindergarden\n", encoding="utf-8")
    r = cli.run("coverage", *common, "--facilities", messy, "--category-map", bad, "--out",
                tmp / "x.gpkg")
    assert r.returncode == 2 and "row 2, column 'category': 'kindergarden'" in r.stderr


def test_unknown_site_category_is_refused(inputs, cli):
    tmp, net, fac, dem = inputs
    r = cli.run("site", "--network", net, "--demand", dem, "--existing", fac, "--category",
                "clinc", "--candidates", "grid:200", "--n", 1, "--out", tmp / "s.gpkg")
    assert r.returncode == 2 and "--category clinc: no such category" in r.stderr
    assert "clinic" in r.stderr


def test_duplicated_residents_are_refused_or_dropped(inputs, cli):
    """100 repeated rows would count residents twice: refused, naming the rows; with
    --on-bad-rows drop the first of each is kept, the drop said and kept in the run info."""
    tmp, net, fac, dem = inputs
    base = pd.read_csv(dem)
    again = pd.concat([base, base.iloc[[0, 1]]], ignore_index=True)
    doubled = tmp / "doubled.csv"
    again.to_csv(doubled, index=False)
    common = ("--network", net, "--facilities", fac, "--minutes", 3)
    r = cli.run("coverage", *common, "--demand", doubled, "--out", tmp / "x.gpkg")
    assert r.returncode == 2 and "row 5: id 'h3' again (first at row 2)" in r.stderr
    assert "counted twice" in r.stderr and not (tmp / "x.gpkg").exists()
    no_ids = tmp / "no_ids.csv"
    again.drop(columns="id").to_csv(no_ids, index=False)
    r = cli.run("coverage", *common, "--demand", no_ids, "--out", tmp / "y.gpkg")
    assert r.returncode == 2 and "row 5: the same point and population as row 2" in r.stderr
    r = cli("coverage", *common, "--demand", doubled, "--on-bad-rows", "drop", "--out",
            tmp / "d.gpkg")
    assert "2 row(s) dropped: row 5: id 'h3' again" in r.stderr
    kept = gpd.read_file(tmp / "d.gpkg", layer="demand")
    assert list(kept["id"]) == ["h3", "h1", "h2"]
    assert gpd.read_file(tmp / "d.gpkg", layer="summary")["population"].iloc[0] == 160
    info = gpd.read_file(tmp / "d.gpkg", layer="run_info").set_index("key")["value"]
    assert "2 row(s) dropped" in info["source_input_warnings"]


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_shifted_points_declared_wgs84_are_warned_about(tmp_path, cli, datum):
    """Amap/Tencent (GCJ-02) or Baidu (BD-09) points read as WGS-84 sit ~0.5–1 km off the
    streets: the check says so and names the option; declared right, the times equal the
    clean WGS-84 run's."""
    from layers.coords import wgs84_to_bd09, wgs84_to_gcj02

    net = grid_network(tmp_path / "streets.geojson", n=12)
    rng = np.random.default_rng(3)
    # bus-stop-like: on the north–south streets, a few metres off the centre-line
    lon = LON0 + rng.integers(0, 12, 40) * STEP + rng.uniform(-5e-5, 5e-5, 40)
    lat = LAT0 + rng.uniform(0, 11 * STEP, 40)
    clean = pd.DataFrame({"lon": lon, "lat": lat, "category": "clinic"})
    clean.to_csv(tmp_path / "clean.csv", index=False)
    to = wgs84_to_gcj02 if datum == "gcj02" else wgs84_to_bd09
    x, y = to(lon, lat)
    clean.assign(lon=x, lat=y).to_csv(tmp_path / "shifted.csv", index=False)
    dem = pd.DataFrame({"lon": LON0 + rng.uniform(0, 11 * STEP, 200),
                        "lat": LAT0 + rng.uniform(0, 11 * STEP, 200), "population": 10})
    dem.to_csv(tmp_path / "homes.csv", index=False)
    common = ("--network", net, "--demand", tmp_path / "homes.csv", "--minutes", 5)
    r = cli("coverage", *common, "--facilities", tmp_path / "shifted.csv", "--out",
            tmp_path / "wrong.gpkg")
    assert f"looks like {datum.upper()} coordinates read as WGS-84" in r.stderr
    assert f"--facilities-datum {datum}" in r.stderr
    r = cli("coverage", *common, "--facilities", tmp_path / "shifted.csv", "--facilities-datum",
            datum, "--out", tmp_path / "right.gpkg")
    assert "looks like" not in r.stderr
    r = cli("coverage", *common, "--facilities", tmp_path / "clean.csv", "--out",
            tmp_path / "clean.gpkg")
    assert "looks like" not in r.stderr
    right = gpd.read_file(tmp_path / "right.gpkg", layer="demand")["t_clinic"]
    want = gpd.read_file(tmp_path / "clean.gpkg", layer="demand")["t_clinic"]
    np.testing.assert_allclose(right, want, atol=0.05, equal_nan=True)  # < 1 mm round trip
