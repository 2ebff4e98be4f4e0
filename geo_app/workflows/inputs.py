"""Inputs the app's pages and the CLI read from files: one call per input, so that pages only
ask (they never open files themselves)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd

log = logging.getLogger(__name__)


def street_network(path: str | Path, *, mode: str = "walk", datum: str | int = "wgs84"):
    """The walk (or drive) :class:`~layers.network.StreetNetwork` of a file."""
    from layers.network import read_network

    return read_network(path, mode=mode, datum=datum)


def drive_graph(path: str | Path, *, datum: str | int = "wgs84"):
    """The directed drive graph of a network file (one-ways, speeds by road class)."""
    from geo_app.workflows.graphs import drive_graph_from_network

    return drive_graph_from_network(street_network(path, mode="drive", datum=datum))


def named_points(path: str | Path, *, name_column: str = "name",
                 datum: str | int = "wgs84") -> gpd.GeoDataFrame:
    """Points with a name column from a user file (bases, centres), in EPSG:4326."""
    from layers.userfile import read_user_layer

    gdf, _ = read_user_layer(path, datum=datum, required_columns=(name_column,),
                             geometry_types=("Point",))
    return gdf


def download_area(geometry, *, settings=None, progress=None) -> dict[str, Path]:
    """OpenStreetMap streets, facilities, buildings and POIs inside ``geometry`` (WGS-84),
    cached under the settings' OSM folder; raises
    :class:`~layers.network.NetworkUnavailableError` offline, with advice on local files."""
    from geo_app.config import Settings
    from layers.osm_fetch import fetch_area_data

    settings = Settings.from_env() if settings is None else settings
    return fetch_area_data(geometry, settings.osm_cache_path(), progress=progress)


def offline_error() -> type[Exception]:
    """The error :func:`download_area` raises when OpenStreetMap cannot be reached."""
    from layers.network import NetworkUnavailableError

    return NetworkUnavailableError


def is_osm_file(path: str | Path) -> bool:
    """Whether ``path`` names an OSM file (``.osm.pbf``, ``.osm``, ``.xml``)."""
    from layers.sources import is_osm

    return is_osm(path)


def check_uploads(paths: dict[str, str | Path], *, datum: str | int,
                  category_column: str = "category") -> list:
    """The :class:`~layers.uploads.UploadCheck` of each uploaded file (kind → path)."""
    from layers.uploads import validate_upload

    return [validate_upload(kind, path, datum=datum, category_column=category_column)
            for kind, path in paths.items()]


def checks_table(checks: Iterable, lang: str = "zh"):
    """The checks as one table for the page (rows read, kept, rejected, warnings)."""
    from layers.uploads import as_table

    return as_table(list(checks), lang)


def checked_copies(checks: Iterable, paths: dict[str, str], *, datum: str | int) -> dict:
    """Paths the pages should read: a WGS-84 GeoPackage beside each upload whose check dropped
    rows or whose datum needs converting (OSM files and rasters are read as they are)."""
    from geo_app.io.export import write_gpkg_layers

    out = dict(paths)
    convert = str(datum) not in ("wgs84", "cgcs2000")
    for c in checks:
        layer = getattr(c.data, "edges", c.data)
        if is_osm_file(c.path) or not isinstance(layer, gpd.GeoDataFrame):
            continue
        if c.rejected or convert:
            clean = Path(c.path).with_name(Path(c.path).stem + ".checked.gpkg")
            write_gpkg_layers({"layer": layer}, clean)
            out[c.kind] = str(clean)
            log.info("checked copy of %s written to %s", c.path, clean)
    return out
