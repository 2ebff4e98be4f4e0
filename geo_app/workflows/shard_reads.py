"""Sharded coverage whose workers read the street network themselves, each its own tile.

A city-scale network file is the biggest input, and reading it is most of a run: when it
is a GIS file with a spatial index (GeoPackage, FlatGeobuf, shapefile) that every worker
can open at the same path (one machine, or a shared folder), the client reads only the
residents and facilities, and each tile's task reads the lines that meet its tile grown by
the halo (pyogrio's bounding-box read). The client never holds the whole network.

Tiles here are boxes of longitude and latitude (``side_km`` on the ground at their middle
latitude); each street node, resident and facility is owned by the box it lies in (half
open, so exactly one). The halo is the longest walk the threshold allows at the fastest
speed any edge of the plain walk graph can have (``max(walk, steps) × Tobler's 1.19`` with
elevations) plus the largest access walk, in degrees at the box's far latitude, with a
margin: a walk's straight-line (geodesic) length never exceeds its path length, and edge
lengths are geodesic. Each worker still checks its piece against that speed.

The pieces are read first (and stay on their workers). When the extent lies in one UTM
zone, that zone is the metric CRS one process would take (the zone of the nodes' median),
and each tile is walked as soon as its piece is read, then reports its owned nodes and the
street distances of the datum check's sample points in the same task. Otherwise every
piece first reports its owned nodes, the client takes the zone of their median, and the
tiles are walked in it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from analysis.graph import TOBLER_FLAT_KM_H

log = logging.getLogger(__name__)

INDEXED = (".gpkg", ".fgb", ".shp")  # vector files read by box through a spatial index
MARGIN = 1.02  # geodesic vs projected lengths and rounding: cut a little wider
M_PER_DEG_LAT = 110_574.0  # the shortest degree of latitude (at the equator)
M_PER_DEG_LON = 111_320.0  # a degree of longitude at the equator
SHIFT_DEG = 0.02  # GCJ-02/BD-09 offsets are under 1 km: read that much wider before undoing
TOBLER_PEAK = 6.0 / TOBLER_FLAT_KM_H  # fastest downhill walk relative to the flat


@dataclass(frozen=True)
class NetworkFile:
    """A network that each shard reads its own piece of (a path every worker can open)."""

    path: str
    datum: str | int = "wgs84"
    layer: str | None = None

    @property
    def source(self) -> str:
        return self.path


def _register_sizeof() -> None:
    """Tell Dask what a network piece weighs (else 56 bytes: its scheduler would move a
    tile's walk away from the worker holding its piece, shipping the piece)."""
    from dask.sizeof import sizeof

    from layers.network import StreetNetwork

    @sizeof.register(StreetNetwork)
    def _(net) -> int:
        return int(sizeof(net.nodes) + sizeof(net.edges))


_register_sizeof()


def readable_by_box(path) -> bool:
    """Whether a network file can be read tile by tile through a spatial index."""
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() in INDEXED


@dataclass(frozen=True)
class Grid:
    """Boxes of ``dlon`` × ``dlat`` degrees from (``lon0``, ``lat0``): ``nx`` × ``ny``."""

    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nx: int
    ny: int

    def owner(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The box (``iy * nx + ix``) each point lies in; a point beyond the grid (beyond
        the network's extent) belongs to the box nearest it, whose grown piece holds every
        street within reach of it."""
        ix = np.clip(np.floor((np.asarray(lon, float) - self.lon0) / self.dlon), 0, self.nx - 1)
        iy = np.clip(np.floor((np.asarray(lat, float) - self.lat0) / self.dlat), 0, self.ny - 1)
        return (iy * self.nx + ix).astype(np.int64)

    def box(self, k: int) -> tuple[float, float, float, float]:
        iy, ix = divmod(int(k), self.nx)
        x0, y0 = self.lon0 + ix * self.dlon, self.lat0 + iy * self.dlat
        return x0, y0, x0 + self.dlon, y0 + self.dlat


def plan_grid(bounds: Sequence[float], side_km: float) -> Grid:
    """Boxes about ``side_km`` on a side covering ``bounds`` (lon/lat min and max)."""
    y0, y1 = float(bounds[1]), float(bounds[3])
    dlat = 1000.0 * side_km / M_PER_DEG_LAT
    dlon = 1000.0 * side_km / (M_PER_DEG_LON * math.cos(math.radians((y0 + y1) / 2)))
    return fit_grid(bounds, dlon, dlat)


def fit_grid(bounds: Sequence[float], dx: float, dy: float) -> Grid:
    """Boxes about ``dx`` × ``dy`` covering ``bounds`` (x/y min and max, any units): as many
    as that size needs, stretched to fit the bounds (equal work, no slivers), a hair wider
    so that the largest coordinate falls inside."""
    x0, y0, x1, y1 = (float(b) for b in bounds)
    nx = max(1, math.ceil((x1 - x0) / dx - 1e-9))
    ny = max(1, math.ceil((y1 - y0) / dy - 1e-9))
    pad = 1e-9 * max(1.0, abs(x0), abs(y0), abs(x1), abs(y1))
    return Grid(x0, y0, (x1 - x0 + pad) / nx, (y1 - y0 + pad) / ny, nx, ny)


def grown(box: tuple[float, float, float, float], metres: float) -> tuple:
    """``box`` grown by ``metres`` on the ground every way (degrees at its far latitude)."""
    x0, y0, x1, y1 = box
    dy = metres / M_PER_DEG_LAT
    far = min(89.0, max(abs(y0 - dy), abs(y1 + dy)))
    dx = metres / (M_PER_DEG_LON * math.cos(math.radians(far)))
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def file_bounds(nf: NetworkFile) -> tuple[float, float, float, float]:
    """The network file's extent in WGS-84 degrees (from its header: no features read)."""
    import pyogrio

    info = pyogrio.read_info(nf.path, layer=nf.layer, force_total_bounds=True)
    return _to_degrees(info["total_bounds"], info.get("crs"))


def area_km2(bounds: Sequence[float]) -> float:
    """The area (km²) of a box of longitude and latitude (for the default tile side)."""
    x0, y0, x1, y1 = bounds
    mid = math.cos(math.radians((y0 + y1) / 2))
    return (x1 - x0) * M_PER_DEG_LON * mid * (y1 - y0) * M_PER_DEG_LAT / 1e6


def _features(nf: NetworkFile) -> int | None:
    """The number of lines in the network file (from its header), None if it won't say."""
    import pyogrio

    n = pyogrio.read_info(nf.path, layer=nf.layer).get("features")
    return int(n) if n is not None and n >= 0 else None


def _to_degrees(b, crs) -> tuple[float, float, float, float]:
    from pyproj import CRS, Transformer

    if crs is None or CRS(crs).is_geographic:
        return tuple(float(v) for v in b)
    t = Transformer.from_crs(crs, 4326, always_xy=True)
    return t.transform_bounds(*b, densify_pts=21)


def _layer_bbox(nf: NetworkFile, box: tuple) -> tuple:
    """``box`` (WGS-84) as a bounding box in the file's own coordinates."""
    import pyogrio
    from pyproj import CRS, Transformer

    from layers.coords import normalise_datum

    crs = pyogrio.read_info(nf.path, layer=nf.layer).get("crs")
    try:
        shifted = normalise_datum(str(nf.datum)) in ("gcj02", "bd09")
    except ValueError:
        shifted = False
    if crs is None or CRS(crs).is_geographic:
        pad = SHIFT_DEG if shifted else 0.0
        return box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    t = Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0, x1, y1 = t.transform_bounds(*box, densify_pts=21)
    pad = 0.01 * max(x1 - x0, y1 - y0)
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def read_piece(nf: NetworkFile, box: tuple, dem: str | None = None):
    """The walkable network within ``box`` (WGS-84, the tile grown by the halo): every line
    that meets it (runs on a worker)."""
    from layers.network import read_centrelines

    net = read_centrelines(Path(nf.path), datum=nf.datum, layer=nf.layer,
                           bbox=_layer_bbox(nf, box))
    if dem is not None and len(net.nodes):
        from layers.elevation import sample_dem

        z = sample_dem(dem, net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy())
        net = dataclasses.replace(net, nodes=net.nodes.assign(elevation_m=z))
    return net


def piece_report(net, grid: Grid, k: int, samples: dict) -> dict:
    """What the client needs of a piece before the walks (runs on a worker): its owned
    nodes' coordinates (for the metric CRS), its owned segments' count, and the street
    distances of the datum check's sample points that lie in its box."""
    from layers.datum_check import street_distances

    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    own = grid.owner(lon, lat) == k
    if len(net.edges):
        first = net.nodes.set_index("node_id").loc[net.edges["u"].to_numpy(), ["lon", "lat"]]
        own_edges = int((grid.owner(first["lon"].to_numpy(), first["lat"].to_numpy())
                         == k).sum())
    else:
        own_edges = 0
    streets = net.edges.geometry.to_numpy()
    found = {name: (rows, street_distances(x, y, lat0, streets))
             for name, (rows, x, y, lat0) in samples.items()}
    return {"lon": lon[own], "lat": lat[own], "segments": own_edges, "distances": found}


def run_piece(net, demand: tuple, facilities: gpd.GeoDataFrame, *, grid: Grid,
              k: int, demand_rows: np.ndarray, facility_rows: np.ndarray,
              own_facility: np.ndarray, crs: str, categories: Sequence[str], limits_s: dict,
              speed_m_s: float, steps_speed_m_s: float, max_snap_m: float, mode: str,
              join: str, reach_speed_m_s: float):
    """One tile's :class:`~geo_app.workflows.coverage_steps.Part` (runs on a worker)."""
    from geo_app.workflows.coverage_steps import local_part
    from geo_app.workflows.graphs import walk_graph_from_network

    g = walk_graph_from_network(net, speed_m_s=speed_m_s, steps_speed_m_s=steps_speed_m_s,
                                crs=crs)
    if g.max_straight_speed_m_s > reach_speed_m_s * MARGIN:
        raise RuntimeError(f"a tile's network is faster ({g.max_straight_speed_m_s:.3f} m/s) "
                           f"than its halo allows ({reach_speed_m_s:.3f} m/s)")
    nodes = net.nodes
    own_node = grid.owner(nodes["lon"].to_numpy(), nodes["lat"].to_numpy()) == k
    order = np.argsort(nodes["node_id"].to_numpy())  # the graph's nodes are sorted by id
    return local_part(g, facilities, demand, categories=categories, limits_s=limits_s,
                      speed_m_s=speed_m_s, max_snap_m=max_snap_m, mode=mode,
                      facility_rows=facility_rows, demand_rows=demand_rows,
                      own_facility=own_facility, own_node=own_node[order], join=join)


def walk_tile(net, demand, facilities, *, samples: dict | None, **kw) -> tuple:
    """:func:`run_piece`, then (``samples`` given) the piece's :func:`piece_report`: one
    task a tile when the metric CRS is known before the pieces report (runs on a worker)."""
    part = run_piece(net, demand, facilities, **kw)
    return part, None if samples is None else piece_report(net, kw["grid"], kw["k"], samples)


def speed_bound(speed_m_s: float, steps_speed_m_s: float, dem: str | None) -> float:
    """The fastest straight-line progress any edge of the plain walk graph can make."""
    return max(speed_m_s, steps_speed_m_s) * (TOBLER_PEAK if dem is not None else 1.0)


@dataclass
class SharedRun:
    """What a shared-read sharded run gives back to :func:`run_coverage`."""

    parts: list
    crs: str
    n_nodes: int
    n_segments: int
    note: str
    zone_labels: dict | None = None  # each resident's zone per kind, found while tiles walk
    gaps_found: Callable | None = None  # the gap areas, under way on the workers


@dataclass
class Started:
    """Piece reads under way on the workers (see :func:`start`)."""

    nf: NetworkFile
    client: object
    grid: Grid
    side_km: float
    halo_m: float
    pieces: dict


def start(nf: NetworkFile, client, *, side_km: float | None, longest_s: float,
          speed_m_s: float, steps_speed_m_s: float, max_snap_m: float,
          dem: str | None = None) -> Started:
    """Start reading the network's tiles on the workers (tiles over the file's extent, the
    halo for walks of ``longest_s``), so that the client reads the residents meanwhile."""
    from geo_app.workflows.dask_cluster import workers_of
    from geo_app.workflows.sharding import default_shard_km

    reach_m = longest_s * speed_bound(speed_m_s, steps_speed_m_s, dem)
    halo_m = MARGIN * (reach_m + max_snap_m)
    bounds = file_bounds(nf)
    side = side_km or default_shard_km(reach_m, extent_km2=area_km2(bounds),
                                       workers=workers_of(client), segments=_features(nf))
    grid = plan_grid(bounds, side)
    pieces = {k: client.submit(read_piece, nf, grown(grid.box(k), halo_m), dem, pure=False,
                               key=f"piece-{k}-{time.time_ns()}")
              for k in range(grid.nx * grid.ny)}
    return Started(nf, client, grid, side, halo_m, pieces)


def run(nf: NetworkFile, facilities: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, *, client,
        side_km: float | None, categories: Sequence[str], limits_s: dict, speed_m_s: float,
        steps_speed_m_s: float, max_snap_m: float, mode: str, join: str,
        dem: str | None = None, checks: Sequence[Callable] = (), started: Started | None = None,
        progress: Callable | None = None, zones: Mapping | None = None,
        gap_cell_m: float | None = None) -> SharedRun:
    """Coverage parts of every tile, each read and walked on a worker of ``client``
    (``started``: the reads :func:`start` began, for the same file and a halo at least as
    long as these thresholds need).

    ``checks`` are callables ``check(distances)`` (the datum check of a point layer, see
    :func:`geo_app.workflows.input_checks.check_points`), each called twice with a function
    ``distances(lon, lat, lat0)``: first to learn its sample points (no verdict yet), then,
    once the pieces are read, with their street distances from the workers' pieces.
    ``gap_cell_m``: the gap areas' cell; they are then found on the workers as soon as the
    last tile is walked (see :func:`start_gaps`).
    """
    from layers.crs import metric_crs

    say = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    v = speed_bound(speed_m_s, steps_speed_m_s, dem)
    reach_m = max(limits_s.values()) * v
    if started is None:
        started = start(nf, client, side_km=side_km, longest_s=max(limits_s.values()),
                        speed_m_s=speed_m_s, steps_speed_m_s=steps_speed_m_s,
                        max_snap_m=max_snap_m, dem=dem)
    elif started.halo_m < MARGIN * (reach_m + max_snap_m) or started.nf != nf:
        raise ValueError("the tiles being read do not fit this run (another file, or a halo "
                         "shorter than its longest walk)")
    grid, pieces, side, halo_m = started.grid, started.pieces, started.side_km, started.halo_m
    keys = range(grid.nx * grid.ny)
    say(0.0, f"reading the network in {len(keys)} tiles on the workers")
    d_lon, d_lat = _lonlat(demand)
    f_lon, f_lat = _lonlat(facilities)
    samples = _Samples(grid)
    for check in checks:  # the datum checks draw their samples first
        check(samples.register)
    reports: dict = {}
    crs = one_zone(grid)  # the tiles' walks need not wait for every piece's nodes
    report_futures = {}
    if crs is None:  # the extent spans UTM zones: the median node decides, as in one process
        report_futures = {k: client.submit(piece_report, pieces[k], grid, k, samples.for_box(k),
                                           pure=False) for k in keys}
        reports = dict(zip(keys, client.gather([report_futures[k] for k in keys])))
        crs = metric_crs(_owned_lonlat(nf, list(reports.values())))
    say(0.3, "walking times on the workers")
    own_d = grid.owner(d_lon, d_lat)
    own_f = grid.owner(f_lon, f_lat)
    futures = {}
    for k in keys:
        rows_d = np.flatnonzero(own_d == k)
        report = None if k in reports else samples.for_box(k)  # reported with the walk
        if not len(rows_d) and not (own_f == k).any():
            if report is not None:
                report_futures[k] = client.submit(piece_report, pieces[k], grid, k, report,
                                                  pure=False)
            continue
        near = _within(f_lon, f_lat, grown(grid.box(k), MARGIN * reach_m))
        rows_f = np.flatnonzero(near | (own_f == k))
        futures[client.submit(
            walk_tile, pieces[k], (d_lon[rows_d], d_lat[rows_d]),
            facilities.iloc[rows_f].reset_index(drop=True), grid=grid, k=k,
            demand_rows=rows_d, facility_rows=rows_f, own_facility=own_f[rows_f] == k, crs=crs,
            categories=categories, limits_s=limits_s, speed_m_s=speed_m_s,
            steps_speed_m_s=steps_speed_m_s, max_snap_m=max_snap_m, mode=mode, join=join,
            reach_speed_m_s=v, samples=report, pure=False, priority=1,
            key=f"tile-{k}-{time.time_ns()}")] = k
    from dask.distributed import as_completed

    from geo_app.workflows.coverage_steps import _zones

    gaps_found = None if gap_cell_m is None else start_gaps(
        client, list(futures), (d_lon, d_lat), demand["population"].to_numpy(float),
        categories, gap_cell_m, crs)
    zone_labels = _zones(demand, zones or {})  # the client's part while the tiles walk
    done = {}
    try:
        for n, fut in enumerate(as_completed(futures), start=1):
            done[futures[fut]], report = fut.result()
            if report is not None:
                reports[futures[fut]] = report
            if futures[fut] not in report_futures:  # its piece is no longer needed
                pieces.pop(futures[fut], None)
            say(0.3 + 0.7 * n / len(futures), f"{n} of {len(futures)} tiles done")
    except Exception:
        if len(reports) < len(keys):  # a network without streets fails its tiles: say so
            _owned_lonlat(nf, [*reports.values(), *client.gather([client.submit(
                piece_report, pieces[k], grid, k, {}, pure=False) for k in keys
                if k not in reports])])
        raise
    for k, fut in report_futures.items():
        if k not in reports:
            reports[k] = fut.result()
    del pieces
    started.pieces.clear()  # the workers free the pieces
    reports = [reports[k] for k in keys]
    _owned_lonlat(nf, reports)  # a network without streets is refused as before
    samples.answer(reports)
    for check in checks:  # the datum checks' verdicts, from the pieces' street distances
        check(samples.lookup)
    parts = [done[k] for k in sorted(done)]
    log.info("%d tiles read and walked on the workers in %.1f s", len(parts),
             time.perf_counter() - t0)
    note = (f"{len(futures)} tiles of {side:g} km (read by the workers from {Path(nf.path).name}),"
            f" halo {halo_m:,.0f} m, run on Dask ({client.scheduler.address})")
    return SharedRun(parts, crs, sum(len(r["lon"]) for r in reports),
                     sum(r["segments"] for r in reports), note, zone_labels, gaps_found)


def start_gaps(client, tiles: list, lonlat: tuple, population: np.ndarray,
               categories: Sequence[str], cell_m: float, crs: str) -> Callable[[], list]:
    """Find the gap areas of each category, then of the basket, on the workers as soon as
    the ``tiles`` (futures of :func:`walk_tile`) are walked, without the parts' round trip
    through this process: returns a function that gives them (as
    :func:`~geo_app.workflows.coverage_steps.gaps_here` does)."""
    from geo_app.workflows.coverage_steps import to_metres, uncovered_columns

    x, y = to_metres(lonlat, crs)
    sx, sy, sp = client.scatter([x, y, population], broadcast=True)
    columns = uncovered_columns(categories)
    masks = [client.submit(_uncovered, tile, columns, pure=False) for tile in tiles]
    futures = [client.submit(_tile_gaps, j, *masks, x=sx, y=sy, population=sp, cell_m=cell_m,
                             crs=crs, pure=False) for j in range(len(columns))]
    return lambda: client.gather(futures)


def _uncovered(walked: tuple, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A walked tile's residents (whole-layer rows) and, for each column, those it does not
    cover (runs on a worker)."""
    part = walked[0]
    return part.demand_rows, ~np.stack([part.frame[c].to_numpy(bool) for c in columns])


def _tile_gaps(j: int, *tiles: tuple, x: np.ndarray, y: np.ndarray, population: np.ndarray,
               cell_m: float, crs: str):
    """The gap areas of column ``j`` of :func:`_uncovered`, over every tile (on a worker)."""
    from geo_app.workflows.coverage_steps import gap_areas

    unc = np.zeros(len(x), bool)
    for rows, masks in tiles:
        unc[rows] = masks[j]
    return gap_areas(unc, x, y, population, cell_m, crs)


def _owned_lonlat(nf: NetworkFile, reports: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    lon = np.concatenate([r["lon"] for r in reports])
    lat = np.concatenate([r["lat"] for r in reports])
    if not len(lon):
        raise ValueError(f"{nf.path}: the network has no walkable streets")
    return lon, lat


def one_zone(grid: Grid) -> str | None:
    """The UTM zone of every point of the grid's extent when that is one zone (so also of
    the median node that one process takes it from), else None.

    UTM zones are 6° of longitude from 180° W, north or south of the equator, except where
    Norway's and Svalbard's zones bend (56°–84° N, 0°–42° E), left to the nodes; an extent
    touching a zone's edge is left to them too.
    """
    from layers.crs import metric_crs

    x0, y0 = grid.lon0, grid.lat0
    x1, y1 = x0 + grid.nx * grid.dlon, y0 + grid.ny * grid.dlat
    if (y1 > 56 and x1 > 0 and x0 < 42) or not (-180 <= x0 and x1 <= 180 and -80 <= y0
                                                 and y1 <= 84):
        return None
    lo, hi = (x0 + 180.0) / 6.0, (x1 + 180.0) / 6.0  # zones 6° wide from 180° W
    if math.floor(lo) != math.floor(hi) or lo == math.floor(lo) or (y0 <= 0 <= y1):
        return None  # across (or on) a zone's edge or the equator
    return metric_crs((np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2])))


def _lonlat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    pts = gdf.geometry.values
    return shapely.get_x(pts), shapely.get_y(pts)


def _within(lon: np.ndarray, lat: np.ndarray, box: tuple) -> np.ndarray:
    return (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])


class _Samples:
    """The datum checks' sample points, sent to the tiles they lie in, and their answers."""

    def __init__(self, grid: Grid):
        self.grid = grid
        self.asked: dict[str, tuple] = {}
        self.found: dict[str, dict] = {}

    def register(self, lon, lat, lat0):
        """First pass: note the sample; no distances yet (so no verdict)."""
        from layers.datum_check import SHIFTS

        name = f"sample{len(self.asked)}"
        self.asked[name] = (np.asarray(lon, float), np.asarray(lat, float), float(lat0))
        return {s: np.full(len(self.asked[name][0]), np.inf) for s in SHIFTS}

    def for_box(self, k: int) -> dict:
        out = {}
        for name, (lon, lat, lat0) in self.asked.items():
            rows = np.flatnonzero(self.grid.owner(lon, lat) == k)
            out[name] = (rows, lon[rows], lat[rows], lat0)
        return out

    def answer(self, reports: list[dict]) -> None:
        from layers.datum_check import SHIFTS

        for name, (lon, _, _) in self.asked.items():
            d = {s: np.full(len(lon), np.inf) for s in SHIFTS}
            for r in reports:
                rows, dist = r["distances"][name]
                for s in SHIFTS:
                    d[s][rows] = dist[s]
            self.found[name] = d
        self._next = iter(self.found)

    def lookup(self, lon, lat, lat0):
        return self.found[next(self._next)]
