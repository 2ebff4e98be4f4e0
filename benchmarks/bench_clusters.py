#!/usr/bin/env python
"""Benchmark: cluster maps (issue 5) — Gi* hot spots, kernel density, DBSCAN/HDBSCAN, Huff.

    python benchmarks/bench_clusters.py [--quick]

All inputs are SYNTHETIC: five Gaussian blobs (half of the points) over a uniform
background in a 28.2 km × 28.2 km square of UTM 48N (EPSG:32648) centred on 106.5E 29.5N,
and the same points converted to lon/lat for H3. numpy ``default_rng`` seeds are fixed.

1. Gi* hot spots. OURS ``analysis.hotspots.gi_star(values, w, permutations=999)`` against
   PySAL ``esda.getisord.G_Local(values, W, transform="B", star=True, permutations=999)``,
   W built from the same sparse matrix with ``libpysal.weights.WSP(w).to_W()`` (timed on
   its own), on H3 resolution-10 grids of about 2k, 10k and 50k cells (point counts per
   cell). esda runs in a forked child with a 300 s cap per phase, once with its default
   ``n_jobs=-1`` (all cores) and once with ``n_jobs=1``. z-scores must agree to 1e-6.
2. Kernel density. OURS ``kernel_density(x, y, bandwidth_m=300, cell_m=60,
   kernel="gaussian")`` (fast path, and ``exact=True``) against scikit-learn
   ``KernelDensity(kernel="gaussian", bandwidth=300).score_samples`` on the same 500 × 500
   cell centres, for 50k and 200k points. sklearn is run on cells in random order until a
   time cap; its full-raster time is then EXTRAPOLATED and marked so. scipy's
   ``gaussian_kde`` is not compared: its bandwidth is a factor times the data covariance
   (Scott/Silverman), not a fixed σ in metres.
3. ``analysis.clusters.point_clusters`` (DBSCAN eps 150 m, HDBSCAN; both are scikit-learn)
   at 50k and 200k points, in a child with a 300 s cap per call: times only, no peer.
4. Huff: ``huff_probabilities`` on 100k origins × 50 centres against a plain Python-loop
   reference on a 2,000-origin subset (must agree to 1e-12); the Python time for 100k is
   EXTRAPOLATED linearly.

``--quick`` skips the ~50k-cell Gi* grid, OURS at 9,999 permutations, the exact density
path and HDBSCAN at 200k, and caps sklearn at 20 s per size. Timing is
``time.perf_counter``: best of 3 when a run takes under 2 s, else one run; every run is
printed. Figures go to docs/benchmarks.md by hand; timings never go into unit tests. Exit
status 1 when a correctness check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import math
import multiprocessing as mp
import os
import platform
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO))

from bench_walk_times import FAST_S, log, timed  # noqa: E402  (same folder)

from analysis.clusters import huff_probabilities, point_clusters  # noqa: E402
from analysis.density import kernel_density  # noqa: E402
from analysis.grids import hex_grid  # noqa: E402
from analysis.hotspots import gi_star  # noqa: E402

SEED = 5
CENTRE_LONLAT = (106.5, 29.5)
UTM = "EPSG:32648"
SIDE_M = 28_200.0  # the square; with a 900 m (3σ) margin the density raster is 30 km = 500 cells
N_POINTS = 200_000
BLOB_SHARE = 0.5
# (x, y as fractions of the side, σ m, share of the blob points)
BLOBS = ((0.50, 0.50, 400.0, 0.25), (0.56, 0.45, 300.0, 0.15), (0.35, 0.62, 800.0, 0.20),
         (0.78, 0.72, 1000.0, 0.20), (0.20, 0.22, 600.0, 0.20))

H3_RES = 10
GRID_HALF_M = {"~2k": 2_650.0, "~10k": 5_950.0, "~50k": 13_400.0}  # half-sides of the windows
PERMUTATIONS = 999
Z_TOL = 1e-6
ESDA_TIMEOUT_S = 300.0

BANDWIDTH_M, CELL_M = 300.0, 60.0
KDE_SIZES = (50_000, 200_000)
SK_CAP_S, SK_CAP_QUICK_S = 60.0, 20.0
REL_FLOOR = 0.01  # compare densities only where they exceed 1 % of the maximum

CLUSTER_SIZES = (50_000, 200_000)
EPS_M, MIN_SAMPLES = 150.0, 10  # geo_app.workflows.clusters.cluster_pois defaults
CLUSTER_TIMEOUT_S = 300.0

HUFF_ORIGINS, HUFF_CENTRES, HUFF_REF = 100_000, 50, 2_000
HUFF_TOL = 1e-12



# --------------------------------------------------------------------------- helpers


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_s(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:,.0f}" if s >= 100 else f"{s:.2f}" if s >= 1 else f"{s:.3f}" if s >= 0.01 \
        else f"{s * 1000:.2f} ms"


@dataclass
class Row:
    part: str
    size: str
    method: str
    seconds: float | None
    ratio: str = ""
    notes: str = ""
    shown: str | None = None  # replaces the seconds column (e.g. "> 300 s")


ROWS: list[Row] = []
CHECKS: list[str] = []
FAILURES: list[str] = []


def row(*args, **kw) -> Row:
    r = Row(*args, **kw)
    ROWS.append(r)
    return r


def check(ok: bool, msg: str) -> None:
    (CHECKS if ok else FAILURES).append(msg)
    log(f"    check: {msg} {'OK' if ok else 'FAILED'}")


# --------------------------------------------------------------------------- child processes


def _child_entry(target, conn, args):
    os.setsid()  # own process group: a timeout ends the child and its joblib workers together
    warnings.simplefilter("ignore")
    try:
        target(conn, *args)
        conn.send(("done",))
    except BaseException as exc:  # report everything to the parent, then exit
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


def _end_group(pid: int) -> None:
    """Kill what is left of the child's own process group (pgid = the child's pid)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(label: str, target, args: tuple, timeout_s: float) -> tuple[dict, str]:
    """Run ``target(conn, *args)`` in a forked child; collect ("phase", name, payload)
    messages. A phase that sends nothing within ``timeout_s`` ends the child.

    Returns ``(phases by name, status)``; ``status`` is "ok" or why the child stopped, and
    names the phase that was running.
    """
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_entry, args=(target, send, args), daemon=False)
    proc.start()
    send.close()
    phases, status = {}, "ok"
    while True:
        if not recv.poll(timeout_s):
            _end_group(proc.pid)
            proc.join()
            status = f"timeout after {timeout_s:.0f} s"
            break
        try:
            msg = recv.recv()
        except EOFError:
            proc.join()
            status = f"child died (exit code {proc.exitcode})"
            break
        if msg[0] == "phase":
            phases[msg[1]] = msg[2]
        elif msg[0] == "running":
            log(f"    {label}: {msg[1]} …")
        elif msg[0] == "done":
            break
        elif msg[0] == "error":
            status = f"ERROR {msg[1]}"
            log(msg[2])
            break
    proc.join(timeout=30)
    if proc.is_alive():
        _end_group(proc.pid)
        proc.join()
    _end_group(proc.pid)  # leftover loky workers, if any
    return phases, status


