#!/usr/bin/env python
"""Benchmark: city scale end to end (issue 11), on GENERATED street grids.

For each size (100k, 360k, 1M street nodes; ``benchmarks/city_data.py`` writes them once,
seeded, as a centre-line GeoPackage and as an ``.osm.pbf``, with 12 categories x N
facilities and residents as CSV), in the same run and each in its own process:

- **OURS**: ``geo-app coverage --network … --facilities … --demand … --minutes 15 --out
  X.gpkg`` exactly as a user runs it, once per ``--isochrones`` mode the installed CLI
  offers (found in ``geo-app coverage --help``; an older CLI has only
  ``--no-isochrones``), on the centre-lines, and with ``--isochrones none`` on the
  ``.osm.pbf``;
- **plain**: ``benchmarks/plain_coverage.py``, the geopandas + networkx script a planner
  would write, in the same three modes (coverage + gaps; + category service areas;
  + every facility's isochrone, timed for ``--facility-budget-s`` and EXTRAPOLATED);
- **OSMnx**: ``benchmarks/osmnx_coverage.py``, pyrosm → ``OSM.to_graph(graph_type=
  "networkx")`` (an OSMnx graph) → ``nearest_nodes`` → multi-source Dijkstra per
  category (coverage only: it is compared with OURS ``--isochrones none`` on the pbf);
- **sharded**: one process, then ``--scheduler local:2`` (tiles on a 2-worker Dask
  LocalCluster), back to back, with the ``t_<category>`` columns compared (1e-6 s) and the
  summaries (exactly); the speed-up is one process / sharded; ``--shard-cluster warm``
  joins one LocalCluster started beforehand instead (its start-up not counted);
- **readers**: ``.osm.pbf`` → walk graph with DuckDB (ours), pyrosm (our previous
  reader), pyosmium and quackosm, and the centre-lines → walk graph
  (``benchmarks/pbf_readers.py``).

Every child gets a fresh ``TMPDIR`` (pyrosm and quackosm cache results there, so every
read is cold). Time is wall-clock around the child, including interpreter start and
imports, as a user waits for it; peak memory is the child's maximum RSS
(``os.wait4``). Ratios are peer time / OURS time of the same work. Growth exponents are
the log-log slope of time against nodes over the sizes run.

    python benchmarks/bench_end_to_end.py --quick          # 100k only, ~2-4 min
    python benchmarks/bench_end_to_end.py --sizes 100k 360k    # everything, ~35 min
    python benchmarks/bench_end_to_end.py                  # + 1M: 2 h or more (the plain
                                                           #   script at 1M dominates)
    python benchmarks/bench_end_to_end.py --sizes 360k --parts ours plain
    python benchmarks/bench_end_to_end.py --sizes 1m --parts readers
    python benchmarks/bench_end_to_end.py --sizes 1m --parts sharded       # ~3 min
    python benchmarks/bench_end_to_end.py --sizes 1m --parts sharded --shard-cluster warm
    python benchmarks/bench_end_to_end.py --sizes 100k 360k 1m --parts ours plain \
        --modes none category --plain-sizes 100k 360k       # growth exponents, ~20 min

THE DATA ARE GENERATED: a perturbed grid placed on UTM zone 48N near Chongqing so that the
tool takes its usual paths; they are not Chongqing's streets, facilities or residents.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import city_data

RESIDENTS = {"100k": 50_000, "360k": 50_000, "1m": 500_000}  # the issue: 50k at 360k
PARTS = ("readers", "ours", "plain", "osmnx", "sharded")
READERS = ("duckdb", "pyrosm", "pyosmium", "quackosm")
TARGET_CATEGORY, TARGET_FACILITY = 20.0, 5.0  # x the plain script, 360k case
TARGET_PBF_S, TARGET_PBF_BYTES = 30.0, 4 * 2**30  # 1M pbf → walk graph


def log(msg: str = "") -> None:
    print(msg, flush=True)


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def loadavg() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


@dataclass
class Run:
    """One child process: what ran, how long, its peak memory, what it printed."""

    label: str
    seconds: float | None = None
    peak_bytes: int | None = None
    status: str = "ok"
    load: str = ""  # 1-minute load average before → after the run
    stdout: str = ""
    stderr: str = ""
    data: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_child(label: str, cmd: list[str], timeout_s: float, cwd: Path) -> Run:
    """Run ``cmd`` in a fresh session with a fresh TMPDIR; wall time and peak RSS."""
    tmp = tempfile.mkdtemp(prefix="e2e_tmp_")
    env = {**os.environ, "TMPDIR": tmp, "PYTHONUNBUFFERED": "1"}
    env.pop("MPLBACKEND", None)
    load0 = loadavg().split()[0]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=cwd, start_new_session=True)
    out, err = [], []
    readers = [threading.Thread(target=lambda s, b: b.append(s.read()), args=(p.stdout, out)),
               threading.Thread(target=lambda s, b: b.append(s.read()), args=(p.stderr, err))]
    for r in readers:
        r.start()
    killed = []

    def kill():
        killed.append(True)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout_s, kill)
    timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    shutil.rmtree(tmp, ignore_errors=True)
    run = Run(label, seconds, usage.ru_maxrss * 1024, load=f"{load0} → {loadavg().split()[0]}",
              stdout="".join(out), stderr="".join(err))
    if killed:
        run.status = f"TIMEOUT after {timeout_s:.0f} s"
    elif p.returncode != 0:
        tail = run.stderr.strip().splitlines()[-1:] or ["(no message)"]
        run.status = f"exit {p.returncode}: {tail[0][:200]}"
    if run.ok:
        for line in reversed(run.stdout.strip().splitlines()):
            if line.startswith("{"):
                run.data = json.loads(line)
                break
    return run


def fmt_s(x: float | None) -> str:
    return "—" if x is None else (f"{x:,.1f}" if x >= 10 else f"{x:.2f}")


def fmt_mb(b: int | None) -> str:
    return "—" if b is None else f"{b / 2**20:,.0f} MB"


def growth(points: list[tuple[int, float]]) -> str:
    """Log-log slope of time against nodes (the fitted exponent), over 2+ sizes."""
    pts = [(n, t) for n, t in points if t]
    if len(pts) < 2:
        return "—"
    k = np.polyfit(np.log([n for n, _ in pts]), np.log([t for _, t in pts]), 1)[0]
    return f"{k:.2f}"


# --------------------------------------------------------------------------- the tool


def geo_app_cmd() -> list[str]:
    script = Path(sys.executable).parent / "geo-app"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "geo_app.cli"]


def isochrone_modes() -> tuple[list[str], str]:
    """The isochrone modes the installed ``geo-app coverage`` offers, and how it says so."""
    help_text = subprocess.run([*geo_app_cmd(), "coverage", "--help"], capture_output=True,
                               text=True, timeout=120, check=False).stdout
    m = re.search(r"--isochrones \{([a-z,]+)\}", help_text)
    if m:
        return m.group(1).split(","), "--isochrones"
    return ["none", "facility"], "--no-isochrones (an older CLI: isochrones are per facility)"


def mode_args(mode: str, how: str) -> list[str]:
    if how == "--isochrones":
        return ["--isochrones", mode]
    return ["--no-isochrones"] if mode == "none" else []


_SHARE = re.compile(r"^(\w+)\s+[\d.]+\s+[\d,]+\s+([\d.]+)%\s*$")


def shares_of(stdout: str) -> dict[str, float]:
    """Coverage shares from the summary ``geo-app coverage`` prints."""
    out = {}
    for line in stdout.splitlines():
        m = _SHARE.match(line.strip())
        if m:
            out[m.group(1)] = float(m.group(2)) / 100
        if line.startswith("zone"):
            break
    return out


def share_gap(a: dict, b: dict) -> str:
    common = [k for k in a if k in b and k != "basket"]
    if not common:
        return ""
    d = [abs(a[k] - b[k]) for k in common]
    return f"coverage shares vs OURS: mean |diff| {np.mean(d):.1%}, max {max(d):.1%}"


# --------------------------------------------------------------------------- one case


@dataclass
class Case:
    name: str
    files: city_data.CaseFiles
    runs: dict[str, Run] = field(default_factory=dict)
    sharded: list[str] = field(default_factory=list)  # equality of each sharded pair

    @property
    def nodes(self) -> int:
        return int(self.files.info["nodes"])

    def seconds(self, key: str) -> float | None:
        r = self.runs.get(key)
        return r.seconds if r is not None and r.ok else None


def run_case(case: Case, args, modes: list[str], how: str, out_dir: Path) -> None:
    f = case.files
    nodes = case.nodes
    timeout = args.timeout
    py = sys.executable
    log()
    log(f"## {case.name}: GENERATED {f.side}x{f.side} grid, {nodes:,} street nodes, "
        f"{f.info['segments']:,} segments; {len(city_data.CATEGORIES)} categories x "
        f"{args.per_category} facilities; {case.runs_residents:,} residents (load {loadavg()})")
    log(f"  {f.info['description']}")
    log(f"  files: {f.gpkg.name} ({f.gpkg.stat().st_size / 2**20:.0f} MB), {f.pbf.name} "
        f"({f.pbf.stat().st_size / 2**20:.1f} MB), {f.facilities.name}, {f.residents.name}")

    def go(key: str, label: str, cmd: list[str]) -> Run:
        log(f"  running {label} …")
        r = run_child(label, cmd, timeout, out_dir)
        case.runs[key] = r
        extra = "" if r.ok else f"  [{r.status}]"
        log(f"    {fmt_s(r.seconds)} s, peak {fmt_mb(r.peak_bytes)} (load {r.load}){extra}")
        return r

    if "readers" in args.parts:
        for reader in args.readers:
            go(f"reader:{reader}", f"pbf -> walk graph: {reader}",
               [py, str(HERE / "pbf_readers.py"), reader, str(f.pbf)])
        go("reader:centrelines", "centre-lines -> walk graph",
           [py, str(HERE / "pbf_readers.py"), "centrelines", str(f.gpkg)])
    common = ["--facilities", str(f.facilities), "--demand", str(f.residents),
              "--minutes", "15"]
    if "ours" in args.parts:
        for mode in modes:
            go(f"ours:{mode}", f"OURS geo-app coverage (centre-lines, isochrones {mode})",
               [*geo_app_cmd(), "coverage", "--network", str(f.gpkg), *common,
                "--out", str(out_dir / f"ours_{case.name}_{mode}.gpkg"),
                *mode_args(mode, how)])
        go("ours:pbf", "OURS geo-app coverage (.osm.pbf, isochrones none)",
           [*geo_app_cmd(), "coverage", "--network", str(f.pbf), *common,
            "--out", str(out_dir / f"ours_{case.name}_pbf.gpkg"), *mode_args("none", how)])
    if "plain" in args.parts and case.name in (args.plain_sizes or [case.name]):
        for mode in args.plain_modes:
            cmd = [py, str(HERE / "plain_coverage.py"), "--network", str(f.gpkg), *common,
                   "--out", str(out_dir / f"plain_{case.name}_{mode}.gpkg"), "--areas", mode,
                   "--facility-budget-s", str(args.facility_budget_s)]
            if args.plain_sample:
                cmd += ["--sample-categories", str(args.plain_sample)]
            go(f"plain:{mode}", f"plain geopandas + networkx ({mode})", cmd)
    if "sharded" in args.parts:
        run_sharded(case, args, go, common, out_dir, how)
    if "osmnx" in args.parts:
        go("osmnx", "OSMnx route (pyrosm -> OSMnx graph -> multi-source Dijkstra)",
           [py, str(HERE / "osmnx_coverage.py"), "--pbf", str(f.pbf), *common])
    report_case(case, modes)


def run_sharded(case: Case, args, go, common: list[str], out_dir: Path, how: str) -> None:
    """One process, then ``--scheduler local:N`` (tiles on a LocalCluster), back to back
    (``--shard-repeats`` pairs), same inputs and mode; the outputs' ``t_<category>`` must
    agree within 1e-6 s and the summaries exactly.

    ``--shard-cluster warm``: the LocalCluster (the CLI's own settings) is started here once,
    its workers import what the tasks need, and every sharded run joins it by its address,
    as a planner who keeps a cluster running for several runs does; ``cold``: each run
    starts its own (``--scheduler local:N``, the cluster's start-up counted)."""
    mode, n = args.shard_mode, args.shard_workers
    extra = ["--shard-km", str(args.shard_km)] if args.shard_km else []
    extra += ["--shard-inputs", args.shard_inputs]
    ext = args.shard_out
    client, where = None, f"local:{n}"
    if args.shard_cluster == "warm":
        from geo_app.workflows.dask_cluster import client_for, close, warm_up

        client = client_for(f"local:{n}")
        client.run(warm_up)
        where = client.scheduler.address
    try:
        for k in range(args.shard_repeats):
            single = out_dir / f"single_{case.name}.{ext}"
            sharded = out_dir / f"dask_{case.name}.{ext}"
            go(f"single:{k}", f"OURS one process (isochrones {mode}) [pair {k + 1}]",
               [*geo_app_cmd(), "coverage", "--network", str(case.files.gpkg), *common,
                "--out", str(single), *mode_args(mode, how)])
            label = (f"OURS --scheduler local:{n}" if client is None else
                     f"OURS --scheduler {where} (a warm {n}-worker LocalCluster)")
            go(f"sharded:{k}", f"{label} (isochrones {mode}) [pair {k + 1}]",
               [*geo_app_cmd(), "coverage", "--network", str(case.files.gpkg), *common,
                "--out", str(sharded), *mode_args(mode, how), "--scheduler", where, *extra])
            a, b = case.runs[f"single:{k}"], case.runs[f"sharded:{k}"]
            if a.ok and b.ok:
                case.sharded.append(same_results(single, sharded))
                log(f"    equality: {case.sharded[-1]}")
    finally:
        if client is not None:
            close(client)


def same_results(single: Path, sharded: Path) -> str:
    """Largest |Δt| over the ``t_`` columns (NaN where both are NaN) and whether the
    summaries are equal."""
    import pandas as pd
    import pyogrio

    def read(path: Path, layer: str) -> pd.DataFrame:
        if path.suffix == ".parquet":  # one GeoParquet file per layer beside the demand one
            name = path if layer == "demand" else path.with_suffix(f".{layer}.parquet")
            return pd.read_parquet(name).drop(columns="geometry", errors="ignore")
        return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)

    a, b = read(single, "demand"), read(sharded, "demand")
    worst, nan_ok = 0.0, True
    for col in [c for c in a.columns if c.startswith("t_")]:
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        nan_ok &= bool(np.array_equal(np.isnan(x), np.isnan(y)))
        both = ~np.isnan(x) & ~np.isnan(y)
        worst = max(worst, float(np.abs(x[both] - y[both]).max(initial=0.0)))
    sa, sb = read(single, "summary"), read(sharded, "summary")
    try:
        pd.testing.assert_frame_equal(sa, sb)
        summary = "equal"
    except AssertionError as e:
        summary = "DIFFERENT: " + str(e).splitlines()[0]
    verdict = "IDENTICAL" if (worst <= 1e-6 and nan_ok and summary == "equal") else "DIFFER"
    return (f"{verdict}: max |Δt| {worst:.2e} s over {len(a):,} residents, same unreached "
            f"{nan_ok}, summary {summary}")


def report_case(case: Case, modes: list[str]) -> None:
    log()
    log(f"### {case.name}: {case.nodes:,} nodes (GENERATED data)")
    readers = {k.split(":", 1)[1]: r for k, r in case.runs.items() if k.startswith("reader:")}
    if readers:
        base = case.seconds("reader:duckdb")
        log()
        log("| .osm.pbf → walk graph | time (s) | read (s) | of which scan (s) | walk graph (s) "
            "| peak memory | vs DuckDB | nodes | segments | notes |")
        log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for name, r in readers.items():
            st = r.data.get("stages", {})
            ratio = f"{r.seconds / base:.1f}x" if r.ok and base else "—"
            note = r.status if not r.ok else ""
            if name == "centrelines":
                note = "the centre-line GeoPackage of the same grid (not a pbf reader)"
            elif name == "quackosm" and r.ok:
                note = "lines noded at shared coordinates (no OSM node ids)"
            log(f"| {'OURS ' if name == 'duckdb' else ''}{name} | {fmt_s(r.seconds)} | "
                f"{fmt_s(st.get('read'))} | {fmt_s(st.get('of which scan'))} | "
                f"{fmt_s(st.get('walk graph'))} | {fmt_mb(r.peak_bytes)} | {ratio} | "
                f"{r.data.get('nodes', '—'):,} | {r.data.get('segments', '—'):,} | {note} |"
                if r.ok else
                f"| {name} | — | — | — | — | {fmt_mb(r.peak_bytes)} | — | — | — | {note} |")
    rows = []
    ours_sh = shares_of(case.runs["ours:" + modes[0]].stdout) \
        if ("ours:" + modes[0]) in case.runs else {}
    for mode in modes:
        r = case.runs.get(f"ours:{mode}")
        if r:
            rows.append((f"OURS geo-app coverage, centre-lines, isochrones {mode}", r, None, ""))
    r = case.runs.get("ours:pbf")
    if r:
        rows.append(("OURS geo-app coverage, .osm.pbf, isochrones none", r, None, ""))
    pair = {"none": "none", "category": "category", "facility": "facility"}
    for mode in ("none", "category", "facility"):
        r = case.runs.get(f"plain:{mode}")
        if not r:
            continue
        vs = f"ours:{pair[mode]}" if f"ours:{pair[mode]}" in case.runs else None
        note = []
        ex = r.data.get("extrapolated")
        if ex:
            note.append(f"isochrones EXTRAPOLATED: {ex['done']:,} of {ex['total']:,} facilities "
                        f"in {ex['measured_s']:.0f} s → {ex['extrapolated_s']:.0f} s")
        sm = r.data.get("sampled")
        if sm:
            note.append(f"gap and service-area stages run on {sm} categories, EXTRAPOLATED "
                        f"to all (+{r.data['extra_s']:.0f} s incl. isochrones)")
        if r.ok:
            st = r.data["stages"]
            note.append("stages: " + ", ".join(f"{k} {v:.1f}" for k, v in st.items()))
            note.append(share_gap(r.data.get("shares", {}), ours_sh))
        rows.append((f"plain geopandas + networkx ({mode})", r, vs,
                     "; ".join(n for n in note if n)))
    for k in range(len([key for key in case.runs if key.startswith("sharded:")])):
        a, b = case.runs.get(f"single:{k}"), case.runs.get(f"sharded:{k}")
        if a and b:
            same = case.sharded[k] if k < len(case.sharded) else "not compared"
            rows.append((a.label, a, None, f"load {a.load}"))
            rows.append((b.label, b, f"single:{k}",
                         f"load {b.load}; {same}; peak memory = the client process only"))
    r = case.runs.get("osmnx")
    if r:
        note = []
        if r.ok:
            note.append("stages: " + ", ".join(f"{k} {v:.1f}" for k, v in r.data["stages"].items()))
            note.append(f"graph {r.data['nodes']:,} nodes (simplified, largest component)")
            note.append(share_gap(r.data.get("shares", {}), ours_sh))
        rows.append(("OSMnx route (pyrosm → OSMnx graph → multi-source Dijkstra)", r,
                     "ours:pbf", "; ".join(n for n in note if n)))
    if rows:
        log()
        log("| run | time (s) | peak memory | ratio (peer / OURS) | notes |")
        log("|---|---:|---:|---:|---|")
        for label, r, vs, note in rows:
            t = effective_run(r)
            base = effective(case, vs) if vs else None
            ratio = f"**{t / base:.1f}x** vs {vs}" if (t and base) else ""
            if vs and vs.startswith("single:") and t and base:
                ratio = f"**{base / t:.2f}x** speed-up over one process"
            status = "" if r.ok else f"[{r.status}] "
            log(f"| {label} | {fmt_s(t)} | {fmt_mb(r.peak_bytes)} | {ratio} | {status}{note} |")


def effective_run(r: Run) -> float | None:
    """Wall time of the child plus what it extrapolated instead of running."""
    return r.seconds + r.data.get("extra_s", 0.0) if r.ok else None


def effective(case: Case, key: str) -> float | None:
    r = case.runs.get(key)
    return None if r is None else effective_run(r)


def report_summary(cases: list[Case], modes: list[str], args) -> None:
    log()
    log("## Growth with size (fitted exponent: time ∝ nodes^k over the sizes run)")
    log()
    keys = sorted({k for c in cases for k in c.runs})
    log("| run | " + " | ".join(c.name for c in cases) + " | k |")
    log("|---|" + "---:|" * len(cases) + "---:|")
    for k in keys:
        pts = [(c.nodes, effective(c, k)) for c in cases]
        log(f"| {k} | " + " | ".join(fmt_s(t) for _, t in pts) + f" | {growth(pts)} |")
    log()
    log("## Targets (issue 11)")
    log()
    log("| target | measured | verdict |")
    log("|---|---|---|")
    big = next((c for c in cases if c.name == "360k"), None)
    for mode, target in (("category", TARGET_CATEGORY), ("facility", TARGET_FACILITY)):
        if big is None:
            log(f"| 360k, isochrones {mode}: ≥ {target:g}x the plain script | no 360k run | — |")
            continue
        ours, plain = effective(big, f"ours:{mode}"), effective(big, f"plain:{mode}")
        if ours and plain:
            log(f"| 360k, isochrones {mode}: ≥ {target:g}x the plain script | "
                f"{plain / ours:.1f}x ({plain:.0f} s / {ours:.0f} s) | "
                f"{'MET' if plain / ours >= target else 'MISSED'} |")
        else:
            log(f"| 360k, isochrones {mode}: ≥ {target:g}x the plain script | not measured "
                f"(OURS {fmt_s(ours)}, plain {fmt_s(plain)}) | — |")
    one = next((c for c in cases if c.name == "1m"), None)
    pairs = [(one.runs.get(f"single:{k}"), one.runs.get(f"sharded:{k}"), same)
             for k, same in enumerate(one.sharded)] if one else []
    for a, b, same in pairs:
        up = a.seconds / b.seconds
        log(f"| 1M sharded on a {'warm ' if args.shard_cluster == 'warm' else ''}"
            f"2-worker LocalCluster ≥ 1.6x one process, identical | "
            f"{up:.2f}x ({a.seconds:.1f} s / {b.seconds:.1f} s; load {a.load}, {b.load}); "
            f"{same} | {'MET' if up >= 1.6 and same.startswith('IDENTICAL') else 'MISSED'} |")
    if not pairs:
        log("| 1M sharded on a 2-worker LocalCluster ≥ 1.6x one process | not run | — |")
    r = one.runs.get("reader:duckdb") if one else None
    if r and r.ok:
        ok = r.seconds <= TARGET_PBF_S and r.peak_bytes <= TARGET_PBF_BYTES
        log(f"| 1M-node .osm.pbf → walk graph ≤ 30 s, ≤ 4 GB | {r.seconds:.1f} s, "
            f"{fmt_mb(r.peak_bytes)} peak (whole process, imports included) | "
            f"{'MET' if ok else 'MISSED'} |")
    else:
        log("| 1M-node .osm.pbf → walk graph ≤ 30 s, ≤ 4 GB | no 1M reader run | — |")


def header(args, modes: list[str], offered: list[str], how: str) -> None:
    log("# End to end at city scale (issue 11) — GENERATED data")
    log()
    log(f"command: python {' '.join(sys.argv)}")
    log(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f"{int(fh.readline().split()[1]) / 2**20:.1f} GiB RAM"
    except OSError:
        pass
    log(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem}, {platform.platform()}; "
        f"load average at start {loadavg()}")
    log(f"python {platform.python_version()}; " + ", ".join(
        f"{d} {version(d)}" for d in ("numpy", "pandas", "geopandas", "shapely", "pyogrio",
                                      "networkx", "osmnx", "pyrosm", "duckdb",
                                      "duckdb-extension-spatial", "osmium", "quackosm")))
    log(f"geo-app coverage isochrone modes offered: {', '.join(offered)} (via {how}); "
        f"run here: {', '.join(modes)}; parts: {', '.join(args.parts)}")
    log("DATA: GENERATED street grids placed near Chongqing (UTM 48N) — not real streets, "
        "facilities or residents.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="100k only; plain area stages sampled; no OSMnx, no quackosm")
    ap.add_argument("--sizes", nargs="+", choices=list(city_data.SIZES), default=None)
    ap.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    ap.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    ap.add_argument("--modes", nargs="+", default=None,
                    help="OURS isochrone modes (default: every mode the CLI offers)")
    ap.add_argument("--plain-modes", nargs="+", choices=("none", "category", "facility"),
                    default=None, help="plain-script modes (default: those of OURS)")
    ap.add_argument("--plain-sample", type=int, default=0,
                    help="plain script: run the gap and service-area stages on this many "
                         "categories and EXTRAPOLATE (0: all)")
    ap.add_argument("--plain-sizes", nargs="+", choices=list(city_data.SIZES), default=None,
                    help="run the plain script only at these sizes (default: every size)")
    ap.add_argument("--shard-mode", choices=("none", "category", "facility"), default="none",
                    help="sharded part: the isochrone mode of both runs")
    ap.add_argument("--shard-workers", type=int, default=2, help="sharded part: local:N")
    ap.add_argument("--shard-km", type=float, default=None,
                    help="sharded part: tile side (default: the CLI's)")
    ap.add_argument("--shard-inputs", choices=("auto", "shared", "scatter"), default="auto",
                    help="sharded part: who reads the network (the CLI's --shard-inputs)")
    ap.add_argument("--shard-out", choices=("gpkg", "parquet"), default="gpkg",
                    help="sharded part: the output format of both runs")
    ap.add_argument("--shard-cluster", choices=("cold", "warm"), default="cold",
                    help="sharded part: each run starts its LocalCluster (cold), or all join "
                         "one started here beforehand (warm)")
    ap.add_argument("--shard-repeats", type=int, default=1,
                    help="sharded part: pairs of (one process, sharded) runs, back to back")
    ap.add_argument("--per-category", type=int, default=300)
    ap.add_argument("--residents", type=int, default=None,
                    help="residents (default 50k at 100k and 360k nodes, 500k at 1M)")
    ap.add_argument("--facility-budget-s", type=float, default=120.0,
                    help="plain per-facility isochrones: time this long, then extrapolate")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per child process (s)")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("GEO_APP_BENCH_DIR",
                                                Path(tempfile.gettempdir()) / "geo_app_e2e")))
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or ["100k"]
        args.plain_sample = args.plain_sample or 2
        if args.parts == list(PARTS):
            args.parts = ["readers", "ours", "plain"]
        if args.readers == list(READERS):
            args.readers = ["duckdb", "pyrosm", "pyosmium"]
    args.sizes = args.sizes or list(city_data.SIZES)
    offered, how = isochrone_modes()
    modes = [m for m in (args.modes or (["category"] if args.quick else offered))
             if m in offered]
    args.plain_modes = args.plain_modes or [m for m in ("none", "category", "facility")
                                            if m in modes]
    header(args, modes, offered, how)
    out_dir = Path(tempfile.mkdtemp(prefix="e2e_out_"))
    cases = []
    for name in args.sizes:
        residents = args.residents or RESIDENTS[name]
        files = city_data.case_files(name, args.data_dir, facilities_per_category=args.per_category,
                                     residents=residents, log=log)
        case = Case(name, files)
        case.runs_residents = residents
        run_case(case, args, modes, how, out_dir)
        cases.append(case)
    report_summary(cases, modes, args)
    shutil.rmtree(out_dir, ignore_errors=True)
    failed = [f"{c.name} {k}: {r.status}" for c in cases for k, r in c.runs.items() if not r.ok]
    log()
    log("failed runs: " + ("; ".join(failed) if failed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
