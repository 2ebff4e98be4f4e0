"""The standards and indicator tables: the bundled ones load and link; edited ones are
refused with one line naming the file, row and column."""

from __future__ import annotations

import math

import pytest

from layers.land import read_land
from layers.standards import (
    TableError,
    check_links,
    for_year,
    load_indicators,
    load_standards,
    parse_area_classes,
    read_indicators,
    read_standards,
    target_for,
)

HEADER = ("id,name_zh,name_en,dimension,numerator,denominator,layer,categories,threshold_min,"
          "threshold_m,area_classes,year,source,targets,target_source,status,notes\n")
GOOD = "a,甲,A,,walk_any,population,facilities,childcare,5,,,2022,src,,,verify,\n"


def write(tmp_path, text, name="indicators.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_tables_load_and_link():
    st, ind = load_standards(), load_indicators()
    check_links(st, ind, "standards.csv")
    assert {"kindergarten", "primary_school", "middle_school", "fresh_market"} <= set(st["type"])
    radius = st.set_index("type")["radius_m"]
    assert radius["kindergarten"] == 300 and radius["primary_school"] == 500
    assert radius["middle_school"] == 1000 and radius["fresh_market"] == 500
    assert set(st["tier_min"]) == {5, 10, 15}
    assert set(ind["denominator"]) == {"population", "buildings", "residential_land_area"}
    park = ind.set_index("id").loc["park_radius"]
    assert park["area_classes"] == [(5000.0, math.inf, 500.0), (2000.0, 5000.0, 300.0)]
    assert ind.set_index("id").loc["greenway_radius", "threshold_m"] == 1000
    sh = ind.set_index("id").loc["public_service_15min"]
    assert sh["targets"] == [(2025, 85.0), (2035, 99.0)] and sh["tier_threshold"]
    for name in ("完整居住社区覆盖率", "社区便民商业服务设施覆盖率", "社区老年服务站覆盖率",
                 "普惠性幼儿园覆盖率", "公园绿地服务半径覆盖率", "城市绿道服务半径覆盖率"):
        assert name in set(ind["name_zh"])
    # nothing here was checked word for word against the official text
    assert set(ind["status"]) == {"verify"} and set(st["status"]) == {"verify"}


def test_year_picks_the_definition_in_force(tmp_path):
    text = HEADER + GOOD + GOOD.replace(",5,,,2022", ",10,,,2024") + \
        "b,乙,B,,walk_any,buildings,facilities,market,tier,,,2030,src,,,verify,\n"
    ind = read_indicators(write(tmp_path, text))
    assert for_year(ind, 2023)["threshold_min"].tolist() == [5.0]
    assert for_year(ind, 2025)["threshold_min"].tolist() == [10.0]
    assert for_year(ind, None)["id"].tolist() == ["a", "b"]
    assert for_year(ind, 2000).empty
    assert target_for([(2025, 85.0), (2035, 99.0)], 2024) == (2025, 85.0)
    assert target_for([(2025, 85.0), (2035, 99.0)], 2030) == (2035, 99.0)
    assert target_for([(2025, 85.0), (2035, 99.0)], 2040) == (2035, 99.0)
    assert target_for([], 2030) is None


@pytest.mark.parametrize("row, where, words", [
    (GOOD.replace("population", "households"), "row 2, column 'denominator'",
     "'households' is not one of population, buildings, residential_land_area"),
    (GOOD.replace("walk_any", "walk_some"), "row 2, column 'numerator'", "is not one of"),
    (GOOD.replace("甲", ""), "row 2, column 'name_zh'", "empty, a value is required"),
    (GOOD.replace("childcare", "childcare;cinema"), "row 2, column 'categories'",
     "'cinema' is not a basket category"),
    (GOOD.replace(",5,,,", ",soon,,,"), "row 2, column 'threshold_min'", "expected minutes"),
    (GOOD.replace(",5,,,", ",,,,"), "row 2, column 'threshold_min'", "needs minutes"),
    (GOOD.replace(",2022,", ",1850,"), "row 2, column 'year'", "outside"),
    (GOOD.replace("walk_any,population,facilities,childcare,5,,",
                  "radius_any,residential_land_area,parks,,,,5000+:0"),
     "row 2, column 'area_classes'", "RADIUS > 0"),
    (GOOD.replace("walk_any,population,facilities,childcare,5,,",
                  "radius_any,residential_land_area,parks,,,,"),
     "row 2, column 'threshold_m'", "needs threshold_m or area_classes"),
    (GOOD.replace(",src,,", ",src,2025:120,"), "row 2, column 'targets'", "percent 0–100"),
    (GOOD.replace("walk_any", "tier_basket").replace("childcare,5", ",7"),
     "row 2, column 'threshold_min'", "tier_basket needs the level"),
])
def test_bad_indicator_rows_are_refused_in_one_line(tmp_path, row, where, words):
    path = write(tmp_path, HEADER + row)
    with pytest.raises(TableError) as err:
        read_indicators(path)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {where}: ") and words in text


def test_missing_column_and_repeated_rows(tmp_path):
    path = write(tmp_path, HEADER.replace(",denominator", "") + GOOD.replace("population,", ""))
    with pytest.raises(TableError, match="missing column\\(s\\) denominator") as err:
        read_indicators(path)
    assert "\n" not in str(err.value)
    with pytest.raises(TableError, match="row 3, column 'year': the same id and year again"):
        read_indicators(write(tmp_path, HEADER + GOOD + GOOD))
    with pytest.raises(TableError, match="no such file"):
        read_indicators(tmp_path / "none.csv")


def test_gbk_table_from_excel_reads(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + GOOD).encode("gb18030"))
    assert read_indicators(path)["name_zh"].tolist() == ["甲"]


