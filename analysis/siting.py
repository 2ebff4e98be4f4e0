"""Choosing hub sites: maximal covering, set cover and p-median on sparse coverage data.

``cover`` is a sparse candidates × demand matrix: entry (j, i) is the walking time (s)
from demand i to candidate j where it is within the threshold (explicit zeros allowed).
Solvers: greedy, swap local search, and an exact MIP with HiGHS that reports the
optimum or its bound and gap. All objectives are in persons (or person-seconds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from analysis.coverage import is_covered


@dataclass
class SitingResult:
    """Chosen sites (candidate indices, in order of selection) and the proof of quality."""

    sites: list[int]
    objective: float  # newly covered persons (mclp), sites (cover), person-seconds (pmedian)
    bound: float  # best bound known on the optimum (equal to objective when proven)
    solver: str
    seconds: float
    gains: list[float] = field(default_factory=list)  # greedy marginal gain of each site
    status: str = "heuristic"

    @property
    def gap(self) -> float:
        """Relative gap between the objective and the bound (0 when proven optimal)."""
        if self.bound == self.objective:
            return 0.0
        if not np.isfinite(self.bound):
            return float("inf")  # no bound known
        return abs(self.bound - self.objective) / max(abs(self.bound), abs(self.objective), 1e-12)


def coverage_matrix(times: sp.csr_array, threshold_s: float) -> sp.csr_array:
    """0/1 candidates × demand matrix of pairs within ``threshold_s`` (one coverage rule)."""
    t = sp.csr_array(times)
    keep = is_covered(t.data, threshold_s)
    data = keep.astype(np.float64)
    m = sp.csr_array((data, t.indices, t.indptr), shape=t.shape)
    m.eliminate_zeros()
    return m


def _check(cover: sp.csr_array, weights: np.ndarray, p: int | None = None) -> None:
    if cover.shape[1] != len(weights):
        raise ValueError(f"cover has {cover.shape[1]} demand columns but weights has {len(weights)}")
    if p is not None:
        if p < 1:
            raise ValueError(f"the number of sites must be at least 1, got {p}")
        if p > cover.shape[0]:
            raise ValueError(f"{p} sites asked for but there are only {cover.shape[0]} candidates")


def _allowed(site: int, chosen_per_group: np.ndarray, groups: np.ndarray | None,
             max_per_group: np.ndarray | None) -> bool:
    if groups is None or max_per_group is None:
        return True
    return chosen_per_group[groups[site]] < max_per_group[groups[site]]


def greedy_mclp(cover: sp.csr_array, weights: np.ndarray, p: int, *,
                covered: np.ndarray | None = None, groups: np.ndarray | None = None,
                max_per_group: np.ndarray | None = None) -> SitingResult:
    """Greedy maximal covering: add the site that newly covers most weight, ``p`` times.

    ``covered`` marks demand already covered (by existing facilities); ``groups`` gives
    each candidate's district index and ``max_per_group`` the most sites per district.
    Within (1 − 1/e) of the optimum (coverage is submodular).
    """
    start = time.perf_counter()
    _check(cover, weights, p)
    cover = sp.csr_array(cover, dtype=np.float64)
    csc = cover.tocsc()
    w = np.where(covered, 0.0, weights) if covered is not None else weights.astype(float)
    gains = cover @ w
    chosen: list[int] = []
    chosen_gains: list[float] = []
    per_group = np.zeros(int(groups.max()) + 1 if groups is not None and len(groups) else 1, int)
    blocked = np.zeros(cover.shape[0], bool)
    for _ in range(p):
        masked = np.where(blocked, -np.inf, gains)
        j = int(np.argmax(masked))
        if not np.isfinite(masked[j]):
            break
        chosen.append(j)
        chosen_gains.append(float(gains[j]))
        blocked[j] = True
        if groups is not None:
            per_group[groups[j]] += 1
            if not _allowed(j, per_group, groups, max_per_group):
                blocked |= groups == groups[j]
        newly = cover.indices[cover.indptr[j]:cover.indptr[j + 1]]
        newly = newly[w[newly] > 0]
        if len(newly):
            gains -= csc[:, newly] @ w[newly]
            w = w.copy()
            w[newly] = 0.0
    objective = float(sum(chosen_gains))
    return SitingResult(chosen, objective, np.inf, "greedy", time.perf_counter() - start,
                        chosen_gains)


def covered_weight(cover: sp.csr_array, weights: np.ndarray, sites: list[int],
                   covered: np.ndarray | None = None) -> float:
    """Weight newly covered by ``sites`` (on top of ``covered``)."""
    w = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    hit = np.zeros(cover.shape[1], bool)
    if sites:
        hit[sp.csr_array(cover)[sites].indices] = True
    return float(w[hit].sum())


def swap_mclp(cover: sp.csr_array, weights: np.ndarray, start: SitingResult, *,
              covered: np.ndarray | None = None, groups: np.ndarray | None = None,
              max_per_group: np.ndarray | None = None, max_rounds: int = 100) -> SitingResult:
    """Improve a maximal-covering solution by best single swaps until none helps."""
    t0 = time.perf_counter()
    cover = sp.csr_array(cover, dtype=np.float64)
    w = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    sites = list(start.sites)
    count = np.asarray(cover[sites].sum(axis=0)).ravel() if sites else np.zeros(cover.shape[1])
    for _ in range(max_rounds):
        base = cover @ (w * (count == 0))  # what each candidate adds now
        only = w * (count == 1)
        best = (1e-9, None, None)
        in_set = np.zeros(cover.shape[0], bool)
        in_set[sites] = True
        for k, s in enumerate(sites):
            row = np.zeros(cover.shape[1])
            row[cover.indices[cover.indptr[s]:cover.indptr[s + 1]]] = 1.0
            loss = float(only @ row)
            delta = base + cover @ (only * row) - loss
            delta[in_set] = -np.inf
            if groups is not None and max_per_group is not None:
                per = np.bincount(groups[[x for x in sites if x != s]], minlength=len(max_per_group))
                delta[per[groups] >= max_per_group[groups]] = -np.inf
            j = int(np.argmax(delta))
            if delta[j] > best[0]:
                best = (float(delta[j]), k, j)
        if best[1] is None:
            break
        _, k, j = best
        old = sites[k]
        sites[k] = j
        count -= np.bincount(cover.indices[cover.indptr[old]:cover.indptr[old + 1]],
                             minlength=cover.shape[1])
        count += np.bincount(cover.indices[cover.indptr[j]:cover.indptr[j + 1]],
                             minlength=cover.shape[1])
    objective = covered_weight(cover, weights, sites, covered)
    return SitingResult(sites, objective, start.bound, start.solver + "+swap",
                        start.seconds + time.perf_counter() - t0, gains_in_order(
                            cover, weights, sites, covered))


def gains_in_order(cover, weights, sites, covered) -> list[float]:
    """Marginal gain of each site in the given order."""
    out, prev = [], 0.0
    for k in range(1, len(sites) + 1):
        now = covered_weight(cover, weights, sites[:k], covered)
        out.append(now - prev)
        prev = now
    return out


def _aggregate_demand(cover: sp.csr_array, w: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Merge demand columns covered by the same candidate set (their weights add up).

    Columns are grouped by two random hashes of their candidate sets; unreachable or
    weightless demand is dropped. Exact up to a 2^-100 chance of a hash collision.
    """
    csc = sp.csc_array(cover)
    reach = np.diff(csc.indptr) > 0
    keep = np.flatnonzero(reach & (w > 0))
    csc = csc[:, keep]
    rng = np.random.default_rng(12345)
    h1 = rng.integers(1, 2**62, cover.shape[0]).astype(np.float64)
    h2 = rng.integers(1, 2**62, cover.shape[0]).astype(np.float64)
    key = np.column_stack([csc.T @ h1, csc.T @ h2, np.diff(csc.indptr)])
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    agg_w = np.bincount(inv.ravel(), weights=w[keep])
    return sp.csr_array(csc[:, first]), agg_w


