"""Point clusters on generated blobs and the Huff model by hand."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.clusters import cluster_hulls, huff_probabilities, point_clusters


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [3000, 0], [0, 3000], [3000, 3000]], float)
    truth = np.repeat(np.arange(4), 150)
    xy = centres[truth] + rng.normal(0, 120, (600, 2))
    noise = rng.uniform(-1500, 4500, (40, 2))
    return np.r_[xy, noise], np.r_[truth, np.full(40, -1)]


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_blobs_are_recovered(method):
    from sklearn.metrics import adjusted_rand_score

    xy, truth = blobs()
    labels = point_clusters(xy[:, 0], xy[:, 1], method=method, eps_m=150, min_samples=10)
    blob = truth >= 0
    assert adjusted_rand_score(truth[blob], labels[blob]) >= 0.9
    hulls = cluster_hulls(xy[:, 0], xy[:, 1], labels)
    assert len(hulls) == 4
    for k, hull in hulls.items():
        inside = labels == k
        import shapely

        assert shapely.contains_xy(hull, xy[inside, 0], xy[inside, 1]).all()


def test_bad_cluster_input():
    with pytest.raises(ValueError, match="too few"):
        point_clusters(np.arange(3.0), np.arange(3.0), min_samples=5)
    with pytest.raises(ValueError, match="same place"):
        point_clusters(np.zeros(20), np.zeros(20))
    with pytest.raises(ValueError, match="unknown method"):
        point_clusters(np.arange(20.0), np.arange(20.0), method="kmeans")


def test_huff_by_hand():
    # two centres of attractiveness 1 and 4; an origin 100 and 200 away (beta = 2)
    p = huff_probabilities(np.array([1.0, 4.0]), np.array([[100.0, 200.0], [np.inf, 50.0],
                                                            [np.inf, np.inf]]))
    # 1/100² = 1e-4 and 4/200² = 1e-4: equal shares
    np.testing.assert_allclose(p[0], [0.5, 0.5])
    np.testing.assert_allclose(p[1], [0.0, 1.0])
    np.testing.assert_allclose(p[2], [0.0, 0.0])
    rng = np.random.default_rng(1)
    q = huff_probabilities(rng.uniform(1, 10, 5), rng.uniform(10, 1000, (50, 5)), beta=1.5)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
