"""The two steps of a coverage run: what each piece of the area computes on its walk graph
(:func:`local_part`), and putting the pieces together (:func:`assemble`).

A single-process run is one piece holding everything; a sharded run (see
:mod:`geo_app.workflows.sharding`) has one piece per tile or district, each computed on the
network around it and owning its residents, facilities and nodes exactly once, so that the
assembled result is the single run's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.areas import (
    DEFAULT_BUFFER_M,
    band_cell_m,
    band_polygon,
    facility_isochrones,
    gaps,
    hull_of,
    reached_pieces,
)
from analysis.coverage import category_node_times, coverage_frame, summarise
from analysis.graph import WalkGraph
from analysis.join import join_points
from analysis.paths import nearest_source
from analysis.snap import Snapped
from geo_app.errors import CoverageWarning, DataWarning, GeoAppWarning, warn
from layers.groups import GROUPS

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
HUB_CATEGORY = "community_service"


@dataclass
class Part:
    """What one piece of the study area computes (picklable, for Dask workers).

    ``demand_rows`` / ``facility_rows``: positions in the whole layers of the residents and
    facilities the piece owns. ``hub``: position (whole facility layer) of each resident's
    life-circle hub, -1 for none. ``pieces``: per category, the street pieces walkable in time
    whose reached node the piece owns (two ``(n, 2)`` arrays, metres).
    """

    demand_rows: np.ndarray
    frame: pd.DataFrame
    snap_m: np.ndarray
    hub: np.ndarray
    hub_time_s: np.ndarray
    facility_rows: np.ndarray
    facility_snap_m: np.ndarray
    facility_on: np.ndarray
    categories_within: np.ndarray  # per owned facility: categories reached from it in time
    pieces: dict = field(default_factory=dict)
    isochrones: list = field(default_factory=list)  # per owned facility (facility mode)
    n_nodes: int = 0
    n_edges: int = 0
    max_speed_m_s: float = 0.0


def to_metres(points: gpd.GeoDataFrame | tuple, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """x, y (metres in ``crs``) of a WGS-84 point layer, or of its (lon, lat) arrays."""
    from pyproj import Transformer

    if isinstance(points, tuple):
        lon, lat = points
    else:
        pts = points.geometry.values
        lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def local_part(g: WalkGraph, facilities: gpd.GeoDataFrame,
               demand: gpd.GeoDataFrame | tuple, *, categories: Sequence[str],
               limits_s: Mapping[str, float], speed_m_s: float, max_snap_m: float, mode: str,
               facility_rows: np.ndarray | None = None, demand_rows: np.ndarray | None = None,
               own_facility: np.ndarray | None = None,
               own_node: np.ndarray | None = None, hub_category: str = HUB_CATEGORY,
               join: str = "node", progress: Progress | None = None) -> Part:
    """Walking times of ``demand`` to each category of ``facilities`` on ``g``, with what the
    assembly needs: life-circle hubs, reached street pieces and facility isochrones.
    ``demand``: the residents' point layer, or its (lon, lat) arrays (all that is used; a
    sharded run sends these, cheaper to send than points).

    ``facilities`` may include facilities of neighbouring pieces (they still serve these
    residents); ``own_facility`` marks the ones this piece reports, ``own_node`` the graph
    nodes whose reached pieces it reports (default: all). ``facility_rows``/``demand_rows``
    are the rows' positions in the whole layers (default: 0…n−1). ``join``: "street" joins
    points to the nearest point of the nearest street (splitting it), "node" to the
    nearest node.
    """
    say = progress or (lambda f, m: None)
    dx, dy = to_metres(demand, g.crs)
    nf, nd = len(facilities), len(dx)
    facility_rows = np.arange(nf) if facility_rows is None else np.asarray(facility_rows)
    demand_rows = np.arange(nd) if demand_rows is None else np.asarray(demand_rows)
    own_facility = np.ones(nf, bool) if own_facility is None else np.asarray(own_facility, bool)
    cat_of = facilities["category"].astype(str).to_numpy()

    say(0.0, "joining facilities and residents to the network")
    fx, fy = to_metres(facilities, g.crs) if nf else (np.zeros(0), np.zeros(0))
    joined = join_points(g, [(fx, fy), (dx, dy)], how=join, speed_m_s=speed_m_s,
                         max_dist_m=max_snap_m)
    g, (fsnap, dsnap) = joined.graph, joined.points
    if own_node is not None and g.n_nodes > len(own_node):  # split nodes: the nearer end's
        own = np.asarray(own_node, bool)
        own_node = np.r_[own, np.where(joined.split_t < 0.5, own[joined.split_u],
                                       own[joined.split_v])]
    by_cat = {c: Snapped(fsnap.node[cat_of == c], fsnap.dist_m[cat_of == c],
                         fsnap.access_s[cat_of == c]) for c in categories}

    say(0.2, f"walking times for {len(categories)} categories")
    node_times = category_node_times(g, by_cat, limits_s)
    frame = coverage_frame(dsnap, node_times, limits_s)

    hub, hub_t = _hubs(g, fsnap, cat_of == hub_category, facility_rows, dsnap,
                       limits_s.get(hub_category, 0.0)) if hub_category in by_cat else (
        np.full(nd, -1), np.full(nd, np.inf))
    within = np.zeros(nf, np.int64)
    on = fsnap.on_network
    for c, nt in node_times.items():
        reach = np.full(nf, np.inf)
        reach[on] = nt[fsnap.node[on]] + fsnap.access_s[on]
        within += reach <= limits_s[c]

    pieces = {}
    if mode in ("category", "facility"):
        say(0.5, "service areas")
        coo = g.time.tocoo()
        if own_node is not None:
            keep = np.asarray(own_node, bool)[coo.col]
            coo = type(coo)((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
        for c in categories:
            pieces[c] = reached_pieces(coo, g.x, g.y, node_times[c], limits_s[c])
    isochrones = []
    if mode == "facility":
        mine = np.flatnonzero(own_facility)
        isochrones = [shapely.Polygon()] * len(mine)
        for c in categories:
            sel = np.flatnonzero((cat_of[mine] == c) & on[mine])
            if not len(sel):
                continue
            polys = facility_isochrones(
                g, fsnap.node[mine[sel]], fsnap.access_s[mine[sel]], limits_s[c],
                progress=lambda k, n: say(0.6 + 0.35 * k / max(n, 1), f"isochrones ({c})"))
            for k, poly in zip(sel, polys):
                isochrones[k] = poly
    say(1.0, "done")
    return Part(demand_rows, frame, dsnap.dist_m, hub, hub_t, facility_rows[own_facility],
                fsnap.dist_m[own_facility], on[own_facility], within[own_facility], pieces,
                isochrones, g.n_nodes, g.n_edges, g.max_straight_speed_m_s)


def _hubs(g: WalkGraph, fsnap: Snapped, is_hub: np.ndarray, facility_rows: np.ndarray,
          dsnap: Snapped, limit_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Each resident's nearest hub within ``limit_s`` over the network (whole-layer facility
    position, -1 for none) and the time to it: a network Voronoi partition."""
    n = len(dsnap.node)
    hubs = np.flatnonzero(is_hub & fsnap.on_network)
    if not len(hubs):
        return np.full(n, -1), np.full(n, np.inf)
    t_node, src = nearest_source(g, fsnap.node[hubs], fsnap.access_s[hubs], limit_s=limit_s)
    ok = dsnap.on_network
    t = np.full(n, np.inf)
    t[ok] = t_node[dsnap.node[ok]] + dsnap.access_s[ok]
    owner = np.full(n, -1)
    owner[ok] = src[dsnap.node[ok]]
    owner[~(t <= limit_s)] = -1
    return np.where(owner >= 0, facility_rows[hubs][np.maximum(owner, 0)], -1), t


