"""Project files: scenarios saved durably, atomically, and refused when the file is wrong."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_app.io.project import (
    FORMAT_VERSION,
    SUFFIX,
    ProjectFileError,
    Scenario,
    default_project_path,
    delete_scenario,
    list_scenarios,
    load_scenario,
    open_project,
    rename_scenario,
    save_scenario,
)
from layers.validate import LayerValidationError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_APP_PROJECT_DIR", str(tmp_path / "projects"))
    return default_project_path()


def points(n: int, seed: int = 0, **columns) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({"name": [f"site {i}" for i in range(n)], **columns},
                            geometry=gpd.points_from_xy(rng.uniform(105.3, 110.2, n),
                                                        rng.uniform(28.2, 32.2, n)), crs=4326)


def scenario(name: str, n: int = 3, **kw) -> Scenario:
    return Scenario(name, params={"n_sites": n, **kw.pop("params", {})}, sites=points(n), **kw)


def assert_same(a: Scenario, b: Scenario) -> None:
    assert (a.name, a.kind, a.params, a.notes) == (b.name, b.kind, b.params, b.notes)
    pd.testing.assert_frame_equal(pd.DataFrame(a.sites.drop(columns="geometry")),
                                  pd.DataFrame(b.sites.drop(columns="geometry")))
    np.testing.assert_allclose(shapely.get_coordinates(a.sites.geometry.values),
                               shapely.get_coordinates(b.sites.geometry.values), rtol=0, atol=1e-9)
    assert b.sites.crs.equals("EPSG:4326")
    assert list(a.tables) == list(b.tables)
    for key in a.tables:
        pd.testing.assert_frame_equal(a.tables[key], b.tables[key])


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_APP_PROJECT_DIR", str(tmp_path))
    assert default_project_path() == tmp_path / f"default{SUFFIX}"
    monkeypatch.delenv("GEO_APP_PROJECT_DIR")
    monkeypatch.delenv("GEO_APP_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # the per-user data folder (platformdirs; on Linux the XDG one), never the package's folder
    share = tmp_path / "home" / ".local" / "share"
    assert default_project_path() == share / "geo-app" / "projects" / "default.cqproj.sqlite"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_project_path() == tmp_path / "xdg" / "geo-app" / "projects" / f"default{SUFFIX}"
    monkeypatch.setenv("GEO_APP_HOME", str(tmp_path / "app"))
    assert default_project_path() == tmp_path / "app" / "projects" / f"default{SUFFIX}"


def test_round_trip(path):
    n = 5
    sites = points(n, order=np.arange(1, n + 1), candidate=np.array([4, 9, 2, 7, 0]),
                   gain=[1520.5, np.nan, 0.1 + 0.2, 1e-300, np.inf],
                   chosen=[True, False, True, False, True],
                   note=["a", None, "c", "d", "e"])
    summary = pd.DataFrame({
        "objective": ["mclp"], "value": [123456.789012345678], "gap": [np.nan], "sites": [3],
        "edited": [False], "count": pd.array([None], dtype="Int64"),
        "when": pd.to_datetime(["2025-05-01T08:30:00Z"]),
        "level": pd.Categorical(["15-min"]), "mixed": pd.Series([[1, "二"]], dtype=object)})
    params = {"objective": "mclp", "n_sites": np.int64(3), "minutes": 15.0, "exact": True,
              "category": None, "quotas": [{"district": "渝中区", "min": 1, "max": 2}],
              "range": (0.5, 1.5)}
    sc = Scenario("方案 A", "siting", params, sites,
                  {"summary": summary, "empty": pd.DataFrame({"x": pd.Series([], dtype=float)})},
                  notes="第一稿")
    saved = save_scenario(path, sc)
    assert saved.created == saved.updated and datetime.fromisoformat(saved.updated).tzinfo
    back = load_scenario(path, "方案 A")
    assert_same(Scenario(**{**vars(sc), "params": {**params, "n_sites": 3, "range": [0.5, 1.5]}}),
                back)
    assert back.created == saved.created and back.updated == saved.updated


def test_sites_in_another_crs_are_stored_in_wgs84(path):
    wgs = points(4)
    save_scenario(path, Scenario("utm", sites=wgs.to_crs(32648)))
    back = load_scenario(path, "utm").sites
    np.testing.assert_allclose(shapely.get_coordinates(back.geometry.values),
                               shapely.get_coordinates(wgs.geometry.values), rtol=0, atol=1e-9)


def test_coverage_scenario_without_sites(path):
    sc = Scenario("coverage only", "coverage", {"minutes": 15},
                  tables={"by_category": pd.DataFrame({"category": ["school"], "share": [0.5]})})
    save_scenario(path, sc)
    back = load_scenario(path, "coverage only")
    assert back.kind == "coverage" and len(back.sites) == 0 and list(back.sites.columns) == [
        "name", "geometry"]
    pd.testing.assert_frame_equal(back.tables["by_category"], sc.tables["by_category"])


def test_saving_a_name_again_replaces_it(path):
    first = save_scenario(path, scenario("A", 3, notes="old"))
    time.sleep(0.002)
    second = save_scenario(path, scenario("  A ", 1, params={"edited": True}))
    listed = list_scenarios(path)
    assert listed["name"].tolist() == ["A"] and listed["n_sites"].tolist() == [1]
    back = load_scenario(path, "A")
    assert back.params == {"n_sites": 1, "edited": True}
    assert back.notes == "" and len(back.sites) == 1
    assert second.created == first.created and second.updated > first.updated
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM scenario_sites").fetchone() == (1,)
    con.close()


def test_list_order_delete_and_rename(path):
    assert list_scenarios(path).empty and not path.exists()  # listing creates nothing
    for name in ("b", "a", "c"):
        save_scenario(path, scenario(name))
    assert list_scenarios(path)["name"].tolist() == ["b", "a", "c"]
    save_scenario(path, scenario("a", 2))
    listed = list_scenarios(path)
    assert listed["name"].tolist() == ["b", "c", "a"]
    assert list(listed.columns) == ["name", "kind", "created", "updated", "n_sites", "notes"]
    assert listed["n_sites"].tolist() == [3, 3, 2]

    rename_scenario(path, "b", "重命名 b")
    assert list_scenarios(path)["name"].tolist() == ["重命名 b", "c", "a"]
    assert len(load_scenario(path, "重命名 b").sites) == 3
    with pytest.raises(ValueError, match="exists already"):
        rename_scenario(path, "c", "a")
    with pytest.raises(ValueError, match="no scenario named 'zz'"):
        rename_scenario(path, "zz", "yy")

    delete_scenario(path, "c")
    assert list_scenarios(path)["name"].tolist() == ["重命名 b", "a"]
    with pytest.raises(ValueError, match="no scenario named 'c'"):
        delete_scenario(path, "c")
    with pytest.raises(ValueError, match="no scenario named 'c'"):
        load_scenario(path, "c")
    with sqlite3.connect(path) as con:  # no orphans left behind
        assert con.execute("SELECT count(*) FROM scenario_sites").fetchone() == (5,)
        assert con.execute("SELECT count(*) FROM scenario_tables").fetchone() == (0,)
    con.close()


def test_unicode_names(path):
    sites = points(2)
    sites["name"] = ["解放碑社区服务站", "观音桥 渝邻汇"]
    table = pd.DataFrame({"指标": ["覆盖人口"], "数值": [12000.0]})
    save_scenario(path, Scenario("渝中区·方案一", params={"区": "渝中区"}, sites=sites,
                                 tables={"汇总": table}))
    back = load_scenario(path, "渝中区·方案一")
    assert back.params == {"区": "渝中区"}
    assert back.sites["name"].tolist() == sites["name"].tolist()
    pd.testing.assert_frame_equal(back.tables["汇总"], table)
    assert list_scenarios(path)["name"].tolist() == ["渝中区·方案一"]


@pytest.mark.parametrize("params, where", [
    ({"when": datetime(2025, 1, 1)}, "parameters.when"),
    ({"run": {"path": Path("x.osm")}}, "parameters.run.path"),
    ({"ids": [1, 2, object()]}, r"parameters.ids\[2\]"),
    ({"map": {1: "a"}}, "parameters.map: key 1"),
    ({"arr": np.arange(3)}, "parameters.arr"),
])
def test_parameters_must_be_json(path, params, where):
    save_scenario(path, scenario("kept"))
    with pytest.raises(ValueError, match=where):
        save_scenario(path, scenario("bad", params=params))
    assert list_scenarios(path)["name"].tolist() == ["kept"]


def test_bad_sites_and_tables(path):
    lines = gpd.GeoDataFrame({"name": ["l"]}, geometry=[shapely.LineString([(106, 29), (107, 30)])],
                             crs=4326)
    with pytest.raises(ValueError, match="row 0 is not a point"):
        save_scenario(path, Scenario("x", sites=lines))
    with pytest.raises(ValueError, match="'name'"):
        save_scenario(path, Scenario("x", sites=points(2).drop(columns="name")))
    with pytest.raises(ValueError, match="a scenario needs a name"):
        save_scenario(path, Scenario("  ", sites=points(2)))
    with pytest.raises(ValueError, match="column 'd'"):
        save_scenario(path, Scenario("x", tables={"t": pd.DataFrame({"d": [pd.Timedelta(1)]})}))
    assert not path.exists()


def unrelated_db(p: Path) -> None:
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE scenarios (name TEXT)")
    con.commit()
    con.close()


def future_project(p: Path) -> None:
    save_scenario(p, scenario("A"))
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value = ? WHERE key = 'format_version'",
                (str(FORMAT_VERSION + 1),))
    con.commit()
    con.close()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(random.Random(1).randbytes(5000)), "not an SQLite database"),
    (lambda p: p.write_bytes(b""), "an empty file"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + bytes(200)), "damaged or not a project"),
    (unrelated_db, "not a project file of this app"),
    (future_project, "newer version of the app"),
    (lambda p: p.mkdir(), "a folder"),
], ids=["random", "empty", "bad-header", "other-sqlite", "future", "folder"])
def test_bad_files_are_refused_by_name(tmp_path, make, message):
    p = tmp_path / "项目.cqproj.sqlite"
    make(p)
    before = p.read_bytes() if p.is_file() else None
    calls = [lambda: open_project(p), lambda: list_scenarios(p), lambda: load_scenario(p, "A"),
             lambda: save_scenario(p, scenario("B")), lambda: delete_scenario(p, "A")]
    for call in calls:
        with pytest.raises(ProjectFileError, match=message) as info:
            call()
        assert isinstance(info.value, LayerValidationError) and isinstance(info.value, ValueError)
        assert str(p) in str(info.value)
    if before is not None:
        assert p.read_bytes() == before  # never written to


def test_missing_file(tmp_path):
    p = tmp_path / "none.cqproj.sqlite"
    with pytest.raises(ProjectFileError, match="no such project file"):
        open_project(p, create=False)
    with pytest.raises(ProjectFileError, match="no such project file"):
        load_scenario(p, "A")
    assert open_project(p) == p and p.is_file() and list_scenarios(p).empty
    con = sqlite3.connect(p)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    con.close()
    assert meta["format_version"] == str(FORMAT_VERSION) and {"app_version", "created"} <= set(meta)
    assert [f.name for f in tmp_path.iterdir()] == [p.name]  # no temporary file left


# --- processes ------------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    import numpy as np, geopandas as gpd, pandas as pd
    from geo_app.io.project import Scenario, save_scenario

    def scenario(name, n, seed, tag):
        rng = np.random.default_rng(seed)
        sites = gpd.GeoDataFrame(
            {{"name": [f"{{tag}} {{i}}" for i in range(n)]}},
            geometry=gpd.points_from_xy(rng.uniform(106, 107, n), rng.uniform(29, 30, n)),
            crs=4326)
        return Scenario(name, params={{"n_sites": n, "writer": tag}}, sites=sites,
                        tables={{"summary": pd.DataFrame({{"sites": [n], "writer": [tag]}})}})

    path, tag = sys.argv[1], sys.argv[2]
""")

