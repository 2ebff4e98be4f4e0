"""Service clusters from POIs and business-circle catchments: workflow, CLI and bad input."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer

from geo_app.workflows.catchments import (
    census_cells,
    huff_catchments,
    network_costs,
    population_cells,
    straight_costs,
)
from geo_app.workflows.clusters import cluster_pois

CRS = "EPSG:32648"  # Chongqing's UTM zone
TO_WGS = Transformer.from_crs(CRS, 4326, always_xy=True)
X0, Y0 = 660_000.0, 3_270_000.0  # near 解放碑


def blob_pois(seed=0):
    """Four blobs 3 km apart with a dominant category each, plus scattered noise."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [3000, 0], [0, 3000], [3000, 3000]], float)
    truth = np.repeat(np.arange(4), 120)
    xy = centres[truth] + rng.normal(0, 100, (480, 2))
    noise = rng.uniform(-1500, 4500, (30, 2))
    xy = np.r_[xy, noise] + [X0, Y0]
    main = np.array(["amenity=restaurant", "shop=clothes", "amenity=bank", "office=it"])
    cat = np.r_[np.where(rng.random(480) < 0.7, main[truth], "amenity=cafe"),
                np.full(30, "shop=bakery")]
    lon, lat = TO_WGS.transform(xy[:, 0], xy[:, 1])
    pois = gpd.GeoDataFrame({"category": cat, "name": [f"p{i}" for i in range(len(cat))]},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)
    places = gpd.GeoDataFrame({"name": ["甲", "乙", "丙", "丁"]},
                              geometry=gpd.points_from_xy(*TO_WGS.transform(
                                  centres[:, 0] + X0 + 200, centres[:, 1] + Y0)), crs=4326)
    return pois, np.r_[truth, np.full(30, -1)], places


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_clusters_are_labelled_by_category_and_place(method):
    from sklearn.metrics import adjusted_rand_score

    pois, truth, places = blob_pois()
    r = cluster_pois(pois, method=method, eps_m=150, min_samples=10, places=places)
    got = r.points["cluster"].to_numpy()
    assert adjusted_rand_score(truth[truth >= 0], got[truth >= 0]) >= 0.9
    assert len(r.clusters) == 4
    expect = {"甲": "amenity=restaurant", "乙": "shop=clothes", "丙": "amenity=bank", "丁": "office=it"}
    for row in r.clusters.itertuples():
        assert row.top_category == expect[row.place]
        assert row.label == f"{row.place} · {row.top_category}"
        assert 150 < row.place_dist_m < 250  # the place sits 200 m east of the blob's centre
        assert 0.6 < row.top_share < 0.8
    # counts add up: by category, and the clusters' points
    counts = r.category_counts.groupby("cluster")["count"].sum()
    sizes = r.clusters.set_index("cluster")["n_points"]
    assert counts.sort_index().tolist() == sizes.sort_index().tolist()
    assert sizes.sum() == (got >= 0).sum()


def test_labels_fall_back_to_the_commonest_name():
    pois, _, _ = blob_pois()
    r = cluster_pois(pois, eps_m=150, min_samples=10, places=None)
    assert all(p.startswith("p") for p in r.clusters["place"])
    assert r.clusters["place_dist_m"].isna().all()


@pytest.mark.parametrize("frame, message", [
    (lambda p: p.iloc[:5], "too few"),
    (lambda p: p.assign(geometry=[p.geometry.iloc[0]] * len(p)), "same place"),
    (lambda p: p.drop(columns="category"), "no 'category' column"),
])
def test_bad_point_sets(frame, message):
    pois, _, _ = blob_pois()
    with pytest.raises(ValueError, match=message):
        cluster_pois(frame(pois), min_samples=10)


def test_cli_clusters(tmp_path, cli):
    pois, truth, _ = blob_pois()
    f = tmp_path / "pois.csv"
    pd.DataFrame({"lon": pois.geometry.x, "lat": pois.geometry.y, "kind": pois["category"],
                  "name": pois["name"]}).to_csv(f, index=False)
    out = tmp_path / "clusters.gpkg"
    p = cli.run("clusters", "--points", f, "--method", "dbscan", "--eps", 150, "--min-samples", 10,
            "--category-column", "kind", "--out", out, "--map", tmp_path / "c.html")
    assert p.returncode == 0, p.stderr
    assert "clusters: 4" in p.stdout
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"points", "clusters", "category_counts", "sector_counts", "run_info"} <= layers
    pts = gpd.read_file(out, layer="points")
    assert len(pts) == len(pois) and set(np.unique(pts["cluster"])) == {-1, 0, 1, 2, 3}
    cl = gpd.read_file(out, layer="clusters")
    assert len(cl) == 4 and cl.geometry.geom_type.isin(["Polygon"]).all()
    # the 9611 sector of "office=it" POIs
    sectors = pyogrio.read_dataframe(out, layer="sector_counts")
    assert "数智信息" in set(sectors["sector_9611"])
    assert (tmp_path / "c.html").stat().st_size > 0


@pytest.mark.parametrize("csv, args, message", [
    ("lon,lat,category\n106.5,29.5,shop=bakery\n", [], "too few to cluster"),
    ("lon,lat,name\n106.5,29.5,a\n106.6,29.5,b\n", [], "missing column(s) category"),
    ("lon,lat,category\n" + "106.5,29.5,shop=bakery\n" * 20, [], "same place"),
    ("lon,lat,category\n106.5,29.5,a\n106.6,29.6,b\n106.7,29.7,c\n", ["--eps", "-5"], "eps"),
])
def test_cli_clusters_bad_input(tmp_path, csv, args, message, cli):
    f = tmp_path / "pts.csv"
    f.write_text(csv)
    p = cli.run("clusters", "--points", f, "--min-samples", 2, *args, "--out", tmp_path / "o.gpkg")
    assert p.returncode == 2
    assert message in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o.gpkg").exists()


