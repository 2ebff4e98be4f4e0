"""Streets of an ``.osm.pbf`` extract, read through DuckDB's spatial extension.

``ST_ReadOSM`` decodes the file in C++ on all cores and hands back Arrow arrays: the ways
with a ``highway`` tag (id, node references, the tags the walk or drive rules read) and the
coordinates of the nodes they use, joined inside DuckDB. Everything after that scan is
numpy and pandas on whole columns, with no Python object per node or segment: a
generated million-node extract reads in about 5 s and 1.3 GB, against about 16 s and
1.8 GB for pyrosm (the previous reader) and 13 s for pyosmium (docs/benchmarks.md).

The tables are those pyrosm's ``OSM.get_network(network_type, nodes=True)`` gives, so that
:func:`layers.network._from_graph_tables` builds exactly the same walk (or drive) network
from either reader:

- pyrosm's way filters (``walking`` and ``driving``, :data:`WAY_FILTERS`): a way is left out
  when one of its tags has a listed value, also as one of several values (``a;b``), or
  when the most specific access tag of the mode (``foot``, then ``access`` for walking)
  closes it (``no``/``private``);
- the tag columns pyrosm keeps (:data:`PYROSM_COLUMNS`): a walk/drive rule on a tag that
  pyrosm does not keep as a column (``sidewalk:left``…) acts only through the way filter;
- a node missing from the extract (or with coordinates out of range) is skipped and the
  way cut through its remaining nodes; a node repeated right after itself gives a
  zero-length segment;
- coordinates are the file's nanodegrees divided by 1e9; segment lengths are pyrosm's
  haversine (mean Earth radius 6,371,008.8 m) rounded to the millimetre;
- segments follow the ways in id order, each in its node order; nodes are listed in the
  order the segments first use them.

For walking, the connector tags of :mod:`layers.connectors` (``conveying``, ``incline``,
``step_count``, ``bridge``, ``layer`` …) come from one tag map of the ways that have any of
them, and are turned into each way's connector kind once per way; the nodes' ``highway``
(elevators) and ``ele`` tags come the same way. pyrosm's reader gives the same columns from
its JSON tag columns.

The extension comes from the ``duckdb-extension-spatial`` package (the official binary for
the installed DuckDB version), loaded from its file: nothing is downloaded and nothing is
written to the user's DuckDB folder. Without it :func:`available` is False and
:func:`layers.network.read_osm_pbf` falls back to pyrosm.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

EARTH_RADIUS_M = 6371.0088 * 1000.0  # pyrosm's mean Earth radius, computed as pyrosm does

# pyrosm's network filters (pyrosm.config.osm_filters, 0.25): excluded values per tag, and
# the access tags of the mode from the most specific one (the first present decides).
_ALWAYS_EXCLUDED = ("abandoned", "construction", "no", "planned", "platform", "proposed",
                    "raceway", "razed", "rest_area", "services")
_CLOSED = ("no", "private")
WAY_FILTERS = {
    "walk": {
        "exclude": {
            "area": ("yes",),
            "highway": (*_ALWAYS_EXCLUDED, "bus_guideway", "cycleway", "motor", "motorway",
                        "motorway_link"),
            "service": ("private",),
            "sidewalk": ("separate",), "sidewalk:both": ("separate",),
            "sidewalk:left": ("separate",), "sidewalk:right": ("separate",),
        },
        "access": ("foot", "access"),
    },
    "drive": {
        "exclude": {
            "area": ("yes",),
            "highway": (*_ALWAYS_EXCLUDED, "bridleway", "bus_guideway", "busway", "corridor",
                        "cycleway", "elevator", "escalator", "footway", "ladder", "path",
                        "pedestrian", "steps", "track", "trail", "service"),
            "service": ("emergency_access", "parking", "parking_aisle", "private", "alley",
                        "driveway"),
        },
        "access": ("motorcar", "motor_vehicle", "vehicle", "access"),
    },
}
# The tags the network rules of layers.network read that pyrosm keeps as columns
# (pyrosm.config.default_tags.highway_columns); the others act only through WAY_FILTERS.
PYROSM_COLUMNS = frozenset({"access", "area", "foot", "highway", "junction", "maxspeed",
                            "motor_vehicle", "motorcar", "oneway", "service", "sidewalk"})


class PbfReaderUnavailable(RuntimeError):
    """DuckDB or its spatial extension is not installed (the caller falls back to pyrosm)."""


class PbfReadError(ValueError):
    """The file cannot be read as OSM PBF (DuckDB's message, first line)."""


def _extension_file() -> Path | None:
    """The spatial extension binary of the installed DuckDB version, if packaged."""
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError:
        return None
    path = (Path(duckdb_extension_spatial.__file__).parent / "extensions"
            / f"v{duckdb.__version__}" / "spatial.duckdb_extension")
    return path if path.is_file() else None


def available() -> bool:
    """Whether DuckDB and a spatial extension for its version are installed."""
    return _extension_file() is not None


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _connect(tmp: str):
    """An in-memory DuckDB connection with the spatial extension loaded from its file;
    spills (if any) go to ``tmp``, never beside the input or in the user's folders."""
    ext = _extension_file()
    if ext is None:
        raise PbfReaderUnavailable("DuckDB's spatial extension is not installed "
                                   "(pip install duckdb duckdb-extension-spatial)")
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False,
                                 "temp_directory": tmp})
    con.execute(f"LOAD {_quote(ext)}")
    return con