def _new_highs(highspy):
    """A HiGHS instance, with the banner it prints on creation sent to /dev/null."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs(c, a: sp.csc_array, row_lo, row_hi, col_lo, col_hi, integer, sense_max: bool,
           time_limit_s: float, start: np.ndarray | None, rel_gap: float):
    import highspy

    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_ = np.asarray(c, float)
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lo, float), np.asarray(col_hi, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lo, float), np.asarray(row_hi, float)
    lp.sense_ = highspy.ObjSense.kMaximize if sense_max else highspy.ObjSense.kMinimize
    a = sp.csc_array(a)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integer]
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, float))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.asarray(h.getSolution().col_value) if info.primal_solution_status else None
    return x, info.objective_function_value, info.mip_dual_bound, status


def mip_mclp(cover: sp.csr_array, weights: np.ndarray, p: int, *,
             covered: np.ndarray | None = None, groups: np.ndarray | None = None,
             min_per_group: np.ndarray | None = None, max_per_group: np.ndarray | None = None,
             time_limit_s: float = 60.0, rel_gap: float = 1e-4,
             warm_start: SitingResult | None = None) -> SitingResult:
    """Maximal covering solved by HiGHS (aggregated demand), warm-started from a heuristic.

    Maximise Σ w_i y_i subject to y_i ≤ Σ_{j covers i} x_j, Σ x_j = p, district quotas;
    x binary, 0 ≤ y ≤ 1. Returns the best solution with HiGHS's bound and gap.
    """
    t0 = time.perf_counter()
    _check(cover, weights, p)
    cover = sp.csr_array(cover, dtype=np.float64)
    w = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    agg, aw = _aggregate_demand(cover, w)
    n, m = agg.shape  # candidates, aggregated demand
    # columns: x_0..x_{n-1}, y_0..y_{m-1}; rows: y_i - Σ_j a_ji x_j ≤ 0, Σ x = p, quotas
    link = sp.hstack([-agg.T, sp.eye_array(m)], format="csc")
    rows = [link, sp.csr_array(np.r_[np.ones(n), np.zeros(m)][None, :])]
    lo, hi = [np.full(m, -np.inf), [p]], [np.zeros(m), [p]]
    if groups is not None and (min_per_group is not None or max_per_group is not None):
        k = int(groups.max()) + 1
        g = sp.csr_array((np.ones(n), (groups, np.arange(n))), shape=(k, n))
        rows.append(sp.hstack([g, sp.csr_array((k, m))]))
        lo.append(np.zeros(k) if min_per_group is None else np.asarray(min_per_group, float))
        hi.append(np.full(k, np.inf) if max_per_group is None else np.asarray(max_per_group, float))
        if min_per_group is not None and np.sum(min_per_group) > p:
            raise ValueError(f"the district minimums add up to {int(np.sum(min_per_group))} sites, "
                             f"more than the {p} asked for")
    a = sp.vstack(rows, format="csc")
    start = None
    if warm_start is not None:
        x0 = np.zeros(n)
        x0[warm_start.sites] = 1
        start = np.r_[x0, np.minimum(1.0, agg.T @ x0)]
    x, obj, bound, status = _highs(np.r_[np.zeros(n), aw], a, np.concatenate(lo),
                                   np.concatenate(hi), np.zeros(n + m), np.ones(n + m),
                                   [True] * n + [False] * m, True, time_limit_s, start, rel_gap)
    if x is None:
        if status.lower().startswith("infeasible"):
            raise ValueError("no choice of sites meets the district quotas")
        raise RuntimeError(f"HiGHS found no solution in {time_limit_s:g} s ({status})")
    sites = [int(j) for j in np.flatnonzero(x[:n] > 0.5)]
    sites = _greedy_order(cover, weights, sites, covered)
    objective = covered_weight(cover, weights, sites, covered)
    bound = max(float(bound), objective) if np.isfinite(bound) else objective
    return SitingResult(sites, objective, bound if status != "Optimal" else objective,
                        "highs-mip", time.perf_counter() - t0,
                        gains_in_order(cover, weights, sites, covered), status)


def _greedy_order(cover, weights, sites, covered) -> list[int]:
    """Order chosen sites by greedy marginal gain (for reporting)."""
    if not sites:
        return sites
    sub = sp.csr_array(cover)[sites]
    r = greedy_mclp(sub, weights, len(sites), covered=covered)
    return [sites[j] for j in r.sites]


def solve_mclp(cover: sp.csr_array, weights: np.ndarray, p: int, *,
               covered: np.ndarray | None = None, groups: np.ndarray | None = None,
               min_per_group: np.ndarray | None = None, max_per_group: np.ndarray | None = None,
               time_limit_s: float = 10.0, exact: bool = True) -> SitingResult:
    """Greedy, then swaps, then (when ``exact``) HiGHS from that start for a bound and gap."""
    g = greedy_mclp(cover, weights, p, covered=covered, groups=groups, max_per_group=max_per_group)
    best = swap_mclp(cover, weights, g, covered=covered, groups=groups,
                     max_per_group=max_per_group)
    if min_per_group is not None:
        exact = True  # only the MIP enforces minimums
    if not exact:
        if groups is None:  # the relaxation ignores quotas, so it would still be valid
            best.bound = max(best.objective, lagrangian_bound_mclp(
                cover, weights, p, covered=covered, lower=best.objective))
            best.solver += "+lagrangian-bound"
        return best
    mip = mip_mclp(cover, weights, p, covered=covered, groups=groups, min_per_group=min_per_group,
                   max_per_group=max_per_group, time_limit_s=time_limit_s, warm_start=best)
    if mip.objective + 1e-9 >= best.objective or min_per_group is not None:
        return mip
    best.bound = mip.bound
    best.solver = best.solver + "+highs-bound"
    best.status = mip.status
    return best


def greedy_cover(cover: sp.csr_array, weights: np.ndarray, target: float, *,
                 covered: np.ndarray | None = None, max_sites: int | None = None) -> SitingResult:
    """Fewest sites (greedy) until ``target`` weight is covered, counting ``covered`` demand.

    Raises ``ValueError`` when even every candidate together cannot reach the target.
    """
    t0 = time.perf_counter()
    _check(cover, weights)
    w = np.asarray(weights, float)
    already = float(w[covered].sum()) if covered is not None else 0.0
    reachable = np.zeros(len(w), bool) if covered is None else covered.copy()
    reachable[np.diff(sp.csc_array(cover).indptr) > 0] = True
    if w[reachable].sum() + 1e-9 < target:
        raise ValueError(f"the target of {target:,.0f} persons cannot be reached: all candidates "
                         f"together with existing facilities cover {w[reachable].sum():,.0f}")
    need = target - already
    if need <= 0:
        return SitingResult([], 0.0, 0.0, "greedy", time.perf_counter() - t0, [], "Optimal")
    r = greedy_mclp(cover, w, min(max_sites or cover.shape[0], cover.shape[0]), covered=covered)
    total, k = 0.0, 0
    for k, gain in enumerate(r.gains, start=1):
        total += gain
        if total + 1e-9 >= need:
            break
    else:
        raise ValueError(f"{max_sites} sites cannot reach the target of {target:,.0f} persons")
    sites, gains = r.sites[:k], r.gains[:k]
    # a bound on the fewest sites: the largest gains must add up to the need
    order = np.cumsum(np.sort(sp.csr_array(cover, dtype=np.float64) @
                              np.where(covered, 0.0, w) if covered is not None else
                              sp.csr_array(cover, dtype=np.float64) @ w)[::-1])
    bound = float(np.searchsorted(order, need - 1e-9) + 1)
    return SitingResult(sites, float(len(sites)), bound, "greedy", time.perf_counter() - t0, gains,
                        "Optimal" if bound == len(sites) else "heuristic")


def mip_cover(cover: sp.csr_array, weights: np.ndarray, target: float, *,
              covered: np.ndarray | None = None, time_limit_s: float = 60.0,
              warm_start: SitingResult | None = None) -> SitingResult:
    """Fewest sites covering ``target`` weight, solved by HiGHS with a bound and gap."""
    t0 = time.perf_counter()
    w = np.asarray(weights, float)
    already = float(w[covered].sum()) if covered is not None else 0.0
    need = target - already
    cover = sp.csr_array(cover, dtype=np.float64)
    agg, aw = _aggregate_demand(cover, np.where(covered, 0.0, w) if covered is not None else w)
    n, m = agg.shape
    link = sp.hstack([-agg.T, sp.eye_array(m)], format="csc")
    total = sp.csr_array(np.r_[np.zeros(n), aw][None, :])
    a = sp.vstack([link, total], format="csc")
    start = None
    if warm_start is not None:
        x0 = np.zeros(n)
        x0[warm_start.sites] = 1
        start = np.r_[x0, np.minimum(1.0, agg.T @ x0)]
    x, obj, bound, status = _highs(np.r_[np.ones(n), np.zeros(m)], a,
                                   np.r_[np.full(m, -np.inf), need], np.r_[np.zeros(m), np.inf],
                                   np.zeros(n + m), np.ones(n + m), [True] * n + [False] * m,
                                   False, time_limit_s, start, 1e-6)
    if x is None:
        raise RuntimeError(f"HiGHS found no solution in {time_limit_s:g} s ({status})")
    sites = _greedy_order(cover, w, [int(j) for j in np.flatnonzero(x[:n] > 0.5)], covered)
    bound = float(np.ceil(bound - 1e-6)) if np.isfinite(bound) else float(len(sites))
    return SitingResult(sites, float(len(sites)), len(sites) if status == "Optimal" else bound,
                        "highs-mip", time.perf_counter() - t0,
                        gains_in_order(cover, w, sites, covered), status)


def _row_gains(times: sp.csr_array, weights: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Σ_i w_i max(0, cost_i − t_ji) for every candidate j (sparse rows)."""
    imp = np.maximum(0.0, cost[times.indices] - times.data) * weights[times.indices]
    out = np.zeros(times.shape[0])
    nz = np.diff(times.indptr) > 0
    out[nz] = np.add.reduceat(imp, times.indptr[:-1][nz])
    return out


