"""Choosing the reader for each input of a workflow from the file the user gives."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import shapely

from layers import load_districts
from layers.crs import metric_crs
from layers.demand import (
    buildings_from_osm,
    estimate_from_buildings,
    read_demand_file,
    read_population_raster,
)
from layers.districts import near_chongqing
from layers.facilities import read_osm_facilities, read_user_facilities
from layers.userfile import read_user_layer

OSM_SUFFIXES = (".pbf", ".osm", ".xml")
RASTER_SUFFIXES = (".tif", ".tiff")


def is_osm(path: str | Path) -> bool:
    return str(path).lower().endswith(OSM_SUFFIXES)


def layer_names(path: str | Path) -> list[str]:
    """The layers or sheets a file holds (GeoPackage and other vector files, Excel
    workbooks, zips at any depth); [] for a file that holds none (CSV, KML …), is missing or
    cannot be looked into (the reader says why when it reads it)."""
    from layers.formats import sniff_kind, zip_layer_names

    path = Path(path)
    try:
        with open(path, "rb") as f:
            kind = sniff_kind(path, f.read(16))
        if kind == "zip":
            return zip_layer_names(path)
        if kind == "xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            try:
                return list(book.sheetnames)
            finally:
                book.close()
        if kind == "xls":
            import xlrd

            return list(xlrd.open_workbook(str(path), on_demand=True).sheet_names())
        if kind in ("gpkg", "vector") and path.suffix.lower() not in (".kml", ".kmz"):
            import pyogrio

            return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # noqa: BLE001 - a file that cannot be looked into holds no layers here
        return []
    return []


def with_role(columns: Mapping[str, str] | None, role: str,
              column: str | None) -> dict[str, str]:
    """``columns`` ({role: the user's column}) with ``role`` named ``column`` unless it is
    named already (an older ``*_column`` argument next to ``columns``)."""
    out = {k: v for k, v in (columns or {}).items() if v}
    if column and column != role and role not in out:
        out[role] = column
    return out


def role_column(gdf: gpd.GeoDataFrame, report, role: str) -> str:
    """The column holding ``role`` in a frame :func:`~layers.userfile.read_user_layer` read:
    the canonical name once renamed, else the user's own (when that name was taken)."""
    user = report.columns.get(role, role)
    return user if user in gdf.columns else role


def warn_rejected(path, report) -> None:
    """Say which rows the reader dropped (``on_bad_rows="drop"``), as a DataWarning."""
    if report.rejected:
        from layers.demand import warn_dropped

        warn_dropped(path, [f"row {r}: {why}" for r, why in report.rejected])


def load_facilities(path: str | Path, *, datum: str | int = "wgs84",
                    category_map: dict[str, str] | None = None,
                    on_bad_rows: str = "raise", layer: str | None = None,
                    columns: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """Facilities from an OSM file (tags mapped to the basket) or a file with ``category``
    (values mapped to the basket by name, alias and Amap type code, then by
    ``category_map``); ``layer`` and ``columns`` ({role: column}) as for
    :func:`~layers.userfile.read_user_layer`."""
    if is_osm(path):
        fac = read_osm_facilities(path)
        if len(fac) == 0:
            raise ValueError(f"{path}: no OSM feature matches the facility basket")
        return fac
    return read_user_facilities(path, datum=datum, category_map=category_map,
                                on_bad_rows=on_bad_rows, layer=layer, columns=columns)


def census_total_for(area: shapely.Geometry) -> float | None:
    """Census residents of the Chongqing districts inside ``area``, by area share.

    ``None`` when the area lies outside Chongqing or a district it covers has no census figure.
    """
    d = load_districts()
    hit = d[d.intersects(area)]
    if len(hit) == 0 or hit["pop_2020"].isna().any():
        return None
    eq = gpd.GeoSeries([area], crs=4326).to_crs(hit.crs)
    share = hit.intersection(eq.iloc[0]).area / hit.area
    return float((hit["pop_2020"].astype(float) * share).sum())


def load_demand(spec: str | Path, *, network: str | Path | None = None,
                datum: str | int = "wgs84", on_bad_rows: str = "raise",
                layer: str | None = None,
                columns: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """Demand points from a file, a population raster or ``"buildings"`` (OSM estimate);
    ``layer`` and ``columns`` ({role: column}) apply to files.

    ``"buildings"`` reads residential buildings from the ``network`` OSM file; inside
    Chongqing their floor areas are scaled to the census population of the area
    covered, elsewhere divided by a per-capita floor area. Rows carry ``estimate``.
    """
    if str(spec) == "buildings":
        if network is None or not is_osm(network):
            raise ValueError("residents estimated from buildings need an OSM network file "
                             "(.osm.pbf or .osm)")
        b = buildings_from_osm(network)
        area = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(b.geometry.values)))
        return estimate_from_buildings(b, metric_crs=metric_crs(b),
                                       total_population=census_total_for(area))
    if str(spec).lower().endswith(RASTER_SUFFIXES):
        return read_population_raster(spec)
    return read_demand_file(spec, datum=datum, on_bad_rows=on_bad_rows, layer=layer,
                            columns=columns)


def study_zones(demand: gpd.GeoDataFrame, *, townships: str | Path | None = None,
                township_name: str = "name") -> dict:
    """Zones for summaries: Chongqing districts the demand falls in, and user townships."""
    zones = {}
    if near_chongqing(demand):
        zones["district"] = (load_districts(), "name_zh")
    if townships is not None:
        t, _ = read_user_layer(townships, required_columns=(township_name,),
                               geometry_types=("Polygon", "MultiPolygon"))
        zones["township"] = (t, township_name)
    return zones
