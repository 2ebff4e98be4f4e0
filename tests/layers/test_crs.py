"""The one metric CRS of a layer (layers.crs.metric_crs)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.crs import metric_crs


def test_the_utm_zone_of_the_bulk_of_the_data():
    lon = np.r_[np.full(99, 106.5), 109.5]  # Chongqing's main city, one point in zone 49
    lat = np.full(100, 29.5)
    pts = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
    assert metric_crs(pts) == metric_crs(pts.geometry) == metric_crs((lon, lat)) == "EPSG:32648"
    assert metric_crs(pts) == pts.iloc[:99].estimate_utm_crs().to_string()
    assert metric_crs(shapely.Point(109.5, 31.0)) == "EPSG:32649"
    assert metric_crs(gpd.GeoSeries([shapely.Point(24.94, 60.17)], crs=4326)) == "EPSG:32635"
    assert metric_crs(gpd.GeoSeries([shapely.Point(-70.6, -33.4)], crs=4326)) == "EPSG:32719"


def test_projected_input_is_read_in_degrees():
    pts = gpd.GeoSeries(shapely.points([106.5, 106.6], [29.5, 29.6]), crs=4326)
    assert metric_crs(pts.to_crs(32649)) == "EPSG:32648"
    assert metric_crs(pts.to_crs(4545)) == "EPSG:32648"  # CGCS2000 Gauss-Kruger CM 108E


def test_no_coordinates_or_metres_are_refused():
    with pytest.raises(ValueError, match="no coordinates"):
        metric_crs(gpd.GeoSeries([], crs=4326))
    with pytest.raises(ValueError, match="not WGS-84"):
        metric_crs((np.array([500_000.0]), np.array([3_300_000.0])))
