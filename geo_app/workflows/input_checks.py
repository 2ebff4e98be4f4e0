"""Checks every point file of a command gets once read: a GCJ-02/BD-09 shift declared as
WGS-84 (against the streets, else the districts) and points far from the rest of their layer.
Both warn (a :class:`~geo_app.errors.DataWarning` on stderr as ``warning: …``); neither
changes the data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from geo_app.config import DEFAULT, Settings

NOT_FILES = ("buildings", "census", "osm")


def is_user_file(spec) -> bool:
    """Whether ``spec`` names a planner's file (not OSM, a raster, or a keyword such as
    ``buildings``, ``census``, ``grid:300``)."""
    from layers.sources import RASTER_SUFFIXES, is_osm

    if not isinstance(spec, (str, Path)):
        return False
    text = str(spec)
    return not (text in NOT_FILES or text.startswith("grid:") or is_osm(text)
                or text.lower().endswith(RASTER_SUFFIXES))


def streets_of(net) -> np.ndarray | None:
    """The street lines (WGS-84) of a loaded network, for the shift check."""
    return None if net is None else net.edges.geometry.to_numpy()


def check_points(layer: gpd.GeoDataFrame, spec, datum, what: str, *,
                 streets: np.ndarray | None = None, option: str | None = None,
                 settings: Settings | None = None, distances=None,
                 far: bool = True, shift: bool = True) -> list[str]:
    """Check a point layer read from the file ``spec`` in ``datum``: a likely GCJ-02/BD-09
    shift (against ``streets`` when the command has a network, else against the districts
    when the file names each point's district) and points farther than
    ``settings.far_points_km`` from the bulk (``shift``/``far`` False: not that one). ``what`` names
    the input (``facilities``, ``sites`` …); the shift warning names ``option`` (default
    ``--<what>-datum``). ``distances(lon, lat, lat0)`` may give the street distances
    instead of ``streets`` (a sharded run's workers, see :mod:`geo_app.workflows.shard_reads`).
    Returns the warnings' texts."""
    from layers.crs import warn_if_far
    from layers.datum_check import check_point_datum

    if not is_user_file(spec) or layer is None or len(layer) == 0:
        return []
    s = settings or DEFAULT
    found = [check_point_datum(layer, str(spec), datum, option=option or f"--{what}-datum",
                               streets=streets, distances=distances) if shift else None,
             warn_if_far(layer, str(spec), s.far_points_km) if far else None]
    return [t for t in found if t]