def site_costs(times: sp.csr_array, sites: list[int], base: np.ndarray) -> np.ndarray:
    """Per demand: min of ``base`` and the times to the given sites (rows)."""
    cost = base.copy()
    for s in sites:
        cols = times.indices[times.indptr[s]:times.indptr[s + 1]]
        np.minimum.at(cost, cols, times.data[times.indptr[s]:times.indptr[s + 1]])
    return cost


def pmedian(times: sp.csr_array, weights: np.ndarray, p: int, *, penalty_s: float,
            existing_s: np.ndarray | None = None, max_rounds: int = 50) -> SitingResult:
    """p-median: minimise Σ w_i × walking time to the nearest site (greedy + swaps).

    ``times`` holds candidate → demand times within a cut-off; demand beyond every
    site counts at ``penalty_s``; ``existing_s`` are times to existing facilities.
    """
    t0 = time.perf_counter()
    _check(times, weights, p)
    times = sp.csr_array(times)
    w = np.asarray(weights, float)
    base = np.full(len(w), float(penalty_s))
    if existing_s is not None:
        base = np.minimum(base, existing_s)
    sites: list[int] = []
    cost = base.copy()
    gains = []
    for _ in range(p):
        g = _row_gains(times, w, cost)
        g[sites] = -np.inf
        j = int(np.argmax(g))
        sites.append(j)
        gains.append(float(g[j]))
        cost = site_costs(times, [j], cost)
    for _ in range(max_rounds):  # best single swaps
        current = float(w @ cost)
        best = (1e-9, None, None)
        for k in range(len(sites)):
            others = sites[:k] + sites[k + 1:]
            c_wo = site_costs(times, others, base)
            g = _row_gains(times, w, c_wo)
            g[sites] = -np.inf
            j = int(np.argmax(g))
            improvement = current - (float(w @ c_wo) - g[j])
            if improvement > best[0]:
                best = (improvement, k, j)
        if best[1] is None:
            break
        sites[best[1]] = best[2]
        cost = site_costs(times, sites, base)
    objective = float(w @ site_costs(times, sites, base))
    return SitingResult(sites, objective, -np.inf, "greedy+swap", time.perf_counter() - t0, gains)


