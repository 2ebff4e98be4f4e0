"""Which zone each point lies in: the same answer as geopandas' spatial join (``within``,
first match) on random overlapping polygons with holes, points on their edges and corners,
empty and missing points; and on Chongqing's 38 districts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from analysis.zones import zone_names, zone_of


def oracle(points, polygons) -> np.ndarray:
    """The join the helper replaces: sjoin ``within``, the first match of each point."""
    left = gpd.GeoDataFrame(geometry=list(points))
    right = gpd.GeoDataFrame(geometry=list(polygons))
    j = gpd.sjoin(left, right, how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    return j["index_right"].reindex(left.index).fillna(-1).to_numpy(np.int64)


def random_polygons(rng, n: int) -> list:
    polys = []
    for _ in range(n):
        x, y = rng.uniform(0, 10, 2)
        w, h = rng.uniform(0.5, 4, 2)
        shape = shapely.box(x, y, x + w, y + h)
        if rng.random() < 0.4:  # a hole
            shape = shape.difference(shapely.box(x + w / 4, y + h / 4, x + w / 2, y + h / 2))
        if rng.random() < 0.3:  # a second part
            shape = shape.union(shapely.Point(x - 1, y - 1).buffer(rng.uniform(0.2, 0.8)))
        if rng.random() < 0.3:
            shape = shapely.Point(x, y).buffer(rng.uniform(0.5, 3), quad_segs=3)
        polys.append(shape)
    return polys


@pytest.mark.parametrize("seed", range(8))
def test_matches_the_spatial_join(seed):
    rng = np.random.default_rng(seed)
    polys = random_polygons(rng, int(rng.integers(1, 25)))
    xy = rng.uniform(-2, 14, (2000, 2))
    on_edges = shapely.get_coordinates(shapely.boundary(polys[0]))  # vertices: on a boundary
    grid = np.stack(np.meshgrid(np.arange(0, 12.5, 0.5), np.arange(0, 12.5, 0.5)), -1)
    xy = np.vstack([xy, on_edges, grid.reshape(-1, 2)])  # edges of the boxes lie on the grid
    points = shapely.points(xy)
    points = np.append(points, [shapely.Point(), None, shapely.Point(5, 5)])
    got = zone_of(points, np.array(polys, dtype=object))
    want = oracle([p if p is not None else shapely.Point() for p in points], polys)
    assert np.array_equal(got, want)
    assert got[-3] == -1 and got[-2] == -1


def test_no_points_or_no_polygons():
    pts = shapely.points([[0, 0], [1, 1]])
    assert zone_of(pts, np.array([], dtype=object)).tolist() == [-1, -1]
    assert zone_of(np.array([], dtype=object), [shapely.box(0, 0, 1, 1)]).tolist() == []
    with pytest.raises(ValueError, match="points only"):
        zone_of([shapely.box(0, 0, 1, 1)], [shapely.box(0, 0, 2, 2)])


def test_names_of_the_districts():
    """500 points around Chongqing's centre labelled with the 38 districts as the join does."""
    from layers.districts import load_districts

    d = load_districts()
    rng = np.random.default_rng(3)
    pts = shapely.points(rng.uniform([105.3, 28.2], [110.2, 32.2], (500, 2)))
    got = zone_names(pts, d.geometry.values, d["name_zh"], "(outside)")
    idx = oracle(pts, d.geometry.values)
    want = np.where(idx >= 0, d["name_zh"].to_numpy(object)[idx], "(outside)")
    assert list(got) == list(want)
    assert (got != "(outside)").sum() > 100
