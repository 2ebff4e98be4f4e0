"""The 2027 targets table: every target carries its seed clause and source (checked against
the seed inventory), the checks name file, row and column, and marked facilities are checked."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from layers.targets import LayerValidationError, load_targets, needed, read_marks, read_targets
from tests.conftest import REPO

INVENTORY = REPO.parent / "shared" / "reference" / "seed-inventory.md"
BUNDLED = REPO / "data" / "gis" / "targets.csv"


def test_every_target_has_its_seed_clause_and_source():
    t = load_targets()
    assert len(t) == 8 and t["id"].is_unique
    for col in ("seed_id", "section", "clause", "source", "counted_from"):
        assert t[col].notna().all() and (t[col].astype(str).str.len() > 0).all(), col
    assert set(t["year"]) == {2027}
    circles = t[t["id"] == "life_circles_15min"].iloc[0]
    assert circles["number"] == 100 and circles["counted_from"] == "life_circles"
    assert circles["baseline"] == 65 and "cqnews.net" in circles["baseline_source"]


def test_numbers_and_clauses_are_those_of_the_seed_inventory():
    if not INVENTORY.is_file():
        pytest.skip(f"seed inventory not found at {INVENTORY}")
    text = INVENTORY.read_text(encoding="utf-8")
    for r in load_targets().itertuples(index=False):
        line = next(x for x in text.splitlines() if x.startswith(f"| {r.seed_id} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert r.section == cells[4], r.id
        value = re.findall(r"\d+", cells[2])
        assert f"{r.number:g}" == value[0], r.id
        if r.comparison == "range":
            assert f"{r.number_max:g}" == value[1]
        if r.comparison == "more_than":
            assert cells[2].startswith(">")
        words = re.sub(r"[\"“”\s]", "", cells[1])
        assert words in re.sub(r"[\"“”\s]", "", r.clause), r.id


def test_needed_reads_more_than_as_the_next_whole_number():
    t = load_targets().set_index("id")
    assert needed(t.loc["business_circles_upgraded"]) == 6  # "> 5 个"
    assert needed(t.loc["ten_billion_clusters"]) == 2  # "2–3 个"
    assert needed(t.loc["yulinhui_hubs"]) == 20


def _edited(tmp_path: Path, changes: dict) -> Path:
    t = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    for (row, col), value in changes.items():
        t.loc[row, col] = value
    path = tmp_path / "targets.csv"
    t.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("change", "words"), [
    ({(1, "counted_from"): "sites:nowhere"}, "row 3, column 'counted_from'"),
    ({(0, "counted_from"): "everything"}, "expected life_circles, marked or sites:"),
    ({(7, "number_max"): ""}, "row 9, column 'number_max': a range needs"),
    ({(2, "id"): "yulinhui_hubs"}, "row 4, column 'id': repeated id"),
    ({(4, "candidates_from"): "shops"}, "column 'candidates_from'"),
    ({(5, "number"): "five"}, "row 7, column 'number': expected a number"),
])
def test_a_bad_targets_table_is_refused_naming_row_and_column(tmp_path, change, words):
    path = _edited(tmp_path, change)
    with pytest.raises(LayerValidationError) as err:
        read_targets(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_a_gb18030_table_saved_by_excel_is_read(tmp_path):
    t = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    path = tmp_path / "targets.csv"
    t.to_csv(path, index=False, encoding="gb18030")
    assert list(read_targets(path)["name_zh"]) == list(load_targets()["name_zh"])


def test_marked_facilities_are_checked(tmp_path):
    good = tmp_path / "marks.csv"
    pd.DataFrame({"target": ["star_buildings", "yulinhui_hubs"], "name": ["A 楼", "B"],
                  "status": ["built", "proposed"], "district": ["渝中区", ""],
                  "lon": ["", "106.55"], "lat": ["", "29.56"]}).to_csv(good, index=False)
    marks = read_marks(good)
    assert list(marks["status"]) == ["built", "proposed"] and marks["lat"].iloc[1] == 29.56
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"target": ["stars"], "name": ["x"], "status": ["done"],
                  "lon": ["106.5"], "lat": [""]}).to_csv(bad, index=False)
    with pytest.raises(LayerValidationError) as err:
        read_marks(bad)
    text = str(err.value)
    assert "row 2, column 'target': 'stars' is not a target id" in text
    assert "column 'status': 'done' is not one of built, proposed" in text
    assert "give both lon and lat" in text
