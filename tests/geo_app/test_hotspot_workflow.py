"""Hot spots and density of points, and drive-time service areas: workflow, CLI, bad input."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer

from geo_app.workflows.hotspots import run_density, run_hotspots
from geo_app.workflows.service_areas import DRIVE_BUFFER_M
from tests.geo_app.test_cluster_workflow import CRS, X0, Y0

TO_WGS = Transformer.from_crs(CRS, 4326, always_xy=True)


def planted(seed=0, n_bg=600, n_hot=400):
    """Points spread over 4 km × 4 km with a dense 500 m patch in one corner."""
    rng = np.random.default_rng(seed)
    xy = np.r_[rng.uniform(0, 4000, (n_bg, 2)), rng.uniform(0, 500, (n_hot, 2)) + 200]
    lon, lat = TO_WGS.transform(xy[:, 0] + X0, xy[:, 1] + Y0)
    return gpd.GeoDataFrame({"category": "shop=x", "population": rng.integers(1, 5, len(xy))},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)


@pytest.mark.parametrize("grid", ["square", "h3"])
def test_planted_patch_is_a_hot_spot(grid):
    pts = planted()
    r = run_hotspots(pts, grid=grid, cell_m=250, permutations=999)
    cells = r.cells
    assert cells["count"].sum() == len(pts)
    hot = cells[cells["kind"] == 1]
    assert len(hot) >= 3
    # Gi* counts the neighbours too: hot cells reach one cell (250 m) beyond the patch
    patch = shapely.box(*TO_WGS.transform(X0 - 300, Y0 - 300), *TO_WGS.transform(X0 + 1100, Y0 + 1100))
    assert shapely.within(shapely.centroid(hot.geometry.values), patch).all()
    assert r.params["hot"] == len(hot)


def test_weights_and_defaults():
    pts = planted()
    r = run_hotspots(pts, grid="square", cell_m=500, weight="population")
    assert r.cells["value"].sum() == pytest.approx(pts["population"].sum())
    assert r.params["permutations"] == 999  # 64 cells
    big = run_hotspots(pts, grid="square", cell_m=100, permutations=None)
    assert big.params["cells"] > 1000 and big.params["permutations"] == 9_999


@pytest.mark.parametrize("kwargs, message", [
    ({"weight": "floor_area"}, "no column 'floor_area'"),
    ({"grid": "triangles"}, "unknown grid"),
    ({"cell_m": 0}, "positive"),
])
def test_hotspot_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_hotspots(planted(), **kwargs)


def test_weights_must_be_numbers():
    pts = planted()
    pts["population"] = pts["population"].astype(object)
    pts.loc[[3, 7], "population"] = ["many", -2]
    with pytest.raises(ValueError, match=r"column 'population' must hold numbers ≥ 0; 2 row\(s\) do not: 3, 7"):
        run_hotspots(pts, weight="population")


def test_hotspots_need_points():
    with pytest.raises(ValueError, match="too few"):
        run_hotspots(planted().iloc[:2])


def test_density_integrates_to_the_weights():
    pts = planted()
    d = run_density(pts, bandwidth_m=300, weight="population")
    assert d.density.total == pytest.approx(pts["population"].sum(), rel=0.01)
    assert d.unit == "persons_per_km2" and d.crs == CRS


def test_cli_hotspots_with_density_geotiff(tmp_path, cli):
    pts = planted()
    f = tmp_path / "pts.geojson"
    pts.to_file(f)
    out, tif, html = tmp_path / "h.gpkg", tmp_path / "d.tif", tmp_path / "h.html"
    p = cli.run("hotspots", "--points", f, "--grid", "square", "--cell-m", 250, "--out", out,
            "--density", tif, "--bandwidth", 300, "--map", html)
    assert p.returncode == 0, p.stderr
    cells = gpd.read_file(out, layer="cells")
    assert (cells["kind"] == 1).sum() >= 3 and cells["count"].sum() == len(pts)
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 32648 and src.res == (60.0, 60.0)
        total = src.read(1).sum() * 0.06 ** 2
    assert total == pytest.approx(len(pts), rel=0.01)
    page = html.read_text()
    assert "冷热点" in page and "核密度" in page


def test_cli_hotspots_unknown_category(tmp_path, cli):
    f = tmp_path / "pts.geojson"
    planted().to_file(f)
    p = cli.run("hotspots", "--points", f, "--category", "amenity=bank", "--out",
                tmp_path / "h.gpkg")
    assert p.returncode == 2 and "no point has category" in p.stderr


# ------------------------------------------------------------ drive service areas

def drive_grid(path, n=6, step=0.002):
    """An n×n grid of 50 km/h streets (about 200 m blocks) with a one-way street in row 0."""
    lon0, lat0 = 106.55, 29.56
    feats = []
    for i in range(n):
        row = [[lon0 + j * step, lat0 + i * step] for j in range(n)]
        col = [[lon0 + i * step, lat0 + j * step] for j in range(n)]
        for coords, oneway in ((row, "yes" if i == 0 else "no"), (col, "no")):
            feats.append({"type": "Feature", "properties": {"highway": "residential",
                                                            "maxspeed": "50", "oneway": oneway},
                          "geometry": {"type": "LineString", "coordinates": coords}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path, lon0, lat0


def test_service_areas_match_networkx(tmp_path):
    from geo_app.workflows.catchments import graph_for
    from geo_app.workflows.service_areas import service_areas

    f, lon0, lat0 = drive_grid(tmp_path / "roads.geojson")
    g = graph_for(f, "drive")
    bases = gpd.GeoDataFrame({"name": ["depot"]}, geometry=gpd.points_from_xy([lon0], [lat0]),
                             crs=4326)
    areas, table = service_areas(g, bases, [0.5, 1.0])
    assert table["on_network"].all() and table["snap_m"].iloc[0] < 1
    coo = g.time.tocoo()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    start = int(np.argmin(np.hypot(g.x - g.x.min(), g.y - g.y.min())))
    times = nx.single_source_dijkstra_path_length(G, start)
    pts = gpd.GeoSeries(gpd.points_from_xy(g.x, g.y), crs=g.crs).to_crs(4326)
    for mins in (0.5, 1.0):
        poly = areas.loc[areas["minutes"] == mins].geometry.iloc[0]
        inside = pts.within(poly.buffer(1e-6)).to_numpy()
        t = np.array([times.get(i, np.inf) for i in range(g.n_nodes)])
        assert inside[t <= mins * 60].all()
        # a node beyond the limit lies in the band only if the band reaches it along its street:
        # within DRIVE_BUFFER_M of where the time ran out (50 km/h = 13.9 m/s)
        far = t > mins * 60 + (DRIVE_BUFFER_M + 1) / (50 / 3.6)
        assert far.any() and not inside[far].any()
    # the one-way street (row 0, west → east) is not driven back: going from its east end
    east = int(np.argmin(np.hypot(g.x - g.x.max(), g.y - g.y.min())))
    assert nx.dijkstra_path_length(G, start, east) < nx.dijkstra_path_length(G, east, start)


def test_cli_service_areas(tmp_path, cli):
    f, lon0, lat0 = drive_grid(tmp_path / "roads.geojson")
    bases = tmp_path / "bases.csv"
    bases.write_text(f"name,lon,lat\n仓库,{lon0 + 0.004},{lat0 + 0.004}\n远处,107.5,30.5\n")
    out = tmp_path / "sa.gpkg"
    p = cli.run("service-areas", "--network", f, "--bases", bases, "--minutes", "0.5,1",
            "--out", out, "--map", tmp_path / "sa.html")
    assert p.returncode == 0, p.stderr
    assert "远处: OFF the network" in p.stdout
    areas = gpd.read_file(out, layer="service_areas")
    assert sorted(areas["minutes"]) == [0.5, 1.0] and set(areas["name"]) == {"仓库"}
    a = areas.set_index("minutes")["area_km2"]
    assert 0 < a[0.5] < a[1.0]


def test_cli_service_areas_far_from_the_network(tmp_path, cli):
    f, _, _ = drive_grid(tmp_path / "roads.geojson")
    p = cli.run("service-areas", "--network", f, "--out", tmp_path / "sa.gpkg")  # bundled bases
    assert p.returncode == 2 and "lies within 2000 m of the network" in p.stderr
