"""Drive-time service areas around logistics bases (or any depots) on a drive network."""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.areas import facility_isochrones
from analysis.snap import snap_points
from layers.validate import located

log = logging.getLogger(__name__)

DRIVE_BUFFER_M = 60.0  # half-width of the band drawn along reached roads
ACCESS_M_S = 5.0  # from a base to its nearest road node (18 km/h)
MAX_SNAP_M = 2_000.0  # bases farther than this from any road are off the network


def service_areas(graph, bases: gpd.GeoDataFrame, minutes: list[float], *, name: str = "name",
                  max_snap_m: float = MAX_SNAP_M) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Areas reached within each of ``minutes`` driving out of every base on ``graph``.

    Returns (areas: ``name``, ``minutes``, ``area_km2``, polygons in EPSG:4326;
    bases: ``name``, ``snap_m``, ``on_network``). Bases off the network get no areas.
    """
    if not minutes or any(not m > 0 for m in minutes):
        raise ValueError(f"drive times must be positive minutes, got {minutes}")
    placed = located(bases)
    if len(placed) == 0:
        raise ValueError("no placed bases to draw service areas around")
    p = placed.geometry.to_crs(graph.crs)
    snap = snap_points(graph, p.x.to_numpy(), p.y.to_numpy(), speed_m_s=ACCESS_M_S,
                       max_dist_m=max_snap_m)
    on = snap.on_network
    table = pd.DataFrame({"name": placed[name].astype(str).to_numpy(),
                          "snap_m": np.round(snap.dist_m, 1), "on_network": on})
    if not on.any():
        raise ValueError(f"none of the {len(placed)} bases lies within {max_snap_m:g} m of the "
                         "network: load a network that covers them")
    # isochrones measure travel *to* a facility; deliveries leave the base: reverse the links
    outbound = dataclasses.replace(graph, time=graph.reverse)
    rows = []
    for mins in sorted(minutes):
        polys = facility_isochrones(outbound, snap.node[on], snap.access_s[on], mins * 60.0,
                                    buffer_m=DRIVE_BUFFER_M)
        for base, poly in zip(table["name"][on], polys):
            rows.append((base, float(mins), poly))
    areas = gpd.GeoDataFrame({"name": [r[0] for r in rows], "minutes": [r[1] for r in rows]},
                             geometry=[r[2] for r in rows], crs=graph.crs)
    areas["area_km2"] = areas.area / 1e6
    return areas.to_crs(4326), table