def mip_pmedian(times: sp.csr_array, weights: np.ndarray, p: int, *, penalty_s: float,
                existing_s: np.ndarray | None = None, time_limit_s: float = 60.0,
                warm_start: SitingResult | None = None) -> SitingResult:
    """p-median solved by HiGHS: assignment to a chosen site within the cut-off, or the
    existing/penalty cost. Reports the bound and gap."""
    t0 = time.perf_counter()
    _check(times, weights, p)
    t = sp.coo_array(sp.csr_array(times))
    w = np.asarray(weights, float)
    base = np.full(len(w), float(penalty_s))
    if existing_s is not None:
        base = np.minimum(base, existing_s)
    n, m, k = times.shape[0], times.shape[1], t.nnz
    # columns: x (n), z (k, one per candidate-demand pair), u (m, fallback to base)
    cost = np.r_[np.zeros(n), w[t.col] * t.data, w * base]
    assign = sp.csr_array((np.ones(k + m), (np.r_[t.col, np.arange(m)], np.r_[n + np.arange(k),
                          n + k + np.arange(m)])), shape=(m, n + k + m))
    open_ = sp.csr_array((np.r_[np.ones(k), -np.ones(k)], (np.r_[np.arange(k), np.arange(k)],
                         np.r_[n + np.arange(k), t.row])), shape=(k, n + k + m))
    count = sp.csr_array(np.r_[np.ones(n), np.zeros(k + m)][None, :])
    a = sp.vstack([assign, open_, count], format="csc")
    start = None
    if warm_start is not None:
        x0 = np.zeros(n)
        x0[warm_start.sites] = 1
        # each demand to its nearest chosen site when that beats its fallback cost
        ok = np.flatnonzero((x0[t.row] > 0) & (t.data < base[t.col]))
        ok = ok[np.lexsort((t.data[ok], t.col[ok]))]
        first = ok[np.r_[True, t.col[ok][1:] != t.col[ok][:-1]]] if len(ok) else ok
        z0 = np.zeros(k)
        z0[first] = 1.0
        seen = np.zeros(m, bool)
        seen[t.col[first]] = True
        start = np.r_[x0, z0, (~seen).astype(float)]
    x, obj, bound, status = _highs(cost, a, np.r_[np.ones(m), np.full(k, -np.inf), p],
                                   np.r_[np.ones(m), np.zeros(k), p], np.zeros(n + k + m),
                                   np.ones(n + k + m), [True] * n + [False] * (k + m), False,
                                   time_limit_s, start, 1e-6)
    if x is None:
        raise RuntimeError(f"HiGHS found no solution in {time_limit_s:g} s ({status})")
    sites = [int(j) for j in np.flatnonzero(x[:n] > 0.5)]
    objective = float(w @ site_costs(sp.csr_array(times), sites, base))
    return SitingResult(sites, objective, objective if status == "Optimal" else float(bound),
                        "highs-mip", time.perf_counter() - t0, [], status)