@dataclass
class Assembled:
    """The layers of a coverage result, in EPSG:4326, and the warnings raised."""

    demand: gpd.GeoDataFrame
    summary: pd.DataFrame
    gaps: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    life_circles: gpd.GeoDataFrame
    warnings: list[GeoAppWarning]
    area_cell_m: float | None = None  # raster cell of the service areas (None: none drawn)


def _stack(parts: Sequence[Part], n: int, rows: str, values) -> np.ndarray:
    """Values of every part put back at their rows of the whole layer (length ``n``)."""
    chunks = [values(p) for p in parts]
    out = np.empty(n, dtype=np.result_type(*[c.dtype for c in chunks]) if chunks else float)
    for p, c in zip(parts, chunks):
        out[getattr(p, rows)] = c
    return out


def assemble(parts: Sequence[Part], facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *,
             crs: str, categories: Sequence[str], limits_min: Mapping[str, float],
             zones: Mapping[str, tuple[gpd.GeoDataFrame, str]], mode: str, gap_cell_m: float,
             max_snap_m: float, hub_category: str = HUB_CATEGORY,
             progress: Progress | None = None, zone_labels: dict | None = None,
             gaps_found: Callable[[], list] | None = None) -> Assembled:
    """Put the parts together: the demand table in input order, summaries by zone, gap
    areas, service areas, isochrones, facilities with their joins and life circles.

    ``zone_labels``: each resident's zone per zone kind, when already found (a sharded run
    finds them while its tiles walk); ``gaps_found()``: the :func:`gap_areas` of each
    category, then of the basket, when already under way (a sharded run starts them on its
    workers as its tiles finish); by default they are found here."""
    say = progress or (lambda f, m: None)
    nd, nf = len(demand), len(facilities)
    order = np.concatenate([p.demand_rows for p in parts])
    if len(order) != nd or (nd and np.bincount(order, minlength=nd).max() != 1):
        raise RuntimeError(f"the parts hold {len(order)} residents for {nd} rows: each "
                           "resident must be in exactly one part")
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    frame = frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    snap_m = _stack(parts, nd, "demand_rows", lambda p: p.snap_m)
    hub = _stack(parts, nd, "demand_rows", lambda p: p.hub)
    hub_t = _stack(parts, nd, "demand_rows", lambda p: p.hub_time_s)
    f_snap = _stack(parts, nf, "facility_rows", lambda p: p.facility_snap_m)
    f_on = _stack(parts, nf, "facility_rows", lambda p: p.facility_on).astype(bool)
    within = _stack(parts, nf, "facility_rows", lambda p: p.categories_within)
    pop = demand["population"].to_numpy(float)
    gap_cats = [*categories, "basket"]
    dx, dy = to_metres(demand, crs)
    if gaps_found is None:
        masks = [~frame[col].to_numpy(bool) for col in uncovered_columns(categories)]
        gaps_found = gaps_here(dx, dy, pop, masks, gap_cell_m, crs)
    warnings: list[GeoAppWarning] = []
    _warn_joins(warnings, facilities, f_on, frame["on_network"].to_numpy(bool), pop, categories,
                max_snap_m)

    found_zones = _zones(demand, zones) if zone_labels is None else zone_labels
    zone_labels = {"study_area": np.full(nd, "study area", dtype=object)}
    zone_labels.update(found_zones)
    kept = ("id", "population", "estimate", *GROUPS)  # groups: pop_60plus, pop_0_6
    out = {c: demand[c].to_numpy() for c in kept if c in demand.columns}
    out.update({kind: labels for kind, labels in zone_labels.items() if kind != "study_area"})
    out.update({col: frame[col].to_numpy() for col in frame.columns})
    out["snap_m"] = snap_m
    is_hub = facilities["category"].astype(str).to_numpy() == hub_category
    out["life_circle"] = circle_ids(hub, is_hub, f_on)  # the circle number, 0 for none
    # one table built once (column by column, each column would be copied again)
    demand_out = gpd.GeoDataFrame(pd.DataFrame(out, copy=False),
                                  geometry=demand.geometry.to_numpy(), crs=4326)
    summaries = []
    for kind, labels in zone_labels.items():
        s = summarise(frame, pop, labels, list(categories))
        s.insert(0, "zone_type", kind)
        summaries.append(s)
    summary = pd.concat(summaries, ignore_index=True)

    say(0.3, "gap areas")
    wgs = _to_wgs84(crs)
    gap_rows = []
    for cat, found in zip(gap_cats, gaps_found()):
        if len(found.polygons):
            rank = np.arange(1, len(found.polygons) + 1)
            gap_rows.append(pd.DataFrame({"category": cat, "rank": rank,
                                          "population": found.population,
                                          "area_km2": found.area_m2 / 1e6,
                                          "geometry": found.polygons}))
    gap_frame = (gpd.GeoDataFrame(pd.concat(gap_rows, ignore_index=True), geometry="geometry",
                                  crs=4326) if gap_rows
                 else _frame_or_empty([], crs, ["category", "rank", "population", "area_km2"]))

    area_rows, cell = [], None
    if mode in ("category", "facility"):
        say(0.5, "service areas")
        every = [p.pieces[c] for p in parts for c in categories if len(p.pieces[c][0])]
        if every:  # one raster cell for every category: from the extent of all pieces
            lo = np.min([np.minimum(a.min(axis=0), b.min(axis=0)) for a, b in every], axis=0)
            hi = np.max([np.maximum(a.max(axis=0), b.max(axis=0)) for a, b in every], axis=0)
            cell = band_cell_m(float(np.prod(hi - lo + 2 * DEFAULT_BUFFER_M)))
        for cat in categories:
            a = np.concatenate([p.pieces[cat][0] for p in parts])
            b = np.concatenate([p.pieces[cat][1] for p in parts])
            band = band_polygon(a, b, cell_m=cell, transform=wgs)
            area_rows.append({"category": cat, "minutes": limits_min[cat],
                              "area_km2": band.area_m2 / 1e6, "geometry": band.geometry})
    areas = (gpd.GeoDataFrame(area_rows, geometry="geometry", crs=4326) if area_rows
             else _frame_or_empty([], crs, ["category", "minutes", "area_km2"]))

    cat_of = facilities["category"].astype(str).to_numpy()
    names = (facilities["name"].astype(str).to_numpy() if "name" in facilities.columns
             else np.full(nf, "", dtype=object))
    iso_rows = []
    if mode == "facility":
        polys = np.empty(nf, dtype=object)
        for p in parts:
            polys[p.facility_rows] = p.isochrones
        iso_rows = [{"category": cat_of[k], "facility": names[k],
                     "minutes": limits_min[cat_of[k]], "area_km2": polys[k].area / 1e6,
                     "geometry": polys[k]} for k in range(nf)
                    if f_on[k] and cat_of[k] in limits_min and polys[k] is not None]
    iso = _frame_or_empty(iso_rows, crs, ["category", "facility", "minutes", "area_km2"])

    fac_out = facilities.copy()
    fac_out["snap_m"] = f_snap
    fac_out["on_network"] = f_on
    say(0.8, "life circles")
    circles = life_circles(hub, hub_t, pop, dx, dy, names, within, cat_of == hub_category,
                           f_on, len(categories), crs)
    return Assembled(demand_out, summary, gap_frame, areas, iso, fac_out, circles, warnings,
                     cell)


