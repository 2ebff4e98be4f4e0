"""The 适老化 view: every walker's coverage side by side equals the walkers run one by one,
its table, sentence, bars and report in both languages, its map, and the coverage page."""

from __future__ import annotations

import re

import numpy as np
import pytest

from geo_app.io.walker_report import display_table, largest_drops, walkers_report_html
from geo_app.workflows.coverage import run
from geo_app.workflows.profile_compare import profile_runs, reach_difference
from tests.conftest import open_app

WALKERS = ["adult", "elderly", "child", "wheelchair"]


@pytest.fixture(scope="module")
def side_by_side(helsinki_inputs):
    return profile_runs(helsinki_inputs, profiles=WALKERS, minutes=10.0)


def test_side_by_side_equals_each_walker_run_alone(helsinki_inputs, side_by_side):
    table, results = side_by_side
    for w in ("elderly", "wheelchair"):
        alone = run(helsinki_inputs, profile=w, isochrones="none", minutes=10.0)
        area = alone.summary[alone.summary["zone_type"] == "study_area"].iloc[0]
        want = [float(area[f"share_{c}"]) for c in table["category"]]
        np.testing.assert_allclose(table[f"share_{w}"], want)
        np.testing.assert_array_equal(results[w].demand["basket_covered"],
                                      alone.demand["basket_covered"])
    # the elderly walk slower on the same streets: never more residents within reach
    assert (table["share_elderly"] <= table["share_adult"] + 1e-12).all()
    assert (table["share_elderly"] < table["share_adult"]).any()


def test_reach_difference_marks_who_only_an_adult_reaches(side_by_side):
    _, results = side_by_side
    s = reach_difference(results, "clinic", "elderly")["clinic"].to_numpy()
    a = results["adult"].demand["cov_clinic"].to_numpy(bool)
    e = results["elderly"].demand["cov_clinic"].to_numpy(bool)
    np.testing.assert_array_equal(s == -1, a & ~e)
    np.testing.assert_array_equal(s == 1, e & ~a)
    assert (s == -1).any()


ALLOWED = {"GB", "OSM", "PDF", "CSV", "HTML", "data", "gis", "walker_profiles", "csv",
           "connectors", "CJK", "SC", "Noto", "Sans", "Microsoft", "YaHei", "PingFang"}


def test_table_sentence_and_report_in_both_languages(side_by_side):
    table, _ = side_by_side
    zh = display_table(table, "zh")
    assert list(zh.columns)[:3] == ["类别", "步行时间阈值(分钟)", "成年人"]
    assert "老年人 − 成年人(百分点)" in zh.columns
    diff = zh["老年人 − 成年人(百分点)"]
    assert all(v.startswith("-") or v in ("0.0", "+0.0") for v in diff)
    sentence = largest_drops(table, "zh")
    assert sentence.startswith("老年人覆盖率比成年人下降最多的类别:") and "个百分点" in sentence
    page = walkers_report_html(table, lang="zh")
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    latin = set(re.findall(r"[A-Za-z][A-Za-z_]*", text)) - ALLOWED
    assert not latin, latin
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    en = walkers_report_html(table, lang="en")
    assert "Age-friendly coverage report" in en and "Elderly" in en


def test_coverage_page_compares_the_walkers(monkeypatch, tmp_path):
    app = open_app(monkeypatch, tmp_path)
    app.sidebar.radio(key="page").set_value("coverage").run()
    app.sidebar.button(key="cov_run").click().run()
    app.button(key="wk_run").click().run()
    assert not app.exception and not app.error
    table = next(t.value for t in app.dataframe if "老年人" in t.value.columns)
    assert len(table) == 13
    assert any("老年人覆盖率比成年人下降最多" in i.value for i in app.info)
    app.selectbox(key="wk_walker").set_value("wheelchair").run()
    app.selectbox(key="wk_category").set_value("park").run()
    assert not app.exception
    # another page and back: the comparison is still there, not run again
    app.sidebar.radio(key="page").set_value("overview").run()
    app.sidebar.radio(key="page").set_value("coverage").run()
    assert any("老年人覆盖率比成年人下降最多" in i.value for i in app.info)


def test_cli_writes_the_walkers_report(cli, tmp_path):
    from geo_app.workflows.coverage import sample_path

    sample = str(sample_path())
    common = ("coverage", "--network", sample, "--facilities", sample, "--demand", "buildings",
              "--isochrones", "none", "--minutes", "10")
    report = tmp_path / "适老化.html"
    out = cli(*common, "--compare-profiles", "--profiles-report", str(report),
              "--out", str(tmp_path / "a.gpkg"))
    assert f"wrote {report}" in out.stdout
    page = report.read_text(encoding="utf-8")
    assert "适老化对比:不同步行人群的覆盖" in page and "sample.osm.pbf" not in page
    assert "老年人 − 成年人(百分点)" in page
    proc = cli.run(*common, "--profiles-report", str(tmp_path / "b.html"),
                   "--out", str(tmp_path / "b.gpkg"))
    assert proc.returncode == 2 and "needs --compare-profiles" in proc.stderr
    proc = cli.run(*common, "--compare-profiles", "--profiles-report", str(tmp_path / "c.txt"),
                   "--out", str(tmp_path / "c.gpkg"))
    assert proc.returncode == 2 and ".pdf" in proc.stderr and "Traceback" not in proc.stderr
