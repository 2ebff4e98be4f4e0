"""The siting workflow as the app runs it: loaded inputs → candidates → a prepared run."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from analysis.snap import DEFAULT_MAX_SNAP_M
from geo_app.siting import SitingRun, grid_candidates, osm_candidates, prepare, read_sites
from geo_app.workflow import CoverageInputs


def candidate_sites(spec: str, graph, *, network: str | Path, datum: str = "wgs84",
                    max_snap_m: float = DEFAULT_MAX_SNAP_M) -> gpd.GeoDataFrame:
    """Candidates from ``spec``: ``grid:METRES`` (a grid over the ``graph``, cells within
    ``max_snap_m`` metres of a street), ``osm`` (community and public buildings and vacant
    land in the OSM ``network`` file) or the path of a file of sites (in ``datum``)."""
    from geo_app.inputs import is_osm

    spec = str(spec)
    if spec.startswith("grid:"):
        try:
            spacing = float(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"candidates {spec}: write grid:METRES, e.g. grid:300") from None
        return grid_candidates(graph, spacing, max_snap_m=max_snap_m)
    if spec == "osm":
        if not is_osm(network):
            raise ValueError(f"OSM candidates need an OSM network file, not {Path(network).name}")
        return osm_candidates(network)
    return osm_candidates(spec) if is_osm(spec) else read_sites(spec, datum=datum)


def existing_of(inputs: CoverageInputs, category: str | None) -> gpd.GeoDataFrame | None:
    """The loaded facilities of ``category`` (None: no existing facilities count)."""
    if not category:
        return None
    fac = inputs.facilities
    return fac[fac["category"].astype(str) == category].reset_index(drop=True)


def prepare_run(inputs: CoverageInputs, *, category: str | None, candidates: str,
                minutes: float = 15.0, speed_m_s: float = 1.0,
                datum: str = "wgs84") -> SitingRun:
    """The walk graph of the inputs' network, the candidates of ``candidates`` (see
    :func:`candidate_sites`; a file in ``datum``) and the run prepared with the
    ``category``'s facilities as already covering, within ``minutes`` at ``speed_m_s`` (m/s)."""
    from geo_app.pipeline import walk_graph_from_network

    graph = walk_graph_from_network(inputs.network, speed_m_s=speed_m_s)
    sites = candidate_sites(candidates, graph, network=inputs.sources["network"],
                            datum=datum)
    return prepare(graph, inputs.demand, sites, existing=existing_of(inputs, category),
                   minutes=minutes, speed_m_s=speed_m_s)
