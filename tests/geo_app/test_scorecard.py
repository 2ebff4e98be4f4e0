"""District scorecards: totals equal the coverage summary, counts and region-group averages by
hand, target status from a project fixture, and the Excel workbook. The Chongqing case is a
generated street grid across four central districts (not real streets)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from geo_app.io.scorecard import scorecard_xlsx_bytes, write_scorecard
from geo_app.workflows import life_circles as lc
from geo_app.workflows.coverage_data import from_result
from geo_app.workflows.scorecard import build_scorecard
from geo_app.workflows.targets import Proposal, project_inputs, save_marks, target_status
from layers.standards import load_standards
from tests.conftest import REPO

LON0, LAT0, STEP, N = 106.50, 29.50, 0.0015, 36  # spans 九龙坡, 渝中, 南岸 and a bit of 江北


def write_case(tmp, seed=7):
    """A street grid, facilities and residents across central Chongqing, as files."""
    rng = np.random.default_rng(seed)
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
    pd.DataFrame({"lon": LON0 + rng.uniform(0, span, 160),
                  "lat": LAT0 + rng.uniform(0, span, 160), "category": np.repeat(cats, 40),
                  "name": [f"f{k}" for k in range(160)]}).to_csv(tmp / "facilities.csv",
                                                                 index=False)
    pd.DataFrame({"id": [f"r{k}" for k in range(2500)],
                  "lon": LON0 + rng.uniform(0, span, 2500),
                  "lat": LAT0 + rng.uniform(0, span, 2500),
                  "population": rng.integers(1, 80, 2500)}).to_csv(tmp / "demand.csv",
                                                                   index=False)
    return tmp


@pytest.fixture(scope="module")
def cq(tmp_path_factory):
    from geo_app.workflows.coverage import load_inputs, run

    tmp = write_case(tmp_path_factory.mktemp("cq"))
    inputs = load_inputs(tmp / "streets.geojson", tmp / "facilities.csv", tmp / "demand.csv")
    result = run(inputs, minutes=15, isochrones="none")
    data = from_result(result)
    # an edited standards table: health station, service station and market within 15 min
    st = load_standards()
    st = st[st["category"].isin(["clinic", "market", "community_service"])
            & (st["tier_min"] <= 10)].assign(walk_min=15.0)
    circles = lc.delineate_circles(data, lc.walk_graph_of(data), lc.circle_params(
        10, min_pop=2_000, max_pop=6_000, max_minutes=12, min_share=0.6), standards=st)
    return result, circles


def test_scorecard_totals_equal_the_coverage_summary(cq):
    result, _ = cq
    card = build_scorecard([result])
    s = card.views["scorecard"].set_index("zone")
    summary = result.summary[result.summary["zone_type"] == "district"].set_index("zone")
    inside = summary.drop(index="(outside)", errors="ignore")
    assert len(inside) >= 3
    for zone, row in inside.iterrows():
        assert s.loc[zone, "residents"] == pytest.approx(row["population"])
        for cat in [*result.categories, "basket"]:
            assert s.loc[zone, f"share_{cat}"] == pytest.approx(row[f"share_{cat}"])
    area = result.summary[result.summary["zone_type"] == "study_area"].iloc[0]
    outside = summary["population"].get("(outside)", 0.0)
    assert s["residents"].sum() == pytest.approx(area["population"] - outside)
    long = card.views["coverage"]
    basket = long[long["category"] == "basket"].set_index("zone")
    assert basket["covered"].sum() == pytest.approx(area["pop_basket"])
    assert len(s) == 38 and s["residents"].notna().sum() == len(inside)


def test_facilities_hubs_and_places_by_hand(cq):
    result, _ = cq
    card = build_scorecard([result])
    s = card.views["scorecard"].set_index("zone")
    from layers.districts import load_districts

    dist = load_districts().set_index("name_zh")
    fac = result.facilities
    for zone in s.index[s["residents"].notna()]:
        inside = shapely.contains(dist.geometry[zone], fac.geometry.to_numpy())
        assert s.loc[zone, "facilities"] == inside.sum()
        hubs = inside & (fac["category"] == "community_service").to_numpy()
        assert s.loc[zone, "hubs_existing"] == hubs.sum()
        assert s.loc[zone, "facilities_per_10k"] == pytest.approx(
            inside.sum() / s.loc[zone, "residents"] * 1e4)
    places = pd.read_csv(REPO / "data" / "gis" / "business_circles.csv")
    want = places["district_zh"].value_counts()
    assert s["business_circles"].sum() == len(places)
    for zone, n in want.items():
        assert s.loc[zone, "business_circles"] == n
    # ranks: the highest basket share ranks first
    ranked = s.dropna(subset=["share_basket"]).sort_values("rank_share_basket")
    assert ranked["share_basket"].is_monotonic_decreasing


def test_region_groups_by_hand(cq):
    result, _ = cq
    card = build_scorecard([result])
    s, r = card.views["scorecard"], card.views["regions"].set_index("region_group")
    assert r["districts"].to_dict() == {"中心城区": 9, "主城新区": 12, "渝东北三峡库区城镇群": 11,
                                       "渝东南武陵山区城镇群": 6}
    facts = pd.read_csv(REPO / "data" / "gis" / "districts.csv")
    want = facts.groupby("region_group")["pop_2020_census"].sum()
    assert np.allclose(r.loc[want.index, "residents_census"], want)
    central = s[s["region_group"] == "中心城区"].dropna(subset=["residents"])
    pooled = (central["share_basket"] * central["residents"]).sum() / central["residents"].sum()
    assert r.loc["中心城区", "share_basket"] == pytest.approx(pooled)
    assert r.loc["中心城区", "mean_share_basket"] == pytest.approx(central["share_basket"].mean())
    assert np.isnan(r.loc["渝东南武陵山区城镇群", "share_basket"])


def test_census_scorecard_without_coverage():
    card = build_scorecard()
    s = card.views["scorecard"]
    facts = pd.read_csv(REPO / "data" / "gis" / "districts.csv", dtype={"adcode": str})
    assert list(s["adcode"]) == list(facts["adcode"])
    assert np.allclose(s["residents_census"].fillna(-1), facts["pop_2020_census"].fillna(-1))
    assert s["residents"].isna().all() and s["circles"].isna().all()
    assert s["clusters"].sum() == len(pd.read_csv(REPO / "data" / "gis" / "clusters.csv")) - 1


def test_circles_meeting_the_standard_per_district(cq):
    result, circles = cq
    card = build_scorecard([result], circles=[circles.circles])
    s = card.views["scorecard"].set_index("zone")
    c = circles.circles
    assert 0 < c["meets_standard"].sum() < len(c)
    want = c.groupby("district")["meets_standard"].agg(["size", "sum"])
    for zone, row in want.iterrows():
        assert s.loc[zone, "circles"] == row["size"]
        assert s.loc[zone, "circles_meeting"] == row["sum"]
    t = card.views["targets"].set_index("id")
    assert t.loc["life_circles_15min", "analysed"] == c["meets_standard"].sum()


def test_target_status_from_a_project_fixture(tmp_path):
    from geo_app.io.project import Scenario, save_scenario

    path = tmp_path / "p.cqproj.sqlite"
    sites = gpd.GeoDataFrame({"name": ["a", "b", "c"]}, crs=4326, geometry=gpd.points_from_xy(
        [106.575, 106.570, 106.580], [29.555, 29.557, 29.52]))  # 渝中区 ×2, 南岸区
    save_scenario(path, Scenario("hubs", kind="siting", params={"category": "community_service"},
                                 sites=sites))
    save_scenario(path, Scenario("nurseries", kind="siting", params={"category": "childcare"},
                                 sites=sites.iloc[:1]))
    save_scenario(path, Scenario("other", kind="siting", params={"category": "community_service"},
                                 sites=sites))
    save_marks(path, pd.DataFrame({
        "target": ["yulinhui_hubs", "star_buildings", "star_buildings", "yulinhui_hubs"],
        "name": ["built hub", "大厦", "中心", "planned"],
        "status": ["built", "built", "built", "proposed"],
        "district": ["江北区", "渝中区", "渝中区", "南岸区"]}))
    proposals, marks = project_inputs(path, names=["hubs", "nurseries"])
    assert [p.name for p in proposals] == ["hubs", "nurseries"] and len(marks) == 4
    circles = gpd.GeoDataFrame({"meets_standard": [True, True, False],
                                "district": ["渝中区", "南岸区", "南岸区"]},
                               geometry=[shapely.Point(0, 0)] * 3, crs=4326)
    st = target_status(circles=[circles], proposals=proposals, marks=marks)
    t = st.table.set_index("id")
    assert t.loc["yulinhui_hubs", ["built", "proposed", "achieved"]].tolist() == [1, 4, 1]
    assert t.loc["yulinhui_hubs", "progress"] == pytest.approx(1 / 20)
    assert t.loc["yulinhui_hubs", "progress_with_proposed"] == pytest.approx(5 / 20)
    assert t.loc["community_childcare", "proposed"] == 1
    assert t.loc["star_buildings", "achieved"] == 2
    assert t.loc["life_circles_15min", ["analysed", "achieved"]].tolist() == [2, 2]
    assert t.loc["business_circles_upgraded", ["candidates", "needed"]].tolist() == [14, 6]
    assert t.loc["night_economy_areas", "candidates"] == 3
    assert not t["met"].any()
    z = st.by_zone.set_index(["id", "zone"])
    assert z.loc[("yulinhui_hubs", "渝中区"), "proposed"] == 2
    assert z.loc[("yulinhui_hubs", "南岸区"), "proposed"] == 2  # a site and a marked plan
    assert z.loc[("yulinhui_hubs", "江北区"), "built"] == 1
    assert z.loc[("life_circles_15min", "南岸区"), "analysed"] == 1
    assert z.loc[("star_buildings", "渝中区"), "share_of_target"] == pytest.approx(2 / 50)


def test_any_zoning_and_the_workbook(cq, tmp_path):
    result, circles = cq
    w, s, e, n = result.demand.total_bounds
    mid = (w + e) / 2
    zones = gpd.GeoDataFrame({"片区": ["西", "东"]}, crs=4326, geometry=[
        shapely.box(w - 1, s - 1, mid, n + 1), shapely.box(mid, s - 1, e + 1, n + 1)])
    card = build_scorecard([result], zones=(zones, "片区"), circles=[circles.circles],
                           proposals=[Proposal("p", "community_service", gpd.GeoDataFrame(
                               geometry=gpd.points_from_xy([w + 1e-3], [s + 1e-3]), crs=4326))])
    sc = card.views["scorecard"].set_index("zone")
    area = result.summary[result.summary["zone_type"] == "study_area"].iloc[0]
    assert sc["residents"].sum() == pytest.approx(area["population"])
    assert sc["circles"].sum() == len(circles.circles) and sc.loc["西", "hubs_proposed"] == 1
    assert "regions" not in card.views
    out = write_scorecard(build_scorecard([result], circles=[circles.circles]),
                          tmp_path / "card.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["区县评比", "一区两群分组", "分类覆盖", "生活圈", "2027目标进度",
                             "目标分区县", "数据来源"]
    head = [c.value for c in wb["区县评比"][1]]
    assert head[:3] == ["区县/分区", "区划代码", "一区两群分区"]
    assert "达标生活圈数" in head and "每万人设施数" in head
    rows = {r[0]: r for r in wb["区县评比"].iter_rows(min_row=2, values_only=True)}
    col = head.index("全部设施(整篮)覆盖率(%)")
    yz = build_scorecard([result]).views["scorecard"].set_index("zone").loc["渝中区"]
    assert rows["渝中区"][col] == pytest.approx(round(100 * yz["share_basket"], 1))
    english = openpyxl.load_workbook(__import__("io").BytesIO(
        scorecard_xlsx_bytes(card, "en")))
    assert english.sheetnames[0] == "Scorecard"


def test_report_section(cq):
    from geo_app.io.report import scorecard_report_html

    result, circles = cq
    page = scorecard_report_html(build_scorecard([result], circles=[circles.circles]))
    assert "2027年规划空间目标进度" in page and "A-三(三)" in page
    assert "渝中区" in page and "一区两群分组" in page and page.count("<table>") == 3
    assert "<script" not in page and "src=\"http" not in page  # one offline file
