#!/usr/bin/env python
"""``.osm.pbf`` → walk graph with each candidate reader, one per process (for
``bench_end_to_end.py``; run alone: ``python benchmarks/pbf_readers.py READER FILE``).

Readers (each ends in the same :class:`layers.network.StreetNetwork` and
``walk_graph_from_network``):

- ``duckdb``: the package's reader (:mod:`layers.osm_pbf`, DuckDB ``ST_ReadOSM``).
- ``pyrosm``: the package's previous reader (``OSM.get_network(nodes=True)``).
- ``pyosmium``: two ``osmium.FileProcessor`` passes (ways with a ``highway`` key, filtered
  in C++ by ``KeyFilter``; then the nodes they use, filtered in C++ by ``IdFilter``),
  collected in Python lists, then the same vectorised tables as ``duckdb``.
- ``quackosm``: ``convert_pbf_to_geodataframe`` with the tags the walk rules read, then
  the lines noded at shared vertices (quackosm returns geometries, not node ids), pyrosm's
  segment lengths and walk filter. Needs DuckDB's spatial extension, which quackosm would
  download at run time: here it is installed once from the ``duckdb-extension-spatial``
  package's file (no network).
- ``centrelines``: the centre-line GeoPackage of the same grid through
  ``read_network`` (for comparison).

Prints one JSON line: seconds per step, node and segment counts, total length.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def scan_pyosmium(path: str, keys: tuple[str, ...]):
    """:func:`layers.osm_pbf.scan`'s ways and nodes, read with pyosmium."""
    import numpy as np
    import osmium
    import osmium.filter
    import pandas as pd

    way_id, refs, counts = [], [], []
    values = {k: [] for k in keys}
    fp = osmium.FileProcessor(path, osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway"))
    for w in fp:
        way_id.append(w.id)
        r = [n.ref for n in w.nodes]
        refs.extend(r)
        counts.append(len(r))
        tags = w.tags
        for k in keys:
            values[k].append(tags.get(k))
    order = np.argsort(np.asarray(way_id, dtype=np.int64), kind="stable")
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.r_[0, np.cumsum(counts)]
    flat = np.asarray(refs, dtype=np.int64)
    if not (np.diff(np.asarray(way_id)) > 0).all():  # put the ways in id order
        pick = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in order])
        flat, counts = flat[pick], counts[order]
    ways = {"id": np.asarray(way_id, dtype=np.int64)[order], "refs": flat,
            "ref_start": np.r_[0, np.cumsum(counts)]}
    for k in keys:
        ways[k] = pd.Series(np.asarray(values[k], dtype=object)[order],
                            dtype=pd.StringDtype())
    need = np.unique(flat)
    ids, xs, ys = [], [], []
    fp = osmium.FileProcessor(path, osmium.osm.NODE).with_filter(
        osmium.filter.IdFilter(need.tolist()))
    for n in fp:
        loc = n.location
        if loc.valid():
            ids.append(n.id)
            xs.append(loc.x)
            ys.append(loc.y)
    ids = np.asarray(ids, dtype=np.int64)
    o = np.argsort(ids)
    # osmium keeps 1e-7 degrees (nanodegrees / 100): degrees as pyrosm computes them
    nodes = {"id": ids[o], "lon": np.asarray(xs, dtype=np.int64)[o] * 100 / 1e9,
             "lat": np.asarray(ys, dtype=np.int64)[o] * 100 / 1e9}
    return ways, nodes


def read_pyosmium(path: str):
    from layers import osm_pbf
    from layers.network import WALK_TAGS, _from_graph_tables, walkable

    keys, _ = osm_pbf.scan_keys("walk", WALK_TAGS)
    ways, nodes = scan_pyosmium(path, keys)
    t_scan = time.perf_counter()
    nt, et, _ = osm_pbf.tables_from_scan(ways, nodes, "walk", WALK_TAGS, way_rule=walkable)
    return _from_graph_tables(nt, et, path, "walk", ruled=True), t_scan


def spatial_extension_for_quackosm() -> None:
    """Install DuckDB's spatial extension from the pip package's file into DuckDB's
    extension folder, so that quackosm's ``INSTALL spatial`` finds it offline."""
    import duckdb

    from layers import osm_pbf

    ext = osm_pbf._extension_file()
    if ext is None:
        raise RuntimeError("duckdb-extension-spatial is not installed for this DuckDB")
    con = duckdb.connect()
    con.execute(f"INSTALL '{ext}'")
    con.close()


def read_quackosm(path: str, work: str):
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import quackosm
    import shapely

    from layers import osm_pbf
    from layers.network import WALK_TAGS, _from_graph_tables, _shared_vertices

    keys, columns = osm_pbf.scan_keys("walk", WALK_TAGS)
    gdf = quackosm.convert_pbf_to_geodataframe(
        path, tags_filter={k: True for k in keys}, keep_all_tags=False,
        verbosity_mode="silent", working_directory=work)
    gdf = gdf[gdf["highway"].notna() & (shapely.get_type_id(gdf.geometry.values) == 1)]
    t_scan = time.perf_counter()
    tags = pd.DataFrame({k: (gdf[k] if k in gdf.columns else pd.Series(None, index=gdf.index))
                         .astype(pd.StringDtype()).reset_index(drop=True) for k in keys})
    keep = osm_pbf._kept_ways(tags, "walk")
    lines = gdf.geometry.values[keep]
    xy, line = shapely.get_coordinates(lines, return_index=True)
    same = line[1:] == line[:-1]
    start, end = xy[:-1][same], xy[1:][same]
    pts, node_of = _shared_vertices(np.r_[start, end])
    u, v = node_of[: len(start)], node_of[len(start):]
    row = np.flatnonzero(keep)[line[:-1][same]]
    cols = {k: tags[k].array.take(row) for k in columns}
    cols.update(u=u, v=v, length=osm_pbf._haversine_m(start[:, 1], start[:, 0],
                                                      end[:, 1], end[:, 0]))
    edges = gpd.GeoDataFrame(cols, geometry=shapely.linestrings(np.stack([start, end], 1)),
                             crs=4326)
    nodes = pd.DataFrame({"node_id": np.arange(len(pts)), "lon": pts[:, 0], "lat": pts[:, 1]})
    return _from_graph_tables(nodes, edges, path, "walk"), t_scan


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    reader, path = argv[0], argv[1]
    import tempfile

    from geo_app.workflows.graphs import walk_graph_from_network
    from layers.network import read_network, read_osm_pbf

    t = {"imports": time.perf_counter() - T0}
    start = time.perf_counter()
    t_scan = None
    if reader == "duckdb":
        net = read_osm_pbf(path, reader="duckdb")
    elif reader == "pyrosm":
        net = read_osm_pbf(path, reader="pyrosm")
    elif reader == "pyosmium":
        net, t_scan = read_pyosmium(path)
    elif reader == "quackosm":
        spatial_extension_for_quackosm()
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as work:
            net, t_scan = read_quackosm(path, work)
    elif reader == "centrelines":
        net = read_network(path)
    else:
        raise SystemExit(f"unknown reader {reader}")
    t["read"] = time.perf_counter() - start
    if t_scan is not None:
        t["of which scan"] = t_scan - start
    mark = time.perf_counter()
    g = walk_graph_from_network(net)
    t["walk graph"] = time.perf_counter() - mark
    print(json.dumps({"stages": t, "total_s": time.perf_counter() - T0,
                      "nodes": len(net.nodes), "segments": len(net.edges),
                      "length_km": float(net.edges["length_m"].sum() / 1000),
                      "graph_nodes": g.n_nodes, "graph_edges": g.n_edges}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
