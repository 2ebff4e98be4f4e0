"""2SFCA, E2SFCA and G2SFCA against PySAL access on the same cost table; Gini, Theil and
Palma against hand computations and brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.accessibility import (
    floating_catchment,
    gaussian_weight,
    gini,
    palma,
    step_weight,
    theil,
    weight_function,
)


def test_hand_case():
    """Two residents (100 and 300 persons), two clinics (2 and 1 doctors):
    clinic 0 serves both (R0 = 2/400), clinic 1 only the second (R1 = 1/300)."""
    rows, cols, cost = np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([0.0, 600, 300])
    a, r = floating_catchment(rows, cols, cost, np.array([100.0, 300]), np.array([2.0, 1]),
                              weight_function("2sfca", 900))
    np.testing.assert_allclose(r, [2 / 400, 1 / 300])
    np.testing.assert_allclose(a, [2 / 400, 2 / 400 + 1 / 300])
    # supply is conserved: Σ P_i A_i = Σ S_j for facilities somebody reaches
    assert np.dot([100, 300], a) == pytest.approx(3.0)


def test_kernels():
    assert gaussian_weight(0.0, 900) == 1.0 and gaussian_weight(900.0, 900) == pytest.approx(0)
    assert gaussian_weight(1000.0, 900) == 0.0
    assert gaussian_weight(450.0, 900) == pytest.approx(
        (np.exp(-0.125) - np.exp(-0.5)) / (1 - np.exp(-0.5)))
    np.testing.assert_allclose(step_weight([0, 300, 301, 600, 900, 901], [300, 600, 900],
                                           [1, 0.68, 0.22]), [1, 1, 0.68, 0.68, 0.22, 0])


@pytest.mark.parametrize("method", ["2sfca", "e2sfca", "g2sfca"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_pysal_access(method, seed):
    import access
    rng = np.random.default_rng(seed)
    n, m, d0 = 400, 30, 900.0
    pop = rng.integers(0, 500, n).astype(float)
    sup = rng.integers(1, 20, m).astype(float)
    t = rng.uniform(0, 1500, (n, m))
    t[rng.random((n, m)) < 0.02] = 0.0  # residents at a facility
    rows, cols = np.nonzero(t <= d0)
    cost = t[rows, cols]
    ours, _ = floating_catchment(rows, cols, cost, pop, sup, weight_function(method, d0))

    demand = pd.DataFrame({"geoid": np.arange(n), "pop": pop})
    supply = pd.DataFrame({"geoid": np.arange(m), "doc": sup})
    costs = pd.DataFrame({"origin": rows, "dest": cols, "cost": cost})
    fn = weight_function(method, d0)
    with warnings.catch_warnings():  # access uses pandas APIs that pandas now deprecates
        warnings.simplefilter("ignore")
        a = access.Access(demand_df=demand, demand_index="geoid", demand_value="pop",
                          supply_df=supply, supply_index="geoid", supply_value="doc",
                          cost_df=costs, cost_origin="origin", cost_dest="dest",
                          cost_name="cost")
        got = a.two_stage_fca(name="x", max_cost=d0,
                              weight_fn=lambda c: float(fn(np.array([c]))[0]))
    theirs = got.iloc[:, 0].reindex(np.arange(n)).fillna(0.0).to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def _gini_pairs(x, w):
    """Brute force: Σ_i Σ_j w_i w_j |x_i − x_j| / (2 (Σw)² μ)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    mu = (x @ w) / w.sum()
    return (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (
        2 * w.sum() ** 2 * mu)


@pytest.mark.parametrize("seed", range(5))
def test_gini_equals_the_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 1.0, 300)
    w = rng.integers(1, 50, 300).astype(float)
    assert gini(x, w) == pytest.approx(_gini_pairs(x, w), rel=1e-9)
    assert gini([5, 5, 5]) == 0.0 and gini([0, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)


def test_theil_by_hand_and_its_decomposition_adds_up():
    # two people with 1 and 3: mean 2; T = ½(½ ln ½ + 3/2 ln 3/2)
    assert theil([1, 3])["total"] == pytest.approx(0.5 * (0.5 * np.log(0.5) + 1.5 * np.log(1.5)))
    rng = np.random.default_rng(4)
    x = rng.gamma(2.0, 1.0, 500)
    w = rng.integers(1, 30, 500).astype(float)
    g = rng.integers(0, 6, 500)
    t = theil(x, w, g)
    assert t["between"] + t["within"] == pytest.approx(t["total"], rel=1e-9)
    assert t["between"] >= 0 and t["within"] >= 0
    # expanded to one row per person, the weighted index is the unweighted one
    assert theil(np.repeat(x, w.astype(int)))["total"] == pytest.approx(t["total"], rel=1e-9)


def test_palma_by_hand():
    # ten people with 1..10: top 10 % holds 10, bottom 40 % holds 1+2+3+4
    assert palma(np.arange(1, 11)) == pytest.approx(10 / 10)
    # weights split a person at the cut-offs: the same as repeating rows
    x = np.array([1.0, 2, 3, 10])
    w = np.array([3.0, 4, 2, 1])
    assert palma(x, w) == pytest.approx(palma(np.repeat(x, w.astype(int))))
