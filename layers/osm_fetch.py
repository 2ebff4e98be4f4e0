"""Download OpenStreetMap for a study area once and keep it as tables the loaders read.

Each item is one GeoPackage in a cache folder (by default
``geo_app.config.Settings.from_env().osm_cache_path()``), named by a hash of the polygon
(and, for facilities and POIs, of the tag rules that classified them), so a second call
for the same area reads nothing from the internet. Files are written through
:func:`geo_app.io.files.replace_atomically`: an interrupted download never leaves a
half-written file.

- ``network``: the street tables of every ``highway`` way (layers ``osm_ways``: way id,
  node ids, the walk and drive rules' tags as columns and every other tag as JSON, line
  geometry; ``osm_nodes``: node id, point), cut to the polygon: a way keeps the segments
  with both nodes inside it or on its edge, so a way the polygon cuts in two is two rows.
  :func:`layers.network.read_network` reads them into the same node and segment tables as
  an ``.osm``/``.osm.pbf`` file, with the same walk/drive rules, the OSM node ids and
  great-circle segment lengths.
- ``facilities``: GeoPackage (``category``, ``name``, ``osm_id``, ``source``) of the
  facility basket's OSM tags.
- ``buildings``: GeoPackage of estimated residents (``id``, ``population`` persons,
  ``estimate`` True) per residential building.
- ``pois``: GeoPackage (``category``, ``sector_9611``, ``sector_group``, ``name``,
  ``osm_id``, ``source``).

Downloads are explicit Overpass API queries (:mod:`layers.overpass`); OSMnx and its
process-wide settings are not involved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.connectors import CONNECTOR_TAGS, NODE_KEYS
from layers.network import DRIVE_TAGS, WALK_TAGS, require_internet
from layers.overpass import FetchError, fetch_elements, highway_ways, selector

ITEMS = ("network", "facilities", "buildings", "pois")
MAX_AREA_KM2 = 2_000.0  # larger areas overload the Overpass API: use a Geofabrik extract
SOURCE = "OpenStreetMap (Overpass API), ODbL"
# what the walk and drive rules read, and the connector rules (steps, lifts, escalators, bridges)
WAY_TAGS = tuple(dict.fromkeys(WALK_TAGS + DRIVE_TAGS + CONNECTOR_TAGS))
NODE_TAGS = NODE_KEYS  # elevator and signal nodes, heights: node:<key> columns
_FORMAT = "3"  # bump when the files' content changes, so old caches are not reused

Progress = Callable[[float, str], None]


def area_km2(polygon: shapely.Geometry) -> float:
    """Geodesic area of a WGS-84 polygon (km²)."""
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(polygon)[0]) / 1e6


def _check_polygon(polygon) -> None:
    if not isinstance(polygon, (shapely.Polygon, shapely.MultiPolygon)) or polygon.is_empty:
        raise ValueError(f"the study area must be a Polygon or MultiPolygon, got "
                         f"{getattr(polygon, 'geom_type', type(polygon).__name__)}")
    if not polygon.is_valid:
        raise ValueError(f"the study area polygon is invalid ({shapely.is_valid_reason(polygon)})")
    west, south, east, north = polygon.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise ValueError("the study area is not in longitude/latitude degrees (EPSG:4326)")
    km2 = area_km2(polygon)
    if km2 > MAX_AREA_KM2:
        raise ValueError(
            f"the study area is {km2:,.0f} km², over the {MAX_AREA_KM2:,.0f} km² the Overpass "
            "API serves in one go: download the Geofabrik extract instead "
            "(layers.network.download_osm_extract('chongqing'), about 31 MB) and load the "
            ".osm.pbf file")


def _rules_text(item: str) -> str:
    """The tag rules that shape an item's content (part of its cache key)."""
    if item == "facilities":
        from layers.facilities import load_basket

        return "|".join(load_basket()["osm_rules"])
    if item == "pois":
        from layers.pois import load_sector_rules

        return "|".join(load_sector_rules()["osm_rules"])
    return ""


def cache_paths(polygon: shapely.Geometry, directory: str | Path,
                what: Iterable[str] = ITEMS) -> dict[str, Path]:
    """File of each item for ``polygon`` in ``directory`` (whether or not it exists yet)."""
    area = shapely.to_wkt(shapely.normalize(polygon), rounding_precision=7)
    out = {}
    for item in what:
        key = hashlib.sha1(f"{_FORMAT}|{area}|{item}|{_rules_text(item)}".encode()).hexdigest()
        out[item] = Path(directory) / f"osm-{key[:16]}-{item}.gpkg"
    return out


def _write_gpkg(frame: gpd.GeoDataFrame, layer: str, path: Path) -> Path:
    """One layer as a GeoPackage, written atomically."""
    from geo_app.io.files import replace_atomically

    return replace_atomically(
        path, lambda tmp: frame.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio"),
        ".gpkg")


