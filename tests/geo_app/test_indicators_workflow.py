"""Indicators and compliance on a hand-built coverage result, each value worked out by hand:
denominators population (and the 60+ and 0–6 groups), buildings and residential land area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo_app.workflows.compliance import run_compliance
from geo_app.workflows.coverage_data import CoverageData
from geo_app.workflows.indicators import Inputs, run_indicators
from layers.standards import read_indicators, read_standards

CRS = "EPSG:32648"  # central Chongqing
X0, Y0 = 650_000.0, 3_270_000.0
NAN = np.nan
TO_DEG = Transformer.from_crs(CRS, 4326, always_xy=True)


def deg(geoms):
    """Metric geometries (relative to X0, Y0) in WGS-84."""
    moved = shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + [X0, Y0])
    return gpd.GeoSeries(moved, crs=CRS).to_crs(4326).to_numpy()


# five residential units: position (m), residents, aged 60+, aged 0-6, walking seconds
UNITS = pd.DataFrame({
    "id": list("ABCDE"), "x": [0, 100, 450, 1000, 0], "y": [0, 0, 0, 0, 450],
    "population": [100.0, 200, 50, 150, 500], "pop_60plus": [30.0, 10, 50, 0, 100],
    "pop_0_6": [5.0, 20, 0, 15, 50],
    "t_childcare": [120, 290, NAN, NAN, NAN], "t_elderly_care": [200, NAN, 100, NAN, 250],
    "t_clinic": [600, 800, 100, 900, NAN], "t_market": [500, NAN, 590, NAN, 100],
    "t_community_service": [100, 250, 299, NAN, 10],
    "life_circle": [1, 1, 1, 2, 2],
})
RUN = {"childcare": 5.0, "elderly_care": 5.0, "clinic": 15.0, "market": 10.0,
       "community_service": 5.0}


def coverage_data() -> CoverageData:
    u = UNITS
    demand = gpd.GeoDataFrame(u.drop(columns=["x", "y"]).assign(on_network=True),
                              geometry=deg(shapely.points(u["x"], u["y"])), crs=4326)
    fac = gpd.GeoDataFrame({"category": ["childcare", "elderly_care", "clinic"]},
                           geometry=deg(shapely.points([[0, 250], [5000, 5000], [400, 0]])),
                           crs=4326)
    market_area = shapely.box(-1000, -1000, 350, 1000)  # the market's 10-minute service area
    areas = gpd.GeoDataFrame({"category": ["market"], "minutes": [10.0]},
                             geometry=deg([market_area]), crs=4326)
    circles = gpd.GeoDataFrame({"hub": ["Hub1", "Hub2"], "circle": [1, 2]},
                               geometry=deg(shapely.points([[0, 0], [1000, 0]])), crs=4326)
    return CoverageData(demand, fac, areas, circles, dict(RUN), CRS, "hand-built")


STANDARDS = """type,name_zh,name_en,category,tier_min,walk_min,radius_m,radius_kind,source,clause,\
indicators,status,notes
kindergarten,幼儿园,kindergarten,childcare,5,5,300,stated,GB,B,,verify,
day_care,日间照料,day care,elderly_care,5,5,300,stated,GB,B,,verify,
health_centre,卫生中心,health centre,clinic,15,15,1000,tier,GB,B,,verify,
station,服务站,station,community_service,5,5,300,tier,GB,B,,verify,
"""

HEAD = ("id,name_zh,name_en,dimension,numerator,denominator,layer,categories,threshold_min,"
        "threshold_m,area_classes,year,source,targets,target_source,status,notes\n")
DEFS = HEAD + """\
kids,幼,kids,,walk_any,population,facilities,childcare,5,,,2022,s,2025:25,,verify,
two,双,two,,walk_all,buildings,facilities,community_service;elderly_care,5,,,2022,s,,,verify,
park_land,园,park land,,radius_any,residential_land_area,parks,,,,{classes},2022,s,,,verify,
park_pop,园人,park people,,radius_any,population,parks,,,,{classes},2022,s,,,verify,
market_land,市,market land,,walk_any,residential_land_area,facilities,market,tier,,,2022,s,,,verify,
kids10,幼10,kids 10,,walk_any,population,facilities,childcare,10,,,2022,s,,,verify,
green,绿,greenway,,radius_any,residential_land_area,greenways,,,1000,,2022,s,,,verify,
level5,五,level 5,,tier_basket,population,facilities,,5,,,2018,s,,,verify,
level15,十五,level 15,,tier_basket,buildings,facilities,,15,,,2018,s,,,verify,
near_kid,近,near kindergarten,,radius_any,population,facilities,childcare,,300,,2022,s,,,verify,
""".format(classes="5000+:500;2000-5000:300")
# residential land: L1 half within 500 m of the big park P1, L2 a third within 300 m of the
# middle park P2, L3 next to a park too small to count (P3)
LAND = [shapely.box(300, 0, 500, 100), shapely.box(2250, 0, 2550, 50),
        shapely.box(5030, 0, 5130, 20)]
PARKS = [shapely.box(-200, 0, -100, 100), shapely.box(2000, 0, 2050, 50),
         shapely.box(5000, 0, 5020, 20)]


@pytest.fixture(scope="module")
def standards(tmp_path_factory):
    path = tmp_path_factory.mktemp("st") / "s.csv"
    path.write_text(STANDARDS, encoding="utf-8")
    return read_standards(path)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ind")
    (tmp / "s.csv").write_text(STANDARDS, encoding="utf-8")
    (tmp / "i.csv").write_text(DEFS, encoding="utf-8")
    land = gpd.GeoDataFrame({"name": ["L1", "L2", "L3"]}, geometry=deg(LAND), crs=4326)
    parks = gpd.GeoDataFrame({"name": ["P1", "P2", "P3"]}, geometry=deg(PARKS), crs=4326)
    inputs = Inputs(coverage_data(), residential_land=land, parks=parks,
                    levels={"market": 10.0, "childcare": 5.0})
    with pytest.warns(Warning) as caught:
        out = run_indicators(inputs, definitions=read_indicators(tmp / "i.csv"),
                             standards=read_standards(tmp / "s.csv"), lang="en")
    out.caught = [str(w.message) for w in caught]
    return out


def value(result, ind, zone_type="study_area", zone="study area", group="all"):
    tb = result.table
    row = tb[(tb["indicator"] == ind) & (tb["zone_type"] == zone_type) & (tb["zone"] == zone)
             & (tb["group"] == group)]
    assert len(row) == 1, (ind, zone_type, zone, group)
    return row.iloc[0]


def test_population_denominator_and_groups(result):
    r = value(result, "kids")  # A and B within 5 min of childcare
    assert (r["numerator"], r["denominator"]) == (300, 1000)
    assert r["value_pct"] == pytest.approx(30.0)
    assert r["target_pct"] == 25 and bool(r["meets_target"])
    old = value(result, "kids", group="pop_60plus")  # 30 + 10 of 190
    assert (old["numerator"], old["denominator"]) == (40, 190)
    kid = value(result, "kids", group="pop_0_6")  # 5 + 20 of 90
    assert kid["value_pct"] == pytest.approx(100 * 25 / 90, abs=1e-3)
    hub1 = value(result, "kids", "life_circle", "Hub1")  # A, B, C
    assert (hub1["numerator"], hub1["denominator"]) == (300, 350)
    assert value(result, "kids", "life_circle", "Hub2")["numerator"] == 0
    # parks by area class from the unit points: A (100 m), B (200 m), E (364 m) of P1
    p = value(result, "park_pop")
    assert (p["numerator"], p["denominator"]) == (800, 1000)
    # straight line within 300 m of the kindergarten at (0, 250): A 250, B 269, E 200 m
    assert value(result, "near_kid")["numerator"] == 800


def test_buildings_denominator(result):
    r = value(result, "two")  # A, C and E reach both within 5 min
    assert (r["numerator"], r["denominator"]) == (3, 5) and r["unit"] == "residential units"
    assert value(result, "two", "life_circle", "Hub2")["value_pct"] == pytest.approx(50.0)
    assert not (result.table.query("indicator == 'two'")["group"] != "all").any()
    assert result.units["ok_two"].tolist() == [True, False, True, False, True]


def test_residential_land_denominator(result):
    r = value(result, "park_land")  # 100×100 of L1, 100×50 of L2, none of L3
    assert r["numerator"] == pytest.approx(15_000, rel=1e-6)
    assert r["denominator"] == pytest.approx(37_000, rel=1e-9)
    assert r["unit"] == "m²"
    # each land polygon counts in the zone of its nearest unit: L1 → C (Hub1), L2, L3 → D
    assert value(result, "park_land", "life_circle", "Hub1")["value_pct"] == \
        pytest.approx(50.0, rel=1e-6)
    hub2 = value(result, "park_land", "life_circle", "Hub2")
    assert hub2["numerator"] == pytest.approx(5_000, rel=1e-6)
    assert hub2["denominator"] == pytest.approx(17_000, rel=1e-9)
    m = value(result, "market_land")  # the service area reaches x = 350: 50×100 of L1
    assert m["numerator"] == pytest.approx(5_000, rel=1e-9)
    assert result.land["covered_m2_park_land"].round().tolist() == [10_000, 5_000, 0]


def test_level_baskets_use_the_standards(result):
    assert value(result, "level5")["numerator"] == 100  # only A reaches 5-min types in time
    lv = value(result, "level15")  # A also reaches the clinic within 15 min
    assert (lv["numerator"], lv["denominator"]) == (1, 5)


def test_what_cannot_be_computed_says_why(result):
    short = value(result, "kids10")
    assert np.isnan(short["value_pct"])
    assert "stopped at 5 min for" in short["note"] and "--minutes 10" in short["note"]
    assert "needs greenways" in value(result, "green")["note"]
    assert any("kids10 not computed" in w for w in result.caught)


def test_compliance_hand_case(standards):
    comp = run_compliance(coverage_data(), standards)
    u = comp.units
    assert u["walk_kindergarten"].tolist() == [True, True, False, False, False]
    assert u["radius_kindergarten"].tolist() == [True, True, False, False, True]
    assert u["walk_health_centre"].tolist() == [True, True, True, True, False]
    assert u["radius_health_centre"].tolist() == [True] * 5  # E is 602 m from (400, 0)
    assert u["level5_walk"].tolist() == [True, False, False, False, False]
    assert u["level15_walk"].tolist() == [True, False, False, False, False]
    assert u["dist_m_childcare"].tolist() == pytest.approx(
        [250, np.hypot(100, 250), np.hypot(450, 250), np.hypot(1000, 250), 200], abs=0.05)
    z = comp.zones.set_index(["zone_type", "zone", "group", "item"])
    row = z.loc[("life_circle", "Hub1", "all", "kindergarten")]
    assert row["walk_share"] == pytest.approx(300 / 350)
    assert row["radius_share"] == pytest.approx(300 / 350)
    assert row["units"] == 3 and row["walk_units_share"] == pytest.approx(2 / 3)
    assert row["walk_all_pass"] == False  # noqa: E712  (C fails)
    e = z.loc[("life_circle", "Hub2", "pop_60plus", "day_care")]  # E's 100 of 100
    assert e["walk_share"] == pytest.approx(1.0)
    level = z.loc[("study_area", "study area", "all", "level5")]
    assert level["walk_share"] == pytest.approx(0.1) and level["kind"] == "level"


def test_a_type_beyond_the_run_is_not_assessed_by_walking(standards):
    st = standards.copy()
    st.loc[st["type"] == "day_care", "walk_min"] = 15.0  # the run stopped at 5 min
    comp = run_compliance(coverage_data(), st)
    assert "walk_day_care" not in comp.units.columns
    assert "rerun it with --minutes 15" in comp.not_assessed["day_care"]
    # the level basket by walking leaves it out; the radius result is still there
    assert comp.units["level5_walk"].tolist() == [True, True, False, False, False]
    assert "radius_day_care" in comp.units.columns
