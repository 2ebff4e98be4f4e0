"""A coverage result as compliance and indicators read it (:class:`CoverageData`, from a
:class:`~geo_app.workflows.coverage.CoverageResult` or its GeoPackage), its zones and
population groups, and the land layers the indicators are measured on (:class:`Inputs`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.errors import InputError
from layers.groups import GROUPS

ZONE_KINDS = ("study_area", "district", "township", "life_circle")
NEEDED_LAYERS = ("demand", "facilities", "run_info")


@dataclass
class CoverageData:
    """What compliance and indicators read from a coverage result (frames in EPSG:4326)."""

    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    life_circles: gpd.GeoDataFrame
    thresholds_min: dict[str, float]
    metric_crs: str
    source: str = ""
    info: dict = field(default_factory=dict)
    _xy: dict = field(default_factory=dict, repr=False)  # metric coordinates, by layer

    @property
    def categories(self) -> list[str]:
        return list(self.thresholds_min)

    def xy(self, frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Metric x, y of a point layer (points of other shapes: a point on them)."""
        key = (id(frame), len(frame))
        if key in self._xy:
            return self._xy[key]
        g = frame.geometry.to_crs(self.metric_crs)
        g = g.where(g.geom_type == "Point", g.representative_point())
        self._xy[key] = g.x.to_numpy(float), g.y.to_numpy(float)
        return self._xy[key]


def parse_thresholds(text: str) -> dict[str, float]:
    """``"childcare=5; clinic=15"`` (the run info's ``thresholds_min``) → a dict."""
    out = {}
    for part in str(text).split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key.strip()] = float(value)
    return out


def from_result(result) -> CoverageData:
    """The :class:`CoverageData` of a :class:`~geo_app.workflows.coverage.CoverageResult`."""
    from layers.crs import metric_crs

    info = dict(zip(result.run_info["key"], result.run_info["value"].astype(str)))
    return CoverageData(result.demand, result.facilities,
                        result.service_areas if result.service_areas is not None
                        else gpd.GeoDataFrame({"category": [], "minutes": []}, geometry=[],
                                              crs=4326),
                        result.life_circles, dict(result.thresholds_min),
                        info.get("metric_crs") or metric_crs(result.demand),
                        "coverage result", info)


def read_coverage(path: str | Path) -> CoverageData:
    """A coverage GeoPackage written by ``geo-app coverage --out result.gpkg``, checked.

    Raises :class:`~geo_app.errors.InputError` naming the file and the missing layer or
    column.
    """
    from geo_app.io.export import result_layer_names
    from layers.crs import metric_crs

    present = result_layer_names(path, NEEDED_LAYERS, "coverage result",
                                 "geo-app coverage --out result.gpkg")

    def read(name: str) -> gpd.GeoDataFrame:
        if name not in present:
            return gpd.GeoDataFrame({"category": []}, geometry=[], crs=4326)
        frame = gpd.read_file(path, layer=name, engine="pyogrio")
        return frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)

    run_info = read("run_info")
    info = dict(zip(run_info["key"].astype(str), run_info["value"].astype(str)))
    if "thresholds_min" not in info:
        raise InputError(f"{path}, layer run_info: no thresholds_min entry")
    thresholds = parse_thresholds(info["thresholds_min"])
    demand = read("demand")
    needed = ["population", "on_network", *(f"t_{c}" for c in thresholds)]
    lacking = [c for c in needed if c not in demand.columns]
    if lacking:
        raise InputError(f"{path}, layer demand: missing column(s) {', '.join(lacking)}")
    facilities = read("facilities")
    if "category" not in facilities.columns:
        raise InputError(f"{path}, layer facilities: missing column category")
    return CoverageData(demand, facilities, read("service_areas"), read("life_circles"),
                        thresholds, info.get("metric_crs") or metric_crs(demand), str(path), info)