KILLED = CHILD + textwrap.dedent("""
    big = [scenario("big", {n} - k, k, tag) for k in range(3)]
    print("loaded", flush=True)
    sys.stdin.readline()
    save_scenario(path, scenario("A", 10, 0, "A"))
    print("ready", flush=True)
    i = 0
    while True:
        sc = big[i % 3]
        sc.name = f"big {{i % 2}}"
        save_scenario(path, sc)
        i += 1
""")

CONCURRENT = CHILD + textwrap.dedent("""
    mine = [scenario(f"{{tag}} {{i}}", 300 + i, i, tag) for i in range({n})]
    shared = scenario("shared", 3000, 7, tag)
    print("ready", flush=True)
    sys.stdin.readline()
    for sc in mine:
        save_scenario(path, sc)
        save_scenario(path, shared)
    print("done", flush=True)
""")


def start(code: str, path: Path, tag: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, str(path), tag], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw)


def check_project(path: Path) -> dict[str, Scenario]:
    """Open the file as the app would; every scenario must be whole."""
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
    out = {}
    for name in list_scenarios(path)["name"]:
        sc = load_scenario(path, name)  # refuses a scenario with missing sites
        assert len(sc.sites) == sc.params["n_sites"]
        assert sc.tables["summary"].loc[0, "sites"] == sc.params["n_sites"]
        assert set(sc.sites["name"].str.split().str[0]) == {sc.params["writer"]}
        out[name] = sc
    return out