def _is_listed(values: pd.Series, listed: tuple[str, ...]) -> np.ndarray:
    """pyrosm's ``MultiValue`` test: the value is listed, or it holds several values
    (``a;b``) one of which, stripped, is listed. Missing values are never listed."""
    hit = np.array(values.isin(listed), dtype=bool)
    multi = np.array(values.str.contains(";", regex=False, na=False), dtype=bool) & ~hit
    if multi.any():  # as Python objects: pyrosm strips with str.strip()
        parts = values[multi].astype(object).str.split(";").explode().str.strip()
        hit[np.flatnonzero(multi)] = parts.isin(listed).groupby(level=0).any().to_numpy(bool)
    return hit


def _kept_ways(tags: pd.DataFrame, mode: str) -> np.ndarray:
    """pyrosm's exclude filter of the ``mode`` network over a table of way tags."""
    rules = WAY_FILTERS[mode]
    out = np.ones(len(tags), dtype=bool)
    for key, listed in rules["exclude"].items():
        out &= ~_is_listed(tags[key], listed)
    decided = np.zeros(len(tags), dtype=bool)
    for key in rules["access"]:  # the most specific access tag present decides
        present = np.array(tags[key].notna(), dtype=bool) & ~decided
        if present.any():
            closed = _is_listed(tags[key][present], _CLOSED)
            out[np.flatnonzero(present)[closed]] = False
        decided |= present
    return out


def _haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """pyrosm's segment length: haversine metres rounded to the millimetre."""
    lat1, lon1, lat2, lon2 = map(np.deg2rad, (lat1, lon1, lat2, lon2))
    d = (np.sin((lat2 - lat1) * 0.5) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) * 0.5) ** 2)
    return (2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(d))).round(3)


def _degrees(values: np.ndarray) -> np.ndarray:
    """The file's coordinate, as pyrosm computes it: integer nanodegrees / 1e9 (DuckDB's
    own conversion can differ in the last bit)."""
    return np.rint(np.asarray(values, dtype=np.float64) * 1e9) / 1e9