def _child_timed(conn, name, fn, fast_s=FAST_S, repeat=3):
    """In a child: announce, time ``fn`` (best of 3 when fast), send the phase."""
    conn.send(("running", name))
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > fast_s:
            break
    return times, out


# --------------------------------------------------------------------------- data


def synthetic_points(n: int = N_POINTS, seed: int = SEED):
    """SYNTHETIC points (UTM 48N metres, and lon/lat): Gaussian blobs + uniform background."""
    from pyproj import Transformer

    cx, cy = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(*CENTRE_LONLAT)
    x0, y0 = cx - SIDE_M / 2, cy - SIDE_M / 2
    rng = np.random.default_rng(seed)
    n_blob = int(n * BLOB_SHARE)
    xs, ys = [rng.uniform(0, SIDE_M, n - n_blob)], [rng.uniform(0, SIDE_M, n - n_blob)]
    counts = [int(n_blob * b[3]) for b in BLOBS]
    counts[0] += n_blob - sum(counts)
    for (fx, fy, s, _), k in zip(BLOBS, counts):
        xs.append(rng.normal(fx * SIDE_M, s, k))
        ys.append(rng.normal(fy * SIDE_M, s, k))
    x = np.clip(np.concatenate(xs), 0, SIDE_M) + x0
    y = np.clip(np.concatenate(ys), 0, SIDE_M) + y0
    perm = rng.permutation(n)  # so that any prefix or subset mixes blobs and background
    x, y = x[perm], y[perm]
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(x, y)
    return x, y, np.asarray(lon), np.asarray(lat), (x0, y0, cx, cy)


