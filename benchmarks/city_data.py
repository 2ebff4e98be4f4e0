"""GENERATED city-scale test data for ``bench_end_to_end.py`` (never real streets).

A seeded street grid with the irregularity of a real centre-line network: nodes jittered
±25 m around a 100 m grid, 8 % of segments deleted, diagonal links in 10 % of cells, ways
of several segments broken at random, a mix of ``highway`` classes (residential, service,
footway, steps, path, living_street, pedestrian, unclassified, tertiary/secondary/primary
arterials) and a share of ways the walk rules drop (motorways, ``foot=no``,
``access=private`` service roads, ``area=yes`` squares, ``sidewalk=separate`` arterials).
The grid sits on UTM zone 48N (EPSG:32648) near Chongqing so that the tool takes its usual
paths (UTM zone, district summary), but THE DATA IS GENERATED, NOT CHONGQING'S STREETS.

Written as

- a centre-line GeoPackage, one 2-point line per segment with ``highway``, ``name``,
  ``foot``, ``access``, ``service``, ``sidewalk``, ``area`` columns (the shape a planner's
  road-centre-line export has);
- an ``.osm.pbf`` (pyosmium ``SimpleWriter``) with the same street nodes and ways, plus
  tagged crossing nodes and small ``building=*`` ways that a reader must skip;
- a facilities CSV (``lon,lat,category,name``; 12 facility-basket categories × N) and a
  residents CSV (``lon,lat,population``), both near the network.

Coordinates are rounded to 1e-7 degrees (OSM's precision), so both network files carry
identical coordinates.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPACING_M = 100.0
ORIGIN = (600_000.0, 3_250_000.0)  # UTM 48N (EPSG:32648), near Chongqing: GENERATED data
METRIC_CRS = "EPSG:32648"
SIZES = {"100k": 316, "360k": 600, "1m": 1000}  # name → grid side (side² street nodes)
CATEGORIES = ("childcare", "elderly_care", "clinic", "primary_school", "middle_school",
              "market", "canteen", "sports", "park", "community_service", "bus_stop", "metro")
TAG_KEYS = ("highway", "name", "foot", "access", "service", "sidewalk", "area")
FORMAT = 2  # bump when the generator changes, so cached files are rebuilt

# highway classes of ordinary (non-arterial) ways and their shares
_MINOR = (("residential", 0.60), ("footway", 0.12), ("service", 0.08), ("unclassified", 0.04),
          ("steps", 0.04), ("path", 0.04), ("living_street", 0.04), ("pedestrian", 0.04))
_DIAGONAL = (("footway", 0.5), ("path", 0.3), ("steps", 0.2))


@dataclass
class StreetGrid:
    """Street nodes (``node_id`` 1…n, ``lon``/``lat`` degrees, ``x``/``y`` metres in
    EPSG:32648) and ways (``way_id``, node indices ``refs`` one way after another, way ``i``
    being ``refs[ref_start[i]:ref_start[i + 1]]``, ``tags``: key → object array with
    ``None`` where untagged). ``crossing``: indices of nodes tagged ``highway=crossing``."""

    side: int
    seed: int
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    way_id: np.ndarray
    refs: np.ndarray
    ref_start: np.ndarray
    tags: dict[str, np.ndarray]
    crossing: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_ways(self) -> int:
        return len(self.way_id)

    def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(u, v node indices, way index) of every segment, in way order."""
        counts = np.diff(self.ref_start)
        way = np.repeat(np.arange(self.n_ways), counts)
        same = way[1:] == way[:-1]
        return self.refs[:-1][same], self.refs[1:][same], way[:-1][same]

    def describe(self) -> str:
        hw = self.tags["highway"]
        u, _, w = self.segments()
        kinds, counts = np.unique(hw[w], return_counts=True)
        share = ", ".join(f"{k} {c / len(w):.1%}" for k, c in
                          sorted(zip(kinds, counts), key=lambda t: -t[1]))
        return (f"GENERATED {self.side}x{self.side} street grid (seed {self.seed}): "
                f"{self.n_nodes:,} nodes, {self.n_ways:,} ways, {len(u):,} segments; "
                f"segments by highway: {share}")