def _residents(features: gpd.GeoDataFrame, polygon: shapely.Geometry) -> gpd.GeoDataFrame:
    """Estimated residents per residential building (see
    :func:`layers.demand.estimate_from_buildings`); inside Chongqing scaled to the census
    population of the study area, elsewhere 40 m² of floor per person."""
    from layers.crs import metric_crs
    from layers.demand import estimate_from_buildings
    from layers.sources import census_total_for

    b = features[features.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(b) == 0:
        raise FetchError("OpenStreetMap has no residential building footprints inside the "
                         "study area; supply a population file or raster instead")
    levels = b["building:levels"] if "building:levels" in b.columns else np.nan
    table = gpd.GeoDataFrame(
        {"building": b["building"].astype(str).to_numpy(),
         "levels": pd.to_numeric(pd.Series(levels, index=b.index), errors="coerce").to_numpy()},
        geometry=shapely.make_valid(b.geometry.to_numpy()), crs=4326)
    return estimate_from_buildings(table, metric_crs=metric_crs(polygon),
                                   total_population=census_total_for(polygon))


def with_node_tags(nodes: gpd.GeoDataFrame, elements, keys) -> gpd.GeoDataFrame:
    """``nodes`` (``node_id``) with a ``node:<key>`` text column per key in ``keys``, from
    the downloaded elements' node tags (None where untagged)."""
    from layers.osm_elements import node_tag

    pos = pd.Index(elements.node_id).get_indexer(nodes["node_id"].to_numpy(np.int64))
    out = nodes.copy()
    for key in keys:
        out[f"node:{key}"] = pd.array(node_tag(elements, key)[pos], dtype="string")
    return out


def fetch_area_data(polygon: shapely.Polygon | shapely.MultiPolygon,
                    directory: str | Path | None = None, *,
                    progress: Progress | None = None,
                    what: Iterable[str] = ITEMS) -> dict[str, Path]:
    """Download OpenStreetMap inside a WGS-84 ``polygon`` (at most :data:`MAX_AREA_KM2`
    km²) and return the file of each item in ``what`` (see the module docstring).

    ``directory`` defaults to ``Settings.from_env().osm_cache_path()``. Items already
    there are reused without the internet. Otherwise the connection is checked first
    (:class:`~layers.network.NetworkUnavailableError` with advice on local files); a
    download that fails raises ``NetworkUnavailableError`` (connection lost) or
    :class:`FetchError` (Overpass error, nothing found), and items finished before it
    stay cached. ``progress(fraction, message)`` is called between steps (fraction 0–1).
    """
    from layers.demand import RESIDENTIAL_BUILDINGS
    from layers.facilities import facilities_from_features, load_basket, rule_keys
    from layers.osm_elements import features, street_ways, write_street_tables
    from layers.pois import POI_KEYS, pois_from_features

    what = tuple(dict.fromkeys(what))
    unknown = [w for w in what if w not in ITEMS]
    if unknown or not what:
        raise ValueError(f"what must name some of {', '.join(ITEMS)}, got {what!r}")
    _check_polygon(polygon)
    if directory is None:
        from geo_app.config import Settings

        directory = Settings.from_env().osm_cache_path()
    report = progress or (lambda fraction, message: None)
    paths = cache_paths(polygon, directory, what)
    todo = [w for w in what if not paths[w].is_file()]
    if not todo:
        report(1.0, "OpenStreetMap data of this area found in the cache")
        return paths
    require_internet()
    keys: set[str] = set()
    if "facilities" in todo:
        basket = load_basket()
        keys |= {k for k in rule_keys(basket) if k != "name" and ":" not in k}
    if "pois" in todo:
        keys |= set(POI_KEYS)
    residential = set(RESIDENTIAL_BUILDINGS)
    found = None  # facilities and POIs share one download
    for step, item in enumerate(todo):
        report(step / len(todo), f"downloading {item} from OpenStreetMap")
        if item == "network":
            elements = fetch_elements(polygon, highway_ways(), "the street network")
            ways, nodes = street_ways(elements, WAY_TAGS, polygon)
            nodes = with_node_tags(nodes, elements, NODE_TAGS)
            if len(ways) == 0:
                raise FetchError("OpenStreetMap has no streets inside the study area")
            write_street_tables(ways, nodes, paths[item])
        elif item == "buildings":
            elements = fetch_elements(
                polygon, [selector("nwr", {"building": RESIDENTIAL_BUILDINGS})], "buildings")
            b = features(elements, lambda t: t.get("building") in residential, polygon)
            _write_gpkg(_residents(b, polygon), "demand", paths[item])
        else:
            if found is None:
                elements = fetch_elements(polygon, [selector("nwr", {k: True})
                                                    for k in sorted(keys)],
                                          "facilities and points of interest")
                found = features(elements, lambda t: any(k in t for k in keys), polygon)
            if item == "facilities":
                layer, what_found = facilities_from_features(found, basket, SOURCE), \
                    "facility of the basket"
            else:
                layer, what_found = pois_from_features(found, SOURCE), "point of interest"
            if len(layer) == 0:
                raise FetchError(f"OpenStreetMap has no {what_found} inside the study "
                                 f"area; supply a {item} file instead")
            _write_gpkg(layer, item, paths[item])
    report(1.0, "OpenStreetMap data saved")
    return paths
