"""Walk and drive graphs (analysis.graph) built from a street network of layers.network."""

from __future__ import annotations

import logging

import pandas as pd

from layers.crs import metric_crs

log = logging.getLogger(__name__)


def _graph_nodes(net, crs: str | None):
    """Node ids, projected node coordinates (m) in ``crs`` (default: the UTM zone of the
    network's centre) and each edge's end node indices: ``(ids, x, y, crs, u, v)``."""
    import numpy as np
    from pyproj import Transformer

    nodes, edges = net.nodes, net.edges
    ids = nodes["node_id"].to_numpy(np.int64)
    order = np.argsort(ids)
    crs = crs or metric_crs((nodes["lon"].to_numpy(), nodes["lat"].to_numpy()))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(
        nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    ends = []
    for col in ("u", "v"):
        want = edges[col].to_numpy(np.int64)
        pos = np.minimum(np.searchsorted(ids, want, sorter=order), len(ids) - 1)
        missing = ids[order[pos]] != want
        if missing.any():
            raise ValueError(f"{net.source}: {int(missing.sum())} street segment end(s) in "
                             f"column '{col}' name nodes that are not in the node table "
                             f"(e.g. node {int(want[missing][0])})")
        ends.append(order[pos])
    return ids, np.asarray(x), np.asarray(y), crs, ends[0], ends[1]


def walk_graph_from_network(net, *, speed_m_s: float = 1.0, steps_speed_m_s: float = 0.5,
                            crs: str | None = None, dem: str | None = None,
                            dem_partial: bool = False):
    """Build the :class:`~analysis.graph.WalkGraph` of a street network in metres.

    ``crs`` defaults to the UTM zone of the network's centre. Node elevations come
    from the network's ``elevation_m`` column or, when given, a ``dem`` GeoTIFF; with
    them walking times follow Tobler's hiking function in each direction.
    """
    from analysis.graph import build_walk_graph

    nodes, edges = net.nodes, net.edges
    ids, x, y, crs, u, v = _graph_nodes(net, crs)
    z = None
    if dem is not None:
        from layers.elevation import sample_dem

        z = sample_dem(dem, nodes["lon"].to_numpy(), nodes["lat"].to_numpy(),
                       partial=dem_partial)  # partial: level where the DEM has no height
    elif "elevation_m" in nodes.columns:
        z = nodes["elevation_m"].to_numpy(float)
    return build_walk_graph(u, v, edges["length_m"].to_numpy(), x=x, y=y,
                            crs=crs, node_id=ids, is_steps=(edges["highway"] == "steps").to_numpy(),
                            elevation_m=z, speed_m_s=speed_m_s, steps_speed_m_s=steps_speed_m_s)


def edge_speeds_kmh(edges, speeds=None, *, congestion: float = 1.0):
    """Travel speed (km/h) of each drive edge: its ``maxspeed_kmh`` where tagged, else its
    ``highway`` class's speed from ``speeds`` (a :func:`~layers.network.load_drive_speeds`
    table or a ``{class: km/h}`` mapping with a ``default`` entry; default: the bundled
    table), divided by ``congestion`` (≥ 1)."""
    import numpy as np

    if not (np.isfinite(congestion) and congestion >= 1):
        raise ValueError(f"congestion must be a finite factor ≥ 1, got {congestion}")
    if speeds is None:
        from layers.network import load_drive_speeds

        speeds = load_drive_speeds()
    if isinstance(speeds, pd.DataFrame):
        speeds = dict(zip(speeds["highway"], speeds["speed_kmh"].astype(float)))
    cls = edges["highway"].astype("string").fillna("").str.split(";").str[0]
    by_class = cls.map(speeds).astype(float).to_numpy()
    unknown = np.isnan(by_class)
    if unknown.any():
        if "default" not in speeds:
            raise ValueError("the speed table has no 'default' entry for road classes "
                             + ", ".join(sorted(set(cls[unknown]))))
        by_class = np.where(unknown, float(speeds["default"]), by_class)
    tagged = edges["maxspeed_kmh"].to_numpy(float)
    return np.where(np.isfinite(tagged) & (tagged > 0), tagged, by_class) / congestion


def drive_graph_from_network(net, *, crs: str | None = None, speeds=None,
                             congestion: float = 1.0):
    """Build the directed drive :class:`~analysis.graph.WalkGraph` (times in seconds) of a
    network read with ``mode="drive"``.

    Edge speeds come from :func:`edge_speeds_kmh` (tagged limit, else the class table,
    divided by ``congestion``); one-way roads are driven only in their direction.
    ``crs`` defaults to the UTM zone of the network's centre.
    """
    from analysis.graph import build_drive_graph

    edges = net.edges
    missing = [c for c in ("oneway", "maxspeed_kmh") if c not in edges.columns]
    if missing:
        raise ValueError(f"{net.source}: the network has no {', '.join(missing)} column(s); "
                         "read it with mode='drive'")
    speed = edge_speeds_kmh(edges, speeds, congestion=congestion)
    ids, x, y, crs, u, v = _graph_nodes(net, crs)
    return build_drive_graph(u, v, edges["length_m"].to_numpy(float), speed,
                             edges["oneway"].to_numpy(), x=x, y=y, crs=crs, node_id=ids)


PROFILES_NOTE = "adult, elderly, child, wheelchair (data/gis/walker_profiles.csv)"


def walker_profile(name: str):
    """The :class:`~analysis.profiles.Profile` called ``name`` in the bundled table."""
    from analysis.profiles import profiles_from_table
    from geo_app.errors import ParameterError
    from layers.connectors import load_walker_profiles

    profiles = profiles_from_table(load_walker_profiles())
    if name not in profiles:
        raise ParameterError(f"unknown walker profile {name!r}: use one of "
                             f"{', '.join(profiles)}")
    return profiles[name]


def walk_graph_for(net, *, profile: str = "adult", edits=None, crs: str | None = None,
                   dem: str | None = None, dem_partial: bool = False):
    """The walk graph of ``net`` for a walker ``profile`` (connector speeds, waits and who
    may use each, from data/gis), with network ``edits`` (a frame from
    :func:`layers.edits.read_edits`) applied; heights from ``elevation_m``, a ``dem`` or
    OSM ``ele``."""
    from analysis.edits import EditRefused, apply_edits
    from analysis.graph import build_profile_graph
    from analysis.profiles import connectors_from_table
    from analysis.walk_network import walk_network
    from layers.connectors import load_connectors
    from layers.edits import edit_arrays, refusal
    from layers.elevation import node_elevations

    walker = walker_profile(profile)
    nodes = net.nodes
    ids, x, y, crs, u, v = _graph_nodes(net, crs)
    if "elevation_m" in nodes.columns:  # sharded runs put DEM heights here
        z = nodes["elevation_m"].to_numpy(float)
    else:
        ele = nodes["ele_m"].to_numpy(float) if "ele_m" in nodes.columns else None
        z = None if dem is None and ele is None else node_elevations(
            nodes["lon"].to_numpy(), nodes["lat"].to_numpy(), dem=dem, osm_ele=ele,
            partial=dem_partial)
    lift = nodes["lift"].to_numpy(bool) if "lift" in nodes.columns else None
    signal = nodes["signal"].to_numpy(bool) if "signal" in nodes.columns else None
    wn = walk_network(net.edges, u, v, x=x, y=y, crs=crs, node_id=ids, z=z, lift=lift,
                      signal=signal)
    if edits is not None and len(edits):
        try:
            wn = apply_edits(wn, **edit_arrays(edits, wn.crs)).network
        except EditRefused as exc:
            raise refusal(edits, exc.problems) from None
    return build_profile_graph(wn, walker, connectors_from_table(load_connectors()))