# ------------------------------------------------------------------ catchments

def test_huff_catchments_by_hand():
    cells = gpd.GeoDataFrame({"population": [100.0, 50.0, 10.0]},
                             geometry=gpd.points_from_xy([0, 1, 2], [0, 0, 0]).buffer(0.4), crs=CRS)
    circles = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=gpd.points_from_xy([0, 0], [0, 0]),
                               crs=CRS)
    cost = np.array([[1.0, 2.0], [2.0, 1.0], [np.inf, np.inf]])
    r = huff_catchments(cells, circles, cost, np.array([2.0, 1.0]), beta=2.0)
    # cell 0: A 2·1 = 2, B 1/4 → P(A) = 8/9; cell 1: A 2/4, B 1 → P(A) = 1/3
    assert r.cells["p_0"].tolist() == pytest.approx([8 / 9, 1 / 3, 0])
    assert r.cells["dominant"].tolist() == [0, 1, -1]
    assert r.circles["expected_visitors"].tolist() == pytest.approx(
        [100 * 8 / 9 + 50 / 3, 100 / 9 + 50 * 2 / 3])
    assert r.circles["expected_visitors"].sum() == pytest.approx(150)  # the unreached cell visits none
    assert sorted(r.areas["name"]) == ["A", "B"]


def test_census_cells_keep_every_resident(base_layers):
    d = base_layers.districts
    cells = census_cells(d, 5000, CRS)
    assert cells["population"].sum() == pytest.approx(d["pop_2020"].astype(float).sum(), rel=1e-9)


def test_population_cells_sum_points():
    pts = gpd.GeoDataFrame({"population": [1.0, 2.0, 3.0, np.nan]},
                           geometry=gpd.points_from_xy([10, 20, 260, 5], [10, 20, 10, 5]), crs=CRS)
    cells = population_cells(pts, 250, CRS)
    assert sorted(cells["population"]) == [3.0, 3.0]


def test_network_costs_equal_networkx(helsinki_inputs):
    from geo_app.workflows.graphs import walk_graph_from_network

    g = walk_graph_from_network(helsinki_inputs.network)
    rng = np.random.default_rng(1)
    pick = rng.choice(g.n_nodes, 40, replace=False)
    x, y = g.x[pick], g.y[pick]  # at the nodes: no access walks
    lon, lat = Transformer.from_crs(g.crs, 4326, always_xy=True).transform(x, y)
    cells = gpd.GeoDataFrame({"population": np.ones(30)},
                             geometry=gpd.points_from_xy(x[:30], y[:30]).buffer(1.0), crs=g.crs)
    circles = gpd.GeoDataFrame({"name": list("abcdefghij")},
                               geometry=gpd.points_from_xy(lon[30:], lat[30:]), crs=4326)
    cost = network_costs(cells, circles, g, access_speed_m_s=1.0, limit_s=900)
    coo = g.time.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    for j, target in enumerate(pick[30:]):
        dist = nx.single_source_dijkstra_path_length(G.reverse(copy=False), int(target))
        for i, source in enumerate(pick[:30]):
            want = dist.get(int(source), np.inf)
            want = want if want <= 900 else np.inf
            assert cost[i, j] == pytest.approx(want, abs=1e-6)
    assert np.isfinite(cost).any()


def test_straight_costs_cut_off():
    cells = gpd.GeoDataFrame({"population": [1.0, 1.0]},
                             geometry=gpd.points_from_xy([0, 3000], [0, 0]).buffer(1), crs=CRS)
    circles = gpd.GeoDataFrame({"name": ["A"]}, geometry=gpd.points_from_xy([0], [400]), crs=CRS)
    assert straight_costs(cells, circles, max_m=1000)[:, 0] == pytest.approx([400, np.inf])


def test_cli_catchments_on_the_bundled_circles(tmp_path, cli):
    out = tmp_path / "c.gpkg"
    p = cli.run("catchments", "--cell-m", 3000, "--max-km", 15, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "centres: 14" in p.stdout and "观音桥商圈" in p.stdout
    circles = gpd.read_file(out, layer="circles")
    cells = gpd.read_file(out, layer="cells")
    reached = cells.loc[cells["dominant"] >= 0, "population"].sum()
    assert circles["expected_visitors"].sum() == pytest.approx(reached, rel=1e-6)
    probs = cells[[f"p_{k}" for k in range(14)]].sum(axis=1)
    assert np.allclose(probs[cells["dominant"] >= 0], 1.0)


@pytest.mark.parametrize("args, message", [
    (["--attractiveness", "column:floor_area"], "no column 'floor_area'"),
    (["--attractiveness", "pois"], "needs a points-of-interest layer"),
    (["--attractiveness", "nonsense"], "unknown attractiveness"),
    (["--cell-m", "-3"], "-3 is out of range: must be at least 10"),
])
def test_cli_catchments_bad_input(tmp_path, args, message, cli):
    demand = tmp_path / "d.csv"
    demand.write_text("lon,lat,population\n106.5,29.5,10\n")
    p = cli.run("catchments", "--demand", demand, *args, "--out", tmp_path / "c.gpkg")
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "c.gpkg").exists()
