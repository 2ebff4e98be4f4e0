"""Points of interest: OSM main tags, '9611' sectors and user files with a category column."""

from __future__ import annotations

import pandas as pd
import pytest

from layers.pois import (
    NOT_SERVICES,
    load_sector_rules,
    main_tag,
    read_osm_pois,
    read_sector_rules,
    read_user_pois,
    sectors_of,
)
from layers.validate import LayerValidationError


def test_sector_table_names_every_9611_sector():
    rules = load_sector_rules()
    assert len(rules) == 15
    assert set(rules["sector_group"]) == {"producer", "lifestyle"}
    assert (rules["sector_group"] == "producer").sum() == 9


def test_broken_sector_table_names_the_row(tmp_path):
    bad = tmp_path / "poi_sectors.csv"
    bad.write_text("sector_9611,osm_rules,confidence,basis\n"
                   "金融服务,amenity=bank,inferred,x\n"
                   "不存在的产业,amenity=cafe,inferred,x\n"
                   "现代商贸,amenity&,inferred,x\n", encoding="utf-8")
    with pytest.raises(LayerValidationError) as err:
        read_sector_rules(bad)
    text = str(err.value)
    assert "poi_sectors.csv" in text and "row 3" in text and "row 4" in text
    assert "不存在的产业" in text and "osm_rules" in text


def test_main_tag_and_sector_by_hand():
    tags = pd.DataFrame({"amenity": ["bank", None, "restaurant", None, "bar"],
                         "shop": [None, "pet", None, "clothes", None],
                         "office": [None, None, None, None, None]})
    assert main_tag(tags).tolist() == ["amenity=bank", "shop=pet", "amenity=restaurant",
                                       "shop=clothes", "amenity=bar"]
    # the first matching row of the table wins: a pet shop is 情绪消费, not generic retail
    assert sectors_of(tags)["sector_9611"].tolist() == ["金融服务", "情绪消费", "现代商贸",
                                                        "现代商贸", "情绪消费"]


def test_helsinki_pois_drop_street_furniture(helsinki_pois):
    p = helsinki_pois
    assert len(p) > 1000
    assert not p["category"].isin(NOT_SERVICES).any()
    assert (p["category"] != "").all() and p.crs.to_epsg() == 4326
    assert (p["sector_9611"] != "").mean() > 0.9
    assert p["source"].str.contains("ODbL").all()


def test_user_pois(tmp_path):
    f = tmp_path / "pois.csv"
    f.write_text("name,lon,lat,kind\nA,106.5,29.5,amenity=bank\nB,106.51,29.5,养老托育\n"
                 "C,106.52,29.5,bakery\n", encoding="utf-8")
    p = read_user_pois(f, category_column="kind")
    assert p["sector_9611"].tolist() == ["金融服务", "养老托育", ""]
    assert p["sector_group"].tolist() == ["producer", "lifestyle", ""]


def test_user_pois_without_the_category_column(tmp_path):
    f = tmp_path / "pois.csv"
    f.write_text("name,lon,lat\nA,106.5,29.5\n")
    with pytest.raises(LayerValidationError, match=r"(?s)pois\.csv.*missing column\(s\) category"):
        read_user_pois(f)


def test_user_pois_with_empty_categories(tmp_path):
    f = tmp_path / "pois.csv"
    f.write_text("name,lon,lat,category\nA,106.5,29.5,shop=bakery\nB,106.5,29.6,\n")
    with pytest.raises(LayerValidationError, match="empty in 1 row"):
        read_user_pois(f)


def test_osm_file_without_pois(tmp_path):
    f = tmp_path / "empty.osm"
    f.write_text('<?xml version="1.0"?><osm version="0.6">'
                 '<node id="1" lat="29.5" lon="106.5"/></osm>')
    with pytest.raises(LayerValidationError, match="no points of interest"):
        read_osm_pois(f)
