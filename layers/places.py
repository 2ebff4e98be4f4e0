"""Point layers carried from the fact tables: business circles, logistics bases, service clusters."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.districts import CHONGQING_LAT, CHONGQING_LON, CONFIDENCE
from layers.resources import data_dir
from layers.validate import Column, file_row, read_table

log = logging.getLogger(__name__)

PLACE_SCHEMA = (
    Column("id"),
    Column("name_zh"),
    Column("name_en"),
    Column("district_zh", required=False),
    Column("district_adcode", "code6", required=False),
    Column("category"),
    Column("status", required=False),
    Column("lon", "float", required=False, lo=CHONGQING_LON[0], hi=CHONGQING_LON[1],
           doc="WGS-84 degrees"),
    Column("lat", "float", required=False, lo=CHONGQING_LAT[0], hi=CHONGQING_LAT[1],
           doc="WGS-84 degrees"),
    Column("coord_confidence", allowed=CONFIDENCE),
    Column("uncertainty_m", "float", required=False, lo=0, hi=50_000, doc="metres"),
    Column("coord_method", required=False),
    Column("source", required=False),
    Column("seed_link", required=False),
    Column("notes", required=False),
)

#: Columns of the point layers, with units.
PLACE_COLUMNS = {
    "id": "stable identifier (BC01, LB01, CL01 …)",
    "name_zh": "Chinese name",
    "name_en": "English name",
    "district_zh": "host district (Chinese)",
    "district_adcode": "host district code; empty for functional zones without one",
    "category": "category key (English)",
    "status": "status or role in the plans",
    "coord_confidence": "{high, medium, low, very_low, none}",
    "uncertainty_m": "rough radius of likely position error (m)",
    "coord_method": "how the point was located",
    "source": "where the facts come from",
    "seed_link": "sections of the seed documents the place serves",
    "sector_9611": "'9611' sector(s) those sections belong to ('; '-separated)",
    "gold_card": "service-industry gold card(s) those sections name ('; '-separated)",
    "notes": "notes",
    "geometry": "Point, EPSG:4326; empty where the facts give no coordinate",
}

#: Layer key → fact table file name.
PLACE_LAYERS = {
    "business_circles": "business_circles.csv",
    "logistics_bases": "logistics_bases.csv",
    "clusters": "clusters.csv",
}

_SECTION = re.compile(r"([AB])-([一二三四五六七八九十]+)\(([一二三四五六七八九十]+)\)")


def read_seed_sections(path: Path | None = None) -> pd.DataFrame:
    """Table mapping a seed-document section (e.g. ``A-二(四)``) to its '9611' sector and gold card."""
    path = Path(path) if path is not None else data_dir() / "seed_sections.csv"
    schema = (Column("section"), Column("sector_9611", required=False),
              Column("sector_group", required=False, allowed=("producer", "lifestyle")),
              Column("gold_card", required=False), Column("basis"))
    df, problems = read_table(path, schema, unique="section")
    problems.raise_if_any()
    return df.set_index("section")


def tag_sectors(seed_links: pd.Series, sections: pd.DataFrame) -> pd.DataFrame:
    """'9611' sector and gold card for each seed link, from every section it cites."""
    sectors, cards = [], []
    for link in seed_links.fillna(""):
        found = ["-".join((m[0], m[1])) + f"({m[2]})" for m in _SECTION.findall(str(link))]
        rows = sections.reindex([s for s in dict.fromkeys(found) if s in sections.index])
        sectors.append("; ".join(dict.fromkeys(v for v in rows["sector_9611"] if v)))
        cards.append("; ".join(dict.fromkeys(
            c.strip() for v in rows["gold_card"] if v for c in v.split(";"))))
    return pd.DataFrame({"sector_9611": sectors, "gold_card": cards}, index=seed_links.index)


def read_places(path: Path) -> gpd.GeoDataFrame:
    """Read and check one point fact table; rows without coordinates keep an empty geometry."""
    df, problems = read_table(path, PLACE_SCHEMA, unique="id")
    if {"lon", "lat"} <= set(df.columns):
        half = df["lon"].isna() != df["lat"].isna()
        for i in df.index[half]:
            problems.add("lon and lat must both be given or both be empty", row=file_row(i))
        placed = df["lon"].notna() & df["lat"].notna()
        for i in df.index[~placed & (df["coord_confidence"] != "none")]:
            problems.add("no coordinate, so coord_confidence must be 'none'", row=file_row(i),
                         column="coord_confidence")
    problems.raise_if_any()
    df = pd.concat([df, tag_sectors(df["seed_link"], read_seed_sections())], axis=1)
    placed = (df["lon"].notna() & df["lat"].notna()).to_numpy()
    geom = gpd.points_from_xy(df["lon"], df["lat"], crs=4326)
    geom[~placed] = None
    gdf = gpd.GeoDataFrame(df[[c for c in PLACE_COLUMNS if c != "geometry"]], geometry=geom)
    gdf["lon"], gdf["lat"] = df["lon"], df["lat"]
    return gdf


@lru_cache(maxsize=8)
def _load(path: str) -> gpd.GeoDataFrame:
    return read_places(Path(path))


def load_places(layer: str) -> gpd.GeoDataFrame:
    """Load a bundled point layer by key ({"business_circles", "logistics_bases", "clusters"})."""
    if layer not in PLACE_LAYERS:
        raise ValueError(f"unknown layer {layer!r}: expected one of {', '.join(PLACE_LAYERS)}")
    return _load(str((data_dir() / PLACE_LAYERS[layer]).resolve())).copy()


def load_business_circles() -> gpd.GeoDataFrame:
    """Business circles (商圈), CBDs and city sub-centres, EPSG:4326; columns in PLACE_COLUMNS."""
    return load_places("business_circles")


def load_logistics_bases() -> gpd.GeoDataFrame:
    """Logistics bases, ports, airports and rail hubs, EPSG:4326; columns in PLACE_COLUMNS."""
    return load_places("logistics_bases")


def load_clusters() -> gpd.GeoDataFrame:
    """Service-industry clusters, parks and cultural sites, EPSG:4326; columns in PLACE_COLUMNS."""
    return load_places("clusters")
