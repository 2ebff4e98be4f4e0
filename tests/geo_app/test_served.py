"""A served workbench keeps its users apart and itself up (issue 17).

Sessions are AppTest instances; the line of heavy runs is driven by threads calling
:mod:`geo_app.workflows.runs` as the pages do.
"""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo_app.config import Settings
from geo_app.errors import ParameterError
from geo_app.io.project import Scenario, list_scenarios, save_scenario
from geo_app.io.project_store import (
    ProjectStore,
    new_token,
    project_name,
    read_upload,
    valid_token,
)
from geo_app.workflows import runs
from tests.geo_app.test_maps import readable

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
XSS = "<img src=x onerror=alert(1)>"
SHOWN = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture()
def served(monkeypatch, tmp_path):
    """The server's folders in ``tmp_path`` (what the administrator's GEO_APP_* would set)."""
    monkeypatch.setenv("GEO_APP_PROJECT_DIR", str(tmp_path / "projects"))
    monkeypatch.setenv("GEO_APP_CACHE_DIR", str(tmp_path / "cache"))
    return Settings.from_env()


def session(page: str | None = "siting", **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    if page:
        at.sidebar.radio(key="page").set_value(page).run()
        assert not at.exception
    return at


def store_of(at: AppTest, settings: Settings) -> ProjectStore:
    return ProjectStore.for_session(at.query_params["ws"], settings)


def uploader(at: AppTest, key: str):
    return next(w for w in at.get("file_uploader") if w.key == key)


# --- projects ------------------------------------------------------------------------------------

def test_two_sessions_cannot_see_or_open_each_others_projects(served, tmp_path):
    a = session()
    b = session()
    ta, tb = a.query_params["ws"], b.query_params["ws"]
    assert valid_token(ta) and valid_token(tb) and ta != tb
    assert not [w for w in a.text_input if w.key == "project_path"]  # no path to type
    a.text_input(key="project_new_name").input("甲的项目")
    a.button(key="project_create").click().run()
    assert not a.exception
    assert a.success[-1].value == "已新建项目: 甲的项目"
    save_scenario(store_of(a, served).path("甲的项目"), Scenario("甲的方案"))
    a.run()
    assert "甲的方案" in list(a.dataframe[0].value["方案"])

    # B sees none of it, and naming A's project reaches a file of B's own (none)
    b.run()
    assert "甲的项目" not in b.selectbox(key="project_pick").options
    assert "还没有方案" in " ".join(c.value for c in b.caption)
    mine, theirs = store_of(b, served).path("甲的项目"), store_of(a, served).path("甲的项目")
    assert theirs.is_file() and not mine.exists() and mine.parent != theirs.parent
    # the stores are separate folders under the server's data folder
    assert store_of(a, served).root.parent == store_of(b, served).root.parent == \
        tmp_path / "projects" / "sessions"
    # a forged store id is not taken: the session gets a fresh store of its own
    c = session(ws="../" + ta)
    assert c.query_params["ws"] not in (ta, "../" + ta) and valid_token(c.query_params["ws"])
    # a reload of A's tab (same address) finds A's projects
    again = session(ws=ta)
    assert "甲的项目" in again.selectbox(key="project_pick").options


def test_signed_in_users_keep_their_projects_across_sessions(served, monkeypatch):
    from geo_app.ui.served import user_from_headers

    assert user_from_headers({"X-Remote-User": " wang "}, "X-Remote-User") == "header:wang"
    assert user_from_headers({"X-Remote-User": ""}, "X-Remote-User") is None
    assert user_from_headers({"X-Remote-User": "wang"}, None) is None
    with pytest.raises(ParameterError, match="header name"):
        Settings(sign_in="header", user_header="X-User: admin")
    monkeypatch.setenv("GEO_APP_SIGN_IN", "oidc")
    monkeypatch.setenv("GEO_APP_TIMEZONE", "Asia/Urumqi")
    s = Settings.from_env()
    assert (s.sign_in, s.timezone) == ("oidc", "Asia/Urumqi")
    first = AppTest.from_file(APP, default_timeout=300)
    first.user = {"is_logged_in": True, "iss": "https://sso.example", "sub": "u-17"}
    first.run()
    first.sidebar.radio(key="page").set_value("siting").run()
    assert not first.exception
    assert "ws" not in first.query_params  # no store id in the address with sign-in
    first.text_input(key="project_new_name").input("规划局项目")
    first.button(key="project_create").click().run()
    later = AppTest.from_file(APP, default_timeout=300)
    later.user = {"is_logged_in": True, "iss": "https://sso.example", "sub": "u-17"}
    later.run()
    later.sidebar.radio(key="page").set_value("siting").run()
    assert "规划局项目" in later.selectbox(key="project_pick").options
    other = AppTest.from_file(APP, default_timeout=300)
    other.user = {"is_logged_in": True, "iss": "https://sso.example", "sub": "u-99"}
    other.run()
    other.sidebar.radio(key="page").set_value("siting").run()
    assert "规划局项目" not in other.selectbox(key="project_pick").options
    nobody = AppTest.from_file(APP, default_timeout=300)
    nobody.user = {}
    nobody.run()
    assert not nobody.exception
    assert [b.label for b in nobody.button] == ["登录"] and not nobody.title  # nothing else


@pytest.mark.parametrize("bad", ["../x", "../../etc/passwd", "/etc/passwd", "a/b", "a\\b", "..",
                                 ".hidden", "~root", "", "   ", "x" * 61, "a\x00b"])
def test_project_names_that_are_paths_are_refused(bad, tmp_path):
    with pytest.raises(ValueError):
        project_name(bad)
    store = ProjectStore(tmp_path / "store")
    with pytest.raises(ValueError):
        store.create(bad)
    assert list(tmp_path.rglob("*.sqlite")) == []


def test_project_names_are_sanitised(tmp_path):
    assert project_name("  渝中区 2025  方案 ") == "渝中区 2025 方案"
    assert project_name("a<b>:c|d?*\x07e") == "a_b__c_d___e"
    assert project_name("ｆｕｌｌ") == "full"  # NFKC
    store = ProjectStore(tmp_path / "store")
    name = store.create(XSS)
    assert name == "_img src_x onerror_alert(1)_"
    assert store.path(name).parent == store.root and store.names() == [name]


def test_project_name_refused_in_the_page(served):
    at = session()
    at.text_input(key="project_new_name").input("../../etc/cron.d/x")
    at.button(key="project_create").click().run()
    assert not at.exception
    assert at.error[-1].value.startswith("项目名称无效")
    assert not list((served.projects_path()).rglob("*cron*"))


def test_uploaded_project_files_are_checked(tmp_path):
    import sqlite3

    store = ProjectStore(tmp_path / "a")
    store.create("p")
    good = store.export_bytes("p")
    with pytest.raises(ValueError, match="over the 0 MB limit"):
        read_upload("p.cqproj.sqlite", good, 100)
    with pytest.raises(ValueError, match="not an SQLite database"):
        read_upload("p.cqproj.sqlite", b"<html>" + good, 1 << 20)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="not a project file of this app"):
        read_upload("other.sqlite", other.read_bytes(), 1 << 20)
    # a project file with a trigger added is refused (only the expected tables)
    tampered = tmp_path / "t.sqlite"
    tampered.write_bytes(good)
    con = sqlite3.connect(tampered)
    con.execute("CREATE TRIGGER boom AFTER INSERT ON meta BEGIN DELETE FROM meta; END")
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="unexpected trigger boom"):
        read_upload("t.sqlite", tampered.read_bytes(), 1 << 20)
    damaged = bytearray(good)
    damaged[len(good) // 2:len(good) // 2 + 4000] = b"\xff" * 4000
    with pytest.raises(ValueError, match="damaged|not a project"):
        read_upload("d.sqlite", bytes(damaged), 1 << 20)
    assert read_upload("p.cqproj.sqlite", good, 1 << 20).suggested_name == "p"
    assert sorted(p.name for p in tmp_path.rglob("*.sqlite")) == ["other.sqlite",
                                                                  "p.cqproj.sqlite",
                                                                  "t.sqlite"]


def test_downloaded_project_restores_its_scenarios_in_a_new_session(served):
    a = session()
    a.sidebar.number_input(key="site_n").set_value(2)
    a.sidebar.button(key="site_run").click().run()
    assert not a.exception and not a.error
    a.text_input(key="site_scenario_name").input(XSS)
    a.button(key="site_save").click().run()
    assert not a.exception
    # the name is text everywhere: escaped in the message, as typed in the table
    assert a.success[-1].value == "已保存方案: \\<img src=x onerror=alert(1)\\>"
    assert list(a.dataframe[-1].value["方案"]) == [XSS]
    sites = list(a.dataframe[0].value["名称"])
    store = store_of(a, served)
    (name,) = store.names()
    data = store.export_bytes(name)  # what the download button gives

    b = session()
    assert "还没有方案" in " ".join(c.value for c in b.caption)
    uploader(b, "project_upload").set_value((f"{name}.cqproj.sqlite", data,
                                             "application/vnd.sqlite3")).run()
    assert not b.exception and not b.error
    assert list(b.dataframe[-1].value["方案"]) == [XSS]  # the read-only preview
    assert store_of(b, served).names() == []  # nothing saved before import
    b.button(key="project_import").click().run()
    assert not b.exception
    assert b.success[-1].value.startswith("已导入项目: ")
    imported = store_of(b, served).names()
    assert imported == [name]
    uploader(b, "project_upload").set_value(None).run()
    assert list(b.dataframe[0].value["方案"]) == [XSS]
    b.button(key="site_reopen_btn").click().run()
    assert not b.exception and not b.error
    assert b.sidebar.number_input(key="site_n").value == 2
    assert list(b.dataframe[0].value["名称"]) == sites
    saved = list_scenarios(store_of(b, served).path(name))
    assert saved["updated"].str.endswith("+00:00").all()  # stored in UTC, shown in Shanghai
    shown = b.dataframe[-1].value if len(b.dataframe) > 1 else None
    assert shown is None or "+00:00" not in " ".join(map(str, shown.iloc[0]))


def test_bad_project_upload_is_refused_with_a_message(served):
    at = session()
    uploader(at, "project_upload").set_value(("x.cqproj.sqlite", b"PK\x03\x04 not sqlite",
                                              "application/octet-stream")).run()
    assert not at.exception
    assert at.error[-1].value.startswith("无法导入该项目文件")
    assert "not an SQLite database" in at.error[-1].value
    assert not [b for b in at.button if b.key == "project_import"]


# --- uploads -------------------------------------------------------------------------------------

def _upload_script():
    import streamlit as st

    from geo_app.ui.assets import save_upload, session_upload_dir

    path = save_upload("facilities", "shops.csv", b"lon,lat,category\n24.9,60.2,market\n")
    st.text(str(session_upload_dir()))
    st.text(str(path))


def test_two_sessions_keep_their_uploads_apart(served):
    a = AppTest.from_function(_upload_script).run()
    b = AppTest.from_function(_upload_script).run()
    (dir_a, file_a), (dir_b, file_b) = ([t.value for t in s.text] for s in (a, b))
    assert dir_a != dir_b
    root = served.uploads_path() / "sessions"
    assert Path(dir_a).parent == Path(dir_b).parent == root
    assert Path(file_a).is_relative_to(dir_a) and Path(file_b).is_relative_to(dir_b)
    assert not any(Path(dir_b).rglob("shops.csv")) or Path(file_a) not in \
        set(Path(dir_b).rglob("*"))
    a.run()  # the same session keeps its folder
    assert a.text[0].value == dir_a


def test_upload_folders_are_swept(served):
    from geo_app.workflows import sessions

    keys = ["a" * 22, "b" * 22, "c" * 22]
    for k in keys:
        (sessions.upload_dir(k, served) / "f.csv").write_text("x")
    now = time.time()
    # open sessions stay; a closed one goes once idle for the grace; any past the age limit
    assert sessions.sweep_uploads(served, lambda k: k != keys[1], now=now) == []
    gone = sessions.sweep_uploads(served, lambda k: k != keys[1], now=now + 601)
    assert gone == [keys[1]]
    old = now + served.upload_max_age_h * 3600 + 1
    assert sorted(sessions.sweep_uploads(served, lambda k: True, now=old)) == [keys[0], keys[2]]
    # a reload of the same tab replaces the session: the old one's uploads go at once
    store = ProjectStore.for_session(new_token(), served)
    for k in keys[:2]:
        sessions.upload_dir(k, served)
    assert sessions.replace_session(store.root, keys[0], served, lambda k: False) is None
    assert sessions.replace_session(store.root, keys[1], served, lambda k: False) == keys[0]
    assert not (served.uploads_path() / "sessions" / keys[0]).exists()
    assert (served.uploads_path() / "sessions" / keys[1]).exists()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


CSV = b"lon,lat,category,name\n24.94,60.17,market,a\n"


@pytest.mark.parametrize(("members", "expected"), [
    ({"../../etc/cron.d/evil.csv": CSV}, "'../../etc/cron.d/evil.csv' is an absolute path or "
                                         "contains '..'"),
    ({"ok/../../evil.csv": CSV}, "contains '..'"),
    ({"/tmp/evil.csv": CSV}, "'/tmp/evil.csv' is an absolute path"),
    ({"C:/evil.csv": CSV}, "is an absolute path"),
    ({f"f{i}.csv": CSV for i in range(11)}, "holds 11 files, more than the 10 allowed"),
    ({"bomb.csv": b"0" * (40 << 20)}, "unpacks to about 40 MB, more than the 1 MB allowed "
                                      "(a zip bomb?)"),
])
def test_unsafe_zips_are_refused_at_upload(members, expected, tmp_path):
    from geo_app.ui.assets import save_upload

    s = Settings(max_archive_members=10, max_archive_mb=1, cache_dir=tmp_path)
    data = _zip(members)
    assert len(data) < 200_000  # the bomb is small on the wire
    with pytest.raises(ValueError) as err:
        save_upload("facilities", "facilities.zip", data, tmp_path / "up", settings=s)
    assert str(err.value).startswith("facilities.zip: ") and expected in str(err.value)
    assert not list((tmp_path / "up").rglob("*.zip"))  # the refused file is gone
    ok = save_upload("facilities", "facilities.zip", _zip({"shops.csv": CSV}), tmp_path / "up",
                     settings=s)
    assert ok.is_file()


def test_zip_check_finds_links_and_kmz(tmp_path):
    from layers.archives import ArchiveError, check_archive

    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("roads.csv")
        info.external_attr = (0o120777 << 16)  # a symlink
        z.writestr(info, "/etc/passwd")
    with pytest.raises(ArchiveError, match="is a link"):
        check_archive(path, 10, 1 << 20)
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(ArchiveError, match="not a readable zip"):
        check_archive(bad, 10, 1 << 20)


def test_unsafe_zip_refused_in_the_page(served):
    at = session()
    at.sidebar.radio(key="site_cand").set_value("file").run()
    uploader(at, "site_upload_candidates").set_value(
        ("candidates.zip", _zip({"../../candidates.csv": CSV}), "application/zip")).run()
    assert not at.exception
    message = at.error[-1].value
    assert "输入数据有误" in message and "candidates.zip" in message
    assert "“../../candidates.csv” 是绝对路径或含 “..”" in message
    assert not list(served.uploads_path().rglob("*.zip"))


# --- escaping ------------------------------------------------------------------------------------

def _page(m) -> str:
    from geo_app.maps.offline import render_offline

    return readable(render_offline(m))


def test_a_facility_named_as_markup_is_text_on_maps(helsinki_coverage, helsinki_siting):
    from geo_app.maps.coverage import coverage_map
    from geo_app.maps.siting import siting_map
    from geo_app.ui.scenarios import sites_only_map
    from geo_app.workflows.proposals import proposal_sites
    from geo_app.workflows.siting import siting_view

    r = helsinki_coverage
    fac = r.facilities.copy()
    fac["name"] = fac["name"].astype(object)
    fac.loc[fac.index[0], "name"] = XSS
    fac.loc[fac.index[1], "category"] = XSS  # a user's category: layer names and tooltips
    cov = dataclasses.replace(r, facilities=fac)
    s = helsinki_siting
    cand = s.run.candidates.copy()
    cand["name"] = cand["name"].astype(object)
    cand.loc[cand.index[list(s.result.sites)], "name"] = XSS
    run = dataclasses.replace(s.run, candidates=cand)
    existing = s.existing.copy()
    existing["name"] = existing["name"].astype(object)
    existing.loc[existing.index[0], ["name", "category"]] = [XSS, XSS]
    sites = proposal_sites(run, s.result, list(s.result.sites))
    pages = {"coverage basket": coverage_map(cov),
             "coverage category": coverage_map(cov, category="market"),
             "siting": siting_map(siting_view(run, list(s.result.sites)), existing=existing),
             "saved scenario": sites_only_map(sites, "zh", "blank")}
    # a user's category chosen on the coverage page names layers (the layer control is HTML)
    from geo_app.maps.base import _features, _plain_layer, finish_map, new_map

    named = new_map("blank", "zh", "100%")
    _plain_layer(_features(pd.DataFrame({"n": [1]}), fac.geometry.values[:1]), {},
                 f"服务缺口 · {XSS}", ["n"], "zh").add_to(named)
    finish_map(named, fac.total_bounds)
    pages["layer name"] = named
    for what, m in pages.items():
        page = _page(m)
        assert SHOWN in page, what
        assert "<img src=x" not in page, what


def test_a_facility_named_as_markup_is_text_in_clusters_and_catchments(helsinki_pois):
    from geo_app.maps.clusters import catchment_map, clusters_map
    from geo_app.workflows.catchments import run_catchments
    from geo_app.workflows.clusters import cluster_pois

    pois = helsinki_pois.copy()
    pois["name"] = pois["name"].astype(object)
    pois.loc[pois.index[:50], "name"] = XSS
    pois.loc[pois.index[:50], "category"] = XSS
    r = cluster_pois(pois, eps_m=60, min_samples=8)
    page = _page(clusters_map(r))
    assert SHOWN in page and "<img src=x" not in page
    centres = r.clusters.assign(geometry=r.clusters.geometry.representative_point(),
                                name=XSS, pois=r.clusters["n_points"].astype(float))
    centres["name"] = [f"{XSS}{i}" for i in range(len(centres))]
    res = run_catchments(centres=centres[["name", "pois", "geometry"]], name_column="name",
                         attractiveness="column:pois", demand=pois.assign(population=1.0)[
                             ["population", "geometry"]], max_km=3, cell_m=300)
    for circle in (None, 0):
        page = _page(catchment_map(res, circle=circle, name="name"))
        assert SHOWN in page and "<img src=x" not in page
        assert "&amp;lt;" not in page  # escaped once: shown as typed


def test_a_facility_named_as_markup_is_text_in_reports(helsinki_siting):
    from geo_app.io.report import proposal_report_html
    from geo_app.maps.siting import siting_map
    from geo_app.workflows.siting import evaluate, siting_view

    s = helsinki_siting
    cand = s.run.candidates.copy()
    cand["name"] = cand["name"].astype(object)
    cand.loc[cand.index[list(s.result.sites)], "name"] = XSS
    run = dataclasses.replace(s.run, candidates=cand)
    ev = evaluate(run, list(s.result.sites))
    map_html = _page(siting_map(siting_view(run, list(s.result.sites))))
    page = proposal_report_html(run, s.result, ev, parameters={
        **s.params, "candidates": "/srv/geo-app/cache/uploads/sessions/abc/1234/候选点.csv",
        "title_note": XSS}, map_html=map_html)
    assert SHOWN in page and "<img src=x" not in page
    assert "候选点.csv" in page and "/srv/geo-app" not in page  # the file, not the server path


# --- no server details --------------------------------------------------------------------------

def test_run_info_shows_file_names_and_local_times(served):
    from geo_app.ui.served import shown_run_info

    info = pd.DataFrame({"key": ["run_at", "network", "source_facilities", "seconds"],
                         "value": ["2026-12-04T16:30:00+00:00",
                                   "/home/geo/.cache/geo-app/uploads/sessions/k/ab12/街道.osm.pbf",
                                   "/var/lib/x/shops.csv", "1.5"]})
    shown = dict(zip(info["key"], shown_run_info(info)["value"]))
    assert shown == {"run_at": "2026-12-05 00:30:00 (Asia/Shanghai)", "network": "街道.osm.pbf",
                     "source_facilities": "shops.csv", "seconds": "1.5"}
    assert Settings(timezone="Europe/Helsinki").local_time(
        "2026-12-04T16:30:00+00:00").hour == 18


def test_coverage_page_shows_no_server_paths(served):
    at = session("coverage")
    at.sidebar.button(key="cov_run").click().run()
    assert not at.exception and not at.error
    info = at.dataframe[-1].value
    text = " ".join(map(str, info.iloc[:, 1]))  # the values, in plain words
    assert not re.search(r"/[^\s/]+/", text)  # no folder of the server
    assert "Helsinki.osm.pbf" in text
    assert "(北京时间)" in text
    assert at.session_state["_session_key"]  # the run had its place in the line


# --- bounded load --------------------------------------------------------------------------------

MB = runs.MB


def test_five_runs_with_a_limit_of_two_finish_in_order():
    cap = 1000 * MB
    adm = runs.Admission(2, cap, available=lambda: 8000 * MB)
    places: dict[int, list[int]] = {i: [] for i in range(5)}
    finished: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            with adm.slot(f"session-{i}", 400 * MB, on_wait=places[i].append, poll_s=0.05):
                time.sleep(0.3 + 0.15 * i)  # each ends at its own time
                with lock:
                    finished.append(i)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = []
    for i in range(5):  # arrive one after another, all before the first has finished
        th = threading.Thread(target=one, args=(i,))
        th.start()
        threads.append(th)
        deadline = time.monotonic() + 5
        while adm.snapshot()["running"] + adm.snapshot()["waiting"] < i + 1:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    assert adm.snapshot() == {"running": 2, "waiting": 3, "reserved_mb": 800.0,
                              "cap_mb": 1000.0, "peak_reserved_mb": 800.0, "peak_running": 2}
    for th in threads:
        th.join(10)
    assert errors == []
    assert adm.started == [1, 2, 3, 4, 5] and sorted(finished) == [0, 1, 2, 3, 4]
    assert places[0] == places[1] == []  # started at once
    for i in (2, 3, 4):  # each waiting one saw its place from arrival down to first
        assert places[i] == list(range(i - 1, 0, -1)), places
    assert adm.peak_running == 2 and adm.peak_reserved <= cap
    assert adm.snapshot()["running"] == adm.snapshot()["waiting"] == 0


def test_memory_cap_holds_back_and_refuses_runs():
    adm = runs.Admission(4, 1000 * MB, available=lambda: 700 * MB)
    with pytest.raises(runs.NotEnoughMemory) as err:
        adm.enter("s", 1200 * MB)
    assert err.value.values == {"need_mb": 1200, "room_mb": 700}
    assert "needs about 1,200 MB" in str(err.value)
    from geo_app.labels import t

    assert t(err.value.key).format(**err.value.values).startswith("该分析预计需要约 1,200 MB")
    # two runs of 600 MB: within the limit of 4 but not the cap together; one at a time
    first = adm.enter("a", 600 * MB)
    waited = []
    th = threading.Thread(target=lambda: waited.append(adm.enter("b", 600 * MB, poll_s=0.02)))
    th.start()
    time.sleep(0.2)
    assert adm.snapshot()["running"] == 1 and adm.snapshot()["waiting"] == 1
    adm.leave(first)
    th.join(5)
    assert waited and waited[0].state == "running" and adm.peak_reserved == 600 * MB
    adm.leave(waited[0])


def test_one_run_per_session_and_abandoned_runs_are_cancelled():
    adm = runs.Admission(1, 1000 * MB, available=lambda: 8000 * MB)
    running = adm.enter("a", 10 * MB)
    with pytest.raises(runs.SessionBusy):
        adm.enter("a", 10 * MB)
    gone = threading.Event()
    result: list = []

    def waiter():
        try:
            adm.enter("b", 10 * MB, abandoned=gone.is_set, poll_s=0.02)
        except runs.RunCancelled as exc:
            result.append(exc)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.1)
    assert adm.snapshot()["waiting"] == 1
    gone.set()  # B's browser went away while it waited: it leaves the line
    th.join(5)
    assert result and adm.snapshot()["waiting"] == 0
    # a running run stops at its next stage once cancelled
    assert adm.cancel("a")
    with pytest.raises(runs.RunCancelled):
        running.check()
    adm.leave(running)
    assert adm.snapshot()["running"] == 0 and not adm.cancel("a")