def scan(path: str | Path, keys: tuple[str, ...], node_keys: tuple[str, ...] = (),
         sparse_keys: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Ways with a ``highway`` tag and the nodes they reference, from one ``.osm.pbf``.

    Returns ``(ways, nodes)``: ``ways`` has ``id`` (int64, ascending), ``refs`` (all
    node references, one way after another), ``ref_start`` (way ``i`` is
    ``refs[ref_start[i]:ref_start[i + 1]]``) and a ``pd.Series`` of strings (``pd.NA``
    where untagged) per key in ``keys``; ``nodes`` has ``id`` (ascending), ``lon``, ``lat``
    (degrees) of the referenced nodes present in the file, and a ``pd.Series`` of strings per
    key in ``node_keys`` (node tags, e.g. ``highway`` for elevators, ``ele``). Tags most
    ways lack (``sparse_keys``) are fetched through one tag map of the ways that have any
    of them (about 4x cheaper than a lookup per key and way). Raises
    :class:`PbfReaderUnavailable` without DuckDB's spatial extension and
    :class:`PbfReadError` on a file that is not OSM PBF.
    """
    import duckdb

    with tempfile.TemporaryDirectory(prefix="geo_app_pbf_") as tmp:
        con = _connect(tmp)
        try:
            return _scan(con, _quote(Path(path).resolve()), keys, node_keys, sparse_keys)
        except duckdb.Error as exc:
            lines = str(exc).strip().splitlines()
            raise PbfReadError(lines[0] if lines else type(exc).__name__) from None
        finally:
            con.close()


def _sparse(table, column: str, keys, as_string) -> dict:
    """A string Series per key from a tag-map column (null where the element has no map):
    the keys are looked up in the maps present only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(column)
    if col.null_count == len(col):  # no element has any of the keys
        return {k: pd.Series(pa.nulls(len(col), pa.string()).to_pandas(types_mapper=as_string),
                             dtype=pd.StringDtype()) for k in keys}
    col = col.combine_chunks()
    valid = np.asarray(col.is_valid(), dtype=bool)
    maps = col.filter(pa.array(valid))
    where = pa.array(np.cumsum(valid) - 1, mask=~valid)  # row → its map, null without one
    out = {}
    for k in keys:
        values = pc.map_lookup(maps, k, "first") if len(maps) else pa.nulls(0, pa.string())
        full = values.take(where) if len(maps) else pa.nulls(len(valid), pa.string())
        out[k] = pd.Series(full.to_pandas(types_mapper=as_string), dtype=pd.StringDtype())
    return out


def _any_tag(alias: str, keys) -> str:
    return " OR ".join(f"map_contains({alias}tags, {_quote(k)})" for k in keys)


def _scan(con, src: str, keys: tuple[str, ...], node_keys: tuple[str, ...] = (),
          sparse_keys: tuple[str, ...] = ()) -> tuple[dict, dict]:
    import pyarrow as pa

    keys = tuple(k for k in keys if k not in sparse_keys)
    cols = "".join(f", tags[{_quote(k)}] AS c{i}" for i, k in enumerate(keys))
    if sparse_keys:
        cols += f", CASE WHEN {_any_tag('', sparse_keys)} THEN tags END AS sparse"
    table = con.sql(f"SELECT id, refs{cols} FROM ST_ReadOSM({src}) "
                    f"WHERE kind = 'way' AND map_contains(tags, 'highway') "
                    f"ORDER BY id").to_arrow_table()
    refs_col = table.column("refs").combine_chunks()  # a null list has no refs
    offsets = np.asarray(refs_col.offsets, dtype=np.int64)
    if len(offsets) == 0:
        offsets = np.zeros(1, dtype=np.int64)
    refs = np.asarray(refs_col.values.to_numpy(zero_copy_only=False), dtype=np.int64)
    ways = {"id": np.asarray(table.column("id").to_numpy(), dtype=np.int64),
            "refs": refs[offsets[0]:offsets[-1]], "ref_start": offsets - offsets[0]}
    as_string = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}.get
    for i, k in enumerate(keys):  # pandas strings (pd.NA where untagged), no Python objects
        ways[k] = pd.Series(table.column(f"c{i}").to_pandas(types_mapper=as_string),
                            dtype=pd.StringDtype())
    if sparse_keys:
        ways.update(_sparse(table, "sparse", sparse_keys, as_string))
    del table, refs_col
    need = np.sort(ways["refs"])  # sort + diff: faster than np.unique's hashing here
    need = need[np.r_[True, need[1:] != need[:-1]]] if len(need) else need
    con.register("need_ids", pa.table({"id": pa.array(need, pa.int64())}))
    ncols = f", CASE WHEN {_any_tag('n.', node_keys)} THEN n.tags END AS tags" \
        if node_keys else ""
    got = con.sql(f"SELECT n.id, n.lon, n.lat{ncols} FROM ST_ReadOSM({src}) AS n "
                  f"SEMI JOIN need_ids USING (id) WHERE n.kind = 'node' "
                  f"ORDER BY n.id").to_arrow_table()
    nodes = {"id": np.asarray(got.column("id").to_numpy(), dtype=np.int64),
             "lon": _degrees(got.column("lon").to_numpy()),
             "lat": _degrees(got.column("lat").to_numpy())}
    if node_keys:
        nodes.update(_sparse(got, "tags", node_keys, as_string))
    return ways, nodes


