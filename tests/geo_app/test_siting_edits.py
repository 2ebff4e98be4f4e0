"""Siting on an edited network, per walker profile, with street-front joins: the times
against networkx on the graph with the join points inserted, and the covered residents
equal to coverage's for the same sites, profile and edits."""

from __future__ import annotations

from itertools import pairwise

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geo_app.workflows.before_after import coverage_before_after
from geo_app.workflows.coverage import run_coverage, to_metres
from geo_app.workflows.siting import prepare, siting_graph
from layers.edits import edits_from_frame

BRIDGE = shapely.LineString([(24.9385, 60.1695), (24.9410, 60.1700)])


@pytest.fixture(scope="module")
def edits():
    return edits_from_frame(gpd.GeoDataFrame({"kind": ["footbridge"]}, geometry=[BRIDGE],
                                             crs=4326))


@pytest.fixture(scope="module")
def sites(helsinki_inputs):
    demand = helsinki_inputs.demand
    pick = demand.geometry.iloc[np.linspace(0, len(demand) - 1, 6).astype(int)]
    return gpd.GeoDataFrame({"name": [f"s{i}" for i in range(len(pick))]},
                            geometry=list(pick.to_numpy()), crs=4326)


def _oracle_times(g, pts_xy, speed_m_s, max_snap_m):
    """Seconds between points along ``g``'s segments, each point inserted into its nearest
    segment (networkx on the graph with the split points, the walk at constant pace)."""
    from analysis.join import nearest_segment_points

    seg, t, dist = nearest_segment_points(g, pts_xy[:, 0], pts_xy[:, 1], max_dist_m=max_snap_m)
    s = g.segments
    n_seg = len(s.u)
    wu = np.zeros(n_seg) if s.wait_u_s is None else s.wait_u_s  # half a lift's wait, each end
    wv = np.zeros(n_seg) if s.wait_v_s is None else s.wait_v_s
    G = nx.DiGraph()
    on = {}
    for k in np.flatnonzero(seg >= 0):
        if 0.0 < t[k] < 1.0:
            on.setdefault(int(seg[k]), []).append((float(t[k]), ("p", int(k))))
        else:  # a point at a segment's end is at that node
            end = int(s.u[seg[k]] if t[k] == 0.0 else s.v[seg[k]])
            G.add_edge(("p", int(k)), end, w=0.0)
            G.add_edge(end, ("p", int(k)), w=0.0)
    for i in range(len(s.u)):
        chain = [(0.0, int(s.u[i])), *sorted(on.get(i, [])), (1.0, int(s.v[i]))]
        last = len(chain) - 2
        for k, ((ta, a), (tb, b)) in enumerate(pairwise(chain)):
            share = tb - ta
            wait = (wu[i] if k == 0 else 0.0) + (wv[i] if k == last else 0.0)
            for x, y, w in ((a, b, s.travel_fwd_s[i]), (b, a, s.travel_back_s[i])):
                if np.isfinite(w):
                    old = G.get_edge_data(x, y, {}).get("w", np.inf)
                    G.add_edge(x, y, w=min(old, share * w + wait))
    access = np.where(seg >= 0, dist / speed_m_s, np.inf)
    return G, access


def test_street_join_times_match_networkx(helsinki_inputs, sites, edits):
    g, speed = siting_graph(helsinki_inputs.network, profile="elderly", edits=edits)
    demand = helsinki_inputs.demand.iloc[::2].reset_index(drop=True)
    run = prepare(g, demand, sites, minutes=15, speed_m_s=speed, join="street")
    xy = np.column_stack([np.r_[to_metres(sites, g.crs)[0], to_metres(demand, g.crs)[0]],
                          np.r_[to_metres(sites, g.crs)[1], to_metres(demand, g.crs)[1]]])
    G, access = _oracle_times(g, xy, speed, run.max_snap_m)
    times = run.times.toarray()
    have = run.times.copy()
    have.data[:] = 1
    have = have.toarray() > 0
    n = len(sites)
    R = G.reverse(copy=False)
    checked = 0
    for c in range(n):
        if ("p", c) not in G:
            continue
        # residents walk to the site: from the site on the reversed graph
        d = nx.single_source_dijkstra_path_length(R, ("p", c), weight="w")
        want = np.array([access[c] + d.get(("p", n + j), np.inf) + access[n + j]
                         for j in range(len(demand))])
        inside = want <= run.threshold_s - 1e-6
        assert np.all(have[c][inside]), c
        assert np.allclose(times[c][inside], want[inside], atol=1e-6), c
        checked += int(inside.sum())
    assert checked > 50


