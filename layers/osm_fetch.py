"""Download OpenStreetMap for a study area once and keep it as files the loaders read.

Each item is one file in a cache folder, named by a hash of the polygon (and, for
facilities and POIs, of the tag rules that classified them), so a second call for the
same area reads nothing from the internet. Files are written to a temporary name and
renamed when complete: an interrupted download never leaves a half-written file.

- ``network``: OSM XML (``.osm``) of every ``highway`` way, read by
  :func:`layers.network.read_network` with the same walk/drive rules as any OSM file.
  XML rather than centre-lines because it keeps the OSM node ids and OSMnx's
  great-circle segment lengths (the lengths pyrosm gives for ``.osm.pbf``), so the walk
  graph is the one the download itself gives; centre-lines would renumber nodes, merge
  distinct nodes at identical positions and measure on the ellipsoid (up to 0.4 %
  longer or shorter). Ways are written as chains of the downloaded segments, because
  ``osmnx.io.save_graph_xml`` joins the pieces of a way the polygon cut in two (adding
  street segments that are not there), may drop edges of self-crossing ways, and takes
  seconds per thousand ways.
- ``facilities``: GeoPackage (``category``, ``name``, ``osm_id``, ``source``) of the
  facility basket's OSM tags.
- ``buildings``: GeoPackage of estimated residents (``id``, ``population`` persons,
  ``estimate`` True) per residential building.
- ``pois``: GeoPackage (``category``, ``sector_9611``, ``sector_group``, ``name``,
  ``osm_id``, ``source``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.io.export import _replace_atomically, write_gpkg_layers
from layers.network import DRIVE_TAGS, WALK_TAGS, NetworkUnavailableError, require_internet

ITEMS = ("network", "facilities", "buildings", "pois")
MAX_AREA_KM2 = 2_000.0  # larger areas overload the Overpass API: use a Geofabrik extract
SOURCE = "OpenStreetMap (Overpass API), ODbL"
WAY_TAGS = tuple(dict.fromkeys(WALK_TAGS + DRIVE_TAGS))  # what the walk and drive rules read
_REVERSED = ("-1", "reverse", "T")  # oneway values for which OSMnx turns a way round
_FORMAT = "1"  # bump when the files' content changes, so old caches are not reused

Progress = Callable[[float, str], None]


class FetchError(RuntimeError):
    """Downloading from OpenStreetMap failed or found nothing; the message says what."""


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
        suffix = ".osm" if item == "network" else ".gpkg"
        out[item] = Path(directory) / f"osm-{key[:16]}-{item}{suffix}"
    return out


@contextmanager
def _osmnx_settings():
    """OSMnx settings for the downloads, restored afterwards: every way once in its node
    order with its ``oneway`` text (``all_oneway``), the rule tags kept, and no OSMnx
    response cache (it writes files non-atomically; the cache here is ours)."""
    import osmnx as ox

    s = ox.settings
    saved = (list(s.useful_tags_way), s.all_oneway, s.use_cache)
    s.useful_tags_way = list(dict.fromkeys(saved[0] + list(WAY_TAGS)))
    s.all_oneway, s.use_cache = True, False
    try:
        yield ox
    finally:
        s.useful_tags_way, s.all_oneway, s.use_cache = saved


def _empty_response(exc: Exception) -> bool:
    return type(exc).__name__ == "InsufficientResponseError"


def _download(what: str, call: Callable[[], object]) -> object | None:
    """Run an OSMnx download; ``None`` when OSM has nothing there. Connection failures
    become :class:`NetworkUnavailableError`, anything else :class:`FetchError`, each with
    a one-line message."""
    import requests

    try:
        return call()
    except (NetworkUnavailableError, FetchError):
        raise
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NetworkUnavailableError(
            f"lost the connection to OpenStreetMap while downloading {what} "
            f"({type(exc).__name__}); try again later or supply local files") from exc
    except Exception as exc:  # Overpass status errors, bad responses, OSMnx errors
        if _empty_response(exc):
            return None
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise FetchError(f"downloading {what} from OpenStreetMap failed: "
                         f"{type(exc).__name__}: {first}") from exc


def _way_chains(u: list[int], v: list[int]) -> list[list[int]]:
    """Split one way's directed segments ``u[i] → v[i]`` into node chains that use each
    segment once (a way the polygon cut in two gives two chains)."""
    out: dict[int, list[int]] = defaultdict(list)
    balance: dict[int, int] = defaultdict(int)
    for i, (a, b) in enumerate(zip(u, v)):
        out[a].append(i)
        balance[a] += 1
        balance[b] -= 1
    chains = []
    for start in [n for n in u if balance[n] > 0] + u:  # chain starts first, then loops
        while out[start]:
            chain = [start]
            while out[chain[-1]]:
                chain.append(v[out[chain[-1]].pop()])
            chains.append(chain)
    return chains


def write_osm_xml(graph, path: str | Path) -> Path:
    """Write an unsimplified OSMnx graph downloaded with ``all_oneway`` as OSM XML.

    Every edge becomes one segment of a way carrying its way's :data:`WAY_TAGS`; ways
    OSMnx turned round (``oneway=-1``) are written in their OSM node order again. Node
    coordinates keep full precision. Written atomically.
    """
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(graph, fill_edge_geometry=False)
    edges = pd.DataFrame(edges.drop(columns="geometry")).reset_index()
    if len(edges) == 0:
        raise FetchError("OpenStreetMap has no streets inside the study area")
    u, v = edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)
    if "oneway" in edges.columns:
        turned = edges["oneway"].astype(str).isin(_REVERSED).to_numpy()
        u, v = np.where(turned, v, u), np.where(turned, u, v)
    order = np.argsort(edges["osmid"].to_numpy(), kind="stable")
    edges, u, v = edges.iloc[order], u[order], v[order]
    way = edges["osmid"].to_numpy()
    starts = np.flatnonzero(np.r_[True, way[1:] != way[:-1]])
    first = edges.iloc[starts]
    text = np.full(len(first), "", dtype=object)
    for k in (c for c in WAY_TAGS if c in edges.columns):
        value = first[k].astype("string").fillna("").to_numpy(object)
        text += np.where(value != "", [f'  <tag k="{k}" v={quoteattr(str(x))}/>\n'
                                       for x in value], "")
    used = np.unique(np.r_[u, v])
    xy = nodes.loc[used, ["x", "y"]].to_numpy(float)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<osm version="0.6" generator="cq-life-circle layers.osm_fetch">\n')
            f.writelines(f' <node id="{n}" lat="{y!r}" lon="{x!r}"/>\n'
                         for n, (x, y) in zip(used.tolist(), xy.tolist()))
            way_id = 0
            for tags, a, b in zip(text, np.split(u, starts[1:]), np.split(v, starts[1:])):
                for chain in _way_chains(a.tolist(), b.tolist()):
                    way_id += 1
                    f.write(f' <way id="{way_id}">\n')
                    f.writelines(f'  <nd ref="{n}"/>\n' for n in chain)
                    f.write(tags + " </way>\n")
            f.write("</osm>\n")

    return _replace_atomically(path, ".osm", write)


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


def fetch_area_data(polygon: shapely.Polygon | shapely.MultiPolygon, directory: str | Path, *,
                    progress: Progress | None = None,
                    what: Iterable[str] = ITEMS) -> dict[str, Path]:
    """Download OpenStreetMap inside a WGS-84 ``polygon`` (at most :data:`MAX_AREA_KM2`
    km²) and return the file of each item in ``what`` (see the module docstring).

    Items already in ``directory`` are reused without the internet. Otherwise the
    connection is checked first (:class:`~layers.network.NetworkUnavailableError` with
    advice on local files); a download that fails raises ``NetworkUnavailableError``
    (connection lost) or :class:`FetchError` (Overpass error, nothing found), and items
    finished before it stay cached. ``progress(fraction, message)`` is called between
    steps (fraction 0–1).
    """
    from layers.demand import RESIDENTIAL_BUILDINGS
    from layers.facilities import facilities_from_features, load_basket, rule_keys
    from layers.pois import POI_KEYS, pois_from_features

    what = tuple(dict.fromkeys(what))
    unknown = [w for w in what if w not in ITEMS]
    if unknown or not what:
        raise ValueError(f"what must name some of {', '.join(ITEMS)}, got {what!r}")
    _check_polygon(polygon)
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
    features = None  # facilities and POIs share one download
    with _osmnx_settings() as ox:
        for step, item in enumerate(todo):
            report(step / len(todo), f"downloading {item} from OpenStreetMap")
            if item == "network":
                g = _download("the street network", lambda: ox.graph_from_polygon(
                    polygon, network_type="all", simplify=False, retain_all=True))
                if g is None:
                    raise FetchError("OpenStreetMap has no streets inside the study area")
                write_osm_xml(g, paths[item])
            elif item == "buildings":
                b = _download("buildings", lambda: ox.features_from_polygon(
                    polygon, tags={"building": list(RESIDENTIAL_BUILDINGS)}))
                if b is None:
                    b = gpd.GeoDataFrame({"building": []}, geometry=[], crs=4326)
                write_gpkg_layers({"demand": _residents(b, polygon)}, paths[item])
            else:
                if features is None:
                    features = _download("facilities and points of interest",
                                         lambda: ox.features_from_polygon(
                                             polygon, tags={k: True for k in sorted(keys)}))
                what_found = "facility of the basket" if item == "facilities" \
                    else "point of interest"
                layer = None
                if features is not None and item == "facilities":
                    layer = facilities_from_features(features, basket, SOURCE)
                elif features is not None:
                    layer = pois_from_features(features, SOURCE)
                if layer is None or len(layer) == 0:
                    raise FetchError(f"OpenStreetMap has no {what_found} inside the study "
                                     f"area; supply a {item} file instead")
                write_gpkg_layers({item: layer}, paths[item])
    report(1.0, "OpenStreetMap data saved")
    return paths
