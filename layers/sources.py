"""Choosing the reader for each input of a workflow from the file the user gives."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from layers import load_districts
from layers.crs import metric_crs
from layers.demand import (
    buildings_from_osm,
    estimate_from_buildings,
    read_demand_file,
    read_population_raster,
)
from layers.districts import near_chongqing
from layers.facilities import read_osm_facilities, read_user_facilities
from layers.userfile import read_user_layer

OSM_SUFFIXES = (".pbf", ".osm", ".xml")
RASTER_SUFFIXES = (".tif", ".tiff")


def is_osm(path: str | Path) -> bool:
    return str(path).lower().endswith(OSM_SUFFIXES)


def load_facilities(path: str | Path, *, datum: str | int = "wgs84",
                    category_map: dict[str, str] | None = None,
                    on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Facilities from an OSM file (tags mapped to the basket) or a file with ``category``
    (values mapped to the basket by name and alias, then by ``category_map``)."""
    if is_osm(path):
        fac = read_osm_facilities(path)
        if len(fac) == 0:
            raise ValueError(f"{path}: no OSM feature matches the facility basket")
        return fac
    return read_user_facilities(path, datum=datum, category_map=category_map,
                                on_bad_rows=on_bad_rows)


def census_total_for(area: shapely.Geometry) -> float | None:
    """Census residents of the Chongqing districts inside ``area``, by area share.

    ``None`` when the area lies outside Chongqing or a district it covers has no census figure.
    """
    d = load_districts()
    hit = d[d.intersects(area)]
    if len(hit) == 0 or hit["pop_2020"].isna().any():
        return None
    eq = gpd.GeoSeries([area], crs=4326).to_crs(hit.crs)
    share = hit.intersection(eq.iloc[0]).area / hit.area
    return float((hit["pop_2020"].astype(float) * share).sum())


def load_demand(spec: str | Path, *, network: str | Path | None = None,
                datum: str | int = "wgs84", on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Demand points from a file, a population raster or ``"buildings"`` (OSM estimate).

    ``"buildings"`` reads residential buildings from the ``network`` OSM file; inside
    Chongqing their floor areas are scaled to the census population of the area
    covered, elsewhere divided by a per-capita floor area. Rows carry ``estimate``.
    """
    if str(spec) == "buildings":
        if network is None or not is_osm(network):
            raise ValueError("residents estimated from buildings need an OSM network file "
                             "(.osm.pbf or .osm)")
        b = buildings_from_osm(network)
        area = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(b.geometry.values)))
        return estimate_from_buildings(b, metric_crs=metric_crs(b),
                                       total_population=census_total_for(area))
    if str(spec).lower().endswith(RASTER_SUFFIXES):
        return read_population_raster(spec)
    return read_demand_file(spec, datum=datum, on_bad_rows=on_bad_rows)


def study_zones(demand: gpd.GeoDataFrame, *, townships: str | Path | None = None,
                township_name: str = "name") -> dict:
    """Zones for summaries: Chongqing districts the demand falls in, and user townships."""
    zones = {}
    if near_chongqing(demand):
        zones["district"] = (load_districts(), "name_zh")
    if townships is not None:
        t, _ = read_user_layer(townships, required_columns=(township_name,),
                               geometry_types=("Polygon", "MultiPolygon"))
        zones["township"] = (t, township_name)
    return zones