def describe_data(x, frame):
    x0, y0, cx, cy = frame
    blobs = "; ".join(f"({fx * SIDE_M / 1000:.1f} km, {fy * SIDE_M / 1000:.1f} km) σ {s:.0f} m "
                      f"{share:.0%}" for fx, fy, s, share in BLOBS)
    log(f"SYNTHETIC data (not real POIs): {len(x):,} points in a {SIDE_M / 1000:.1f} km square of "
        f"UTM 48N ({UTM}), south-west corner ({x0:,.0f}, {y0:,.0f}), centre {CENTRE_LONLAT[0]}E "
        f"{CENTRE_LONLAT[1]}N; {BLOB_SHARE:.0%} uniform background, {BLOB_SHARE:.0%} in 5 "
        f"Gaussian blobs [{blobs}]; numpy default_rng({SEED}); lon/lat via pyproj")


# --------------------------------------------------------------------------- 1. Gi*


def _esda_child(conn, values, w):
    import esda
    import libpysal

    times, W = _child_timed(conn, "W = WSP(w).to_W()",
                            lambda: libpysal.weights.WSP(w).to_W(silence_warnings=True))
    conn.send(("phase", "W", {"times": times}))
    for name, kw in (("G_Local n_jobs=-1 (default)", {}), ("G_Local n_jobs=1", {"n_jobs": 1})):
        times, g = _child_timed(conn, name, lambda: esda.getisord.G_Local(
            values, W, transform="B", star=True, permutations=PERMUTATIONS, seed=0, **kw))
        conn.send(("phase", name, {"times": times, "z": np.asarray(g.Zs),
                                   "p_sim": np.asarray(g.p_sim)}))


