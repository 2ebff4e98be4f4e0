"""`geo-app indicators` as a user runs it: on the sample after `geo-app coverage`, on a small
Chongqing case with elderly and children columns, and refusing bad input in one line."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from geo_app.workflows.coverage import sample_path


@pytest.fixture(scope="module")
def sample_coverage(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("cov") / "coverage.gpkg"
    pbf = sample_path()
    cli("coverage", "--network", pbf, "--facilities", pbf, "--demand", "buildings",
        "--minutes", 15, "--out", out)
    return out


def test_sample_indicators_to_excel_gpkg_and_csv(cli, sample_coverage, tmp_path):
    pbf = sample_path()
    xlsx = tmp_path / "indicators.xlsx"
    r = cli("indicators", "--coverage", sample_coverage, "--residential-land", "osm",
            "--parks", pbf, "--year", 2025, "--lang", "en", "--out", xlsx)
    assert "park_radius" in r.stdout and "wrote" in r.stdout
    assert "warning: indicator greenway_radius not computed: needs --greenways" in r.stderr
    book = pd.read_excel(xlsx, sheet_name=None)
    assert {"indicators", "compliance", "coverage_groups", "units", "residential_land",
            "definitions", "run_info"} <= set(book)
    tb = book["indicators"]
    area = tb[(tb["zone_type"] == "study_area") & (tb["group"] == "all")].set_index("indicator")
    assert set(area["denominator_kind"]) == {"population", "buildings", "residential_land_area"}
    assert 0 <= area.loc["park_radius", "value_pct"] <= 100
    assert area.loc["park_radius", "denominator"] > 10_000  # m² of residential land
    assert area.loc["complete_community", "denominator"] == len(book["units"])
    assert area.loc["public_service_15min", "target_pct"] == 85  # the 2025 milestone
    assert (tb["zone_type"] == "life_circle").any()  # zones: the run's life circles
    assert area["value_pct"].drop("greenway_radius").notna().all()
    # the standards' radius result beside the walking one, per type
    comp = book["compliance"]
    kg = comp[(comp["zone_type"] == "study_area") & (comp["item"] == "middle_school")
              & (comp["group"] == "all")].iloc[0]
    assert {"walk_share", "radius_share"} <= set(comp.columns) and kg["radius_m"] == 1000
    # the same result as a GeoPackage and as CSV
    gpkg = tmp_path / "indicators.gpkg"
    cli("indicators", "--coverage", sample_coverage, "--residential-land", "osm", "--parks",
        "osm", "--year", 2025, "--out", gpkg)
    assert {"indicators", "units", "compliance", "residential_land"} <= set(
        pyogrio.list_layers(gpkg)[:, 0])
    land = gpd.read_file(gpkg, layer="residential_land")
    assert land["covered_m2_park_radius"].sum() == pytest.approx(
        area.loc["park_radius", "numerator"], rel=1e-6)
    csv = tmp_path / "indicators.csv"
    cli("indicators", "--coverage", sample_coverage, "--out", csv)
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    assert (tmp_path / "indicators.compliance.csv").is_file()
    assert "社区老年服务站覆盖率" in pd.read_csv(csv)["name_zh"].tolist()


def test_groups_beside_the_total(cli, tmp_path):
    from tests.geo_app.test_cli_coverage import LAT0, LON0, STEP, grid_network

    net = grid_network(tmp_path / "streets.geojson")
    fac = tmp_path / "f.csv"
    fac.write_text("lon,lat,category,name\n"
                   f"{LON0},{LAT0},childcare,K\n{LON0},{LAT0 + STEP},community_service,H\n")
    dem = tmp_path / "d.csv"
    dem.write_text("id,lon,lat,population,60岁以上,0-6岁\n"
                   f"a,{LON0 + STEP},{LAT0},100,40,10\n"
                   f"b,{LON0 + 5 * STEP},{LAT0 + 5 * STEP},60,30,2\n")
    cov = tmp_path / "c.gpkg"
    cli("coverage", "--network", net, "--facilities", fac, "--demand", dem, "--out", cov)
    out = tmp_path / "i.xlsx"
    r = cli("indicators", "--coverage", cov, "--out", out)
    assert "groups reported beside the total: pop_0_6, pop_60plus" in r.stdout
    tb = pd.read_excel(out, sheet_name="indicators")
    kids = tb[(tb["indicator"] == "inclusive_kindergarten") & (tb["zone_type"] == "study_area")]
    got = dict(zip(kids["group"], zip(kids["numerator"], kids["denominator"])))
    assert got == {"all": (100, 160), "pop_60plus": (40, 70), "pop_0_6": (10, 12)}
    assert (tb["zone_type"] == "district").any()  # inside Chongqing: by district too


def test_bad_input_is_refused_in_one_line(cli, sample_coverage, tmp_path):
    def refused(*args):
        r = cli.run("indicators", *args)
        assert r.returncode == 2, r.stdout + r.stderr
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert "Traceback" not in r.stderr
        return lines[-1]

    assert "no such file" in refused("--coverage", tmp_path / "none.gpkg",
                                     "--out", tmp_path / "a.xlsx")
    assert "the extension decides the format" in refused("--coverage", sample_coverage, "--out",
                                                 tmp_path / "a.txt")
    assert "out of range" in refused("--coverage", sample_coverage, "--year", 1800, "--out",
                                     tmp_path / "a.xlsx")
    table = tmp_path / "edited.csv"
    from layers.resources import data_dir

    text = (data_dir() / "indicators.csv").read_text(encoding="utf-8")
    table.write_text(text.replace(",population,facilities,elderly_care,",
                                  ",households,facilities,elderly_care,"), encoding="utf-8")
    line = refused("--coverage", sample_coverage, "--indicator-table", table,
                   "--out", tmp_path / "a.xlsx")
    assert line.startswith(f"geo-app: error: {table}: row 4, column 'denominator': "
                           "'households' is not one of")
    not_cov = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([1], [1]), crs=4326).to_file(
        not_cov, layer="things")
    assert "not a coverage result" in refused("--coverage", not_cov, "--out",
                                              tmp_path / "a.xlsx")
    assert "file not found" in refused("--coverage", sample_coverage, "--residential-land",
                                       tmp_path / "none.geojson", "--out", tmp_path / "a.xlsx")
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=gpd.points_from_xy([24.94], [60.17]), crs=4326).to_file(points)
    assert "row 1: geometry is a Point, expected Polygon or MultiPolygon" in refused(
        "--coverage", sample_coverage, "--parks", points, "--out", tmp_path / "a.xlsx")


def test_edited_tables(cli, sample_coverage, tmp_path):
    from layers.resources import data_dir

    lines = (data_dir() / "indicators.csv").read_text(encoding="utf-8").splitlines()
    trimmed = tmp_path / "two.csv"  # a planner keeps the two rows they report
    trimmed.write_text("\n".join([lines[0], lines[3], lines[4]]) + "\n", encoding="utf-8")
    out = tmp_path / "two.csv.xlsx"
    cli("indicators", "--coverage", sample_coverage, "--indicator-table", trimmed,
        "--out", out)
    assert set(pd.read_excel(out, sheet_name="indicators")["indicator"]) == {
        "elderly_service_station", "inclusive_kindergarten"}
    st = tmp_path / "standards.csv"
    text = (data_dir() / "standards.csv").read_text(encoding="utf-8")
    st.write_text(text.replace("primary_school,10,10,500", "primary_school,12,10,500"),
                  encoding="utf-8")
    r = cli.run("indicators", "--coverage", sample_coverage, "--standards", st,
                "--out", tmp_path / "x.xlsx")
    assert r.returncode == 2
    assert r.stderr.strip() == (f"geo-app: error: {st}: row 11, column 'tier_min': 12 is not a "
                                "level: use 5, 10 or 15")