def test_estimates_grow_with_the_inputs():
    small = runs.coverage_bytes(12_724, 390, 180, 12)
    city = runs.coverage_bytes(1_887_112, 500_000, 3_600, 12)
    assert 250 * MB < small < 300 * MB
    assert 1.9e9 < city < 2.6e9  # the 1M grid's measured 2.42 GB peak (docs/benchmarks.md)
    assert runs.siting_bytes(12_724, 100, 390, 1080, 0.001) > runs.siting_bytes(
        12_724, 100, 390, 1080, 50.0)
    # 1° × 1° at 29.5° N: 96.9 km × 110.6 km
    assert runs.bbox_km2((106.0, 29.0, 107.0, 30.0)) == pytest.approx(10_713, rel=0.01)


def test_settings_of_a_served_app_from_the_environment(monkeypatch):
    monkeypatch.setenv("GEO_APP_MAX_HEAVY_RUNS", "3")
    monkeypatch.setenv("GEO_APP_RUN_MEMORY_MB", "4096")
    s = Settings.from_env()
    assert (s.max_heavy_runs, s.run_memory_mb) == (3, 4096.0)
    assert runs.default_cap_bytes(s.run_memory_mb) == 4096 * MB
    monkeypatch.setenv("GEO_APP_MAX_HEAVY_RUNS", "many")
    with pytest.raises(ParameterError, match="GEO_APP_MAX_HEAVY_RUNS must be a number"):
        Settings.from_env()
    with pytest.raises(ParameterError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus")
    with pytest.raises(ParameterError, match="sign_in must be one of"):
        Settings(sign_in="ldap")


def test_saving_a_scenario_runs_its_coverage_in_the_line(helsinki_inputs, helsinki_siting,
                                                         monkeypatch):
    """The coverage before/after that saving a scenario (and its report) computes waits in the
    line of heavy runs like any run: the line's admission is asked, and a refusal saves the
    scenario without the table instead of running past the memory cap."""
    from geo_app.ui import scenarios, served
    from geo_app.workflows import runs
    from geo_app.workflows.proposals import proposal_sites

    asked = []
    line = runs.Admission(1, 1, available=lambda: 1)  # every run is too big for it

    def admission():
        asked.append(True)
        return line

    monkeypatch.setattr(served, "admission", admission)
    s = helsinki_siting
    state = {"inputs": helsinki_inputs, "run": s.run, "result": s.result,
             "proposal": list(s.result.sites)}
    sites = proposal_sites(s.run, s.result, state["proposal"])
    with pytest.raises(runs.RunRefused):
        scenarios.before_after_queued(state, sites)
    assert scenarios.by_category(state, sites) is None and len(asked) == 2
    monkeypatch.setattr(served, "admission", lambda: runs.Admission(1, 1 << 40,
                                                                   available=lambda: 1 << 40))
    table = scenarios.by_category(state, sites)
    assert table is not None and (table["gain"] >= 0).all()