def part_gi(lon, lat, x, y, frame, quick: bool) -> None:
    log()
    log(f"## 1. Gi* hot spots: H3 resolution {H3_RES} grids of point counts, "
        f"{PERMUTATIONS} permutations")
    _, _, cx, cy = frame
    for size, half in GRID_HALF_M.items():
        if quick and size == "~50k":
            log(f"  {size}: SKIPPED (--quick)")
            continue
        m = (np.abs(x - cx) < half) & (np.abs(y - cy) < half)
        t0 = time.perf_counter()
        g = hex_grid(lon[m], lat[m], H3_RES)
        t_grid = time.perf_counter() - t0
        n = len(g.sums)
        label = f"{n:,} cells"
        log(f"  {size}: {2 * half / 1000:.1f} km window, {m.sum():,} points -> {label}, "
            f"{g.w.nnz:,} neighbour links; hex_grid {t_grid:.2f} s (not compared)")
        t_ours, ours, runs = timed(f"OURS gi_star(permutations={PERMUTATIONS})",
                                   lambda: gi_star(g.sums, g.w, permutations=PERMUTATIONS))
        row("Gi*", label, f"OURS gi_star, {PERMUTATIONS} perms", t_ours, "1.0×",
            f"runs {', '.join(f'{t:.2f}' for t in runs)} s; hex_grid build {t_grid:.2f} s (not "
            f"counted); {int((ours.kind != 0).sum()):,} significant cells after FDR")
        phases, status = run_child("esda", _esda_child, (g.sums, g.w), ESDA_TIMEOUT_S)
        t_w = min(phases["W"]["times"]) if "W" in phases else None
        if t_w is not None:
            log(f"    libpysal WSP(w).to_W(): {', '.join(f'{t:.4f}' for t in phases['W']['times'])}"
                f" s -> {t_w:.4f} s")
            row("Gi*", label, "libpysal WSP(w).to_W()", t_w, f"{t_w / t_ours:.2f}×",
                "W construction only")
        else:
            row("Gi*", label, "libpysal WSP(w).to_W()", None, "", status, shown="—")
        for name in ("G_Local n_jobs=-1 (default)", "G_Local n_jobs=1"):
            if name not in phases:
                why = (f"> {ESDA_TIMEOUT_S:.0f} s" if status.startswith("timeout")
                       else "not run")
                log(f"    esda {name}: {why} ({status})")
                row("Gi*", label, f"esda {name}", None,
                    f"> {ESDA_TIMEOUT_S / t_ours:.0f}×" if why.startswith(">") else "",
                    status, shown=why)
                continue
            p = phases[name]
            t = min(p["times"])
            z_ok = np.isnan(p["z"]) == np.isnan(ours.z)
            dz = float(np.nanmax(np.abs(p["z"] - ours.z)))
            dp = float(np.mean(np.abs(p["p_sim"] - ours.p_sim)))
            how = f"best of {len(p['times'])}" if len(p["times"]) > 1 else "1 run"
            log(f"    esda {name}: {', '.join(f'{s:.4f}' for s in p['times'])} s -> {t:.4f} s "
                f"({how}); max |z diff| {dz:.2e}; mean |p_sim diff| {dp:.4f}")
            check(bool(z_ok.all()) and dz <= Z_TOL,
                  f"Gi* {label} {name}: max |z_ours - z_esda| = {dz:.2e} (tol {Z_TOL:g})")
            extra = f"; + W: {t + t_w:.2f} s = {(t + t_w) / t_ours:.1f}×" if t_w else ""
            row("Gi*", label, f"esda {name}", t, f"**{t / t_ours:.1f}×**",
                f"runs {', '.join(f'{s:.2f}' for s in p['times'])} s{extra}; max |Δz| {dz:.1e}; "
                f"mean |Δp_sim| {dp:.3f} (different random draws)")
        if not quick and size != "~50k":
            t9, _, runs9 = timed("OURS gi_star(permutations=9999)",
                                 lambda: gi_star(g.sums, g.w, permutations=9_999))
            row("Gi*", label, "OURS gi_star, 9,999 perms", t9, f"{t9 / t_ours:.1f}× ours-999",
                "what run_hotspots uses above 1,000 cells; no esda run at 9,999")


# --------------------------------------------------------------------------- 2. density


def _cell_centres(d):
    rows, cols = d.values.shape
    x0, y_top = d.transform.c, d.transform.f
    return (x0 + (np.arange(cols) + 0.5) * d.cell_m, y_top - (np.arange(rows) + 0.5) * d.cell_m)


def sklearn_capped(px, py, cells_x, cells_y, order, cap_s, rtol):
    """sklearn KernelDensity (gaussian, σ = bandwidth) on cells in ``order`` until ``cap_s``.

    Returns (fit s, query s, cells done, density per km² of the done cells)."""
    from sklearn.neighbors import KernelDensity

    t0 = time.perf_counter()
    kd = KernelDensity(kernel="gaussian", bandwidth=BANDWIDTH_M, rtol=rtol).fit(np.c_[px, py])
    t_fit = time.perf_counter() - t0
    cols = len(cells_x)
    done, chunk, spent, out = 0, 100, 0.0, []
    while done < len(order) and spent < cap_s:
        idx = order[done:done + chunk]
        r, c = np.divmod(idx, cols)
        t0 = time.perf_counter()
        s = kd.score_samples(np.c_[cells_x[c], cells_y[r]])
        dt_ = time.perf_counter() - t0
        spent += dt_
        out.append(np.exp(s) * len(px) * 1e6)  # mean density per m² -> points per km²
        done += len(idx)
        rate = len(idx) / max(dt_, 1e-6)
        chunk = int(max(100, min(rate * 5.0, rate * max(cap_s - spent, 0.0) + 1)))
    return t_fit, spent, done, np.concatenate(out)


def rel_diff(a, ref, floor):
    m = ref > floor
    r = np.abs(a[m] - ref[m]) / ref[m]
    return (float(r.max()), float(np.median(r)), int(m.sum())) if m.any() else (0.0, 0.0, 0)