def test_killed_save_leaves_the_previous_file_readable(tmp_path):
    """Kill a process that saves large scenarios over and over, at random moments.

    Each process saves scenario A, says "ready" and saves 30k-site scenarios in a loop
    until killed (SIGKILL) after a random delay; in every other trial the kill also waits
    until a save has begun writing (its rollback journal appears), so some kills surely land
    inside a save. All processes load at once, then save one after another.
    """
    path = tmp_path / f"killed{SUFFIX}"
    code = KILLED.format(repo=str(REPO), n=30_000)
    rng = random.Random(20250501)
    delays = [base + rng.uniform(0, 0.2) for base in (0.02, 0.25, 0.5, 0.75, 1.0)]
    journal = Path(f"{path}-journal")
    mid_save = 0
    procs = [start(code, path, f"w{k}", stdin=subprocess.PIPE) for k in range(len(delays))]
    try:
        for trial, (proc, delay) in enumerate(zip(procs, delays)):
            assert proc.stdout.readline().strip() == "loaded", "the saving process failed"
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(delay)
            if trial % 2:
                wait_for_journal(journal)
            proc.kill()  # SIGKILL on POSIX
            proc.wait()
            mid_save += journal.exists() and journal.stat().st_size > 0  # killed inside a save
            saved = check_project(path)
            assert saved["A"].params == {"n_sites": 10, "writer": "A"}
            assert saved["A"].sites["name"].tolist() == [f"A {i}" for i in range(10)]
    finally:
        stop(procs)
    assert mid_save >= 2, "too few kills landed inside a save"


def wait_for_journal(journal: Path, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if journal.stat().st_size > 0:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.001)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()


def test_two_processes_save_at_once(tmp_path):
    path = tmp_path / "sub" / f"shared{SUFFIX}"  # created by whichever process is first
    n = 12
    code = CONCURRENT.format(repo=str(REPO), n=n)
    procs = [start(code, path, tag, stdin=subprocess.PIPE) for tag in ("p1", "p2")]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            assert p.stdout.readline().strip() == "done"
            assert p.wait(timeout=60) == 0
    finally:
        stop(procs)
    saved = check_project(path)
    assert set(saved) == {f"{t} {i}" for t in ("p1", "p2") for i in range(n)} | {"shared"}
    assert [f.name for f in path.parent.iterdir()] == [path.name]
