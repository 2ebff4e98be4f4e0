"""Hand edits of a proposal: moving and removing sites, why a site gains nobody (two streets
that never meet), formatting for people, and two scenarios compared."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from analysis.graph import build_walk_graph
from geo_app.io.display import fmt_persons, fmt_share, fmt_signed
from geo_app.io.project import Scenario
from geo_app.workflows.proposals import (
    OffNetworkClick,
    move_site,
    remove_site,
    site_name,
    solver_label,
    status_label,
    toggle_site,
    walk_components,
    zero_gain_reason,
)
from geo_app.workflows.scenario_compare import compare_table, sites_difference
from geo_app.workflows.siting import evaluate, prepare

CRS = "EPSG:32648"
X0, Y0 = 500_000.0, 3_300_000.0
TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)


def points(xy, **columns) -> gpd.GeoDataFrame:
    xy = np.atleast_2d(np.asarray(xy, float))
    lon, lat = TO_LONLAT.transform(X0 + xy[:, 0], Y0 + xy[:, 1])
    return gpd.GeoDataFrame(columns, geometry=shapely.points(lon, lat), crs=4326)


@pytest.fixture(scope="module")
def two_streets():
    """Street A along y = 0 and street B along y = 200 m, 0–1,000 m, never joined; 350 s at
    1 m/s. Residents: 10 at A 0 m (served by an existing hub there), 30 at B 500 m.
    Candidates: A 0 m, A 500 m, B 500 m, A 1,000 m, and one 5 km off every street."""
    xs = 100.0 * np.arange(11)
    u = np.r_[np.arange(10), 11 + np.arange(10)]
    graph = build_walk_graph(u, u + 1, np.full(20, 100.0), x=X0 + np.r_[xs, xs],
                             y=Y0 + np.r_[np.zeros(11), np.full(11, 200.0)], crs=CRS)
    demand = points([[0, 0], [500, 200]], population=[10.0, 30.0])
    candidates = points([[0, 0], [500, 0], [500, 200], [1000, 0], [500, 5000]],
                        name=["a0", "a500", "b500", "a1000", "far"])
    existing = points([[0, 0]], category=["hub"])
    with pytest.warns(Warning):  # the candidate 5 km away
        run = prepare(graph, demand, candidates, existing=existing, minutes=350 / 60)
    return graph, run


def test_two_streets_are_two_pieces(two_streets):
    graph, _ = two_streets
    labels = walk_components(graph)
    assert len(set(labels[:11])) == 1 and len(set(labels[11:])) == 1
    assert labels[0] != labels[11]
    assert walk_components(graph) is labels  # computed once per graph


def test_zero_gains_say_why(two_streets):
    _, run = two_streets
    assert evaluate(run, [1]).newly_covered == 0
    # beside the residents of B, but on A: a separate piece of network
    assert zero_gain_reason(run, [1], 1) == ("gain0_separate", 30.0)
    # reaches only the resident the existing hub serves
    assert zero_gain_reason(run, [0], 0) == ("gain0_all_covered", 10.0)
    assert zero_gain_reason(run, [3], 3) == ("gain0_nobody", 0.0)
    assert zero_gain_reason(run, [4], 4).reason == "gain0_off_network"
    # once B's residents are served by the site on B, nobody is left for the one on A
    assert evaluate(run, [2]).newly_covered == 30
    assert zero_gain_reason(run, [2, 1], 1).reason == "gain0_nobody"


def test_move_and_remove_keep_the_order(two_streets):
    _, run = two_streets
    lon, lat = TO_LONLAT.transform(X0 + 500, Y0 + 200)
    moved = move_site([0, 1, 3], run, 1, lon, lat)
    assert moved.action == "moved" and moved.proposal == [0, 2, 3] and moved.run is run
    assert remove_site(moved.proposal, run, 2).proposal == [0, 3]
    lon, lat = TO_LONLAT.transform(X0 + 500, Y0 + 3000)
    with pytest.raises(OffNetworkClick) as err:
        toggle_site([0], run, lon, lat)
    assert err.value.dist_m > err.value.max_m == 500


def test_words_and_numbers_for_people():
    assert status_label("Optimal") == "最优解" and status_label("Time limit reached") \
        == "达到时间上限(非最优)" and status_label("whatever") == "其他求解状态"
    assert solver_label("greedy+swap+highs-bound") == "贪心算法 + 交换改进 + HiGHS 求界"
    assert solver_label("highs-mip", "en") == "HiGHS mixed-integer programme"
    assert site_name("grid 20") == "网格点 20" and site_name("grid 20", "en") == "grid 20"
    assert site_name("社区中心") == "社区中心"
    assert fmt_persons(-0.4) == "0" and fmt_persons(18687.2931) == "18,687"
    assert fmt_persons(np.inf) == "—"
    assert fmt_signed(-0.3) == "0" and fmt_signed(1234.6) == "+1,235" and fmt_signed(-56) == "-56"
    assert fmt_signed(np.nan) == "—"
    assert fmt_share(0.7334) == "73.3%" and fmt_share(-0.00001) == "0.0%"


def _scenario(name, xy, newly, share, cats=None):
    summary = pd.DataFrame([{"residents": 1000.0, "covered_before": 400.0,
                             "newly_covered": newly, "share_after": share}])
    tables = {"summary": summary}
    if cats is not None:
        tables["by_category"] = pd.DataFrame(cats, columns=["category", "covered_after",
                                                            "share_after"])
    return Scenario(name=name, params={"n_sites": 5},
                    sites=points(xy, name=[f"s{i}" for i in range(len(xy))]), tables=tables)


def test_two_scenarios_compared():
    a = _scenario("A", [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0], [500, 0], [600, 0]],
                  350.0, 0.75, [("clinic", 800.0, 0.8), ("sports", 500.0, 0.5)])
    b = _scenario("B", [[0, 0], [100, 0.5], [900, 0]], 200.0, 0.6,
                  [("clinic", 700.0, 0.7), ("canteen", 100.0, 0.1)])
    table = compare_table(a, b).set_index(["metric", "category"])
    assert table.loc[("n_proposed", ""), ["a", "b", "diff"]].tolist() == [7, 3, 4]  # not N = 5
    assert table.loc[("newly_covered", ""), "diff"] == 150
    assert table.loc[("covered_after", ""), "a"] == 750
    assert table.loc[("share_after", ""), "diff"] == pytest.approx(0.15)
    assert table.loc[("covered_after", "clinic"), "diff"] == 100
    assert table.loc[("share_after", "clinic"), "unit"] == "share"
    assert np.isnan(table.loc[("covered_after", "sports"), "diff"])  # not in B
    assert np.isnan(table.loc[("covered_after", "canteen"), "a"])
    diff = sites_difference(a.sites, b.sites)
    assert diff["side"].value_counts().to_dict() == {"a": 5, "both": 2, "b": 1}
    assert list(diff.loc[diff["side"] == "b", "name"]) == ["s2"]


def test_a_click_joins_the_street_front_as_the_run_did():
    """On a street-front run, a site clicked mid-block joins the street there, not its
    nearest corner: its row of walking times equals a fresh street-front run's with that
    point among the candidates (and differs from the node join's)."""
    xs = 100.0 * np.arange(11)
    u = np.arange(10)
    graph = build_walk_graph(u, u + 1, np.full(10, 100.0), x=X0 + xs, y=Y0 + np.zeros(11),
                             crs=CRS)
    demand = points([[0, 10], [340, 10], [990, 5]], population=[5.0, 7.0, 11.0])
    candidates = points([[0, 0], [1000, 0]], name=["a0", "a1000"])
    run = prepare(graph, demand, candidates, minutes=7.0, join="street")
    assert run.join == "street"
    click = (650.0, 20.0)  # 50 m from the corners at 600 and 700 m
    lon, lat = TO_LONLAT.transform(X0 + click[0], Y0 + click[1])
    done = toggle_site([], run, lon, lat)
    assert done.action == "added" and done.site == 2
    fresh = prepare(graph, demand, points([[0, 0], [1000, 0], list(click)],
                                          name=["a0", "a1000", "c"]), minutes=7.0, join="street")
    got = done.run.times[[2]].toarray().ravel()
    want = fresh.times[[2]].toarray().ravel()
    np.testing.assert_allclose(got, want)
    # by hand: 20 m off the street, then along it from 650 m (within 420 s; 0: out of reach)
    np.testing.assert_allclose(want, [0.0, 20 + 310 + 10, 20 + 340 + 5])
    node = prepare(graph, demand, points([list(click)], name=["c"]), minutes=7.0, join="node")
    assert not np.allclose(node.times[[0]].toarray().ravel(), want)
    # the run's earlier rows and joins are untouched by the new split
    np.testing.assert_array_equal(done.run.times[:2].toarray(), run.times.toarray())
    np.testing.assert_array_equal(done.run.demand_snap.node, run.demand_snap.node)


def test_app_siting_joins_the_street_front(helsinki_siting):
    assert helsinki_siting.run.join == "street"