def part_density(x, y, frame, quick: bool) -> None:
    log()
    log(f"## 2. Kernel density: gaussian σ = {BANDWIDTH_M:.0f} m, {CELL_M:.0f} m cells, "
        "500 × 500")
    x0, y0, _, _ = frame
    reach = 3 * BANDWIDTH_M
    bounds = (x0 - reach, y0 - reach, x0 + SIDE_M + reach, y0 + SIDE_M + reach)
    cap = SK_CAP_QUICK_S if quick else SK_CAP_S
    for npts in KDE_SIZES:
        sel = np.sort(np.random.default_rng([SEED, npts]).choice(len(x), npts, replace=False)) \
            if npts < len(x) else np.arange(len(x))
        px, py = x[sel], y[sel]
        label = f"{npts:,} pts"
        t_ours, d, runs = timed("OURS kernel_density (fast path)", lambda: kernel_density(
            px, py, bandwidth_m=BANDWIDTH_M, cell_m=CELL_M, kernel="gaussian", bounds=bounds))
        shape = d.values.shape
        vmax = float(d.values.max())
        floor = REL_FLOOR * vmax
        row("density", label, "OURS kernel_density (fast)", t_ours, "1.0×",
            f"{shape[0]}×{shape[1]} cells; runs {', '.join(f'{t:.3f}' for t in runs)} s; "
            f"max {vmax:,.0f} pts/km²; total {d.total:,.1f} of {npts:,}")
        de = None
        if not quick:
            t_ex, de, _ = timed("OURS kernel_density(exact=True)", lambda: kernel_density(
                px, py, bandwidth_m=BANDWIDTH_M, cell_m=CELL_M, kernel="gaussian", bounds=bounds,
                exact=True), fast_s=0.0)
            mx, med, k = rel_diff(d.values, de.values, floor)
            log(f"    fast vs exact (same truncated kernel), cells > 1 % of max ({k:,}): max rel "
                f"diff {mx:.2%}, median {med:.3%}")
            row("density", label, "OURS kernel_density(exact=True)", t_ex,
                f"{t_ex / t_ours:.0f}×", f"fast vs exact over the whole raster: max rel diff "
                f"{mx:.2%}, median {med:.3%} ({k:,} cells > 1 % of max) = the binning error")
        cells_x, cells_y = _cell_centres(d)
        order = np.random.default_rng([SEED, npts, 1]).permutation(shape[0] * shape[1])
        for rtol, name in ((0.0, "sklearn KernelDensity (default rtol=0)"),
                           (1e-3, "sklearn KernelDensity rtol=1e-3")):
            t_fit, t_q, done, sk = sklearn_capped(px, py, cells_x, cells_y, order, cap, rtol)
            total = shape[0] * shape[1]
            full = done == total
            est = t_fit + t_q * total / done
            r, c = np.divmod(order[:done], shape[1])
            mx, med, k = rel_diff(d.values[r, c], sk, floor)
            log(f"    {name}: fit {t_fit:.3f} s, {done:,} of {total:,} cells in {t_q:.1f} s"
                + ("" if full else f" -> EXTRAPOLATED full raster {est:,.0f} s")
                + f"; ours vs sklearn on those cells > 1 % of max ({k:,}): max rel diff {mx:.2%},"
                  f" median {med:.2%}")
            how = ("measured, all cells" if full
                   else f"**EXTRAPOLATED** from {done:,} random cells ({t_q:.0f} s cap)")
            note = (f"{how}; ours vs sklearn: max rel diff {mx:.1%}, median {med:.2%} ({k:,} cells "
                    f"> 1 % of max)")
            if de is not None:
                mxe, mede, _ = rel_diff(de.values[r, c], sk, floor)
                note += f"; ours exact vs sklearn: max {mxe:.1%}, median {mede:.2%}"
            ratio = f"{'' if full else '≈'}{est / t_ours:,.0f}×"
            row("density", label, name, est, ratio, note,
                shown=None if full else f"≈ {fmt_s(est)} (extrap.)")
    log("    scipy.stats.gaussian_kde: not compared (bandwidth = factor × data covariance, "
        "not a fixed σ in metres)")


