"""Business-circle catchments as the CLI and app run them: inputs chosen from files, then Huff."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo_app.catchments import (
    CatchmentResult,
    attractiveness_of,
    census_cells,
    huff_catchments,
    network_costs,
    population_cells,
)
from geo_app.catchments import straight_costs as _straight
from layers._validate import located

WALK_ACCESS_M_S = 1.0
DRIVE_ACCESS_M_S = 5.0  # reaching the road network by car park or lane (18 km/h)


def load_centres(path: str | Path | None, name_column: str | None,
                 datum: str | int = "wgs84") -> tuple[gpd.GeoDataFrame, str]:
    """Centres with names: the bundled business circles, or a user file of points."""
    if path is None:
        from layers import load_business_circles

        c = load_business_circles()
        name = name_column or "name_zh"
    else:
        from layers.userfile import read_user_layer

        name = name_column or "name"
        c, _ = read_user_layer(path, datum=datum, required_columns=(name,),
                               geometry_types=("Point",))
    c = located(c).reset_index(drop=True)
    if len(c) < 2:
        raise ValueError(f"{path or 'business circles'}: {len(c)} located centre(s); "
                         "a catchment model needs at least two to compete")
    return c, name


def graph_for(network: str | Path, mode: str, crs: str | None = None):
    """The walk or drive graph of a network file."""
    from layers.network import read_network

    if mode == "walk":
        from geo_app.pipeline import walk_graph_from_network

        return walk_graph_from_network(read_network(network), crs=crs)
    if mode == "drive":
        from geo_app.pipeline import drive_graph_from_network

        return drive_graph_from_network(read_network(network, mode="drive"), crs=crs)
    raise ValueError(f"unknown mode {mode!r}: expected walk or drive")


def run_catchments(*, centres: str | Path | None = None, name_column: str | None = None,
                   demand: str | Path = "census", network: str | Path | None = None,
                   mode: str = "walk", attractiveness: str = "equal",
                   pois: str | Path | gpd.GeoDataFrame | None = None, alpha: float = 1.0,
                   beta: float = 2.0, max_minutes: float = 60.0, max_km: float = 20.0,
                   cell_m: float = 1000.0, datum: str | int = "wgs84",
                   graph=None, osm_file: str | Path | None = None) -> CatchmentResult:
    """Huff catchments of ``centres`` over residents summed into ``cell_m`` cells.

    Costs are network travel times when a ``network`` (or a prepared ``graph``) is given,
    straight-line distances otherwise; beyond ``max_minutes`` / ``max_km`` a centre is
    not visited at all. ``demand="buildings"`` estimates residents from the buildings of
    ``osm_file`` (default: the ``network`` file).
    """
    from geo_app.clusters import load_pois, metric_crs_of

    c, name = load_centres(centres, name_column, datum)
    if demand == "census":
        from layers import load_districts

        crs = metric_crs_of(c)
        # with a network, nobody outruns 40 m/s (144 km/h): that bounds the census cells
        reach = max_km * 1000 if network is None and graph is None else max_minutes * 60 * 40.0
        area = shapely.buffer(shapely.convex_hull(shapely.multipoints(
            np.column_stack([c.to_crs(crs).geometry.x, c.to_crs(crs).geometry.y]))), reach)
        cells = census_cells(load_districts(), cell_m, crs, area=area)
        demand_text = "census 2020, spread evenly within each district (estimate)"
    else:
        from geo_app.inputs import load_demand

        residents = load_demand(demand, network=osm_file or network, datum=datum)
        crs = metric_crs_of(residents)
        cells = population_cells(residents, cell_m, crs)
        demand_text = str(demand)
    if isinstance(pois, (str, Path)):
        pois = load_pois(pois, datum=datum)
    a = attractiveness_of(c, attractiveness, pois=pois, crs=crs)
    if network is not None or graph is not None:
        graph = graph if graph is not None else graph_for(network, mode)
        speed = DRIVE_ACCESS_M_S if mode == "drive" else WALK_ACCESS_M_S
        cost = network_costs(cells, c, graph, access_speed_m_s=speed, limit_s=max_minutes * 60)
        cost_text = f"{mode} time on {network or 'the loaded network'} (≤ {max_minutes:g} min)"
    else:
        cost = _straight(cells, c, max_m=max_km * 1000)
        cost_text = f"straight-line distance (≤ {max_km:g} km)"
    if not np.isfinite(cost).any():
        raise ValueError(f"no resident reaches any centre ({cost_text}): do the residents, the "
                         "centres and the network cover the same place?")
    params = {"centres": len(c), "name_column": name, "demand": demand_text, "cells": len(cells),
              "cell_m": cell_m, "residents": float(cells["population"].sum()), "cost": cost_text,
              "attractiveness": attractiveness, "alpha": alpha, "beta": beta}
    result = huff_catchments(cells, c, cost, a, alpha=alpha, beta=beta, name=name, params=params)
    params["unreached"] = float(result.cells.loc[result.cells["dominant"] < 0, "population"].sum())
    return result
