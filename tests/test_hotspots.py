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


def test_bad_input():
    w = sp.csr_array(np.ones((3, 3)))
    with pytest.raises(ValueError, match="same value"):
        gi_star(np.ones(3), w)
    with pytest.raises(ValueError, match="at least 3"):
        gi_star(np.array([1.0, 2.0]), sp.csr_array(np.ones((2, 2))))