def scan_keys(mode: str, tags: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """(the way tags a ``mode`` read needs, the ones of them that become columns)."""
    rules = WAY_FILTERS[mode]
    columns = [k for k in dict.fromkeys(("highway", *tags)) if k in PYROSM_COLUMNS]
    return tuple(dict.fromkeys([*columns, *rules["exclude"], *rules["access"]])), columns


def street_tables(path: str | Path, mode: str, tags: tuple[str, ...], *, way_rule=None,
                  derive=None, derive_keys: tuple[str, ...] = (),
                  node_keys: tuple[str, ...] = ()):
    """Node table (``node_id``, ``lon``, ``lat``) and segment table (``u``, ``v``,
    ``length`` metres, a column per tag of ``tags`` that pyrosm keeps, 2-point geometry)
    of the ways pyrosm's ``mode`` network keeps, as pyrosm's
    ``get_network(nodes=True)`` gives them (see the module docstring), and the number of
    those segments.

    ``way_rule`` (a function of a table of way tags, with the columns pyrosm keeps,
    returning a keep mask) further selects ways before their segments are built: the
    segments of the ways pyrosm keeps and ``way_rule`` accepts, in the same order.
    ``derive`` (a function of a table of the way tags ``derive_keys`` and ``highway``,
    returning a table with one row per way) adds its columns to the segments, computed
    once per way; ``node_keys`` are node tags kept as ``node:<key>`` columns of the nodes.
    """
    keys, _ = scan_keys(mode, tags)
    sparse = tuple(k for k in derive_keys if k not in keys)
    ways, nodes = scan(path, (*keys, *sparse), node_keys, sparse)
    return tables_from_scan(ways, nodes, mode, tags, way_rule=way_rule, derive=derive,
                            derive_keys=derive_keys)


def tables_from_scan(ways: dict, nodes: dict, mode: str, tags: tuple[str, ...], *,
                     way_rule=None, derive=None, derive_keys: tuple[str, ...] = ()):
    """:func:`street_tables` from the ways and nodes of a scan (:func:`scan`'s layout,
    whichever reader filled it); segments carry their ``way_id``."""
    import geopandas as gpd
    import shapely

    keys, columns = scan_keys(mode, tags)
    keep_way = _kept_ways(pd.DataFrame({k: ways[k] for k in keys}), mode)

    counts = np.diff(ways["ref_start"])
    way_of = np.repeat(np.arange(len(counts)), counts)
    refs = ways["refs"]
    lon, lat = nodes["lon"], nodes["lat"]
    if len(nodes["id"]):
        pos = np.minimum(np.searchsorted(nodes["id"], refs), len(nodes["id"]) - 1)
        found = ((nodes["id"][pos] == refs) & (np.abs(lon[pos]) <= 180.0)
                 & (np.abs(lat[pos]) <= 90.0))
    else:  # no referenced node in the file
        pos, found = np.zeros(len(refs), dtype=np.int64), np.zeros(len(refs), dtype=bool)
    # the remaining nodes of each kept way; ways with fewer than two give no segment
    take = found & keep_way[way_of]
    remaining = np.bincount(way_of[take], minlength=len(counts))
    take &= remaining[way_of] >= 2
    node = pos[take]
    way = way_of[take]
    same = way[1:] == way[:-1]
    iu, iv, seg_way = node[:-1][same], node[1:][same], way[:-1][same]
    # nodes in the order the segments first use them
    used = node
    first = np.unique(used, return_index=True)[1]
    order = used[np.sort(first)]
    node_table = pd.DataFrame({"node_id": nodes["id"][order], "lon": lon[order],
                               "lat": lat[order]})
    for k in [k for k in nodes if k not in ("id", "lon", "lat")]:  # node tags: node:<key>
        node_table[f"node:{k}"] = nodes[k].array.take(order)
    n_segments = len(iu)
    if way_rule is not None:  # after the node order, which counts every kept way
        ok = np.asarray(way_rule(pd.DataFrame({k: ways[k] for k in columns})), dtype=bool)
        ok = ok[seg_way]
        iu, iv, seg_way = iu[ok], iv[ok], seg_way[ok]
    start = np.column_stack([lon[iu], lat[iu]])
    end = np.column_stack([lon[iv], lat[iv]])
    edge_cols = {k: ways[k].array.take(seg_way) for k in columns}
    if derive is not None:  # once per way, then taken per segment
        per_way = derive(pd.DataFrame({k: ways[k] for k in ("highway", *derive_keys)}))
        edge_cols.update({c: per_way[c].to_numpy()[seg_way] for c in per_way.columns})
    edge_cols.update(way_id=ways["id"][seg_way], u=nodes["id"][iu], v=nodes["id"][iv],
                     length=_haversine_m(start[:, 1], start[:, 0], end[:, 1], end[:, 0]))
    geometry = shapely.linestrings(np.stack([start, end], axis=1)) if len(iu) \
        else np.empty(0, dtype=object)
    edges = gpd.GeoDataFrame(edge_cols, geometry=geometry, crs=4326)
    return node_table, edges, n_segments