def greedy_capacitated(times: sp.csr_array, weights: np.ndarray, p: int, capacity: float, *,
                       covered: np.ndarray | None = None) -> SitingResult:
    """Greedy maximal covering where each site serves at most ``capacity`` persons.

    A chosen site serves its nearest uncovered residents first until full (the last
    demand point may be split). Gains are the persons each site serves.
    """
    t0 = time.perf_counter()
    _check(times, weights, p)
    if not capacity > 0:
        raise ValueError(f"capacity must be positive (persons), got {capacity}")
    times = sp.csr_array(times)
    cover = coverage_matrix(times, np.inf)
    r = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    sites, gains = [], []
    for _ in range(p):
        pot = np.minimum(capacity, cover @ r)
        pot[sites] = -np.inf
        j = int(np.argmax(pot))
        if pot[j] <= 0:
            break
        lo, hi = times.indptr[j], times.indptr[j + 1]
        cols = times.indices[lo:hi][np.argsort(times.data[lo:hi], kind="stable")]
        take = r[cols]
        served = np.minimum(take, np.maximum(0.0, capacity - (np.cumsum(take) - take)))
        r[cols] -= served
        sites.append(j)
        gains.append(float(served.sum()))
    return SitingResult(sites, float(sum(gains)), np.inf, "greedy-capacitated",
                        time.perf_counter() - t0, gains)


