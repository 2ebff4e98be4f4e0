"""Site selection against brute force (all subsets) and the exact MIP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from analysis.siting import (
    coverage_matrix,
    covered_weight,
    greedy_mclp,
    mip_mclp,
    solve_mclp,
    swap_mclp,
)


def instance(seed, n=9, m=40, density=0.2):
    rng = np.random.default_rng(seed)
    cover = sp.csr_array((rng.random((n, m)) < density).astype(float))
    w = rng.integers(1, 100, m).astype(float)
    covered = rng.random(m) < 0.1
    return cover, w, covered


def brute(cover, w, p, covered, groups=None, lo=None, hi=None):
    best = -1.0
    for s in itertools.combinations(range(cover.shape[0]), p):
        if groups is not None:
            per = np.bincount(groups[list(s)], minlength=len(hi))
            if (per > hi).any() or (lo is not None and (per < lo).any()):
                continue
        best = max(best, covered_weight(cover, w, list(s), covered))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_solvers_against_all_subsets(seed):
    cover, w, covered = instance(seed)
    p = 3
    best = brute(cover, w, p, covered)
    g = greedy_mclp(cover, w, p, covered=covered)
    s = swap_mclp(cover, w, g, covered=covered)
    x = mip_mclp(cover, w, p, covered=covered)
    assert g.objective <= best + 1e-9 and s.objective <= best + 1e-9
    assert s.objective >= g.objective - 1e-9
    assert x.objective == pytest.approx(best) and x.gap == 0 and x.status == "Optimal"
    assert g.objective == pytest.approx(covered_weight(cover, w, g.sites, covered))
    assert sum(g.gains) == pytest.approx(g.objective)
    assert g.gains == sorted(g.gains, reverse=True)  # greedy gains never increase


@pytest.mark.parametrize("seed", range(4))
def test_quotas_against_all_subsets(seed):
    cover, w, covered = instance(100 + seed, n=8)
    groups = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    hi = np.array([1, 2, 2])
    lo = np.array([0, 1, 0])
    best = brute(cover, w, 3, covered, groups, lo, hi)
    x = mip_mclp(cover, w, 3, covered=covered, groups=groups, min_per_group=lo, max_per_group=hi)
    assert x.objective == pytest.approx(best)
    assert (np.bincount(groups[x.sites], minlength=3) <= hi).all()
    g = greedy_mclp(cover, w, 3, covered=covered, groups=groups, max_per_group=hi)
    assert (np.bincount(groups[g.sites], minlength=3) <= hi).all()


def test_reported_gap_is_true():
    cover, w, covered = instance(7, n=9, m=60)
    best = brute(cover, w, 4, covered)
    r = solve_mclp(cover, w, 4, covered=covered, exact=False)
    assert r.objective <= best <= r.bound + 1e-9  # the bound really bounds the optimum
    r = solve_mclp(cover, w, 4, covered=covered)
    assert r.objective == pytest.approx(best) and r.gap == pytest.approx(0, abs=1e-4)


def test_infeasible_requests_are_clear():
    cover, w, covered = instance(1)
    with pytest.raises(ValueError, match="only 9 candidates"):
        greedy_mclp(cover, w, 10)
    groups = np.zeros(9, int)
    with pytest.raises(ValueError, match="minimums add up to 5"):
        mip_mclp(cover, w, 3, groups=groups, min_per_group=np.array([5]))
    with pytest.raises(ValueError, match="quotas"):
        mip_mclp(cover, w, 3, groups=np.r_[np.zeros(8, int), 1], min_per_group=np.array([0, 2]),
                 max_per_group=np.array([9, 9]))


def test_coverage_matrix_uses_the_threshold_rule():
    t = sp.csr_array((np.array([0.0, 300.0, 901.0, 900.0]), np.array([0, 1, 2, 0]),
                      np.array([0, 3, 4])), shape=(2, 3))  # explicit zero = at the door
    c = coverage_matrix(t, 900.0)
    assert c.toarray().tolist() == [[1, 1, 0], [1, 0, 0]]


@pytest.mark.parametrize("seed", range(8))
def test_pmedian_against_all_subsets(seed):
    from analysis.siting import mip_pmedian, pmedian, site_costs

    rng = np.random.default_rng(200 + seed)
    n, m, p = 8, 30, 3
    t = rng.uniform(1, 900, (n, m))
    t[rng.random((n, m)) < 0.6] = 0
    times = sp.csr_array(t)
    w = rng.integers(1, 50, m).astype(float)
    existing = np.where(rng.random(m) < 0.2, rng.uniform(0, 900, m), np.inf)
    base = np.minimum(900.0, existing)
    best = min(float(w @ site_costs(times, list(s), base))
               for s in itertools.combinations(range(n), p))
    h = pmedian(times, w, p, penalty_s=900, existing_s=existing)
    x = mip_pmedian(times, w, p, penalty_s=900, existing_s=existing, warm_start=h)
    assert h.objective >= best - 1e-6  # a heuristic never beats the optimum
    assert x.objective == pytest.approx(best) and x.status == "Optimal"


@pytest.mark.parametrize("seed", range(8))
def test_set_cover_against_all_subsets(seed):
    from analysis.siting import greedy_cover, mip_cover

    cover, w, covered = instance(300 + seed, n=8, m=30, density=0.25)
    target = 0.6 * w.sum()
    fewest = next((k for k in range(1, 9) for s in itertools.combinations(range(8), k)
                   if covered_weight(cover, w, list(s), covered) + w[covered].sum()
                   >= target - 1e-9), None)
    if fewest is None:
        with pytest.raises(ValueError, match="cannot be reached"):
            greedy_cover(cover, w, target, covered=covered)
        return
    g = greedy_cover(cover, w, target, covered=covered)
    x = mip_cover(cover, w, target, covered=covered, warm_start=g)
    assert x.objective == fewest and g.objective >= fewest and g.bound <= fewest


@pytest.mark.parametrize("seed", range(6))
def test_capacitated_against_all_subsets(seed):
    from analysis.siting import greedy_capacitated, mip_capacitated, served_by

    rng = np.random.default_rng(400 + seed)
    n, m, p, cap = 7, 25, 3, 120.0
    t = rng.uniform(1, 900, (n, m))
    t[rng.random((n, m)) < 0.65] = 0
    times = sp.csr_array(t)
    w = rng.integers(1, 60, m).astype(float)
    covered = rng.random(m) < 0.1
    best = max(served_by(times, w, list(s), cap, covered)
               for s in itertools.combinations(range(n), p))
    g = greedy_capacitated(times, w, p, cap, covered=covered)
    x = mip_capacitated(times, w, p, cap, covered=covered, warm_start=g)
    assert g.objective <= served_by(times, w, g.sites, cap, covered) + 1e-6 <= best + 1e-6
    assert all(gain <= cap + 1e-9 for gain in g.gains)
    assert x.objective == pytest.approx(best) and x.status == "Optimal"
