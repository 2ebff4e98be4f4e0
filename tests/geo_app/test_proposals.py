"""Editing a proposal by clicks on a tiny street, checked against walking distances by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from analysis.graph import build_walk_graph
from geo_app.workflows.proposals import add_candidate_points, proposal_sites, toggle_site
from geo_app.workflows.siting import evaluate, prepare, solve

CRS = "EPSG:32648"  # UTM 48N, where Chongqing is
X0, Y0 = 500_000.0, 3_300_000.0
N = 31  # one straight street, a node every 100 m: 0 … 3,000 m
LIMIT_S = 350.0  # at 1 m/s: 3.5 blocks, so that no walk ends exactly at the limit
TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)


def points(xy, **columns) -> gpd.GeoDataFrame:
    """Points at street metres (x along the street, y off it) as EPSG:4326."""
    xy = np.atleast_2d(np.asarray(xy, float))
    lon, lat = TO_LONLAT.transform(X0 + xy[:, 0], Y0 + xy[:, 1])
    return gpd.GeoDataFrame(columns, geometry=shapely.points(lon, lat), crs=4326)


def lonlat(x: float, y: float = 0.0) -> tuple[float, float]:
    return TO_LONLAT.transform(X0 + x, Y0 + y)


@pytest.fixture(scope="module")
def street():
    graph = build_walk_graph(np.arange(N - 1), np.arange(1, N), np.full(N - 1, 100.0),
                             x=X0 + 100.0 * np.arange(N), y=np.full(N, Y0), crs=CRS)
    xs = 100.0 * np.arange(N)
    population = 10.0 + np.arange(N)
    demand = points(np.column_stack([xs, np.zeros(N)]), population=population)
    candidates = points([[200, 0], [2800, 0], [1500, 0]], name=["west", "east", "middle"])
    existing = points([[2800, 0]], category=["hub"])  # the east end is already served
    run = prepare(graph, demand, candidates, existing=existing, minutes=LIMIT_S / 60)
    return run, xs, population


def newly_covered_by_hand(xs, population, sites_xy) -> float:
    """Residents within 350 s of some site along the street, not within 350 s of the
    existing hub at 2,800 m: the walk is the access line to the street plus the street."""
    def reached(sx, sy):
        node = 100.0 * np.round(sx / 100.0)
        access = np.hypot(sx - node, sy)
        return access + np.abs(xs - node) <= LIMIT_S

    before = reached(2800.0, 0.0)
    new = np.zeros(len(xs), bool)
    for sx, sy in sites_xy:
        new |= reached(sx, sy)
    return float(population[new & ~before].sum())


def test_added_points_get_the_times_prepare_gives(street):
    run, *_ = street
    extra = points([[1000, 20], [2350, -40]], name=["a", "b"])
    grown, idx = add_candidate_points(run, extra)
    assert idx == [3, 4] and list(grown.candidates["name"]) == ["west", "east", "middle", "a", "b"]
    assert len(run.candidates) == 3 and run.times.shape[0] == 3  # the run given is unchanged
    whole = prepare(run.graph, run.demand, grown.candidates,
                    existing=points([[2800, 0]], category=["hub"]), minutes=LIMIT_S / 60)
    assert np.allclose(grown.times.toarray(), whole.times.toarray())
    assert np.allclose(grown.cand_snap.access_s, whole.cand_snap.access_s)
    assert grown.times.format == "csr"


def test_click_in_a_gap_adds_a_site_with_the_gain_by_hand(street):
    run, xs, pop = street
    result = solve(run, n=1)
    assert result.sites == [2]  # the middle: more residents than the west, the east is served
    proposal = [0]
    before = evaluate(run, proposal).newly_covered
    assert before == pytest.approx(newly_covered_by_hand(xs, pop, [(200, 0)]))
    done = toggle_site(proposal, run, *lonlat(1040, 25))  # no candidate near: a new one
    assert done.action == "added" and done.site == 3 and done.proposal == [0, 3]
    assert done.run.candidates["name"].iloc[3] == "proposed 1"
    after = evaluate(done.run, done.proposal)
    assert after.newly_covered == pytest.approx(
        newly_covered_by_hand(xs, pop, [(200, 0), (1040, 25)]))
    assert after.newly_covered > before
    gains = proposal_sites(done.run, result, done.proposal)
    assert gains["gain"].iloc[1] == pytest.approx(after.newly_covered - before)
    assert gains["overlap"].sum() == pytest.approx(0)  # 200 m and 1,040 m: no overlap
    assert list(gains["name"]) == ["west", "proposed 1"]


def test_click_near_a_proposed_site_removes_it(street):
    run, xs, pop = street
    done = toggle_site([0, 2], run, *lonlat(1530, 20))  # 36 m from "middle"
    assert done.action == "removed" and done.site == 2 and done.proposal == [0]
    assert done.run is run
    assert evaluate(run, done.proposal).newly_covered == pytest.approx(
        newly_covered_by_hand(xs, pop, [(200, 0)]))
    # a click on the site added by a click takes it away again
    added = toggle_site([0], run, *lonlat(1040, 25))
    again = toggle_site(added.proposal, added.run, *lonlat(1040, 25))
    assert again.action == "removed" and again.proposal == [0]


def test_click_near_a_free_candidate_proposes_it(street):
    run, *_ = street
    done = toggle_site([0], run, *lonlat(1490, -30), prefix="新增点")
    assert done.action == "added" and done.site == 2 and done.proposal == [0, 2]
    assert done.run is run  # no new candidate
    far = toggle_site([0], run, *lonlat(1400, 0), prefix="新增点")  # 100 m off: a new point
    assert far.run.candidates["name"].iloc[-1] == "新增点 1"


def test_click_off_the_network_is_refused(street):
    run, *_ = street
    with pytest.raises(ValueError, match="from the nearest street"):
        toggle_site([0], run, *lonlat(1000, 900))


def test_overlap_and_unique_gains_by_hand(street):
    run, xs, pop = street
    done = toggle_site([0], run, *lonlat(500, 0))  # reaches 200–800 m; the west site 0–500 m
    table = evaluate(done.run, done.proposal).sites.set_index("site")
    both = pop[(xs >= 200) & (xs <= 500)].sum()
    assert table.loc[0, "overlap"] == pytest.approx(both)
    assert table.loc[done.site, "overlap"] == pytest.approx(both)
    assert table.loc[0, "unique_gain"] == pytest.approx(pop[xs < 200].sum())
    assert table.loc[done.site, "unique_gain"] == pytest.approx(pop[(xs > 500) & (xs <= 800)].sum())