def life_circles(hub: np.ndarray, hub_time_s: np.ndarray, population: np.ndarray,
                 dx: np.ndarray, dy: np.ndarray, names: np.ndarray, within: np.ndarray,
                 is_hub: np.ndarray, on_network: np.ndarray, n_categories: int,
                 crs: str) -> gpd.GeoDataFrame:
    """Each hub's life circle: the residents nearest to it over the network, and its score.

    Columns: ``hub``, ``residents``, ``p50_min``/``p90_min`` walking time of its residents,
    ``categories_within`` (categories reachable from the hub within their thresholds),
    ``meets_standard`` (all of them) and the circle's polygon (a hull of its residents).
    """
    cols = ["hub", "circle", "residents", "p50_min", "p90_min", "categories_within",
            "meets_standard"]
    hubs = np.flatnonzero(is_hub & on_network)
    if not len(hubs):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    member = np.flatnonzero(hub >= 0)
    by_hub = member[np.argsort(hub[member], kind="stable")]
    starts = np.searchsorted(hub[by_hub], hubs)
    ends = np.searchsorted(hub[by_hub], hubs, side="right")
    rows = []
    for k, h in enumerate(hubs):
        mine = by_hub[starts[k]:ends[k]]
        tm = hub_time_s[mine] / 60.0
        rows.append({"hub": names[h] or f"hub {k + 1}", "circle": k + 1,
                     "residents": population[mine].sum(),
                     "p50_min": float(np.median(tm)) if len(tm) else np.nan,
                     "p90_min": float(np.quantile(tm, 0.9)) if len(tm) else np.nan,
                     "categories_within": int(within[h]),
                     "meets_standard": int(within[h]) == n_categories,
                     "geometry": hull_of(dx[mine], dy[mine])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_crs(4326)


def circle_ids(hub: np.ndarray, is_hub: np.ndarray, on_network: np.ndarray) -> np.ndarray:
    """Each resident's life circle as the ``circle`` number of :func:`life_circles` (1, 2 …
    in the order of the hubs), 0 for none."""
    ids = np.zeros(len(is_hub) + 1, np.int64)
    hubs = np.flatnonzero(is_hub & on_network)
    ids[hubs] = np.arange(1, len(hubs) + 1)
    return ids[np.where(hub >= 0, hub, len(is_hub))]


def _warn_joins(found: list, facilities: gpd.GeoDataFrame, f_on: np.ndarray,
                d_on: np.ndarray, pop: np.ndarray, categories: Sequence[str],
                max_snap_m: float) -> None:
    cat_of = facilities["category"].astype(str).to_numpy()
    for cat in categories:
        m = cat_of == cat
        off = int((~f_on[m]).sum())
        if not m.any():
            warn(found, f"no '{cat}' facilities: nobody is covered", CoverageWarning,
                 key="warn_no_facilities", stacklevel=4, category=cat)
            continue
        if off:
            warn(found, f"{off} of {int(m.sum())} '{cat}' facilities are more than "
                 f"{max_snap_m:g} m from the network and were not used", DataWarning,
                 key="warn_facilities_off_network", stacklevel=4, off=off, total=int(m.sum()),
                 category=cat, max_snap_m=max_snap_m)
        if off == m.sum():
            warn(found, f"no '{cat}' facility is on the network: nobody is covered",
                 CoverageWarning, key="warn_no_facility_on_network", stacklevel=4, category=cat)
    n_off = int((~d_on).sum())
    if n_off:
        off_pop = float(pop[~d_on].sum())
        warn(found, f"{n_off} of {len(d_on)} demand points ({off_pop:,.0f} residents) are more "
             f"than {max_snap_m:g} m from the network: counted as not covered", DataWarning,
             key="warn_demand_off_network", stacklevel=4, off=n_off, total=len(d_on),
             residents=off_pop, max_snap_m=max_snap_m)


def gap_areas(unc: np.ndarray, x: np.ndarray, y: np.ndarray, population: np.ndarray,
              cell_m: float, crs: str):
    """The gap areas of the residents ``unc`` marks (polygons in WGS-84; may run on a worker)."""
    return gaps(x, y, population, unc, cell_m=cell_m, transform=_to_wgs84(crs))


def gaps_here(x, y, population, masks, cell_m: float, crs: str) -> Callable[[], list]:
    return lambda: [gap_areas(m, x, y, population, cell_m, crs) for m in masks]


def uncovered_columns(categories: Sequence[str]) -> list[str]:
    """The coverage columns whose residents not covered make the gap areas: each category's,
    then the basket's."""
    return [*(f"cov_{c}" for c in categories), "basket_covered"]


def _zones(demand: gpd.GeoDataFrame, zones: Mapping[str, tuple[gpd.GeoDataFrame, str]]) -> dict:
    """Label each demand point with the zone (district, township…) it falls in."""
    from analysis.zones import zone_names

    out = {}
    for kind, (gdf, name_col) in zones.items():
        gdf = gdf if gdf.crs == demand.crs else gdf.to_crs(demand.crs)
        out[kind] = zone_names(demand.geometry.values, gdf.geometry.values,
                               gdf[name_col].astype(object).fillna("(outside)"), "(outside)")
    return out


@lru_cache(maxsize=8)
def _to_wgs84(crs: str) -> Callable:
    """x, y in ``crs`` → longitude, latitude (for building polygons directly in WGS-84)."""
    from pyproj import Transformer

    t = Transformer.from_crs(crs, 4326, always_xy=True)
    return lambda x, y: t.transform(x, y)


def _frame_or_empty(rows: list[dict], crs: str, columns: list[str]) -> gpd.GeoDataFrame:
    if rows:
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_crs(4326)
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=4326)