def served_by(times: sp.csr_array, weights: np.ndarray, sites: list[int], capacity: float,
              covered: np.ndarray | None = None) -> float:
    """Most persons the given sites can serve with ``capacity`` each (an exact LP)."""
    w = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    if not sites:
        return 0.0
    t = sp.coo_array(sp.csr_array(times)[sites])
    k, m, n = t.nnz, len(w), len(sites)
    # y_e ∈ [0, 1] per pair: Σ_e∋i y_e ≤ 1; Σ_e∋j w_i y_e ≤ capacity
    a = sp.vstack([sp.csr_array((np.ones(k), (t.col, np.arange(k))), shape=(m, k)),
                   sp.csr_array((w[t.col], (t.row, np.arange(k))), shape=(n, k))], format="csc")
    x, obj, _, _ = _highs(w[t.col], a, np.full(m + n, -np.inf), np.r_[np.ones(m),
                          np.full(n, capacity)], np.zeros(k), np.ones(k), [False] * k, True,
                          60.0, None, 1e-9)
    return float(obj)


def mip_capacitated(times: sp.csr_array, weights: np.ndarray, p: int, capacity: float, *,
                    covered: np.ndarray | None = None, time_limit_s: float = 60.0,
                    warm_start: SitingResult | None = None) -> SitingResult:
    """Capacitated maximal covering by HiGHS: max Σ w_i y_ij with Σ_j y_ij ≤ 1,
    Σ_i w_i y_ij ≤ capacity·x_j, y_ij ≤ x_j, Σ x = p."""
    t0 = time.perf_counter()
    _check(times, weights, p)
    w = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    t = sp.coo_array(sp.csr_array(times))
    keep = w[t.col] > 0
    row, col = t.row[keep], t.col[keep]
    n, m, k = times.shape[0], len(w), len(row)
    e = np.arange(k)
    demand_rows = sp.csr_array((np.ones(k), (col, n + e)), shape=(m, n + k))
    cap_rows = sp.csr_array((np.r_[w[col], -np.full(n, capacity)], (np.r_[row, np.arange(n)],
                            np.r_[n + e, np.arange(n)])), shape=(n, n + k))
    link = sp.csr_array((np.r_[np.ones(k), -np.ones(k)], (np.r_[e, e], np.r_[n + e, row])),
                        shape=(k, n + k))
    count = sp.csr_array(np.r_[np.ones(n), np.zeros(k)][None, :])
    a = sp.vstack([demand_rows, cap_rows, link, count], format="csc")
    start = None
    if warm_start is not None:
        x0 = np.zeros(n)
        x0[warm_start.sites] = 1
        start = np.r_[x0, np.zeros(k)]
    x, obj, bound, status = _highs(np.r_[np.zeros(n), w[col]], a,
                                   np.r_[np.full(m + n + k, -np.inf), p],
                                   np.r_[np.ones(m), np.zeros(n + k), p], np.zeros(n + k),
                                   np.ones(n + k), [True] * n + [False] * k, True, time_limit_s,
                                   start, 1e-6)
    if x is None:
        raise RuntimeError(f"HiGHS found no solution in {time_limit_s:g} s ({status})")
    sites = [int(j) for j in np.flatnonzero(x[:n] > 0.5)]
    objective = served_by(times, weights, sites, capacity, covered)
    return SitingResult(sites, objective, objective if status == "Optimal" else float(bound),
                        "highs-mip", time.perf_counter() - t0, [], status)