def test_bad_standards_rows(tmp_path):
    st = load_standards()
    head = "type,name_zh,name_en,category,tier_min,walk_min,radius_m,radius_kind,source,clause," \
           "indicators,status,notes\n"
    ok = "k,幼儿园,kindergarten,childcare,5,5,300,stated,GB,附录,a,verify,\n"
    assert read_standards(write(tmp_path, head + ok, "s.csv"))["indicators"][0] == ("a",)
    for row, where in ((ok.replace(",5,5,", ",7,5,"), "row 2, column 'tier_min'"),
                       (ok.replace("childcare", "zoo"), "row 2, column 'category'"),
                       (ok.replace(",300,", ",-3,"), "row 2, column 'radius_m'"),
                       (ok.replace("stated", "guessed"), "row 2, column 'radius_kind'")):
        with pytest.raises(TableError) as err:
            read_standards(write(tmp_path, head + row, "s.csv"))
        assert where in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TableError, match="row 2, column 'indicators': indicator 'nope'"):
        check_links(read_standards(write(tmp_path, head + ok.replace(",a,", ",nope,"),
                                         "s.csv")), load_indicators(), "s.csv")
    assert len(st) > 10


def test_parsers():
    assert parse_area_classes("5000+:500; 2000-5000:300") == [(5000, math.inf, 500),
                                                              (2000, 5000, 300)]
    for bad in ("5000:500", "5000+500", "300-200:10", "a-b:1"):
        with pytest.raises(ValueError):
            parse_area_classes(bad)


def test_land_layers_from_a_file_and_osm(tmp_path):
    import geopandas as gpd
    import shapely

    from geo_app.workflows.coverage import sample_path

    path = tmp_path / "land.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(106.5, 29.5, 106.51, 29.51)],
                     crs=4326).to_file(path)
    land = read_land(path, "residential_land")
    assert list(land.columns) == ["name", "geometry"] and len(land) == 1
    parks = read_land(sample_path(), "parks")
    assert len(parks) > 5 and parks.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    with pytest.raises(ValueError, match="no agreed tag for greenways"):
        read_land(sample_path(), "greenways")
