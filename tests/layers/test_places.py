"""Point layers: business circles, logistics bases, service clusters (layers.places)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely

import layers
from layers.places import read_places
from layers.resources import data_dir

METRIC_CRS = 32648  # UTM 48N, for distances over Chongqing

LOADERS = {
    "business_circles": (layers.load_business_circles, 14, "BC"),
    "logistics_bases": (layers.load_logistics_bases, 17, "LB"),
    "clusters": (layers.load_clusters, 25, "CL"),
}


@pytest.fixture(params=list(LOADERS))
def layer(request):
    load, count, prefix = LOADERS[request.param]
    return load(), count, prefix


def test_rows_crs_and_ids(layer):
    gdf, count, prefix = layer
    assert len(gdf) == count
    assert gdf.crs.to_epsg() == 4326
    assert gdf["id"].is_unique
    assert all(re.fullmatch(prefix + r"\d\d", i) for i in gdf["id"])


def test_keeps_descriptive_columns(layer):
    gdf, _, _ = layer
    for col in ("category", "status", "source", "coord_confidence", "uncertainty_m",
                "sector_9611", "gold_card", "district_adcode"):
        assert col in gdf.columns
    assert gdf["category"].notna().all()
    assert set(gdf["coord_confidence"]) <= {"high", "medium", "low", "very_low", "none"}
    assert gdf["uncertainty_m"].dtype == np.float64


def test_located_points_are_points_matching_lon_lat(layer):
    gdf, _, _ = layer
    located = gdf[gdf.geometry.notna()]
    assert (located.geom_type == "Point").all()
    np.testing.assert_array_equal(located.geometry.x, located["lon"])
    np.testing.assert_array_equal(located.geometry.y, located["lat"])


def test_located_points_lie_in_chongqing(layer):
    gdf, _, _ = layer
    located = gdf[gdf.geometry.notna()]
    union = layers.load_districts().to_crs(METRIC_CRS).union_all()
    dist = shapely.distance(union, located.to_crs(METRIC_CRS).geometry.values)
    slack = located["uncertainty_m"].fillna(0).to_numpy()
    outside = located.loc[dist > slack, "id"]
    assert outside.empty, f"outside Chongqing: {list(outside)}"


def test_confident_points_lie_in_their_labelled_district(layer):
    gdf, _, _ = layer
    d = layers.load_districts()
    sure = gdf[gdf.geometry.notna() & gdf["coord_confidence"].isin(["high", "medium"])]
    assert len(sure) > 0
    tree = shapely.STRtree(d.geometry.values)
    pts, polys = tree.query(sure.geometry.values, predicate="within")
    found = pd.Series(d["adcode"].to_numpy()[polys], index=sure.index[pts])
    assert found.index.is_unique and len(found) == len(sure)
    assert (found == sure["district_adcode"]).all(), sure.assign(found=found)[
        ["id", "district_adcode"]].join(found.rename("found"))


def test_labelled_points_are_within_their_uncertainty_of_their_district(layer):
    """Also for low confidence (very_low points are flagged "geocode before use": skipped)."""
    gdf, _, _ = layer
    d = layers.load_districts().set_index("adcode").to_crs(METRIC_CRS)
    rows = gdf[gdf.geometry.notna() & gdf["district_adcode"].notna()
               & gdf["coord_confidence"].isin(["high", "medium", "low"])].to_crs(METRIC_CRS)
    dist = shapely.distance(d.geometry.loc[rows["district_adcode"]].values, rows.geometry.values)
    far = rows.loc[dist > rows["uncertainty_m"].to_numpy(), "id"]
    assert far.empty, f"farther from their district than their uncertainty: {list(far)}"


def test_bc01_is_in_yuzhong():
    bc = layers.load_business_circles().set_index("id")
    d = layers.load_districts()
    (name,) = d.loc[d.contains(bc.loc["BC01", "geometry"]), "name_zh"]
    assert name == "渝中区"
    assert bc.loc["BC01", "district_adcode"] == "500103"


def test_cl11_has_no_geometry():
    cl = layers.load_clusters().set_index("id")
    assert cl.loc["CL11", "geometry"] is None
    assert cl.loc["CL11", "coord_confidence"] == "none"
    assert cl.geometry.isna().sum() == 1


def test_sector_tagging():
    bc = layers.load_business_circles().set_index("id")
    cl = layers.load_clusters().set_index("id")
    lb = layers.load_logistics_bases().set_index("id")
    assert bc.loc["BC07", "sector_9611"] == "金融服务"
    assert bc.loc["BC07", "gold_card"] == "智融惠畅"
    assert set(cl.loc["CL01", "sector_9611"].split("; ")) >= {"金融服务", "商务会展"}
    assert lb.loc["LB14", "sector_9611"] == ""


def test_load_places_unknown_layer():
    with pytest.raises(ValueError, match="expected one of business_circles"):
        layers.load_places("shops")


def test_read_places_reports_every_problem(tmp_path):
    raw = pd.read_csv(data_dir() / "business_circles.csv", dtype=str, keep_default_na=False)
    # data row i is CSV line i + 2 (the header is line 1)
    raw.loc[1, "lat"] = "north"  # line 3
    raw.loc[3, "id"] = ""  # line 5
    raw.loc[5, "lat"] = ""  # line 7: lon only
    raw.loc[7, "coord_confidence"] = "sure"  # line 9
    path = tmp_path / "bad_places.csv"
    raw.to_csv(path, index=False)

    with pytest.raises(layers.LayerValidationError, match=re.escape(str(path))) as info:
        read_places(path)
    info.match(r"row 3, column 'lat': expected a number, got 'north'")
    info.match(r"row 5, column 'id': empty")
    info.match(r"row 7: lon and lat must both be given")
    info.match(r"row 9, column 'coord_confidence': 'sure' is not one of")
    assert not any(re.match(r"row (2|4|6|8|10)\b", p) for p in info.value.problems)


def test_read_places_lists_missing_columns(tmp_path):
    raw = pd.read_csv(data_dir() / "logistics_bases.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "no_category.csv"
    raw.drop(columns=["category"]).to_csv(path, index=False)
    with pytest.raises(layers.LayerValidationError, match=r"missing column\(s\) category"):
        read_places(path)
