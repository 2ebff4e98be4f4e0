"""Network edits drawn by a planner: a GeoJSON (or any vector file) of lines in WGS-84 with a
``kind`` (stairs, elevator, escalator, footbridge, passage, closed) and optional ``status``
(open/closed), ``direction`` (both/forward/backward along the drawing, for escalators),
``incline`` (up/down along the drawing, for stairs) and ``step_count``. Checked here (file,
row, column named); applied by :func:`analysis.edits.apply_edits`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.validate import LayerValidationError, Problems

EDIT_KINDS = ("stairs", "elevator", "escalator", "footbridge", "passage", "closed")
ALIASES = {  # what planners write, in English or Chinese
    "kind": {"steps": "stairs", "stair": "stairs", "lift": "elevator", "bridge": "footbridge",
             "tunnel": "passage", "underpass": "passage", "close": "closed",
             "楼梯": "stairs", "梯道": "stairs", "台阶": "stairs", "电梯": "elevator",
             "垂直电梯": "elevator", "扶梯": "escalator", "自动扶梯": "escalator",
             "天桥": "footbridge", "人行天桥": "footbridge", "通道": "passage",
             "地下通道": "passage", "连廊": "passage", "封闭": "closed", "关闭": "closed"},
    "status": {"开放": "open", "open": "open", "关闭": "closed", "封闭": "closed",
               "closed": "closed", "yes": "open", "no": "closed"},
    "direction": {"双向": "both", "正向": "forward", "反向": "backward"},
    "incline": {"上": "up", "下": "down"},
}
ALLOWED = {"status": ("open", "closed"), "direction": ("both", "forward", "backward"),
           "incline": ("up", "down")}
FIX = "draw lines in WGS-84 with a kind of " + ", ".join(EDIT_KINDS)


@dataclass(frozen=True)
class NetworkEdits:
    """Checked edit lines (EPSG:4326): ``kind``, ``closed`` (bool), ``direction``,
    ``incline``, ``step_count`` and ``row`` (the feature's number in the file, from 1)."""

    lines: gpd.GeoDataFrame
    source: str

    def __len__(self) -> int:
        return len(self.lines)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    text = frame[column].astype("string").str.strip().fillna("")
    low = text.str.lower()
    return low.replace(ALIASES.get(column, {})).astype(object)


def read_edits(path: str | Path) -> NetworkEdits:
    """The edit lines of a vector file (GeoJSON, GeoPackage …), checked.

    Refuses, naming the file, row and column: a missing file or ``kind`` column, unknown
    kinds, statuses, directions or inclines, step counts that are not counts, rows that
    are not lines, and coordinates outside longitude/latitude ranges. A file in another
    CRS is converted to WGS-84.
    """
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise LayerValidationError(str(path), ["file not found"])
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio/GDAL: not a vector file
        raise LayerValidationError(str(path), [f"not a readable vector file: {exc}"],
                                   FIX) from None
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)
    return edits_from_frame(frame, str(path))


def edits_from_frame(frame: gpd.GeoDataFrame, source: str = "drawn edits") -> NetworkEdits:
    """Check a table of edit lines (e.g. drawn in the app) as :func:`read_edits` does."""
    problems = Problems(source)
    if len(frame) == 0:
        raise LayerValidationError(source, ["no edit lines"], FIX)
    if "kind" not in frame.columns:
        found = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise LayerValidationError(source, [f"no 'kind' column (found: {found or 'none'})"],
                                   FIX)
    rows = np.arange(1, len(frame) + 1)
    kind = _text(frame, "kind")
    for r, k in zip(rows, kind):
        if k not in EDIT_KINDS:
            problems.add(f"kind {k!r} is not one of {', '.join(EDIT_KINDS)}" if k
                         else "empty kind", row=int(r), column="kind")
    values = {}
    for col, allowed in ALLOWED.items():
        values[col] = _text(frame, col)
        for r, val in zip(rows, values[col]):
            if val and val not in allowed:
                problems.add(f"{val!r} is not one of {', '.join(allowed)}", row=int(r),
                             column=col)
    count = np.full(len(frame), np.nan)
    if "step_count" in frame.columns:
        raw = frame["step_count"].astype("string").str.strip()
        count = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        bad = raw.notna().to_numpy(bool) & (raw != "").fillna(False).to_numpy(bool) & ~(
            np.isfinite(count) & (count >= 1) & (np.mod(count, 1) == 0))
        for r, val in zip(rows[bad], raw[bad]):
            problems.add(f"step_count {val!r} is not a whole number of steps",
                         row=int(r), column="step_count")
    geoms = np.asarray(frame.geometry.values)
    kind_id = shapely.get_type_id(geoms)
    parts = shapely.get_num_geometries(geoms)
    ok_type = (kind_id == 1) | ((kind_id == 5) & (parts == 1))
    for r in rows[~ok_type]:
        g = geoms[r - 1]
        what = "no geometry" if g is None or shapely.is_empty(g) else g.geom_type
        problems.add(f"not a line ({what}): draw one line per row", row=int(r),
                     column="geometry")
    lines = np.array([shapely.get_geometry(g, 0) if k == 5 else g
                      for g, k in zip(geoms, kind_id)], dtype=object)
    xy, which = shapely.get_coordinates(np.where(ok_type, lines, None), return_index=True)
    outside = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    for r in np.unique(which[outside]) + 1:
        problems.add("coordinates outside longitude/latitude ranges: the file must be in "
                     "WGS-84 (EPSG:4326)", row=int(r), column="geometry")
    problems.raise_if_any()
    closed = (kind == "closed").to_numpy(bool) | (values["status"] == "closed").to_numpy(bool)
    out = gpd.GeoDataFrame({"kind": kind.to_numpy(object), "closed": closed,
                            "direction": values["direction"].replace("", "both").to_numpy(object),
                            "incline": values["incline"].to_numpy(object),
                            "step_count": count, "row": rows},
                           geometry=list(lines), crs=4326)
    return NetworkEdits(out, source)


def edit_arrays(edits: NetworkEdits, crs: str) -> dict:
    """Keyword arguments of :func:`analysis.edits.apply_edits` (``lines`` in metres of
    ``crs``, ``kinds``, ``closed``, ``direction``, ``incline``, ``step_count``)."""
    metric = edits.lines.to_crs(crs)
    xy, which = shapely.get_coordinates(metric.geometry.values, return_index=True)
    cut = np.flatnonzero(np.diff(which)) + 1
    return {"lines": np.split(xy, cut), "kinds": list(edits.lines["kind"]),
            "closed": edits.lines["closed"].to_numpy(bool),
            "direction": list(edits.lines["direction"]), "incline": list(edits.lines["incline"]),
            "step_count": edits.lines["step_count"].to_numpy(float)}


def refusal(edits: NetworkEdits, problems: list[tuple[int, str]]) -> LayerValidationError:
    """The :class:`LayerValidationError` of edits the network refused
    (:class:`analysis.edits.EditRefused`'s ``problems``), by the file's rows."""
    out = Problems(edits.source)
    rows = edits.lines["row"].to_numpy()
    for i, text in problems:
        out.add(text, row=int(rows[i]), column="geometry")
    return LayerValidationError(edits.source, out.items)
