"""Every label key written in the code is in the catalogue, in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geo_app import labels
from geo_app.labels import _TEXT, t

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("geo_app", "layers", "analysis")
ALLOWED = {"Excel", "gpkg", "GCJ-", "WGS-", "layer", "OSM", "csv"}  # file kinds, option names


def _calls():
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    yield path.relative_to(REPO), node


def _name(func) -> str:
    return func.id if isinstance(func, ast.Name) else \
        func.attr if isinstance(func, ast.Attribute) else ""


def _literal_keys():
    """(where, key) of t("literal", …) calls and key="…" of warnings."""
    for where, node in _calls():
        name = _name(node.func)
        if name == "t" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            yield f"{where}:{node.lineno}", node.args[0].value
        if name == "warn" or name.endswith(("Warning", "Error")):
            for kw in node.keywords:
                if kw.arg == "key" and isinstance(kw.value, ast.Constant) \
                        and isinstance(kw.value.value, str):
                    yield f"{where}:{node.lineno}", kw.value.value


def test_the_scan_finds_keys():
    keys = {k for _, k in _literal_keys()}
    assert len(keys) > 300
    assert {"warn_no_facilities", "warn_demand_off_network", "run_info"} <= keys


def test_every_literal_key_is_in_the_catalogue():
    known = set(_TEXT) | set(labels._CATEGORIES)
    missing = sorted({f"{where} {key}" for where, key in _literal_keys() if key not in known})
    assert not missing, "label keys missing from geo_app/labels:\n" + "\n".join(missing)


def test_every_label_has_chinese_and_english():
    bad = [k for k, pair in _TEXT.items()
           if len(pair) != 2 or not all(isinstance(s, str) and s for s in pair)]
    assert not bad


def test_unknown_message_keys_raise_in_tests_and_user_categories_fall_back():
    with pytest.raises(KeyError):
        t("warn_no_such_warning", "zh")
    with pytest.raises(KeyError):
        t("step_no_such_step", "en")
    assert t("my_own_category", "zh") == "my_own_category"
    assert t("office=company", "zh") == "office=company"
    assert labels.facility_label("my_own_category", "zh") == "my_own_category"


def test_strict_mode_is_off_outside_tests(monkeypatch):
    monkeypatch.setattr(labels, "STRICT", False)
    assert t("warn_no_such_warning", "zh") == "warn_no_such_warning"


def _warning_calls():
    """(key, value names) of every warn(…, key="…", name=value, …) in the code."""
    skip = {"key", "stacklevel"}
    for where, node in _calls():
        if _name(node.func) != "warn":
            continue
        kws = {kw.arg: kw.value for kw in node.keywords}
        if isinstance(kws.get("key"), ast.Constant):
            yield where, kws["key"].value, [k for k in kws if k and k not in skip]


def test_every_engine_warning_reads_in_both_languages():
    from geo_app.errors import DataWarning
    from geo_app.labels.engine import warning_text

    dummy = {"category": "clinic", "path": "/srv/uploads/abc/设施.csv", "rows": ["1: x"],
             "values": {"托管班": 2}, "datum": "gcj02", "option": "--layer", "reason": "x"}
    calls = list(_warning_calls())
    assert len(calls) >= 15
    for where, key, names in calls:
        values = {n: dummy.get(n, 3) for n in names}
        if key != "warn_rows_dropped" and "rows" in values:
            values["rows"] = 3
        w = DataWarning("english", key, **values)
        zh, en = warning_text(w, "zh"), warning_text(w, "en")
        assert "{" not in zh and "{" not in en, (where, key, zh)
        assert zh != en and "/srv/" not in zh + en, (where, key)
        latin = set(re.findall(r"[A-Za-z][A-Za-z-]*", zh)) - ALLOWED
        assert not latin, (where, key, zh)


def test_warning_text_names_categories_and_files_not_paths():
    from geo_app.errors import CoverageWarning
    from geo_app.labels.engine import warning_text

    w = CoverageWarning("no 'childcare' facilities", "warn_no_facilities", category="childcare")
    assert warning_text(w, "zh") == "没有“幼儿园与托育”设施:无人被覆盖"
    assert "kindergarten" in warning_text(w, "en")
    w = CoverageWarning("x", "warn_demand_off_network", off=1200, total=5000,
                        residents=18687.2931, max_snap_m=500.0)
    assert warning_text(w, "zh") == "1,200 / 5,000 个居民点(约 18,687 人)距路网超过 500 米:按未覆盖计"


def test_progress_steps_in_chinese():
    from geo_app.labels.engine import step_text

    assert step_text("joining facilities and residents to the network") == "将设施和居民连接到路网"
    assert step_text("isochrones (clinic)") == "等时圈(社区卫生服务)"
    assert step_text("gap areas") == "服务盲区"
    assert step_text("walking times for 12 categories", "en") == "walking times for 12 categories"
    assert step_text("something new") == t("computing", "zh")


def test_osm_tags_as_names():
    from geo_app.labels.engine import osm_tag_label

    assert osm_tag_label("office=company") == "公司"
    assert osm_tag_label("shop=yes") == "商店"
    assert osm_tag_label("shop=zzz_unknown") == "商店(其他)"
    assert osm_tag_label("craft=zzz", "en") == "craft: zzz"
    assert osm_tag_label("childcare") == "childcare"


def test_column_labels_of_one_table_never_coincide():
    """Two keys of one table may not share a label in either language (a table with two
    columns of one name cannot be shown: the English cluster table once crashed)."""
    from geo_app.labels import t

    for keys in (("cluster", "label", "n_points", "n_categories", "place", "top_category"),):
        for lang in ("zh", "en"):
            names = [t(k, lang) for k in keys]
            assert len(set(names)) == len(names), (lang, names)


def test_scorecard_tables_name_unknown_zones_in_the_language():
    import pandas as pd

    from geo_app.io.scorecard import display

    frame = pd.DataFrame({"zone": ["(unknown)", "渝中区", "(outside)"], "achieved": [1, 2, 3]})
    zh = display(frame, "zh").iloc[:, 0].tolist()
    assert zh == ["(未落入任何区县)", "渝中区", "(区县范围外)"]
    assert display(frame, "en").iloc[:, 0].tolist()[0] == "(no zone)"