def lagrangian_bound_mclp(cover: sp.csr_array, weights: np.ndarray, p: int, *,
                          covered: np.ndarray | None = None, lower: float = 0.0,
                          iterations: int = 300) -> float:
    """An upper bound on the maximal-covering optimum by Lagrangian relaxation.

    Relaxing y_i ≤ Σ_j a_ji x_j with multipliers λ ≥ 0 gives, for every λ, the bound
    L(λ) = Σ_i max(0, w_i − λ_i) + (sum of the p largest (Aλ)_j); subgradient steps
    (Polyak, towards the best known solution ``lower``) make it tight. Any λ is valid,
    so the returned value always bounds the optimum from above.
    """
    a = sp.csr_array(cover, dtype=np.float64)
    w = np.where(covered, 0.0, weights) if covered is not None else np.asarray(weights, float)
    at = a.T.tocsr()
    lam = np.zeros(len(w))
    best = np.inf
    step_scale = 2.0
    stall = 0
    for _ in range(iterations):
        score = a @ lam
        top = np.argpartition(-score, p - 1)[:p] if p < len(score) else np.arange(len(score))
        value = float(np.maximum(0.0, w - lam).sum() + score[top].sum())
        if value < best - 1e-9:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                step_scale, stall = step_scale / 2, 0
        x = np.zeros(a.shape[0])
        x[top] = 1.0
        g = (at @ x) - (w > lam)  # subgradient of L with respect to λ
        norm = float(g @ g)
        if norm == 0 or best - lower <= 1e-9 * max(1.0, best) or step_scale < 1e-6:
            break
        lam = np.maximum(0.0, lam - step_scale * (value - lower) / norm * g)
    return best
