"""Local hot spots: Getis-Ord Gi* with permutation p-values and false-discovery control."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class GiStar:
    """Gi* per cell: ``z`` (analytic z-score), ``p_sim`` (pseudo p-value of the nearer tail
    of the permutation distribution), ``significant`` after the FDR correction, ``kind``
    (+1 hot, −1 cold,
    0 neither)."""

    z: np.ndarray
    p_sim: np.ndarray
    significant: np.ndarray
    kind: np.ndarray


def star_weights(w: sp.csr_array) -> sp.csr_array:
    """Binary weights with each cell its own neighbour (the * of Gi*)."""
    w = sp.csr_array(w, dtype=float)
    w = w - sp.diags_array(w.diagonal()) + sp.eye_array(w.shape[0], format="csr")
    return sp.csr_array(w)


def gi_star_z(x: np.ndarray, w: sp.csr_array) -> np.ndarray:
    """Analytic Gi* z-scores of values ``x`` under weights ``w`` (self included by the caller)."""
    x = np.asarray(x, float)
    n = len(x)
    mean = x.mean()
    s = np.sqrt((x * x).mean() - mean * mean)
    wsum = np.asarray(w.sum(axis=1)).ravel()
    w2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    num = w @ x - mean * wsum
    den = s * np.sqrt((n * w2 - wsum * wsum) / (n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def fdr(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini–Hochberg: which p-values stay significant at false-discovery rate ``alpha``.

    ``p`` in [0, 1]; a missing (NaN) p-value counts among the tests but is never significant.
    The adjusted p-values come from :func:`scipy.stats.false_discovery_control`.
    """
    from scipy.stats import false_discovery_control

    p = np.asarray(p, float).ravel()
    missing = np.isnan(p)
    if len(p) == 0:
        return np.zeros(0, bool)
    adjusted = false_discovery_control(np.where(missing, 1.0, p), method="bh")
    return (adjusted <= alpha) & ~missing


def gi_draws(n_cells: int, permutations: int, neighbours: int) -> float:
    """The work of :func:`gi_star`: random neighbour values drawn (cells × permutations × the
    most neighbours a cell has), for refusing a run too large before it starts."""
    return float(n_cells) * float(permutations) * float(neighbours)


def gi_star(x: np.ndarray, w: sp.csr_array, *, permutations: int = 999, alpha: float = 0.05,
            seed: int = 0, progress=None) -> GiStar:
    """Getis-Ord Gi* hot and cold spots.

    ``w`` is a binary contiguity matrix (self-weights are set to 1 here). Pseudo p-values
    come from conditional randomisation: each cell keeps its own value and its
    neighbours are drawn at random from the other cells, ``permutations`` times;
    significance then passes a Benjamini–Hochberg false-discovery correction.
    ``progress(fraction)``, when given, is called as the permutations advance.
    """
    x = np.asarray(x, float)
    n = len(x)
    if n < 3:
        raise ValueError(f"Gi* needs at least 3 cells, got {n}")
    if np.all(x == x[0]):
        raise ValueError("all cells have the same value: there are no hot or cold spots")
    w = star_weights(w)
    z = gi_star_z(x, w)
    rng = np.random.default_rng(seed)
    k = np.diff(w.indptr) - 1  # neighbours besides self
    lag = w @ x - x  # observed neighbour sum (binary weights)
    larger = np.zeros(n)
    kmax = int(k.max())
    for chunk in range(0, permutations, 64):
        m = min(64, permutations - chunk)
        # draw kmax others per cell and permutation (without the cell itself)
        draw = rng.integers(0, n - 1, size=(m, n, kmax))
        draw += draw >= np.arange(n)[None, :, None]
        vals = x[draw]
        mask = np.arange(kmax)[None, None, :] < k[None, :, None]
        sims = (vals * mask).sum(axis=2)
        larger += (sims >= lag[None, :]).sum(axis=0)
        if progress is not None:
            progress((chunk + m) / permutations)
    extreme = np.minimum(larger, permutations - larger)  # the nearer tail, as esda folds it
    p_sim = (extreme + 1.0) / (permutations + 1.0)
    sig = fdr(p_sim, alpha)
    kind = np.where(sig, np.sign(z), 0).astype(int)
    return GiStar(z, p_sim, sig, kind)
