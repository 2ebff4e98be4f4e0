"""Supply against demand: two-step floating catchment area (2SFCA) scores and the equity of
their spread (Gini, Theil, Palma), on arrays.

Costs come as a long table of (resident, facility, seconds) within the catchment — the pairs
the bounded network searches reach — so a zero cost (a resident at the facility) is kept.

For a weight ``W`` of the cost (1 within the catchment for 2SFCA, steps for E2SFCA, the
Gaussian below for G2SFCA):

- step 1, each facility's supply per weighted resident: ``R_j = S_j / Σ_k W(t_kj) P_k``;
- step 2, each resident's score: ``A_i = Σ_j W(t_ij) R_j``.

Gaussian kernel for ``d ≤ d0``: ``G(d) = (exp(−½(d/d0)²) − exp(−½)) / (1 − exp(−½))``, 0
beyond (Dai 2010; as in Chinese planning studies).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

METHODS = ("2sfca", "e2sfca", "g2sfca")
# Luo & Qi (2009): three travel-time zones weighted 1.00, 0.68, 0.22 (Gaussian-derived)
E2SFCA_WEIGHTS = (1.0, 0.68, 0.22)


def gaussian_weight(t: np.ndarray, d0: float) -> np.ndarray:
    """The G2SFCA kernel: 1 at 0, 0 at ``d0`` and beyond (same unit as ``t``)."""
    t = np.asarray(t, float)
    e = np.exp(-0.5)
    w = (np.exp(-0.5 * (t / d0) ** 2) - e) / (1.0 - e)
    return np.where(t <= d0, w, 0.0)


def step_weight(t: np.ndarray, limits: Sequence[float], weights: Sequence[float]) -> np.ndarray:
    """Stepped weights (E2SFCA): ``weights[k]`` for ``limits[k-1] < t ≤ limits[k]``, 0 beyond
    the last limit."""
    t = np.asarray(t, float)
    zone = np.searchsorted(np.asarray(limits, float), t, side="left")
    w = np.r_[np.asarray(weights, float), 0.0]
    return w[np.minimum(zone, len(weights))]


def weight_function(method: str, d0: float) -> Callable[[np.ndarray], np.ndarray]:
    """The weight of ``method`` for a catchment of ``d0`` (2SFCA: 1 within; E2SFCA: three equal
    zones weighted 1, 0.68, 0.22; G2SFCA: the Gaussian kernel)."""
    if method == "2sfca":
        return lambda t: np.where(np.asarray(t, float) <= d0, 1.0, 0.0)
    if method == "e2sfca":
        limits = [d0 * k / 3 for k in (1, 2, 3)]
        return lambda t: step_weight(t, limits, E2SFCA_WEIGHTS)
    if method == "g2sfca":
        return lambda t: gaussian_weight(t, d0)
    raise ValueError(f"unknown method {method!r}: expected one of {', '.join(METHODS)}")


def floating_catchment(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray,
                       population: np.ndarray, supply: np.ndarray,
                       weight: Callable[[np.ndarray], np.ndarray]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """2SFCA-family scores: (``A`` per resident, ``R`` per facility).

    ``rows``/``cols``/``cost``: resident index, facility index and cost of every pair within
    the catchment; ``population`` per resident (persons), ``supply`` per facility (beds,
    seats, m², or 1). A facility no weighted resident reaches has ``R = 0``.
    """
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    population, supply = np.asarray(population, float), np.asarray(supply, float)
    w = weight(np.asarray(cost, float))
    demand = np.bincount(cols, weights=w * population[rows], minlength=len(supply))
    ratio = np.divide(supply, demand, out=np.zeros(len(supply)), where=demand > 0)
    score = np.bincount(rows, weights=w * ratio[cols], minlength=len(population))
    return score, ratio


# --- equity --------------------------------------------------------------------------------
def gini(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Population-weighted Gini coefficient of ``values`` (≥ 0): 0 equal, →1 concentrated."""
    x = np.asarray(values, float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, float)
    keep = w > 0
    x, w = x[keep], w[keep]
    if not len(x) or x @ w == 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    cxw = np.cumsum(x * w)
    # area under the Lorenz curve by trapezoids over the weight shares
    lorenz = np.r_[0.0, cxw / cxw[-1]]
    share = np.r_[0.0, cw / cw[-1]]
    area = np.sum((share[1:] - share[:-1]) * (lorenz[1:] + lorenz[:-1]) / 2.0)
    return float(1.0 - 2.0 * area)


def theil(values: np.ndarray, weights: np.ndarray | None = None,
          groups: np.ndarray | None = None) -> dict[str, float]:
    """Population-weighted Theil T index, and with ``groups`` its decomposition into
    ``between`` and ``within`` parts (``total = between + within``). Zero values contribute
    0 (the limit of x·ln x)."""
    x = np.asarray(values, float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, float)
    keep = w > 0
    x, w = x[keep], w[keep]
    mu = (x @ w) / w.sum()
    if mu <= 0:
        return {"total": 0.0, "between": 0.0, "within": 0.0}

    def t_of(xs, ws, m):
        r = xs / m
        terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
        return float((ws * terms).sum() / ws.sum())

    total = t_of(x, w, mu)
    if groups is None:
        return {"total": total, "between": 0.0, "within": total}
    g = np.asarray(groups)[keep]
    between = within = 0.0
    for k in np.unique(g):
        m = g == k
        wk, mk = w[m].sum(), (x[m] @ w[m]) / w[m].sum()
        share = wk * mk / (w.sum() * mu)  # the group's share of the total
        if mk > 0:
            between += share * np.log(mk / mu)
            within += share * t_of(x[m], w[m], mk)
    return {"total": total, "between": float(between), "within": float(within)}


def palma(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Palma ratio: the share of the total held by the top 10 % of people over that held by
    the bottom 40 % (population-weighted; people split at the cut-offs)."""
    x = np.asarray(values, float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, float)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    keep = w > 0
    x, w = x[keep], w[keep]
    cw = np.r_[0.0, np.cumsum(w)] / w.sum()

    def held(lo: float, hi: float) -> float:  # amount held by people ranked between lo and hi
        part = np.clip(np.minimum(cw[1:], hi) - np.maximum(cw[:-1], lo), 0.0, None)
        return float((part * w.sum() * x).sum())

    bottom = held(0.0, 0.4)
    return float("inf") if bottom == 0 else held(0.9, 1.0) / bottom
