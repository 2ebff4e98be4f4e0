"""Point clusters (DBSCAN, HDBSCAN) and business-circle catchments (Huff model)."""

from __future__ import annotations

import numpy as np
import shapely

METHODS = ("dbscan", "hdbscan")


def point_clusters(x: np.ndarray, y: np.ndarray, *, method: str = "dbscan", eps_m: float = 300.0,
                   min_samples: int = 10) -> np.ndarray:
    """Cluster label per point (−1 for noise) from coordinates in metres.

    DBSCAN links points within ``eps_m``; HDBSCAN needs no radius and uses
    ``min_samples`` as its smallest cluster size.
    """
    from sklearn.cluster import DBSCAN, HDBSCAN

    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: expected one of {', '.join(METHODS)}")
    if len(xy) < max(min_samples, 2):
        raise ValueError(f"{len(xy)} points are too few to cluster with min_samples={min_samples}")
    if len(np.unique(xy, axis=0)) == 1:
        raise ValueError("all points are at the same place: there is nothing to cluster")
    if method == "dbscan":
        if not eps_m > 0:
            raise ValueError(f"eps must be a positive distance in metres, got {eps_m}")
        return DBSCAN(eps=eps_m, min_samples=min_samples).fit_predict(xy)
    return HDBSCAN(min_cluster_size=max(min_samples, 2), copy=True).fit_predict(xy)


def cluster_hulls(x: np.ndarray, y: np.ndarray, labels: np.ndarray, *, ratio: float = 0.3,
                  buffer_m: float = 30.0) -> dict[int, shapely.Geometry]:
    """A concave hull (widened by ``buffer_m``) around each cluster's points."""
    from analysis.areas import hull_of

    out = {}
    for k in np.unique(labels[labels >= 0]):
        m = labels == k
        out[int(k)] = hull_of(np.asarray(x)[m], np.asarray(y)[m], ratio=ratio, buffer_m=buffer_m)
    return out


def huff_probabilities(attractiveness: np.ndarray, cost: np.ndarray, *, alpha: float = 1.0,
                       beta: float = 2.0, min_cost: float = 1.0) -> np.ndarray:
    """Huff model: probability that residents of each origin patronise each centre.

    P_ij = A_j^α c_ij^−β / Σ_k A_k^α c_ik^−β for an origins × centres ``cost`` matrix
    (seconds or metres; ``inf`` where a centre cannot be reached; costs below
    ``min_cost`` count as ``min_cost``). Rows reaching no centre are all zero.
    """
    a = np.asarray(attractiveness, float)
    c = np.asarray(cost, float)
    if c.ndim != 2 or c.shape[1] != len(a):
        raise ValueError(f"cost must be origins × {len(a)} centres, got shape {c.shape}")
    if np.any(a < 0):
        raise ValueError("attractiveness must be non-negative")
    with np.errstate(divide="ignore", over="ignore"):
        u = np.where(np.isfinite(c), a[None, :] ** alpha * np.maximum(c, min_cost) ** -beta, 0.0)
    total = u.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, u / total, 0.0)
