"""Life circles of a coverage result (the Helsinki sample, not Chongqing): a partition of the
residents, contiguous on the street network (checked with networkx), bounds reported,
boundaries respected, and the count meeting the standard equal to a hand computation."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.snap import snap_points
from geo_app.workflows import life_circles as lc
from geo_app.workflows.coverage_data import from_result
from geo_app.workflows.coverage_steps import to_metres
from layers.standards import load_standards
from tests.analysis.test_delineation import brute_cells, nx_graph

SHARE = 0.5


@pytest.fixture(scope="module")
def sample(helsinki_inputs):
    """Coverage of the sample with every category at 15 minutes, its data and walk graph."""
    from geo_app.workflows.coverage import run

    result = run(helsinki_inputs, minutes=15, isochrones="none")
    data = from_result(result)
    return result, data, lc.walk_graph_of(data)


@pytest.fixture(scope="module")
def everyday():
    """Standards restricted to categories the sample has (markets, sports, parks, transit)."""
    st = load_standards()
    return st[st["category"].isin(["market", "sports", "park", "bus_stop", "metro"])]


def params(**kw):
    return lc.circle_params(10, min_pop=2_000, max_pop=6_000, min_share=SHARE, **kw)


def check_partition_and_contiguity(data, graph, circles):
    units, c = circles.units, circles.circles
    on = data.demand["on_network"].astype(bool).to_numpy()
    assert (units["circle"].to_numpy()[on] >= 1).all() and (units["circle"][~on] == 0).all()
    pop = data.demand["population"].to_numpy(float)
    got = np.bincount(units["circle"].to_numpy()[on] - 1, weights=pop[on], minlength=len(c))
    assert np.allclose(got, c["residents"])
    assert c["residents"].sum() == pytest.approx(pop[on].sum())
    # contiguity by brute force: the union of each circle's network-Voronoi cells is connected
    dx, dy = to_metres(data.demand, graph.crs)
    node = snap_points(graph, dx, dy, speed_m_s=1.0, max_dist_m=500.0).node
    nodes = np.unique(node[on])
    cell = brute_cells(nx_graph(graph), nodes)
    owner: dict = {}
    for n, k in zip(node[on], units["circle"].to_numpy()[on]):
        owner.setdefault(n, set()).add(k)
    U = nx_graph(graph).to_undirected()
    for k in c["circle"]:
        mine = [i for i, n in enumerate(nodes) if k in owner[n]]
        cells = np.flatnonzero(np.isin(cell, mine))
        assert nx.is_connected(U.subgraph(cells.tolist())), k
    assert c["contiguous"].all()


def test_circles_partition_the_residents_and_are_contiguous(sample):
    _, data, graph = sample
    circles = lc.delineate_circles(data, graph, params())
    check_partition_and_contiguity(data, graph, circles)
    c = circles.circles
    ok = c["within_bounds"]
    assert ok.sum() >= 3
    assert ((c.loc[ok, "residents"] >= 2_000) & (c.loc[ok, "residents"] <= 6_000)).all()
    assert (c.loc[ok, "max_walk_min"] <= 10 + 1e-9).all()
    assert np.allclose(c["below_floor"], np.maximum(2_000 - c["residents"], 0))
    assert (c["area_km2"] > 0).all() and c.crs.to_epsg() == 4326
    # the circles' areas do not overlap
    m = c.to_crs(data.metric_crs).geometry
    assert m.union_all().area == pytest.approx(m.area.sum(), rel=1e-6)


def test_count_meeting_the_standard_equals_a_hand_computation(sample, everyday):
    _, data, graph = sample
    circles = lc.delineate_circles(data, graph, params(), standards=everyday)
    d, c = data.demand, circles.circles
    basket = everyday[everyday["tier_min"] <= 10]
    ok = np.ones(len(d), bool)
    for s in basket.itertuples():
        ok &= (d[f"t_{s.category}"].to_numpy(float) <= 60 * s.walk_min)  # NaN: not reached
    pop = d["population"].to_numpy(float)
    circle = circles.units["circle"].to_numpy()
    by_hand = pd.DataFrame({"c": circle, "p": pop, "ok": pop * ok})[circle > 0].groupby("c").sum()
    share = (by_hand["ok"] / by_hand["p"]).reindex(c["circle"]).to_numpy()
    assert np.allclose(c["basket_share"], share)
    meeting = int((share >= SHARE).sum())
    assert 0 < meeting < len(c)  # some circles meet the standard, some do not
    assert int(c["meets_standard"].sum()) == meeting
    counts = lc.count_meeting(c, target=100)
    area = counts.iloc[0]
    assert area["meeting"] == meeting and area["progress"] == pytest.approx(meeting / 100)
    assert (circles.units["meets_standard"] == c["meets_standard"].to_numpy()[
        np.maximum(circle - 1, 0)] & (circle > 0)).all()


def test_circles_keep_within_townships_or_keep_communities_whole(sample):
    _, data, graph = sample
    w, s, e, n = data.demand.total_bounds
    mid = (w + e) / 2
    halves = gpd.GeoDataFrame({"name": ["west", "east"]}, crs=4326, geometry=[
        shapely.box(w - 0.01, s - 0.01, mid, n + 0.01), shapely.box(mid, s - 0.01, e + 0.01,
                                                                    n + 0.01)])
    circles = lc.delineate_circles(data, graph, params(), boundaries=halves)
    check_partition_and_contiguity(data, graph, circles)
    side = np.where(data.demand.geometry.x < mid, "west", "east")
    u = circles.units
    for k in circles.circles["circle"]:
        assert len(set(side[u["circle"] == k])) == 1
    assert set(circles.circles["boundary"]) == {"west", "east"}
    # communities (a 4 × 4 grid) never split
    xs, ys = np.linspace(w - 1e-4, e + 1e-4, 5), np.linspace(s - 1e-4, n + 1e-4, 5)
    cells = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(4) for j in range(4)]
    grid = gpd.GeoDataFrame({"name": [f"c{k}" for k in range(16)]}, geometry=cells, crs=4326)
    circles = lc.delineate_circles(data, graph, params(nest="whole"), boundaries=grid)
    found = gpd.sjoin(data.demand[["geometry"]], grid, predicate="within")
    found = found[~found.index.duplicated()]
    on = data.demand["on_network"].astype(bool)
    for name, rows in found[on.reindex(found.index)].groupby("name"):
        assert circles.units["circle"].iloc[rows.index].nunique() == 1, name


def test_hub_circles_are_the_runs_own(sample):
    result, data, _ = sample
    circles = lc.hub_circles(data, params())
    d = data.demand
    want = d[d["life_circle"] > 0].groupby("life_circle")["population"].sum()
    got = circles.circles.set_index("circle")["residents"]
    assert np.allclose(got.reindex(want.index), want)
    assert list(circles.circles["boundary"]) == list(result.life_circles["hub"].astype(str))


def test_spopt_max_p_on_the_sample(sample):
    _, data, graph = sample
    circles = lc.delineate_circles(data, graph, params(method="spopt", iterations=2))
    check_partition_and_contiguity(data, graph, circles)
    assert (circles.circles["residents"] >= 2_000).sum() >= 3


def test_count_by_district_by_hand():
    c = gpd.GeoDataFrame({"meets_standard": [True, False, True, True],
                          "residents": [10.0, 20.0, 30.0, 40.0],
                          "district": ["渝中区", "渝中区", "南岸区", "渝中区"]},
                         geometry=[shapely.Point(0, 0)] * 4, crs=4326)
    out = lc.count_meeting(c, target=100).set_index("zone")
    assert out.loc["study area", ["circles", "meeting"]].tolist() == [4, 3]
    assert out.loc["渝中区", ["circles", "meeting", "residents_meeting"]].tolist() == [3, 2, 50.0]
    assert out.loc["南岸区", "meeting"] == 1 and np.isnan(out.loc["南岸区", "target"])


def test_new_hubs_turn_circles_into_circles_meeting_the_standard(helsinki_inputs,
                                                                 helsinki_siting, sample):
    from geo_app.workflows.circle_effects import circles_before_after
    from geo_app.workflows.siting import sites_frame

    _, _, graph = sample
    st = load_standards()
    st = st[st["category"].isin(["clinic", "community_service", "canteen"]) &
            (st["tier_min"] == 5)]
    sites = sites_frame(helsinki_siting.run, helsinki_siting.result)
    p = lc.circle_params(5, min_pop=1_000, max_pop=4_000, min_share=SHARE)
    eff = circles_before_after(helsinki_inputs, sites, p, graph=graph, standards=st, target=10)
    area = eff.counts[eff.counts["zone_type"] == "study_area"].iloc[0]
    assert area["meeting_after"] >= area["meeting_before"]
    assert area["gain"] == len(eff.flips) > 0
    names = set(sites["name"].astype(str))
    for r in eff.flips.itertuples(index=False):
        assert r.share_before < SHARE <= r.share_after
        assert r.hubs and set(r.hubs.split("; ")) <= names
    # the same partition, judged twice
    assert list(eff.before.circles["residents"]) == list(eff.after.circles["residents"])


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="min-pop"):
        lc.circle_params(15, min_pop=9, max_pop=5)
    with pytest.raises(ValueError, match="tier"):
        lc.circle_params(20)
