"""``geo-app life-circles`` and ``geo-app scorecard`` as a user runs them: on the offline sample
(Helsinki, not Chongqing) after ``geo-app coverage``, on a generated Chongqing street grid with a
project file, and refusals as one line with exit status 2."""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest

from tests.geo_app.test_scorecard import write_case


@pytest.fixture(scope="module")
def sample_coverage(cli, tmp_path_factory):
    import geo_app as ga

    tmp = tmp_path_factory.mktemp("cli_card")
    s = ga.sample_path()
    out = tmp / "coverage.gpkg"
    cli("coverage", "--network", s, "--facilities", s, "--demand", "buildings", "--minutes", 15,
        "--isochrones", "none", "--out", out)
    return out


def test_life_circles_and_scorecard_on_the_sample(cli, sample_coverage, tmp_path):
    circles = tmp_path / "circles.gpkg"
    r = cli("life-circles", "--coverage", sample_coverage, "--tier", 10, "--min-pop", 2000,
            "--max-pop", 6000, "--out", circles)
    assert "life circles (delineate, 10-minute level: 2,000–6,000 residents" in r.stdout
    assert "meeting the standard" in r.stdout and "plan target 100" in r.stdout
    assert "warning:" in r.stderr and "Traceback" not in r.stderr
    layers = set(pyogrio.list_layers(circles)[:, 0])
    assert {"circles", "units", "counts", "run_info"} <= layers
    c = gpd.read_file(circles, layer="circles")
    units = gpd.read_file(circles, layer="units")
    demand = gpd.read_file(sample_coverage, layer="demand")
    assert len(units) == len(demand)
    assert c["residents"].sum() == pytest.approx(
        demand.loc[demand["on_network"].astype(bool), "population"].sum())
    hubs = tmp_path / "hubs.gpkg"
    r = cli("life-circles", "--coverage", sample_coverage, "--method", "hubs", "--out", hubs)
    assert "(hubs, 15-minute level" in r.stdout
    card = tmp_path / "card.xlsx"
    r = cli("scorecard", "--coverage", sample_coverage, "--circles", circles, hubs, "--out", card)
    assert "warning:" in r.stderr and "outside every zone" in r.stderr  # Helsinki ≠ Chongqing
    assert "中心城区: 9 districts" in r.stdout and "of 100" in r.stdout
    wb = openpyxl.load_workbook(card)
    assert len(wb.sheetnames) == 7 and wb["区县评比"].max_row == 39
    assert wb["生活圈"].max_row == len(c) + len(gpd.read_file(hubs, layer="circles")) + 1


def test_proposed_sites_turn_circles(cli, sample_coverage, tmp_path):
    sites = tmp_path / "sites.csv"
    pd.DataFrame({"name": ["hub A", "hub B"], "lon": [24.9485, 24.9535],
                  "lat": [60.1709, 60.1763]}).to_csv(sites, index=False)
    out = tmp_path / "ba.gpkg"
    r = cli("life-circles", "--coverage", sample_coverage, "--tier", 10, "--min-pop", 2000,
            "--max-pop", 6000, "--min-share", 0.5, "--sites", sites, "--out", out)
    assert "before the proposal:" in r.stdout
    counts = gpd.read_file(out, layer="counts")
    area = counts[counts["zone_type"] == "study_area"].iloc[0]
    assert area["meeting_after"] >= area["meeting_before"]
    assert {"flips", "circles_before"} <= set(pyogrio.list_layers(out)[:, 0])


def test_scorecard_of_a_generated_chongqing_grid_with_a_project(cli, tmp_path):
    from geo_app.io.project import Scenario, save_scenario

    case = write_case(tmp_path)
    cov = tmp_path / "cov.gpkg"
    cli("coverage", "--network", case / "streets.geojson", "--facilities",
        case / "facilities.csv", "--demand", case / "demand.csv", "--minutes", 10,
        "--isochrones", "none", "--out", cov)
    circles = tmp_path / "circles.gpkg"
    r = cli("life-circles", "--coverage", cov, "--tier", 10, "--min-pop", 2000, "--max-pop",
            6000, "--max-minutes", 12, "--out", circles)
    assert "渝中区" in r.stdout
    project = tmp_path / "p.cqproj.sqlite"
    save_scenario(project, Scenario("hubs", kind="siting", params={"category":
                                                                    "community_service"},
                                    sites=gpd.GeoDataFrame({"name": ["a"]}, crs=4326,
                                                           geometry=gpd.points_from_xy(
                                                               [106.575], [29.555]))))
    marks = tmp_path / "marks.csv"
    pd.DataFrame({"target": ["star_buildings"], "name": ["大厦"], "status": ["built"],
                  "district": ["渝中区"]}).to_csv(marks, index=False, encoding="gb18030")
    card = tmp_path / "card.xlsx"
    r = cli("scorecard", "--coverage", cov, "--circles", circles, "--project", project,
            "--marks", marks, "--lang", "en", "--out", card)
    assert '"star" buildings' in r.stdout and "1 of 50" in r.stdout
    assert "1 of 20" not in r.stdout and "(+1 proposed)" in r.stdout
    wb = openpyxl.load_workbook(card)
    head = [c.value for c in wb["Scorecard"][1]]
    rows = {r[0]: r for r in wb["Scorecard"].iter_rows(min_row=2, values_only=True)}
    summary = gpd.read_file(cov, layer="summary")
    yz = summary[(summary["zone_type"] == "district") & (summary["zone"] == "渝中区")].iloc[0]
    assert rows["渝中区"][head.index("Residents analysed")] == pytest.approx(
        round(yz["population"]))
    assert rows["渝中区"][head.index("Hubs proposed")] == 1


@pytest.mark.parametrize(("args", "words"), [
    (("life-circles", "--coverage", "nowhere.gpkg", "--out", "c.gpkg"), "no such file"),
    (("life-circles", "--coverage", "x.gpkg", "--out", "c.csv"), ".gpkg"),
    (("life-circles", "--coverage", "COV", "--min-pop", 9, "--max-pop", 5, "--out", "c.gpkg"),
     "--min-pop ≤ --max-pop"),
    (("life-circles", "--coverage", "COV", "--min-share", 2, "--out", "c.gpkg"),
     "out of range"),
    (("scorecard", "--out", "card.csv"), ".xlsx"),
    (("scorecard", "--circles", "COV", "--out", "card.xlsx"), "no layer circles"),
])
def test_refusals_are_one_line(cli, sample_coverage, tmp_path, args, words):
    args = [str(sample_coverage) if a == "COV" else a for a in args]
    args = [str(tmp_path / a) if str(a).endswith((".gpkg", ".csv", ".xlsx")) and a != str(
        sample_coverage) else a for a in args]
    r = cli.run(*args)
    last = r.stderr.strip().splitlines()[-1]  # argparse prints its usage above the error
    assert r.returncode == 2 and words in last, r.stderr
    assert "Traceback" not in r.stderr and last.startswith("geo-app")
