"""Elderly (60+) and children (0–6) columns of a demand file: found by name or alias, checked,
and carried through coverage."""

from __future__ import annotations

import numpy as np
import pytest

from layers.demand import read_demand_file
from layers.groups import find_group_columns
from layers.validate import LayerValidationError


def test_aliases_name_the_groups():
    assert find_group_columns(["人口", "老年人口", "0-6岁"]) == {"pop_60plus": "老年人口",
                                                               "pop_0_6": "0-6岁"}
    assert find_group_columns(["Pop_60Plus", "儿童"]) == {"pop_60plus": "Pop_60Plus",
                                                          "pop_0_6": "儿童"}
    assert find_group_columns(["population"]) == {}


def test_demand_file_carries_checked_groups(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,lon,lat,population,60岁以上,儿童\n"
                    "a,106.55,29.56,100,30,5\nb,106.56,29.56,50,0,7\n", encoding="utf-8")
    d = read_demand_file(path)
    assert d["pop_60plus"].tolist() == [30, 0] and d["pop_0_6"].tolist() == [5, 7]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat,population,pop_60plus\na,106.55,29.56,100,130\n"
                   "b,106.56,29.56,50,x\n", encoding="utf-8")
    with pytest.raises(LayerValidationError) as err:
        read_demand_file(bad)
    text = str(err.value)
    assert "column 'pop_60plus': expected a number ≥ 0 and at most the population (100)" in text
    assert "got 'x'" in text
    with pytest.warns(Warning, match="2 row\\(s\\) dropped"):
        assert len(read_demand_file(bad, on_bad_rows="drop")) == 0
    plain = tmp_path / "plain.csv"
    plain.write_text("id,lon,lat,population\na,106.55,29.56,100\n", encoding="utf-8")
    assert "pop_60plus" not in read_demand_file(plain).columns


def test_coverage_keeps_groups_and_life_circles(tmp_path):
    from geo_app.workflows.coverage import load_inputs, run
    from geo_app.workflows.coverage_data import from_result
    from geo_app.workflows.indicators import coverage_by_group
    from tests.geo_app.test_cli_coverage import LAT0, LON0, STEP, grid_network

    net = grid_network(tmp_path / "streets.geojson")
    fac = tmp_path / "f.csv"
    fac.write_text(f"lon,lat,category,name\n{LON0},{LAT0},community_service,H\n")
    dem = tmp_path / "d.csv"
    dem.write_text("id,lon,lat,population,老年人口,0-6岁\n"
                   f"a,{LON0 + STEP},{LAT0},100,40,10\n"
                   f"b,{LON0 + 5 * STEP},{LAT0 + 5 * STEP},60,30,0\n")
    result = run(load_inputs(net, fac, dem), minutes=3)
    d = result.demand
    assert d["pop_60plus"].tolist() == [40, 30] and d["pop_0_6"].tolist() == [10, 0]
    assert d["life_circle"].tolist() == [1, 0]  # b is farther than 3 minutes from the hub
    assert result.life_circles["circle"].tolist() == [1]
    g = coverage_by_group(from_result(result))
    row = g[(g["zone_type"] == "study_area") & (g["category"] == "community_service")]
    shares = dict(zip(row["group"], row["share_pct"]))
    assert shares["all"] == pytest.approx(100 * 100 / 160)
    assert shares["pop_60plus"] == pytest.approx(100 * 40 / 70, abs=1e-3)
    assert shares["pop_0_6"] == pytest.approx(100.0)
    assert np.isfinite(row["persons"]).all()
