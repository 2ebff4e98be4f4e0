"""A scenario's network edits and walker profile as saved in a project and put in a
proposal package: the edit lines as GeoJSON (EPSG:4326) with ``kind``, ``status``
(open/closed), ``open`` (bool), ``direction``, ``incline`` and ``step_count`` — a file
:func:`layers.edits.read_edits` reads back as it was."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd

TABLE = "__network__"  # the reserved scenario table holding the profile and the edits
COLUMNS = ("kind", "status", "open", "direction", "incline", "step_count")


def edits_table(edits) -> gpd.GeoDataFrame | None:
    """Edit lines (a :class:`layers.edits.NetworkEdits` or a frame of lines with ``kind``
    and optionally ``closed``, ``status``, ``open``, ``direction``, ``incline``,
    ``step_count``) as the saved table (EPSG:4326); None for no edits."""
    if edits is None:
        return None
    frame = getattr(edits, "lines", edits)
    if len(frame) == 0:
        return None
    if not isinstance(frame, gpd.GeoDataFrame) or "kind" not in frame.columns:
        raise ValueError("network edits must be lines with a 'kind' column")
    frame = frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326)
    n = len(frame)

    def text(col: str, default: str = "") -> np.ndarray:
        if col not in frame.columns:
            return np.full(n, default, dtype=object)
        return frame[col].astype("string").fillna(default).to_numpy(object)

    closed = text("kind") == "closed"
    if "closed" in frame.columns:
        closed |= frame["closed"].fillna(False).to_numpy(bool)
    if "status" in frame.columns:
        closed |= text("status") == "closed"
    if "open" in frame.columns:
        closed |= ~frame["open"].fillna(True).to_numpy(bool)
    count = (pd.to_numeric(frame["step_count"], errors="coerce").to_numpy(float)
             if "step_count" in frame.columns else np.full(n, np.nan))
    return gpd.GeoDataFrame(
        {"kind": text("kind"), "status": np.where(closed, "closed", "open"), "open": ~closed,
         "direction": text("direction", "both"), "incline": text("incline"),
         "step_count": count}, geometry=frame.geometry.to_numpy(), crs=4326)


def network_json(profile: str | None, edits) -> str | None:
    """The reserved table's text for a scenario (None when it has neither)."""
    table = edits_table(edits)
    if profile is None and table is None:
        return None
    return json.dumps({"profile": profile,
                       "edits": None if table is None else json.loads(table.to_json())},
                      ensure_ascii=False)


def network_from_json(text: str) -> tuple[str | None, gpd.GeoDataFrame | None]:
    """(profile, edit lines) of the reserved table's text."""
    d = json.loads(text)
    edits = d.get("edits")
    if not edits or not edits.get("features"):
        return d.get("profile"), None
    frame = gpd.GeoDataFrame.from_features(edits["features"], crs=4326)
    return d.get("profile"), edits_table(frame[[*COLUMNS, "geometry"]])


PACKAGE_NAME = "network_edits.geojson"


def write_package_edits(folder, edits, profile: str | None = None):
    """Write the edits into a proposal package folder as :data:`PACKAGE_NAME` (GeoJSON,
    WGS-84, the saved table's columns; the walker profile as the member
    ``walker_profile``), atomically. Returns its path, or None when there are no edits."""
    from pathlib import Path

    from geo_app.io.files import write_atomic

    table = edits_table(edits)
    if table is None:
        return None
    doc = json.loads(table.to_json())
    doc["walker_profile"] = profile
    path = Path(folder) / PACKAGE_NAME
    write_atomic(path, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return path


def package_edits(folder, edits, profile: str | None = None) -> dict:
    """``{"network_edits": path}`` of :func:`write_package_edits`, or ``{}`` without edits
    (the proposal package's entry; its README names the file)."""
    path = write_package_edits(folder, edits, profile)
    return {} if path is None else {"network_edits": path}