def _to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    t = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)
    lon, lat = t.transform(x, y)
    return np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)


def _choose(rng, n: int, table) -> np.ndarray:
    names = np.array([t[0] for t in table], dtype=object)
    p = np.array([t[1] for t in table])
    return names[rng.choice(len(names), n, p=p / p.sum())]


def _runs(edge_u: np.ndarray, edge_v: np.ndarray, line: np.ndarray, kept: np.ndarray,
          rng, p_break: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ways along grid lines: consecutive kept edges of one line, broken at deleted
    edges and at random. Returns (refs, counts, line of each way)."""
    prev_kept = np.r_[False, kept[:-1]] & np.r_[False, line[1:] == line[:-1]]
    start = kept & (~prev_kept | (rng.random(len(kept)) < p_break))
    u, v, ln, start = edge_u[kept], edge_v[kept], line[kept], start[kept]
    first = np.flatnonzero(start)
    last = np.r_[first[1:], len(u)] - 1
    refs = np.insert(u, last + 1, v[last])
    counts = np.diff(np.r_[first, len(u)]) + 1
    return refs, counts, ln[first]


def street_grid(side: int, seed: int = 11) -> StreetGrid:
    """The seeded street grid of ``side``² nodes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = side * side
    i, j = np.divmod(np.arange(n), side)
    x = ORIGIN[0] + j * SPACING_M + rng.uniform(-0.25, 0.25, n) * SPACING_M
    y = ORIGIN[1] + i * SPACING_M + rng.uniform(-0.25, 0.25, n) * SPACING_M
    lon, lat = _to_lonlat(x, y)
    a = np.arange(n).reshape(side, side)
    # rows (west-east) and columns (south-north)
    h_u, h_v = a[:, :-1].ravel(), a[:, 1:].ravel()
    h_line = np.repeat(np.arange(side), side - 1)
    v_u, v_v = a[:-1, :].T.ravel(), a[1:, :].T.ravel()
    v_line = np.repeat(np.arange(side), side - 1)
    h_refs, h_counts, h_way_line = _runs(h_u, h_v, h_line, rng.random(len(h_u)) >= 0.08,
                                         rng, 0.15)
    v_refs, v_counts, v_way_line = _runs(v_u, v_v, v_line, rng.random(len(v_u)) >= 0.08,
                                         rng, 0.15)
    cells = a[:-1, :-1].ravel()
    cells = cells[rng.random(len(cells)) < 0.10]
    flip = rng.random(len(cells)) < 0.5
    d_u = np.where(flip, cells + 1, cells)
    d_v = np.where(flip, cells + side, cells + side + 1)
    d_refs = np.column_stack([d_u, d_v]).ravel()
    d_counts = np.full(len(cells), 2)

    def line_class(lines: np.ndarray) -> np.ndarray:
        hw = _choose(rng, len(lines), _MINOR)
        hw[lines % 5 == 0] = "tertiary"
        hw[lines % 10 == 0] = "secondary"
        hw[lines % 20 == 0] = "primary"
        hw[lines % 97 == 50] = "motorway"  # not walkable
        return hw

    hw = np.concatenate([line_class(h_way_line), line_class(v_way_line),
                         _choose(rng, len(cells), _DIAGONAL)])
    names = np.concatenate([np.array([f"Row {k}" for k in range(side)], dtype=object)[h_way_line],
                            np.array([f"Col {k}" for k in range(side)], dtype=object)[v_way_line],
                            np.full(len(cells), None, dtype=object)])
    names[np.isin(hw, ["footway", "path", "steps", "service"])] = None
    n_ways = len(hw)
    tags = {k: np.full(n_ways, None, dtype=object) for k in TAG_KEYS}
    tags["highway"] = hw
    tags["name"] = names
    r = rng.random(n_ways)
    tags["foot"][(hw == "residential") & (r < 0.01)] = "no"
    tags["foot"][(hw == "path") & (r < 0.30)] = "designated"
    service = hw == "service"
    tags["service"][service & (r < 0.2)] = "driveway"
    tags["access"][service & (r > 0.9)] = "private"
    tags["sidewalk"][np.isin(hw, ["primary", "secondary"]) & (r < 0.05)] = "separate"
    tags["sidewalk"][np.isin(hw, ["primary", "secondary"]) & (r > 0.5)] = "both"
    tags["area"][(hw == "pedestrian") & (r < 0.05)] = "yes"
    refs = np.concatenate([h_refs, v_refs, d_refs])
    counts = np.concatenate([h_counts, v_counts, d_counts])
    # ways in a shuffled order, as in a real extract (ids are still ascending in the file)
    order = rng.permutation(n_ways)
    starts = np.r_[0, np.cumsum(counts)]
    counts = counts[order]
    take = np.concatenate([np.arange(starts[w], starts[w + 1]) for w in order]) if n_ways \
        else np.zeros(0, np.int64)
    refs = refs[take]
    tags = {k: v[order] for k, v in tags.items()}
    crossing = np.sort(rng.choice(n, max(1, n // 100), replace=False))
    return StreetGrid(side, seed, np.arange(1, n + 1, dtype=np.int64), lon, lat, x, y,
                      np.arange(1, n_ways + 1, dtype=np.int64), refs.astype(np.int64),
                      np.r_[0, np.cumsum(counts)].astype(np.int64), tags, crossing)


# ------------------------------------------------------------------------ writers


def write_centrelines(g: StreetGrid, path: Path) -> Path:
    """One 2-point line per segment with the way's tags as columns (GeoPackage)."""
    import geopandas as gpd
    import shapely

    u, v, w = g.segments()
    xy = np.stack([np.column_stack([g.lon[u], g.lat[u]]),
                   np.column_stack([g.lon[v], g.lat[v]])], axis=1)
    cols = {k: g.tags[k][w] for k in TAG_KEYS}
    gdf = gpd.GeoDataFrame(cols, geometry=shapely.linestrings(xy), crs=4326)
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, driver="GPKG", engine="pyogrio", layer="centrelines")
    tmp.replace(path)
    return path


def write_pbf(g: StreetGrid, path: Path, seed: int) -> Path:
    """The grid as OSM: street nodes (1 % tagged ``highway=crossing``), building nodes,
    street ways, then ``building=*`` ways (1 % of cells), written with pyosmium."""
    import osmium
    from osmium.osm.mutable import Node, Way

    rng = np.random.default_rng([seed, 2])
    side = g.side
    cells = np.flatnonzero(rng.random((side - 1) ** 2) < 0.01)
    ci, cj = np.divmod(cells, side - 1)
    cx = ORIGIN[0] + (cj + 0.5) * SPACING_M
    cy = ORIGIN[1] + (ci + 0.5) * SPACING_M
    half = rng.uniform(6, 15, len(cells))
    bx = np.column_stack([cx - half, cx + half, cx + half, cx - half]).ravel()
    by = np.column_stack([cy - half, cy - half, cy + half, cy + half]).ravel()
    blon, blat = _to_lonlat(bx, by)
    b_id = g.n_nodes + 1 + np.arange(len(bx), dtype=np.int64)
    tmp = path.with_suffix(".tmp.pbf")
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp))
    try:
        crossing = np.zeros(g.n_nodes, bool)
        crossing[g.crossing] = True
        ctag = {"highway": "crossing"}
        for nid, lo, la, c in zip(g.node_id.tolist(), g.lon.tolist(), g.lat.tolist(),
                                  crossing.tolist()):
            writer.add_node(Node(id=nid, location=(lo, la), tags=ctag if c else {}))
        for nid, lo, la in zip(b_id.tolist(), blon.tolist(), blat.tolist()):
            writer.add_node(Node(id=nid, location=(lo, la)))
        keys = [(k, g.tags[k].tolist()) for k in TAG_KEYS]
        ids = g.node_id[g.refs].tolist()
        starts = g.ref_start.tolist()
        for w, wid in enumerate(g.way_id.tolist()):
            t = {k: vals[w] for k, vals in keys if vals[w] is not None}
            writer.add_way(Way(id=wid, nodes=ids[starts[w]:starts[w + 1]], tags=t))
        levels = rng.integers(1, 30, len(cells)).tolist()
        kind = np.where(rng.random(len(cells)) < 0.7, "residential", "yes").tolist()
        for k in range(len(cells)):
            ring = b_id[4 * k: 4 * k + 4].tolist()
            writer.add_way(Way(id=g.n_ways + 1 + k, nodes=ring + ring[:1],
                               tags={"building": kind[k], "building:levels": str(levels[k])}))
    finally:
        writer.close()
    tmp.replace(path)
    return path


def write_points(g: StreetGrid, facilities_per_category: int, residents: int,
                 fac_path: Path, res_path: Path, seed: int) -> None:
    """Facilities (12 categories × N, within ~20 m of a random street node) and residents
    (half uniform over the grid, half in 200 gaussian clusters of σ 300–1,500 m)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 3])
    k = facilities_per_category
    at = rng.choice(g.n_nodes, k * len(CATEGORIES), replace=True)
    fx = g.x[at] + rng.normal(0, 20, len(at))
    fy = g.y[at] + rng.normal(0, 20, len(at))
    flon, flat = _to_lonlat(fx, fy)
    cats = np.repeat(np.array(CATEGORIES, dtype=object), k)
    pd.DataFrame({"lon": flon, "lat": flat, "category": cats,
                  "name": [f"{c} {i % k + 1}" for i, c in enumerate(cats)]}
                 ).to_csv(fac_path, index=False)
    lo = np.array([g.x.min(), g.y.min()])
    hi = np.array([g.x.max(), g.y.max()])
    n_uni = residents // 2
    uni = rng.uniform(lo, hi, (n_uni, 2))
    centres = rng.uniform(lo, hi, (200, 2))
    sigma = rng.uniform(300, 1500, 200)
    which = rng.integers(0, 200, residents - n_uni)
    clu = centres[which] + rng.normal(size=(len(which), 2)) * sigma[which, None]
    pts = np.clip(np.r_[uni, clu], lo, hi)
    rlon, rlat = _to_lonlat(pts[:, 0], pts[:, 1])
    pd.DataFrame({"lon": rlon, "lat": rlat,
                  "population": rng.integers(5, 60, len(pts))}).to_csv(res_path, index=False)


@dataclass
class CaseFiles:
    name: str
    side: int
    gpkg: Path
    pbf: Path
    facilities: Path
    residents: Path
    info: dict


def case_files(name: str, directory: Path, *, seed: int = 11, facilities_per_category: int = 300,
               residents: int = 50_000, log=print) -> CaseFiles:
    """The files of one generated case, written once into ``directory`` and reused
    (keyed by size, seed, counts and :data:`FORMAT`)."""
    side = SIZES[name]
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"gen_{name}_s{seed}_v{FORMAT}"
    gpkg, pbf = directory / f"{stem}.gpkg", directory / f"{stem}.osm.pbf"
    pts = f"{stem}_f{facilities_per_category}_r{residents}"
    fac, res = directory / f"{pts}_facilities.csv", directory / f"{pts}_residents.csv"
    meta = directory / f"{stem}.json"
    g = None
    if not (gpkg.is_file() and pbf.is_file() and meta.is_file()):
        t0 = time.perf_counter()
        g = street_grid(side, seed)
        log(f"  generating {g.describe()}")
        write_centrelines(g, gpkg)
        t1 = time.perf_counter()
        write_pbf(g, pbf, seed)
        u, _, _ = g.segments()
        meta.write_text(json.dumps({"description": g.describe(), "nodes": g.n_nodes,
                                    "ways": g.n_ways, "segments": len(u)}))
        log(f"    wrote {gpkg.name} ({gpkg.stat().st_size / 2**20:.0f} MB) and {pbf.name} "
            f"({pbf.stat().st_size / 2**20:.0f} MB) in {t1 - t0:.0f} s + "
            f"{time.perf_counter() - t1:.0f} s (not timed)")
    if not (fac.is_file() and res.is_file()):
        g = g or street_grid(side, seed)
        write_points(g, facilities_per_category, residents, fac, res, seed)
    return CaseFiles(name, side, gpkg, pbf, fac, res, json.loads(meta.read_text()))
