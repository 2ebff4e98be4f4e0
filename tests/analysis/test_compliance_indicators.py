"""The compliance and indicator kernels against slow, obviously correct loops."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.compliance import level_baskets, nearest_distance_m, within_time, zone_shares
from analysis.indicators import (
    buffer_cover,
    class_of_area,
    combine,
    covered_area,
    near_features,
    nearest_labels,
    ratios,
)

rng = np.random.default_rng(7)


def test_within_time_treats_missing_as_not_reached():
    t = np.array([0.0, 299.9, 300.0, 300.1, np.nan, np.inf])
    assert within_time(t, 300.0).tolist() == [True, True, True, False, False, False]


def test_nearest_distance_equals_brute_force():
    px, py = rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300)
    fx, fy = rng.uniform(0, 1000, 17), rng.uniform(0, 1000, 17)
    slow = [min(math.hypot(x - a, y - b) for a, b in zip(fx, fy)) for x, y in zip(px, py)]
    assert nearest_distance_m(px, py, fx, fy) == pytest.approx(slow, abs=1e-9)
    assert np.isinf(nearest_distance_m(px, py, [], [])).all()


def test_level_baskets_hold_every_type_of_the_level_and_below():
    passed = rng.random((50, 5)) < 0.7
    tiers = [5, 15, 10, 5, 15]
    got = level_baskets(passed, tiers)
    for level in (5, 10, 15):
        slow = [all(passed[i, j] for j in range(5) if tiers[j] <= level) for i in range(50)]
        assert got[level].tolist() == slow
    assert set(level_baskets(passed[:, [1]], [15])) == {15}  # no type at 5 or 10


def test_zone_shares_equal_a_groupby():
    flags = rng.random((40, 3)) < 0.5
    w = rng.uniform(0, 10, 40)
    labels = rng.choice(["a", "b", "c"], 40)
    got = zone_shares(flags, w, labels)
    for (zone, item), row in got.set_index(["zone", "item"]).iterrows():
        m = labels == zone
        assert row["total"] == pytest.approx(w[m].sum())
        assert row["passing"] == pytest.approx(w[m][flags[m, item]].sum())
        assert row["share"] == pytest.approx(w[m][flags[m, item]].sum() / w[m].sum())
        assert row["all_pass"] == bool(flags[m, item].all())


def test_combine_any_all():
    a, b = np.array([1, 0, 1], bool), np.array([1, 1, 0], bool)
    assert combine([a, b], "any", 3).tolist() == [True, True, True]
    assert combine([a, b], "all", 3).tolist() == [True, False, False]
    assert combine([], "all", 3).tolist() == [False] * 3
    with pytest.raises(ValueError):
        combine([a], "some", 3)


def test_near_features_equals_distance_loop():
    polys = shapely.buffer(shapely.points(rng.uniform(0, 2000, 8), rng.uniform(0, 2000, 8)),
                           rng.uniform(10, 80, 8))
    lines = np.array([shapely.LineString([(0, 0), (2000, 300)])], dtype=object)
    px, py = rng.uniform(-200, 2200, 500), rng.uniform(-200, 2200, 500)
    for geoms, r in ((polys, 250.0), (lines, 120.0)):
        got = near_features(px, py, geoms, r)
        slow = [min(shapely.distance(shapely.Point(x, y), g) for g in geoms) <= r
                for x, y in zip(px, py)]
        assert got.tolist() == slow
    assert not near_features(px, py, np.array([], dtype=object), 100).any()


def test_covered_area_equals_per_polygon_intersection():
    land = shapely.box(rng.uniform(0, 900, 30), rng.uniform(0, 900, 30),
                       rng.uniform(950, 1200, 30), rng.uniform(950, 1200, 30))
    land = np.concatenate([land, [shapely.box(5000, 5000, 5100, 5100)]])  # outside
    cover = buffer_cover(shapely.points([[300, 300], [900, 1000]]), 400)
    area, covered = covered_area(land, cover)
    slow = [poly.intersection(cover).area for poly in land]
    assert covered == pytest.approx(slow, rel=1e-9, abs=1e-6)
    assert area == pytest.approx([p.area for p in land])
    assert covered[-1] == 0
    _, none = covered_area(land, shapely.Polygon())
    assert (none == 0).all()


def test_classes_by_area_first_match():
    classes = [(5000, math.inf, 500), (2000, 5000, 300)]
    areas = np.array([0, 1999.9, 2000, 4999, 5000, 1e9, -1])
    assert class_of_area(areas, classes).tolist() == [-1, -1, 1, 1, 0, 0, -1]


def test_nearest_labels_and_ratios():
    px, py = np.array([0.0, 100, 200]), np.zeros(3)
    lab = np.array(["a", "b", "c"], dtype=object)
    assert nearest_labels(np.array([10.0, 160]), np.array([5.0, 0]), px, py, lab).tolist() \
        == ["a", "c"]
    r = ratios([1, 2, 3, 0], [2, 2, 3, 0], np.array(["x", "y", "x", "z"], dtype=object))
    assert r["zone"].tolist() == ["x", "y", "z"]
    assert r["numerator"].tolist() == [4, 2, 0] and r["denominator"].tolist() == [5, 2, 0]
    assert r["value"].tolist()[:2] == [0.8, 1.0] and np.isnan(r["value"].iloc[2])
    with_missing = ratios([1, 1], [1, 1], np.array(["x", None], dtype=object))
    assert with_missing["numerator"].tolist() == [1]
    assert isinstance(r, pd.DataFrame)
