"""Saving results: GeoPackages written atomically, so a failed save never corrupts an old one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd


def write_gpkg_layers(layers: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write frames as layers of one GeoPackage (tables without geometry as plain tables).

    The file is built next to ``path`` and renamed over it only when complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        for name, frame in layers.items():
            gdf = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame.copy())
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
