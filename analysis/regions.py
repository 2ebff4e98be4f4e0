"""Max-p regions on a graph of atoms: the construction of Duque, Anselin & Rey (2012) and
Wei, Rey & Knaap (2021) with an upper bound (the extended max-p) and a longest walk to the
region's centre; and PySAL spopt's :class:`~spopt.region.MaxPHeuristic` on the same graph.

Arrays in, arrays out; atoms are numbered 0…n-1, their graph is a CSR adjacency."""

from __future__ import annotations

import heapq
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

MAX_SPOPT_ATOMS = 3000  # spopt's max-p holds a dense atoms × atoms matrix


@dataclass(frozen=True)
class Bounds:
    """Population floor and ceiling (persons) and the longest walk to the centre (s)."""

    floor: float
    ceiling: float = np.inf
    max_time_s: float = np.inf

    def __post_init__(self):
        if not (0 <= self.floor <= self.ceiling):
            raise ValueError(f"need 0 ≤ floor ≤ ceiling, got {self.floor} and {self.ceiling}")
        if not self.max_time_s > 0:
            raise ValueError(f"the longest walk must be positive, got {self.max_time_s}")


def sum_by(labels: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sums of ``values`` per label 0…n-1."""
    return np.bincount(labels, weights=np.asarray(values, float), minlength=n)


class PairTimes:
    """Walking times (s) from members to centres, kept for the pairs within a limit."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_cols: int):
        key = np.asarray(rows, np.int64) * n_cols + np.asarray(cols, np.int64)
        order = np.argsort(key, kind="stable")
        self.key, self.values, self.n_cols = key[order], np.asarray(values, float)[order], n_cols

    @classmethod
    def of(cls, m: sp.sparray) -> PairTimes:
        coo = m.tocoo()
        return cls(coo.row, coo.col, coo.data, m.shape[1])

    def get(self, rows, cols) -> np.ndarray:
        """Time of each (row, col) pair; ``inf`` where not kept."""
        key = np.asarray(rows, np.int64) * self.n_cols + np.asarray(cols, np.int64)
        pos = np.minimum(np.searchsorted(self.key, key), max(len(self.key) - 1, 0))
        found = (len(self.key) > 0) & (self.key[pos] == key) if len(self.key) else \
            np.zeros(np.shape(key), bool)
        return np.where(found, self.values[pos] if len(self.key) else np.inf, np.inf)

    def row(self, r: int) -> np.ndarray:
        out = np.full(self.n_cols, np.inf)
        lo, hi = np.searchsorted(self.key, [r * self.n_cols, (r + 1) * self.n_cols])
        out[self.key[lo:hi] - r * self.n_cols] = self.values[lo:hi]
        return out


def _grow(seed, adj, pop, free, floor, ceiling, prio_row, seen) -> tuple[list[int], float]:
    """Grow a region from ``seed`` over free atoms, nearest first, up to ``floor``.

    ``seen``: a scratch array of False, left as found. Each atom is queued at most once
    (its priority, the walk to the seed, never changes)."""
    members, total = [seed], float(pop[seed])
    seen[seed] = True
    touched = [np.array([seed])]
    heap: list = []
    ok = free & np.isfinite(prio_row)

    def push(a):
        nb = adj.indices[adj.indptr[a]:adj.indptr[a + 1]]
        nb = nb[ok[nb] & ~seen[nb]]
        seen[nb] = True
        touched.append(nb)
        for b, p in zip(nb.tolist(), prio_row[nb].tolist()):
            heapq.heappush(heap, (p, b))

    push(seed)
    while total < floor and heap:
        _, b = heapq.heappop(heap)
        if total + pop[b] > ceiling:
            continue
        members.append(b)
        total += pop[b]
        push(b)
    seen[np.concatenate(touched)] = False
    return members, total


def _construct(adj, pop, bounds: Bounds, prio, order, recentre=None, within=None
               ) -> tuple[np.ndarray, np.ndarray]:
    """One construction: atom labels and each region's centre atom. ``within``: per atom,
    the residents within the walk of it (seeds that cannot reach the floor are skipped)."""
    n = len(pop)
    label = np.full(n, -1, np.int64)
    centres: list[int] = []
    free = np.ones(n, bool)
    seen = np.zeros(n, bool)
    for relax in (False, True):  # second pass: what is left, below the floor
        floor = np.inf if relax else bounds.floor
        seeds = order if not relax else np.flatnonzero(label < 0)[np.argsort(
            -pop[label < 0], kind="stable")]
        for s in seeds:
            if label[s] >= 0 or (not relax and within is not None and within[s] < floor):
                continue
            members, total = _grow(s, adj, pop, free, floor, bounds.ceiling, prio(s), seen)
            if recentre is not None and not relax and total >= floor:
                c = recentre(np.array(members))
                if c != s:  # regrow from the middle of what grew: rounder circles
                    again = _grow(c, adj, pop, free, floor, bounds.ceiling, prio(c), seen)
                    if again[1] >= floor:
                        (members, total), s = again, c
            if total >= floor or relax:
                label[members] = len(centres)
                free[members] = False
                centres.append(int(s))
        if not relax:
            _enclaves(adj, pop, label, np.array(centres), bounds, prio)
            free = label < 0
    return label, np.array(centres, np.int64)


def _enclaves(adj, pop, label, centres, bounds, prio) -> None:
    """Unassigned atoms join a neighbouring region with room, nearest centre first."""
    if not len(centres):
        return
    load = sum_by(label[label >= 0], pop[label >= 0], len(centres))
    rows = {}
    changed = True
    while changed:
        changed = False
        for e in np.flatnonzero(label < 0):
            nb = adj.indices[adj.indptr[e]:adj.indptr[e + 1]]
            regs = np.unique(label[nb][label[nb] >= 0])
            best, best_t = -1, np.inf
            for r in regs:
                if load[r] + pop[e] > bounds.ceiling:
                    continue
                c = centres[r]
                if c not in rows:
                    rows[c] = prio(c)
                t = rows[c][e]
                if t < best_t:
                    best, best_t = r, t
            if best >= 0:
                label[e] = best
                load[best] += pop[e]
                changed = True


def _centre_times(label, centres, x, y, reach) -> np.ndarray:
    """Each atom's walk to its region's centre (straight line without ``reach``)."""
    c = centres[label]
    if reach is None:
        return np.hypot(x - x[c], y - y[c])
    return reach.get(c, np.arange(len(label)))


def grow_regions(adj: sp.csr_array, pop: np.ndarray, x: np.ndarray, y: np.ndarray,
                 bounds: Bounds, reach: PairTimes | None, *, iterations: int = 16,
                 seed: int = 0, recentre: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Network max-p construction with floor, ceiling and longest walk (see the module).

    ``reach``: walking times member → centre within the longest walk (None: no limit, then
    nearest is straight-line). Returns atom labels (0…k-1) and each region's centre atom.
    """
    pop = np.asarray(pop, float)
    if reach is None:
        def prio(c):
            return np.hypot(x - x[c], y - y[c])
    else:
        def prio(c):
            return reach.row(c)
    def middle(m):  # the member with the shortest longest walk from the others
        if reach is None:
            far = np.hypot(x[m][:, None] - x[m][None, :], y[m][:, None] - y[m][None, :])
        else:
            far = reach.get(np.repeat(m, len(m)), np.tile(m, len(m))).reshape(len(m), -1)
        return int(m[np.argmin(far.max(axis=1))])

    within = None if reach is None else sum_by(
        reach.key // reach.n_cols, pop[reach.key % reach.n_cols], len(pop))
    rng = np.random.default_rng(seed)
    # seed orders tried first: sweeps across the area (circles packed side by side), then
    # the most populous atoms first; then random orders
    sweeps = [np.lexsort((y, x)), np.lexsort((x, y)), np.argsort(x + y, kind="stable"),
              np.argsort(x - y, kind="stable"), np.argsort(-pop, kind="stable")]
    best, best_score = None, None
    for it in range(max(1, iterations)):
        order = sweeps[it] if it < len(sweeps) else rng.permutation(len(pop))
        label, centres = _construct(adj, pop, bounds, prio, order,
                                    middle if recentre else None, within)
        k = len(centres)
        rp = sum_by(label, pop, k)
        t = _centre_times(label, centres, x, y, reach)
        ok_t = np.full(k, True) if reach is None else \
            np.bincount(label, weights=~np.isfinite(t), minlength=k) == 0
        ok = (rp >= bounds.floor) & (rp <= bounds.ceiling) & ok_t
        spread = float(np.sum(pop * np.where(np.isfinite(t), t, 0)))
        score = (int(ok.sum()), -float(rp[~ok].sum()), -spread)
        if best_score is None or score > best_score:
            best, best_score = (label, centres), score
    return best


def spopt_regions(adj: sp.csr_array, pop: np.ndarray, x: np.ndarray, y: np.ndarray,
                  floor: float, *, iterations: int = 8, seed: int = 0) -> np.ndarray:
    """Atom labels from spopt's max-p (floor only) on the network contiguity; components
    below the floor and single atoms stay regions of their own."""
    import pandas as pd
    from libpysal.weights import WSP
    from spopt.region import MaxPHeuristic

    pop = np.asarray(pop, float)
    if len(pop) > MAX_SPOPT_ATOMS:
        raise ValueError(f"{len(pop):,} atoms are more than spopt's max-p handles here "
                         f"({MAX_SPOPT_ATOMS:,}): use a larger unit or the network method")
    _, comp = connected_components(adj, directed=False)
    label = np.full(len(pop), -1, np.int64)
    k = 0
    catch = warnings.catch_warnings()
    catch.__enter__()
    state = np.random.get_state()  # spopt draws from numpy's global generator
    try:
        np.random.seed(seed)
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # pandas, in spopt
        warnings.filterwarnings("ignore", category=FutureWarning)
        for c in np.unique(comp):
            idx = np.flatnonzero(comp == c)
            if len(idx) == 1 or pop[idx].sum() < floor or pop[idx].max() >= pop[idx].sum():
                label[idx] = k
                k += 1
                continue
            sub = sp.csr_matrix(adj[idx][:, idx])
            w = WSP(sub).to_W(silence_warnings=True)
            df = pd.DataFrame({"x": x[idx], "y": y[idx], "pop": pop[idx]})
            model = MaxPHeuristic(df, w, ["x", "y"], "pop", floor, top_n=2,
                                  max_iterations_construction=iterations,
                                  max_iterations_sa=1, policy="keep")
            model.solve()
            lab = np.unique(np.asarray(model.labels_), return_inverse=True)[1].ravel()
            label[idx] = k + lab
            k += int(lab.max()) + 1
    finally:
        np.random.set_state(state)
        catch.__exit__(None, None, None)
    return label
