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
                 datum: str | int = "wgs84", layer: str | None = None,
                 columns: dict[str, str] | None = None,
                 on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """Points with names from a user file (bases, centres), in EPSG:4326, the names in
    ``name``. ``columns`` names the user's columns by role ({"name": "商圈名称"};
    ``name_column`` is the older form); ``layer`` picks a layer or sheet."""
    from layers.sources import role_column, warn_rejected, with_role
    from layers.userfile import read_user_layer

    columns = with_role(columns, "name", name_column)
    gdf, report = read_user_layer(path, datum=datum, required_columns=("name",),
                                  geometry_types=("Point",), layer=layer, columns=columns,
                                  on_bad_rows=on_bad_rows)
    warn_rejected(path, report)
    column = role_column(gdf, report, "name")
    if column != "name":  # the column chosen wins over another called 'name'
        gdf = gdf.drop(columns="name").rename(columns={column: "name"})
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


def upload_info(kind: str, path: str | Path, layer: str | None = None):
    """What an uploaded file offers before it is read (:class:`~layers.upload_info.FileInfo`):
    its layers or sheets, columns, its own CRS and the columns found for each role."""
    from layers.upload_info import file_info

    return file_info(kind, path, layer)


def check_upload(kind: str, path: str | Path, *, datum: str | int = "wgs84",
                 layer: str | None = None, columns: dict[str, str] | None = None,
                 category_map: dict[str, str] | None = None):
    """The :class:`~layers.uploads.UploadCheck` of one uploaded file with its own datum,
    layer or sheet, column choices ({role: column}) and category mapping ({value: basket
    category}, facilities)."""
    from layers.uploads import validate_upload

    return validate_upload(kind, path, datum=datum, layer=layer, columns=columns or None,
                           category_map=category_map or None)


def checks_table(checks: Iterable, lang: str = "zh"):
    """The checks as one table for the page (rows read, kept, rejected, notes in ``lang``)."""
    from geo_app.workflows.upload_text import notes
    from layers.uploads import as_table

    return as_table(list(checks), lang, notes=notes)


def hide_paths(text: str) -> str:
    """A message with server folders removed (file names only)."""
    from layers.uploads import hide_paths as hide

    return hide(text)


def basket_categories() -> tuple[list[str], float]:
    """The facility basket's category keys, and the default threshold (min) of a category
    outside it."""
    from geo_app.config import DEFAULT
    from layers.facilities import load_basket

    return list(load_basket()["category"]), DEFAULT.urban_minutes


def checked_copy(check, *, tag: str, datum: str | int = "wgs84",
                 layer: str | None = None) -> str:
    """The path the pages should read for a passed check: the upload itself (OSM files,
    rasters, a network that needs nothing done), else a WGS-84 GeoPackage of the checked
    layer beside it (rows the check dropped stay dropped; columns named by their role;
    categories mapped to the basket). ``tag`` tells the settings apart, so that another
    choice of datum, columns or mapping is another file (and cache key)."""
    from geo_app.io.export import write_gpkg_layers

    path = Path(check.path)
    layer_ = getattr(check.data, "edges", check.data)
    if check.kind == "dem" or is_osm_file(path) or not isinstance(layer_, gpd.GeoDataFrame):
        return str(path)
    if check.kind == "network" and not (check.rejected or layer or str(datum) not in (
            "wgs84", "cgcs2000")):
        return str(path)
    frame = layer_.reset_index(drop=True)
    if "source" in frame.columns:  # the file's name, not the folder it was saved in
        frame["source"] = path.name
    clean = path.with_name(f"{path.stem}.{tag}.checked.gpkg")
    if not clean.exists():
        write_gpkg_layers({"layer": frame}, clean)
        log.info("checked copy of %s written to %s", path, clean)
    return str(clean)


def preview_layer(check, max_features: int = 5000) -> gpd.GeoDataFrame | None:
    """A light copy of a check's layer for its preview map: at most ``max_features``
    features (evenly spread), geometry and the columns the map shows."""
    import numpy as np

    layer_ = getattr(check.data, "edges", check.data)
    if not isinstance(layer_, gpd.GeoDataFrame) or len(layer_) == 0:
        return None
    keep = [c for c in ("name", "category", "population") if c in layer_.columns]
    frame = layer_[[*keep, layer_.geometry.name]].to_crs(4326)
    if len(frame) > max_features:
        frame = frame.iloc[np.linspace(0, len(frame) - 1, max_features).astype(int)]
    frame = frame.reset_index(drop=True)
    frame.attrs["total"] = len(layer_)
    return frame
