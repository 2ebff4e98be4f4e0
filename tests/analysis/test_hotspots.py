"""Gi* against PySAL esda on the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from analysis.hotspots import fdr, gi_star

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")


@pytest.fixture()
def lattice():
    rng = np.random.default_rng(0)
    w = libpysal.weights.lat2W(20, 20, rook=False)
    x = rng.poisson(3, 400).astype(float)
    x[:30] += 10  # a hot corner
    return w, x


@pytest.mark.filterwarnings("ignore")
def test_z_scores_match_esda(lattice):
    w, x = lattice
    ours = gi_star(x, sp.csr_array(w.sparse), permutations=999)
    ref = esda.getisord.G_Local(x, w, transform="B", star=True, permutations=999, seed=0)
    np.testing.assert_allclose(ours.z, ref.Zs, atol=1e-6)
    # pseudo p-values are random: same distribution, not the same draws
    assert np.mean(np.abs(ours.p_sim - ref.p_sim)) < 0.03
    assert (ours.kind[:30] == 1).sum() >= 15 and (ours.kind[200:] == 1).sum() == 0


def test_fdr_by_hand():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    # BH at 0.05: thresholds 0.00625·k; the largest k with p_(k) ≤ threshold is k = 2
    assert fdr(p, 0.05).tolist() == [True, True] + [False] * 6


def brute_force_bh(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini–Hochberg by its definition: reject the k smallest for the largest k with
    p_(k) ≤ alpha·k/n."""
    n = len(p)
    ranked = np.sort(p)
    k = max((k for k in range(1, n + 1) if ranked[k - 1] <= alpha * k / n), default=0)
    return p <= ranked[k - 1] if k else np.zeros(n, bool)


@pytest.mark.parametrize("seed", range(20))
def test_fdr_matches_brute_force_bh(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    p = np.concatenate([rng.uniform(0, 1, n), rng.uniform(0, 0.01, int(rng.integers(0, 30)))])
    p = rng.permutation(np.round(p, int(rng.integers(2, 6))))  # with ties
    for alpha in (0.01, 0.05, 0.1, 0.25):
        assert fdr(p, alpha).tolist() == brute_force_bh(p, alpha).tolist()


def test_fdr_edge_cases():
    assert fdr(np.array([]), 0.05).tolist() == []
    assert fdr(np.array([0.001, np.nan, 0.5]), 0.05).tolist() == [True, False, False]
    assert fdr(np.array([0.03, 0.04]), 0.05).tolist() == [True, True]


def test_bad_input():
    w = sp.csr_array(np.ones((3, 3)))
    with pytest.raises(ValueError, match="same value"):
        gi_star(np.ones(3), w)
    with pytest.raises(ValueError, match="at least 3"):
        gi_star(np.array([1.0, 2.0]), sp.csr_array(np.ones((2, 2))))
