"""`geo-app accessibility`: 2SFCA on network walking times equals the same scores computed
from networkx shortest paths on the same street grid."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from analysis.accessibility import floating_catchment, weight_function
from tests.geo_app.test_cli_coverage import LAT0, LON0, STEP, grid_network


@pytest.mark.parametrize("method", ["2sfca", "g2sfca"])
def test_scores_equal_networkx(tmp_path, cli, method):
    from geo_app.workflows.coverage_steps import to_metres
    from geo_app.workflows.graphs import walk_graph_from_network
    from layers.network import read_network

    net_path = grid_network(tmp_path / "streets.geojson", n=10)
    rng = np.random.default_rng(7)
    fac = pd.DataFrame({"lon": LON0 + rng.integers(0, 10, 6) * STEP,
                        "lat": LAT0 + rng.integers(0, 10, 6) * STEP,
                        "category": "clinic", "doctors": rng.integers(1, 9, 6)})
    fac.to_csv(tmp_path / "clinics.csv", index=False)
    dem = pd.DataFrame({"lon": LON0 + rng.integers(0, 10, 80) * STEP,
                        "lat": LAT0 + rng.integers(0, 10, 80) * STEP,
                        "population": rng.integers(10, 200, 80)})
    dem.to_csv(tmp_path / "homes.csv", index=False)
    cli("accessibility", "--network", net_path, "--facilities", tmp_path / "clinics.csv",
        "--demand", tmp_path / "homes.csv", "--method", method, "--minutes", 6,
        "--capacity-column", "doctors", "--out", tmp_path / "a.gpkg")
    got = gpd.read_file(tmp_path / "a.gpkg", layer="demand")["access_clinic"].to_numpy()

    # the oracle: networkx lengths between the nodes the points sit on (all on crossings)
    g = walk_graph_from_network(read_network(net_path))
    G = nx.DiGraph()
    coo = g.time.tocoo()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    xy = np.column_stack([g.x, g.y])

    def node_of(df):
        x, y = to_metres(gpd.GeoDataFrame(geometry=gpd.points_from_xy(df.lon, df.lat),
                                          crs=4326), g.crs)
        return [int(np.argmin(np.hypot(*(xy - [a, b]).T))) for a, b in zip(x, y)]

    dn, fn = node_of(dem), node_of(fac)
    rows, cols, cost = [], [], []
    for j, f in enumerate(fn):
        lengths = nx.single_source_dijkstra_path_length(G.reverse(copy=False), f, cutoff=360)
        for i, d in enumerate(dn):
            if d in lengths:
                rows.append(i), cols.append(j), cost.append(lengths[d])
    want, _ = floating_catchment(np.array(rows), np.array(cols), np.array(cost),
                                 dem["population"].to_numpy(float),
                                 fac["doctors"].to_numpy(float), weight_function(method, 360))
    assert (want > 0).sum() > 20
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
