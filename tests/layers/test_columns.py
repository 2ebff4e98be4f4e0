"""Which column is which (layers.columns) and safe value cleaning (layers.clean)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layers import LayerValidationError, read_user_layer
from layers.clean import parse_counts, parse_degrees, split_location
from layers.columns import (
    ALIAS_FILE,
    ROLES,
    ColumnChoiceError,
    aliases,
    candidates,
    header_key,
    resolve_columns,
)
from layers.resources import bundled_data_dir

ROOT = Path(__file__).resolve().parents[2]

# --- the alias table -------------------------------------------------------------------------


def test_alias_table_ships_as_package_data():
    assert (bundled_data_dir() / ALIAS_FILE).is_file()
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.csv" in conf["tool"]["setuptools"]["package-data"]["cq_gis_data"]
    assert ALIAS_FILE in (ROOT / "data" / "gis" / "README.md").read_text(encoding="utf-8")


def test_alias_table_is_consistent():
    table = pd.read_csv(bundled_data_dir() / ALIAS_FILE, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["role", "alias", "rank", "note"]
    assert set(table["role"]) == set(ROLES)
    keys = table["alias"].map(header_key)
    clash = table.assign(key=keys).groupby("key")["role"].nunique()
    assert (clash == 1).all(), list(clash[clash > 1].index)  # no alias serves two roles
    assert table["rank"].str.fullmatch(r"[1-9]").all()
    for role in ROLES:
        assert aliases()[role][header_key(role)] == 1  # the canonical name is an alias


@pytest.mark.parametrize(("header", "role"), [
    ("经度", "lon"), ("东经", "lon"), ("X坐标", "lon"), ("Ｘ坐标", "lon"), ("LNG", "lon"),
    ("纬度", "lat"), ("北纬", "lat"), ("Y坐标", "lat"), ("y", "lat"),
    ("名称", "name"), ("设施名称", "name"), (" Name ", "name"),
    ("类别", "category"), ("类型", "category"), ("分类", "category"), ("设施类型", "category"),
    ("type", "category"), ("typecode", "category"), ("类型代码", "category"),
    ("人口", "population"), ("常住人口", "population"), ("户籍人口", "population"),
    ("人口（人）", "population"), ("POP", "population"),
    ("容量", "capacity"), ("床位", "capacity"), ("座位", "capacity"), ("学位", "capacity"),
    ("编号", "id"), ("ID", "id"), ("序号", "id"), ("location", "location"), ("WKT", "wkt"),
    ("几何", "wkt"),
])
def test_aliases_in_chinese_and_english(header, role):
    assert [c for _, c in candidates([header], role)] == [header]
    others = [r for r in ROLES if r != role and candidates([header], r)]
    assert others == []


def test_header_key_ignores_case_spaces_width_and_units():
    assert header_key("Ｌｏｎ") == header_key(" lon ") == header_key("LON") == "lon"
    assert header_key("人 口") == header_key("人口（人）") == header_key("人口[人]") == "人口"
    assert header_key("(x)") == "(x)"  # a header that is all unit stays itself


# --- resolving -------------------------------------------------------------------------------


def test_resolve_by_alias_and_explicit_names():
    cols = ["编号", "设施名称", "设施类型", "东经", "北纬", "床位数", "常住人口"]
    assert resolve_columns(cols) == {"lon": "东经", "lat": "北纬", "name": "设施名称",
                                     "category": "设施类型", "population": "常住人口",
                                     "capacity": "床位数", "id": "编号"}
    got = resolve_columns(["E", "N", "kind"], {"lon": "E", "lat": "N", "category": "kind"})
    assert got == {"lon": "E", "lat": "N", "category": "kind"}
    assert resolve_columns(["东经 "], {"lon": "东经"}) == {"lon": "东经 "}  # loose match


def test_named_column_missing_lists_the_columns():
    with pytest.raises(ColumnChoiceError, match=r"no column '东经' for lon \(--lon-column\); "
                                                r"found a, b"):
        resolve_columns(["a", "b"], {"lon": "东经"})


def test_ambiguous_role_names_both_and_the_option():
    with pytest.raises(ColumnChoiceError, match=r"columns '常住人口', '户籍人口' could each be "
                                                r"the population: pick one with "
                                                r"--population-column"):
        resolve_columns(["常住人口", "户籍人口"], roles=["population"])
    assert resolve_columns(["常住人口", "户籍人口"], roles=["population"], ambiguous="skip") == {}
    with pytest.raises(ColumnChoiceError):
        resolve_columns(["常住人口", "户籍人口"], roles=["population"], ambiguous="skip",
                        required=["population"])


def test_better_rank_and_canonical_name_win():
    assert resolve_columns(["x", "y", "lng", "lat"], roles=["lon", "lat"]) == {
        "lon": "lng", "lat": "lat"}
    assert resolve_columns(["type", "typecode"], roles=["category"]) == {"category": "type"}
    assert resolve_columns(["小类", "中类", "大类"], roles=["category"]) == {"category": "小类"}
    assert resolve_columns(["name", "名称"], roles=["name"]) == {"name": "name"}
    assert resolve_columns(["id", "FID"], roles=["id"]) == {"id": "id"}


def test_required_role_missing_and_bad_requests():
    with pytest.raises(ColumnChoiceError, match=r"no category column: .*--category-column; "
                                                r"found name"):
        resolve_columns(["name"], roles=["category"], required=["category"])
    with pytest.raises(ColumnChoiceError, match="unknown column role"):
        resolve_columns(["a"], {"height": "a"})
    with pytest.raises(ColumnChoiceError, match="named for both lon and lat"):
        resolve_columns(["a"], {"lon": "a", "lat": "a"})


def test_an_explicit_column_is_not_claimed_by_another_role():
    # "名称" is a name alias, but the user says it holds the category
    assert resolve_columns(["名称", "名字"], {"category": "名称"}, ["name", "category"]) == {
        "name": "名字", "category": "名称"}


# --- through read_user_layer -------------------------------------------------------------------


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_columns_option_renames_and_reports(tmp_path):
    path = write(tmp_path, "站名,东经,北纬,设施类型,人数\n甲,106.5,29.5,幼儿园,\"1,200\"\n")
    gdf, report = read_user_layer(path, columns={"population": "人数"},
                                  required_columns=("name", "category", "population"))
    assert list(gdf.columns) == ["name", "category", "population", "geometry"]
    assert gdf["population"].iloc[0] == 1200.0
    assert report.columns == {"lon": "东经", "lat": "北纬", "name": "站名",
                              "category": "设施类型", "population": "人数"}
    assert "columns: lon = '东经'" in report.summary()


def test_lon_col_and_lat_col_are_folded_into_columns(tmp_path):
    path = write(tmp_path, "E,N\n106.5,29.5\n")
    gdf, report = read_user_layer(path, lon_col="E", lat_col="N")
    assert report.columns == {"lon": "E", "lat": "N"}
    assert (gdf.geometry.x.iloc[0], gdf.geometry.y.iloc[0]) == (106.5, 29.5)


def test_canonical_name_taken_keeps_the_alias_column(tmp_path):
    path = write(tmp_path, "name,lon,lat,名称\na,106.5,29.5,甲\n")
    gdf, report = read_user_layer(path)
    assert report.columns["name"] == "name" and list(gdf["名称"]) == ["甲"]


def test_column_asked_by_its_own_name_is_not_renamed(tmp_path):
    path = write(tmp_path, "站名,lon,lat\n甲,106.5,29.5\n")
    gdf, _ = read_user_layer(path, required_columns=("站名",))
    assert list(gdf["站名"]) == ["甲"] and "name" not in gdf.columns


def test_required_canonical_column_is_satisfied_by_an_alias(tmp_path):
    path = write(tmp_path, "人口,经度,纬度\n12,106.5,29.5\n")
    gdf, _ = read_user_layer(path, required_columns=("population",))
    assert gdf["population"].tolist() == [12.0]


def test_missing_required_names_the_option(tmp_path):
    path = write(tmp_path, "lon,lat,备注\n106.5,29.5,x\n")
    with pytest.raises(LayerValidationError, match=r"missing column\(s\) population; found 备注;"
                                                   r" name it with --population-column"):
        read_user_layer(path, required_columns=("population",))


def test_geometry_columns_for_a_gis_file_are_refused(tmp_path):
    path = tmp_path / "p.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    '{"名称":"甲"},"geometry":{"type":"Point","coordinates":[106.5,29.5]}}]}',
                    encoding="utf-8")
    gdf, report = read_user_layer(path)
    assert list(gdf["name"]) == ["甲"] and report.columns == {"name": "名称"}
    with pytest.raises(LayerValidationError, match="--lon-column apply to tables"):
        read_user_layer(path, lon_col="x")


def test_counts_a_caller_does_not_need_are_left_alone(tmp_path):
    path = write(tmp_path, "lon,lat,人口\n106.5,29.5,很多\n106.6,29.6,\"1,000\"\n")
    gdf, report = read_user_layer(path)
    assert list(gdf["population"]) == ["很多", "1,000"] and report.cleaned == []
    with pytest.raises(LayerValidationError, match=r"row 2: column '人口': '很多' is not a number"):
        read_user_layer(path, required_columns=("population",))


def test_empty_count_of_a_needed_column_is_a_bad_row(tmp_path):
    path = write(tmp_path, "lon,lat,population\n106.5,29.5,\n106.6,29.6,5\n")
    with pytest.raises(LayerValidationError, match="row 2: column 'population': empty"):
        read_user_layer(path, required_columns=("population",))
    gdf, _ = read_user_layer(path)  # not needed: empty is just missing
    assert np.isnan(gdf["population"].iloc[0]) and gdf["population"].iloc[1] == 5.0


def test_no_coordinate_columns_lists_what_would_do(tmp_path):
    path = write(tmp_path, "名称,地址\n甲,解放碑\n")
    with pytest.raises(LayerValidationError, match=r"missing longitude and latitude columns: "
                                                   r".*经度/纬度.*location.*WKT.*found 名称, 地址"):
        read_user_layer(path)


def test_long_headers_are_not_echoed_whole(tmp_path):
    path = write(tmp_path, ",".join(f"column_{i}_" + "x" * 200 for i in range(100)) + "\n"
                 + ",".join("1" for _ in range(100)) + "\n")
    with pytest.raises(LayerValidationError) as info:
        read_user_layer(path)
    assert len(str(info.value)) < 2000 and "(and 70 more)" in str(info.value)


# --- value cleaning ----------------------------------------------------------------------------


def dms_value(d, m, s):
    return d + m / 60 + s / 3600


@pytest.mark.parametrize(("text", "want"), [
    ("106.5", 106.5), ("１０６．５", 106.5), ("106.5°", 106.5), ("106.5°E", 106.5),
    ("24.5°W", -24.5), ("S33.9°", -33.9), ("106.5E", 106.5), ("－１０６．５", -106.5),
    ("106°30'15\"E", dms_value(106, 30, 15)), ("29°33′N", dms_value(29, 33, 0)),
    ("29°33′12.5″N", dms_value(29, 33, 12.5)), ("东经106度30分15秒", dms_value(106, 30, 15)),
    ("北纬29度33分", dms_value(29, 33, 0)), ("106d30'", dms_value(106, 30, 0)),
    ("E106°30'", dms_value(106, 30, 0)), ("  106.5  ", 106.5),
])
def test_degrees_read(text, want):
    got = parse_degrees(pd.Series([text]), "lon")
    assert got.values[0] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("text", ["east", "", "106°75'", "106°30'75\"", "-10°S", "N10°S",
                                  "1,2,3", "106.5.1", "106°30'15\"X"])
def test_degrees_not_guessed(text):
    assert np.isnan(parse_degrees(pd.Series([text])).values[0])


def test_decimal_comma_only_where_unambiguous():
    assert parse_degrees(pd.Series(["24,9412", "60,17"])).values.tolist() == [24.9412, 60.17]
    # every comma followed by three digits: a thousands separator cannot be ruled out
    assert np.isnan(parse_degrees(pd.Series(["106,500", "29,500"])).values).all()
    # a point elsewhere in the column: the commas are not decimal commas
    assert np.isnan(parse_degrees(pd.Series(["24,94", "60.17"])).values[0])


def test_cleaning_is_counted_with_an_example():
    raw = pd.Series(["106.5", "１０６．５", "106°30'E"])
    got = parse_degrees(raw, "经度")
    assert got.changed.tolist() == [False, True, True]
    note = got.note(raw, [2, 3, 4])
    assert note.startswith("column '经度': 2 value(s) cleaned (full-width characters, "
                           "degrees-minutes-seconds), e.g. row 3: '１０６．５' → 106.5")


@pytest.mark.parametrize(("text", "want"), [
    ("1234", 1234.0), ("1,234", 1234.0), ("1 234", 1234.0), ("1\u00a0234", 1234.0),
    ("１２３４", 1234.0), ("1,234,567.5", 1234567.5), ("1'234", 1234.0), ("12.5", 12.5),
])
def test_counts_read(text, want):
    assert parse_counts(pd.Series([text])).values[0] == want


@pytest.mark.parametrize("text", ["12,34", "1,2345", "1 23", "很多", "1,234 567", ""])
def test_counts_not_guessed(text):
    assert np.isnan(parse_counts(pd.Series([text])).values[0])


def test_location_split():
    xs, ys, ok = split_location(pd.Series(["106.5,29.5", "106.5，29.5", "1,2;3,4", "", "abc"]))
    assert ok.tolist() == [True, True, False, False, False]
    assert xs.tolist()[:2] == ["106.5", "106.5"] and ys.tolist()[:2] == ["29.5", "29.5"]


def test_numeric_columns_pass_through():
    got = parse_degrees(pd.Series([106.5, np.nan]))
    assert got.values[0] == 106.5 and np.isnan(got.values[1]) and not got.changed.any()