def zone_labels(data: CoverageData) -> dict[str, np.ndarray]:
    """Each demand unit's zone, per zone kind present (study area always; district and
    township where the run had them; life circle by its hub's name)."""
    d = data.demand
    out = {"study_area": np.full(len(d), "study area", dtype=object)}
    for kind in ("district", "township"):
        if kind in d.columns:
            out[kind] = d[kind].astype("string").fillna("(outside)").to_numpy(object)
    lc = data.life_circles
    if "life_circle" in d.columns and len(lc) and "circle" in lc.columns:
        names = lc["hub"].astype(str)
        dup = names.duplicated(keep=False)
        names = names.where(~dup, names + " #" + lc["circle"].astype(str))
        lookup = dict(zip(lc["circle"].astype(int), names))
        ids = pd.to_numeric(d["life_circle"], errors="coerce").fillna(0).astype(int)
        out["life_circle"] = ids.map(lookup).fillna("(none)").to_numpy(object)
    return out


def group_weights(demand: pd.DataFrame) -> dict[str, np.ndarray]:
    """Persons per unit: ``all`` (population) and each group column the demand carries."""
    out = {"all": demand["population"].to_numpy(float)}
    for g in GROUPS:
        if g in demand.columns:
            out[g] = pd.to_numeric(demand[g], errors="coerce").fillna(0).to_numpy(float)
    return out


@dataclass
class Inputs:
    """Coverage result, optional land layers (EPSG:4326) and the level of each category."""

    data: CoverageData
    residential_land: gpd.GeoDataFrame | None = None
    parks: gpd.GeoDataFrame | None = None
    greenways: gpd.GeoDataFrame | None = None
    levels: dict = field(default_factory=dict)  # category → life-circle level (minutes)


LAND_MARGIN_M = {"residential_land": 200.0, "parks": 2_000.0, "greenways": 2_000.0}


def near_residents(layer: gpd.GeoDataFrame, data: CoverageData, margin_m: float
                   ) -> gpd.GeoDataFrame:
    """The features of ``layer`` within ``margin_m`` of the hull of the demand units (a
    city-wide land file is measured only where the coverage result has residents)."""
    dx, dy = data.xy(data.demand)
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(np.column_stack([dx, dy]))),
                          margin_m)
    geoms = layer.geometry.to_crs(data.metric_crs).to_numpy()
    return layer[shapely.intersects(hull, geoms)].reset_index(drop=True)


def load_inputs(coverage, *, residential_land=None, parks=None, greenways=None,
                datum: str = "wgs84") -> Inputs:
    """The inputs of :func:`run_indicators`: ``coverage`` is a coverage GeoPackage path, a
    :class:`~geo_app.workflows.coverage.CoverageResult` or :class:`CoverageData`; each land
    layer a file, an ``.osm.pbf``/``.osm`` file (its ``landuse=residential`` or
    ``leisure=park|garden`` areas), ``"osm"`` for the coverage run's own OSM network file,
    or a GeoDataFrame. Land layers are kept near the residents (:data:`LAND_MARGIN_M`)."""
    from layers.land import OSM_SUFFIXES, read_land

    if isinstance(coverage, CoverageData):
        data = coverage
    elif hasattr(coverage, "run_info"):
        data = from_result(coverage)
    else:
        data = read_coverage(coverage)

    def layer(spec, kind: str):
        if spec is None:
            return None
        if isinstance(spec, gpd.GeoDataFrame):
            gdf = spec.to_crs(4326)
        else:
            if str(spec) == "osm":
                spec = data.info.get("source_network") or data.info.get("network") or ""
                if not str(spec).lower().endswith(OSM_SUFFIXES):
                    raise InputError(f"{kind.replace('_', ' ')} 'osm' takes the coverage run's "
                                     f"OSM network file, but its network is {spec or 'unknown'}"
                                     ": give a file")
            gdf = read_land(spec, kind, datum=datum)
        near = near_residents(gdf, data, LAND_MARGIN_M[kind])
        if not len(near):
            where = spec if isinstance(spec, (str, Path)) else kind.replace("_", " ")
            raise InputError(f"{where}: none of its {len(gdf)} features lies within "
                             f"{LAND_MARGIN_M[kind]:,.0f} m of the residents of the coverage "
                             "result (another area, or another datum?)")
        return near

    return Inputs(data, layer(residential_land, "residential_land"), layer(parks, "parks"),
                  layer(greenways, "greenways"))
