"""Rasters the user supplies: a DEM for slopes, a population grid for demand."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geo_app.workflows.graphs import walk_graph_from_network
from layers import LayerValidationError
from layers.demand import read_population_raster
from layers.elevation import sample_dem
from layers.network import StreetNetwork


def write_tif(path, data, transform, crs, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype=data.dtype, crs=crs, transform=transform,
                       nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def test_dem_sampling_in_a_projected_crs(tmp_path):
    # UTM 48N grid of 10 m cells whose value is x metres east of the origin / 10
    x0, y0 = 400_000.0, 3_270_000.0
    cols = np.arange(200, dtype=float)
    data = np.tile(cols, (200, 1)).astype("float32")
    dem = write_tif(tmp_path / "dem.tif", data, from_origin(x0, y0, 10, 10), "EPSG:32648")
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(
        [x0 + 5, x0 + 1005, x0 + 1995], [y0 - 5, y0 - 500, y0 - 1995])
    np.testing.assert_allclose(sample_dem(dem, lon, lat), [0, 100, 199])
    with pytest.raises(LayerValidationError, match="1 of 1 network nodes fall outside"):
        sample_dem(dem, [100.0], [20.0])


def test_dem_gives_tobler_times_by_hand(tmp_path):
    # two nodes 0.001° apart east-west on a DEM rising 10 m from west to east cell
    data = np.array([[0.0, 10.0]], dtype="float32")
    dem = write_tif(tmp_path / "dem.tif", data, from_origin(106.55, 29.561, 0.001, 0.002),
                    "EPSG:4326")
    import geopandas as gpd
    import pandas as pd
    import shapely

    nodes = pd.DataFrame({"node_id": [1, 2], "lon": [106.5505, 106.5515], "lat": [29.56, 29.56]})
    length = 96.8
    edges = gpd.GeoDataFrame({"u": [1], "v": [2], "length_m": [length], "highway": ["footway"]},
                             geometry=[shapely.LineString([(106.5505, 29.56), (106.5515, 29.56)])],
                             crs=4326)
    g = walk_graph_from_network(StreetNetwork(nodes, edges, "test"), dem=str(dem))
    slope = 10.0 / length
    up = length / (np.exp(-3.5 * abs(slope + 0.05)) / np.exp(-3.5 * 0.05))
    down = length / (np.exp(-3.5 * abs(-slope + 0.05)) / np.exp(-3.5 * 0.05))
    assert g.time[0, 1] == pytest.approx(up) and g.time[1, 0] == pytest.approx(down)
    assert up > length > down * 0.9


def test_population_raster(tmp_path):
    data = np.array([[0, 5, 10], [20, -9999, 1]], dtype="float32")
    tif = write_tif(tmp_path / "pop.tif", data, from_origin(106.5, 29.6, 0.01, 0.01), "EPSG:4326",
                    nodata=-9999)
    d = read_population_raster(tif)
    assert len(d) == 4 and d["population"].sum() == pytest.approx(36)
    row = d[d["population"] == 20].iloc[0]
    assert row.geometry.x == pytest.approx(106.505) and row.geometry.y == pytest.approx(29.585)
    import shapely

    d = read_population_raster(tif, area=shapely.box(106.51, 29.59, 106.53, 29.6))
    assert sorted(d["population"]) == [5.0, 10.0]
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(LayerValidationError, match="not a readable raster"):
        read_population_raster(bad)