# --------------------------------------------------------------------------- 3. clusters


def _cluster_child(conn, x, y, jobs):
    for name, n, method in jobs:
        px, py = x[:n], y[:n]  # points are in random order: any prefix is a fair sample
        times, lab = _child_timed(conn, name, lambda: point_clusters(
            px, py, method=method, eps_m=EPS_M, min_samples=MIN_SAMPLES))
        conn.send(("phase", name, {"times": times, "clusters": int(lab.max() + 1),
                                   "noise": float((lab < 0).mean())}))


def part_clusters(x, y, quick: bool) -> None:
    from sklearn.neighbors import KDTree

    log()
    log(f"## 3. point_clusters: DBSCAN eps {EPS_M:.0f} m, min_samples {MIN_SAMPLES}; HDBSCAN "
        f"min_cluster_size {MIN_SAMPLES} (both scikit-learn; no peer)")
    jobs = []
    for n in CLUSTER_SIZES:
        jobs.append((f"DBSCAN {n:,}", n, "dbscan"))
        if not (quick and n > 50_000):
            jobs.append((f"HDBSCAN {n:,}", n, "hdbscan"))
    for n in CLUSTER_SIZES:
        xy = np.c_[x[:n], y[:n]]
        nb = KDTree(xy).query_radius(xy[:: max(1, n // 5000)], EPS_M, count_only=True)
        log(f"    {n:,} points: neighbours within {EPS_M:.0f} m (sample): mean {nb.mean():.0f}, "
            f"max {nb.max():,}")
    phases, status = run_child("point_clusters", _cluster_child, (x, y, jobs), CLUSTER_TIMEOUT_S)
    t50 = None
    for name, n, method in jobs:
        label = f"{n:,} pts"
        if name in phases:
            p = phases[name]
            t = min(p["times"])
            if method == "hdbscan" and n == 50_000:
                t50 = t
            log(f"    {name}: {', '.join(f'{s:.3f}' for s in p['times'])} s -> {t:.3f} s; "
                f"{p['clusters']:,} clusters, {p['noise']:.0%} noise")
            row("clusters", label, f"point_clusters {method}", t, "",
                f"runs {', '.join(f'{s:.2f}' for s in p['times'])} s; {p['clusters']:,} "
                f"clusters, {p['noise']:.0%} noise")
        else:
            why = f"> {CLUSTER_TIMEOUT_S:.0f} s" if status.startswith("timeout") else "not run"
            note = status
            if method == "hdbscan" and t50 and why.startswith(">"):
                note += (f"; n² scaling from 50k would give ≈ {t50 * (n / 50_000) ** 2:,.0f} s "
                         f"(ESTIMATE)")
            log(f"    {name}: {why} ({note})")
            row("clusters", label, f"point_clusters {method}", None, "", note, shown=why)
    if quick:
        row("clusters", "200,000 pts", "point_clusters hdbscan", None, "", "skipped (--quick)",
            shown="—")


# --------------------------------------------------------------------------- 4. Huff


def huff_reference(a: list, cost: list, alpha=1.0, beta=2.0, min_cost=1.0) -> list:
    """Plain Python Huff probabilities: lists in, lists out."""
    out = []
    for row_c in cost:
        u = []
        for aj, c in zip(a, row_c):
            u.append(aj ** alpha * max(c, min_cost) ** -beta if math.isfinite(c) else 0.0)
        tot = sum(u)
        out.append([v / tot for v in u] if tot > 0 else [0.0] * len(u))
    return out


def part_huff() -> None:
    log()
    log(f"## 4. Huff: {HUFF_ORIGINS:,} origins × {HUFF_CENTRES} centres (SYNTHETIC costs)")
    rng = np.random.default_rng([SEED, 4])
    a = rng.uniform(1_000, 50_000, HUFF_CENTRES)  # e.g. floor area, m²
    a[7] = 0.0  # a centre with no attraction
    cost = rng.uniform(0.0, 3_600.0, (HUFF_ORIGINS, HUFF_CENTRES))  # seconds; some below 1 s
    cost[rng.random(cost.shape) < 0.3] = np.inf  # unreachable centres
    cost[5] = np.inf  # an origin reaching nothing
    t_ours, p, runs = timed(f"OURS huff_probabilities {HUFF_ORIGINS:,} × {HUFF_CENTRES}",
                            lambda: huff_probabilities(a, cost))
    t_ours_sub, p_sub, _ = timed(f"OURS huff_probabilities {HUFF_REF:,} × {HUFF_CENTRES}",
                                 lambda: huff_probabilities(a, cost[:HUFF_REF]))
    a_l, c_l = a.tolist(), cost[:HUFF_REF].tolist()  # conversion not timed
    t_py, ref, _ = timed(f"Python loops {HUFF_REF:,} × {HUFF_CENTRES}",
                         lambda: huff_reference(a_l, c_l))
    diff = float(np.max(np.abs(np.array(ref) - p_sub)))
    diff_full = float(np.max(np.abs(np.array(ref) - p[:HUFF_REF])))
    check(max(diff, diff_full) <= HUFF_TOL,
          f"Huff: max |ours - python| on {HUFF_REF:,} origins = {max(diff, diff_full):.1e} "
          f"(tol {HUFF_TOL:g})")
    scale = HUFF_ORIGINS / HUFF_REF
    row("Huff", f"{HUFF_ORIGINS:,} × {HUFF_CENTRES}", "OURS huff_probabilities", t_ours, "1.0×",
        f"runs {', '.join(f'{t:.3f}' for t in runs)} s; {HUFF_REF:,}-origin subset "
        f"{t_ours_sub * 1000:.2f} ms")
    row("Huff", f"{HUFF_ORIGINS:,} × {HUFF_CENTRES}", "plain Python loops", t_py * scale,
        f"≈{t_py * scale / t_ours:,.0f}×",
        f"**EXTRAPOLATED** ×{scale:.0f} from {HUFF_REF:,} origins ({t_py:.3f} s; measured ratio "
        f"on that subset {t_py / t_ours_sub:,.0f}×); max |Δp| {max(diff, diff_full):.1e}",
        shown=f"≈ {fmt_s(t_py * scale)} (extrap.)")


# --------------------------------------------------------------------------- report


def header(quick: bool) -> None:
    try:
        cpus_usable = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus_usable = os.cpu_count()
    log("# bench_clusters: Gi*, kernel density, point clusters, Huff")
    log(f"date {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; mode "
        f"{'--quick' if quick else 'full'}")
    log(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"os.cpu_count() {os.cpu_count()}, usable {cpus_usable}; load average {loadavg()}")
    log(f"python {platform.python_version()}; " + ", ".join(
        f"{d} {version(d)}" for d in ("numpy", "scipy", "scikit-learn", "esda", "libpysal", "h3",
                                      "shapely", "pyproj", "joblib", "numba")))
    if version("numba") == "not installed":
        log("note: numba is not installed, so esda's permutation engine (crand) runs as plain "
            "Python/numpy (its @njit falls back to a no-op)")


def print_table() -> None:
    log()
    log("## Results (ratio = time ÷ OURS time of the same part and size)")
    log()
    log("| part | size | method | time (s) | ratio | notes |")
    log("|---|---|---|---:|---:|---|")
    for r in ROWS:
        shown = r.shown if r.shown is not None else fmt_s(r.seconds)
        log(f"| {r.part} | {r.size} | {r.method} | {shown} | {r.ratio} | {r.notes} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="skip the ~50k-cell Gi* grid, 9,999 permutations, exact density and "
                         "HDBSCAN at 200k; cap sklearn at 20 s")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    header(args.quick)
    x, y, lon, lat, frame = synthetic_points()
    describe_data(x, frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part_gi(lon, lat, x, y, frame, args.quick)
        part_density(x, y, frame, args.quick)
        part_clusters(x, y, args.quick)
        part_huff()
    print_table()
    log()
    log(f"total wall time {time.perf_counter() - t_start:,.0f} s; load average at the end "
        f"{loadavg()}")
    if FAILURES:
        log("CORRECTNESS FAILED:")
        for f in FAILURES:
            log(f"  {f}")
        return 1
    log(f"correctness: {len(CHECKS)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