def test_siting_covers_whom_coverage_covers(helsinki_inputs, sites, edits):
    """For the same sites, profile and edits: siting's covered residents equal coverage's."""
    net = helsinki_inputs.network
    g, speed = siting_graph(net, profile="elderly", edits=edits)
    run = prepare(g, helsinki_inputs.demand, sites, minutes=10, speed_m_s=speed,
                  join="street")
    reached = np.asarray(run.cover.sum(axis=0)).ravel() > 0
    covered = float(run.weights[reached].sum())
    facilities = sites.assign(category="clinic")
    cov = run_coverage(net, facilities, helsinki_inputs.demand, minutes=10, profile="elderly",
                       edits=edits, join="street", isochrones="none",
                       progress=lambda f, m: None)
    row = cov.summary[cov.summary["zone_type"] == "study_area"].iloc[0]
    assert covered > 0 and covered == pytest.approx(float(row["pop_clinic"]), abs=1e-6)
    # before/after of the proposal: the same figure as a gain over no clinic
    inputs = helsinki_inputs
    table = coverage_before_after(
        type(inputs)(**{**inputs.__dict__, "facilities": inputs.facilities[
            inputs.facilities["category"] != "clinic"]}),
        sites, ["clinic"], minutes=10, profile="elderly", edits=edits, join="street")
    clinic = table[table["category"] == "clinic"].iloc[0]
    assert clinic["covered_before"] == 0
    assert clinic["covered_after"] == pytest.approx(covered, abs=1e-6)


def test_scenario_keeps_its_edits_and_profile(tmp_path, edits):
    from geo_app.io.project import Scenario, list_scenarios, load_scenario, save_scenario
    from layers.edits import edits_from_frame

    closed = shapely.LineString([(24.9400, 60.1690), (24.9405, 60.1692)])
    frame = gpd.GeoDataFrame({"kind": ["stairs", "closed", "escalator"],
                              "direction": [None, None, "forward"],
                              "incline": ["up", None, None], "step_count": [24, None, None]},
                             geometry=[BRIDGE, closed, BRIDGE.reverse()], crs=4326)
    path = tmp_path / "p.cqproj.sqlite"
    save_scenario(path, Scenario("lift", params={"n": 1}, profile="wheelchair",
                                 edits=edits_from_frame(frame)))
    save_scenario(path, Scenario("plain"))
    got = load_scenario(path, "lift")
    assert got.profile == "wheelchair" and got.tables == {}
    assert list(got.edits["kind"]) == ["stairs", "closed", "escalator"]
    assert list(got.edits["open"]) == [True, False, True]
    assert list(got.edits["status"]) == ["open", "closed", "open"]
    assert list(got.edits["direction"]) == ["both", "both", "forward"]
    assert got.edits["step_count"].iloc[0] == 24 and np.isnan(got.edits["step_count"].iloc[1])
    assert got.edits.geometry.iloc[0].equals_exact(BRIDGE, 1e-9)
    again = edits_from_frame(got.edits)  # reopened edits are applied as they were
    assert list(again.lines["closed"]) == [False, True, False]
    assert list(again.lines["incline"]) == ["up", "", ""]
    plain = load_scenario(path, "plain")
    assert plain.profile is None and plain.edits is None
    assert list(list_scenarios(path)["name"]) == ["lift", "plain"]


def test_cli_site_with_profile_and_edits(cli, tmp_path):
    from geo_app.workflows.coverage import sample_path

    sample = str(sample_path())
    bridge = tmp_path / "edits.geojson"
    gpd.GeoDataFrame({"kind": ["footbridge"]}, geometry=[BRIDGE], crs=4326).to_file(bridge)
    common = ("site", "--network", sample, "--demand", "buildings", "--candidates",
              "grid:400", "--n", "2", "--heuristic")
    cli(*common, "--profile", "elderly", "--edits", str(bridge), "--out",
        str(tmp_path / "a.gpkg"))
    cli(*common, "--out", str(tmp_path / "b.gpkg"))
    a = gpd.read_file(tmp_path / "a.gpkg", layer="summary").iloc[0]
    b = gpd.read_file(tmp_path / "b.gpkg", layer="summary").iloc[0]
    assert a["newly_covered"] < b["newly_covered"]  # the elderly walk slower
    proc = cli.run(*common, "--profile", "cyclist", "--out", str(tmp_path / "c.gpkg"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "cyclist" in proc.stderr


def test_proposal_package_carries_the_edits(helsinki_siting, edits, tmp_path, monkeypatch):
    import json

    from geo_app.io import report
    from geo_app.workflows.siting import evaluate
    from layers.edits import read_edits

    monkeypatch.setattr(report, "find_chromium", lambda: None)  # no PDF here
    s = helsinki_siting
    ev = evaluate(s.run, s.result.sites)
    paths = report.proposal_package(s.run, s.result, ev, folder=tmp_path, lang="en",
                                    parameters=s.params, map_html="<p>map</p>",
                                    network_edits=edits, walker_profile="elderly")
    path = paths["network_edits"]
    assert path.name == "network_edits.geojson"
    assert json.loads(path.read_text("utf-8"))["walker_profile"] == "elderly"
    back = read_edits(path)
    assert list(back.lines["kind"]) == ["footbridge"] and not back.lines["closed"].any()
    assert "network_edits.geojson: Network edits" in paths["readme"].read_text("utf-8")
    (tmp_path / "b").mkdir()
    plain = report.proposal_package(s.run, s.result, ev, folder=tmp_path / "b", lang="en",
                                    parameters=s.params, map_html="<p>map</p>")
    assert "network_edits" not in plain
