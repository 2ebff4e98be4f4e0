"""Who gains and who loses reach through a network edit, and by how much the walk changes,
against networkx on the same streets (GENERATED streets: two parallel streets 300 m apart,
residents on both, one clinic).

- a footbridge joining two otherwise disconnected streets: exactly the residents whose
  networkx time on the graph with the bridge is within the threshold gain, nobody loses;
- a closed crossing: exactly the residents covered before whose networkx time without it
  exceeds the threshold lose, nobody gains;
- the walk's change per resident and the summary (persons nearer / farther, mean change).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo_app.workflows.coverage import load_inputs
from geo_app.workflows.edit_compare import (
    GAIN,
    LOSE,
    NEARER_S,
    SAME,
    compare_edits,
    drawn_edits,
    edit_effects,
    time_changes,
)

CRS = "EPSG:32648"
X0, Y0 = 500_000.0, 3_300_000.0
TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)
XS = 100.0 * np.arange(11)
YS = (0.0, 300.0)
SPEED = {"adult": 1.0, "elderly": 0.8}  # data/gis/walker_profiles.csv, on the flat
# residents: both streets, every 100 m; population 1, 2, 3 … so sums name the residents
RES = np.array([(x, y) for y in YS for x in XS])
POP = 1.0 + np.arange(len(RES))


def lonlat(x, y):
    return TO_LONLAT.transform(X0 + np.asarray(x, float), Y0 + np.asarray(y, float))


def line(*xy) -> shapely.LineString:
    lon, lat = lonlat(*np.asarray(xy, float).T)
    return shapely.LineString(np.c_[lon, lat])


def feature(geom) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geom)}


def streets(crossings: list[float]):
    lines = [line((x, y), (x + 100, y)) for y in YS for x in XS[:-1]]
    return lines + [line((x, 0), (x, 300)) for x in crossings]


def oracle(speed: float, crossings: list[float]) -> np.ndarray:
    """networkx: seconds from the clinic at (0, 0) to each resident (inf: no way)."""
    g = nx.Graph()
    g.add_nodes_from(map(tuple, RES))
    for y in YS:
        for x in XS[:-1]:
            g.add_edge((x, y), (x + 100, y), weight=100 / speed)
    for x in crossings:
        g.add_edge((x, 0.0), (x, 300.0), weight=300 / speed)
    d = nx.single_source_dijkstra_path_length(g, (0.0, 0.0), weight="weight")
    return np.array([d.get(tuple(p), np.inf) for p in RES])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("edit_effects")
    for name, crossings in (("apart.gpkg", []), ("two_crossings.gpkg", [0.0, 1000.0])):
        lines = streets(crossings)
        gpd.GeoDataFrame({"highway": ["footway"] * len(lines)}, geometry=lines,
                         crs=4326).to_file(root / name)
    lon, lat = lonlat(RES[:, 0], RES[:, 1])
    pd.DataFrame({"lon": lon, "lat": lat, "population": POP}).to_csv(root / "residents.csv",
                                                                       index=False)
    flon, flat = lonlat([0.0], [0.0])
    pd.DataFrame({"lon": flon, "lat": flat, "category": ["clinic"], "name": ["clinic"]}
                 ).to_csv(root / "facilities.csv", index=False)
    return root


def _inputs(files, network: str):
    return load_inputs(files / network, files / "facilities.csv", files / "residents.csv")


@pytest.mark.parametrize(("profile", "n_gain"), [("adult", 9), ("elderly", 3)])
def test_a_footbridge_joining_two_parts_gains_exactly_the_residents_within_reach(
        files, profile, n_gain):
    limit = 1230.0  # 20.5 minutes: no resident within seconds of it
    done = compare_edits(_inputs(files, "apart.gpkg"),
                         drawn_edits([feature(line((500, 0), (500, 300)))], ["footbridge"]),
                         profile=profile, minutes=limit / 60)
    before = oracle(SPEED[profile], [])
    after = oracle(SPEED[profile], [500.0])
    assert np.isinf(before[len(XS):]).all()  # the far street: no way before the bridge
    want = np.where((after <= limit + 1e-6) & ~(before <= limit + 1e-6), GAIN, SAME)
    got = done.status["clinic"].to_numpy()
    np.testing.assert_array_equal(got, want)
    assert (got == GAIN).sum() == n_gain and not (got == LOSE).any()
    row = done.summary.set_index("category").loc["clinic"]
    assert row["gain"] == POP[want == GAIN].sum() and row["lose"] == 0
    assert row["net"] == row["gain"]
    # the near street walks as before; the far one had no time before (NaN change)
    dt = done.time_change["clinic"].to_numpy()
    np.testing.assert_allclose(dt[:len(XS)][before[:len(XS)] <= limit], 0.0, atol=1e-6)
    assert np.isnan(dt[len(XS):]).all()
    assert row["nearer"] == 0 and row["farther"] == 0


def test_closing_a_crossing_loses_exactly_the_residents_networkx_puts_out_of_reach(files):
    limit = 630.0  # 10.5 minutes
    gate = feature(line((0, 100), (0, 200)))  # drawn over the crossing at x = 0
    done = compare_edits(_inputs(files, "two_crossings.gpkg"), drawn_edits([gate], ["closed"]),
                         profile="adult", minutes=limit / 60)
    with_edge, without = oracle(1.0, [0.0, 1000.0]), oracle(1.0, [1000.0])
    covered = with_edge <= limit + 1e-6
    want = np.where(covered & (without > limit + 1e-6), LOSE, SAME)
    got = done.status["clinic"].to_numpy()
    np.testing.assert_array_equal(got, want)
    assert (got == LOSE).sum() == 4 and not (got == GAIN).any()  # far street x ≤ 300 m
    row = done.summary.set_index("category").loc["clinic"]
    assert row["lose"] == POP[want == LOSE].sum() and row["gain"] == 0
    assert row["net"] == -row["lose"]
    # the walk's change where both walks are within the search: networkx's difference
    dt = done.time_change["clinic"].to_numpy()
    both = np.isfinite(dt)
    assert (covered & (without <= limit)).sum() > 0
    assert both[covered & (without <= limit)].all()
    np.testing.assert_allclose(dt[both], (without - with_edge)[both], atol=0.5)
    farther = both & (dt > NEARER_S)
    assert row["farther"] == POP[farther].sum() and row["nearer"] == 0
    mean = np.average(dt[both], weights=POP[both])
    assert row["mean_change_s"] == pytest.approx(mean)


def test_time_changes_are_after_minus_before_per_category(files):
    inputs = _inputs(files, "two_crossings.gpkg")
    from geo_app.workflows.coverage import run

    before = run(inputs, minutes=10.5, isochrones="none")
    status, summary = edit_effects(before, before)
    assert (status.to_numpy() == SAME).all() and (summary["net"] == 0).all()
    dt = time_changes(before, before)
    assert list(dt.columns) == list(before.categories)
    t = before.demand["t_clinic"].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(dt["clinic"].to_numpy()), np.isnan(t))
    assert np.nanmax(np.abs(dt["clinic"].to_numpy())) == 0


def test_an_added_footbridge_makes_no_walk_longer(files, tmp_path):
    """networkx: adding an edge never lengthens a shortest path. A resident 40 m from street
    A at x = 100 m and 30 m from a footbridge drawn at x = 130 m keeps its 100 m walk."""
    lon, lat = lonlat([100.0], [40.0])
    pd.DataFrame({"lon": lon, "lat": lat, "population": [1.0]}).to_csv(tmp_path / "r.csv",
                                                                        index=False)
    inputs = load_inputs(files / "two_crossings.gpkg", files / "facilities.csv",
                         tmp_path / "r.csv")
    done = compare_edits(inputs, drawn_edits([feature(line((130, 0), (130, 300)))],
                                             ["footbridge"]), profile="adult", minutes=10)
    dt = done.time_change["clinic"].to_numpy()
    assert np.isfinite(dt).all() and (dt <= 1e-6).all(), dt
