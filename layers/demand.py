"""Residents as demand points: a user file, a population raster, or OSM buildings (estimate)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.groups import group_values
from layers.validate import LayerValidationError, open_raster

log = logging.getLogger(__name__)

PER_CAPITA_FLOOR_M2 = 40.0  # residential floor area per person when no census total applies
# Buildings that house residents; untagged ones (building=yes, most of China's OSM) count too.
RESIDENTIAL_BUILDINGS = ("residential", "apartments", "house", "detached", "terrace",
                         "semidetached_house", "dormitory", "bungalow", "yes")

#: Columns of a demand layer.
DEMAND_COLUMNS = {
    "id": "the input's id column when present, else the input row number",
    "population": "residents (persons)",
    "estimate": "True where the population is modelled, not counted",
    "pop_60plus": "residents aged 60+ (persons), where the file has them (layers.groups)",
    "pop_0_6": "children aged 0-6 (persons), where the file has them (layers.groups)",
    "geometry": "Point, EPSG:4326 (polygons are represented by an interior point)",
}


def _points_of(geoms: np.ndarray) -> np.ndarray:
    pts = geoms.copy()
    other = shapely.get_type_id(geoms) != 0
    pts[other] = shapely.point_on_surface(geoms[other])
    return pts


def read_demand_file(path: str | Path, *, datum: str | int = "wgs84",
                     population_column: str = "population",
                     on_bad_rows: str = "raise", layer: str | None = None,
                     columns: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """Demand from a file of points or polygons with a population column.

    Rows keep the input order; ``id`` is carried from the input when it has one.
    Polygons are represented by an interior point carrying their whole population.
    ``layer`` picks a layer or sheet; ``columns`` names the user's columns by role
    ({"population": "常住人口", "id": "编号"}; ``population_column`` is the older form).
    """
    from layers.sources import role_column, with_role
    from layers.userfile import read_user_layer

    columns = with_role(columns, "population", population_column)
    gdf, report = read_user_layer(path, datum=datum, required_columns=("population",),
                                  on_bad_rows=on_bad_rows, layer=layer, columns=columns)
    population_column = role_column(gdf, report, "population")
    id_column = role_column(gdf, report, "id")
    if id_column != "id" and id_column in gdf.columns:  # the id chosen wins over an 'id'
        gdf = gdf.drop(columns=[c for c in ("id",) if c in gdf.columns])
        gdf = gdf.rename(columns={id_column: "id"})
    dropped = [f"row {r}: {why}" for r, why in report.rejected]
    pop = pd.to_numeric(gdf[population_column].astype("string").str.strip(), errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        problems = [f"row {r}, column '{population_column}': expected a number ≥ 0, got "
                    f"{gdf.at[r, population_column]!r}" for r in gdf.index[bad]]
        if on_bad_rows == "raise":
            raise LayerValidationError(str(path), problems)
        dropped += problems
        gdf, pop = gdf.loc[~bad], pop.loc[~bad]
    groups, wrong = group_values(gdf, pop)  # pop_60plus, pop_0_6 where the file has them
    if wrong:
        problems = [f"row {r}, {why}" for r, why in wrong.items()]
        if on_bad_rows == "raise":
            raise LayerValidationError(str(path), problems)
        dropped += problems
        keep = ~gdf.index.isin(list(wrong))
        gdf, pop = gdf.loc[keep], pop.loc[keep]
        groups = {k: v[keep] for k, v in groups.items()}
    dup = duplicate_rows(gdf, pop)
    if len(dup):
        problems = [f"row {r}: {why}" for r, why in dup]
        if on_bad_rows == "raise":
            raise LayerValidationError(
                str(path), problems, fix="these residents would be counted twice: remove the "
                "repeated rows (or give different homes at one point their own id), or pass "
                "--on-bad-rows drop to keep the first of each")
        dropped += problems
        keep = ~gdf.index.isin([r for r, _ in dup])
        gdf, pop = gdf.loc[keep], pop.loc[keep]
        groups = {k: v[keep] for k, v in groups.items()}
    if dropped:
        warn_dropped(path, dropped)
    ids = gdf["id"].to_numpy(object) if "id" in gdf.columns else gdf.index.to_numpy()
    # an estimate stays one (e.g. residents from buildings, saved and read back)
    estimate = (gdf["estimate"].astype("string").str.lower().isin(["true", "1"]).to_numpy()
                if "estimate" in gdf.columns else False)
    return gpd.GeoDataFrame({"id": ids, "population": pop.to_numpy(float), "estimate": estimate,
                             **groups}, geometry=_points_of(gdf.geometry.to_numpy()), crs=4326)


def warn_dropped(path, rows: list[str]) -> None:
    """Say which rows of a file were dropped (``--on-bad-rows drop``), as a DataWarning."""
    from geo_app.errors import DataWarning, warn

    listed = "; ".join(rows[:10]) + (f"; … and {len(rows) - 10} more" if len(rows) > 10 else "")
    warn(None, f"{path}: {len(rows)} row(s) dropped: {listed}", DataWarning,
         key="warn_rows_dropped", stacklevel=4, path=str(path), rows=rows[:100])


def duplicate_rows(gdf: gpd.GeoDataFrame, population: pd.Series) -> list[tuple[int, str]]:
    """Rows that repeat an earlier one: the same ``id`` (where the file has ids), or the same
    point with the same population (file rows, each with what it repeats)."""
    out = []
    if "id" in gdf.columns:
        ids = gdf["id"].astype("string").str.strip()
        first = pd.Series(gdf.index, index=gdf.index).groupby(ids.to_numpy()).transform("first")
        again = ids.notna() & ids.duplicated(keep="first")
        out += [(r, f"id {ids[r]!r} again (first at row {first[r]})")
                for r in gdf.index[again.to_numpy()]]
    elif not (shapely.get_type_id(gdf.geometry.values) > 0).any():
        pts = gdf.geometry.values  # points: hashed as numbers, the repeats looked at alone
        key = pd.DataFrame({"x": shapely.get_x(pts), "y": shapely.get_y(pts),
                            "p": population.round(9).to_numpy()}, index=gdf.index)
        again = key.duplicated(keep="first").to_numpy() & gdf.geometry.notna().to_numpy()
        if again.any():
            dup = key[key.duplicated(keep=False).to_numpy()]
            first = pd.Series(dup.index, index=dup.index).groupby(
                [dup["x"], dup["y"], dup["p"]], dropna=False).transform("first")
            out += [(r, f"the same point and population as row {first[r]}")
                    for r in gdf.index[again]]
    else:
        wkb = gdf.geometry.to_wkb()
        key = pd.Series(list(zip(wkb, population.round(9))), index=gdf.index)
        first = pd.Series(gdf.index, index=gdf.index).groupby(key.to_numpy()).transform("first")
        again = key.duplicated(keep="first") & gdf.geometry.notna()
        out += [(r, f"the same geometry and population as row {first[r]}")
                for r in gdf.index[again.to_numpy()]]
    return out


def read_population_raster(path: str | Path, *, area: shapely.Geometry | None = None,
                           min_population: float = 0.0) -> gpd.GeoDataFrame:
    """Demand points at the centres of a population raster's cells (e.g. WorldPop).

    Only cells with more than ``min_population`` residents, inside ``area`` (WGS-84)
    when given, are kept. The raster may be in any CRS.
    """
    import rasterio
    from rasterio.windows import from_bounds

    path = Path(path)
    with open_raster(path) as src:
        window = None
        if area is not None:
            bounds = gpd.GeoSeries([area], crs=4326).to_crs(src.crs).total_bounds
            window = from_bounds(*bounds, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=window, masked=True).astype(float).filled(np.nan)
        transform = src.window_transform(window) if window is not None else src.transform
        rows, cols = np.nonzero(np.isfinite(data) & (data > min_population))
        xs, ys = rasterio.transform.xy(transform, rows, cols, offset="center")
        pts = gpd.GeoSeries(shapely.points(np.asarray(xs), np.asarray(ys)), crs=src.crs)
        pts = pts.to_crs(4326) if src.crs is not None else pts.set_crs(4326, allow_override=True)
    gdf = gpd.GeoDataFrame({"id": np.arange(len(rows)), "population": data[rows, cols],
                            "estimate": False}, geometry=pts.values, crs=4326)
    if area is not None:
        gdf = gdf[gdf.within(area)].reset_index(drop=True)
        gdf["id"] = np.arange(len(gdf))
    if len(gdf) == 0:
        raise LayerValidationError(str(path), ["no populated cells inside the study area"])
    return gdf


def buildings_from_osm(path: str | Path) -> gpd.GeoDataFrame:
    """Residential building footprints (``building``, ``levels``) from an OSM file."""
    path = Path(path)
    if path.name.lower().endswith(".pbf"):
        import pyrosm

        b = pyrosm.OSM(str(path)).get_buildings()
    else:
        import osmnx as ox

        b = ox.features_from_xml(path, tags={"building": True})
    if b is None or len(b) == 0:
        raise LayerValidationError(str(path), ["the file has no buildings"])
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])]
    levels = b["building:levels"] if "building:levels" in b.columns else None
    if levels is None and "tags" in b.columns:
        levels = pd.Series([json.loads(t).get("building:levels") if isinstance(t, str) else None
                            for t in b["tags"]], index=b.index)
    lv = pd.to_numeric(pd.Series(levels, index=b.index), errors="coerce") if levels is not None \
        else pd.Series(np.nan, index=b.index)
    geoms = shapely.make_valid(b.geometry.to_numpy())  # OSM footprints are often invalid
    return gpd.GeoDataFrame({"building": b["building"].astype(str).to_numpy(),
                             "levels": lv.to_numpy(float)}, geometry=geoms, crs=4326)


def estimate_from_buildings(buildings: gpd.GeoDataFrame, *, metric_crs: str,
                            total_population: float | None = None,
                            default_levels: float = 1.0,
                            per_capita_floor_m2: float = PER_CAPITA_FLOOR_M2) -> gpd.GeoDataFrame:
    """Estimated residents per residential building: footprint area × levels, scaled.

    With ``total_population`` (e.g. a district's census count for the covered area) the
    floor areas are scaled to that total; otherwise floor area / ``per_capita_floor_m2``.
    Untagged buildings (``building=yes``) count as residential; commercial, industrial,
    public and other tagged uses do not. Every row is flagged ``estimate=True``.
    """
    res = buildings[buildings["building"].isin(RESIDENTIAL_BUILDINGS)]
    if len(res) == 0:
        raise ValueError("no residential buildings to estimate residents from")
    floor = res.to_crs(metric_crs).area.to_numpy() * np.where(
        np.isfinite(res["levels"].to_numpy()), np.clip(res["levels"].to_numpy(), 1, 100),
        default_levels)
    pop = (floor / floor.sum() * total_population if total_population is not None
           else floor / per_capita_floor_m2)
    return gpd.GeoDataFrame({"id": np.arange(len(res)), "population": pop, "estimate": True},
                            geometry=_points_of(res.geometry.to_numpy()), crs=4326)
