"""KML placemarks as a GeoDataFrame, names and ExtendedData kept as they are written.

GDAL's LIBKML driver turns non-ASCII ExtendedData names (编号, 类别, 人口 from Ovital or
Google Earth exports) into underscores, so KML is read here with the standard library:
every Placemark's ``name``, ``description``, ``<Data name>``/``<SimpleData name>`` values
and its Point, LineString, Polygon or MultiGeometry (2D, WGS-84 by the KML standard). With
placemarks in more than one folder, a ``folder`` column names each one's folder.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import shapely

from layers.tables import TableError


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _coords(el: ET.Element | None) -> list[tuple[float, float]]:
    node = None if el is None else next((c for c in el.iter()
                                         if _local(c.tag) == "coordinates"), None)
    if node is None or not (node.text or "").strip():
        raise ValueError("no coordinates")
    out = []
    for item in node.text.split():
        parts = item.split(",")
        out.append((float(parts[0]), float(parts[1])))
    return out


def _geometry(el: ET.Element):
    kind = _local(el.tag)
    if kind == "Point":
        return shapely.Point(_coords(el)[0])
    if kind in ("LineString", "LinearRing"):
        return shapely.LineString(_coords(el))
    if kind == "Polygon":
        outer = _child(el, "outerBoundaryIs")
        holes = [_coords(h) for h in el if _local(h.tag) == "innerBoundaryIs"]
        return shapely.Polygon(_coords(outer), holes)
    if kind == "MultiGeometry":
        parts = [g for g in (_geometry(c) for c in el) if g is not None]
        if not parts:
            return None
        kinds = {p.geom_type for p in parts}
        if kinds == {"Point"}:
            return shapely.MultiPoint(parts)
        if kinds == {"LineString"}:
            return shapely.MultiLineString(parts)
        if kinds == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts)
    return None


GEOMETRY_TAGS = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry")


def _walk(el: ET.Element, folder: str | None, out: list[tuple[str | None, ET.Element]]):
    for child in el:
        tag = _local(child.tag)
        if tag == "Placemark":
            out.append((folder, child))
        elif tag in ("Folder", "Document"):
            name = _child(child, "name")
            inner = (name.text or "").strip() if tag == "Folder" and name is not None else folder
            _walk(child, inner, out)


def read_kml(data: bytes, layer: str | None = None) -> gpd.GeoDataFrame:
    """Placemarks of a KML document; ``layer`` keeps one folder's. Unreadable
    coordinates give a row without geometry (a bad row for the caller)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise TableError(f"cannot be read as KML: {exc}") from None
    marks: list[tuple[str | None, ET.Element]] = []
    _walk(root, None, marks)
    folders = list(dict.fromkeys(f for f, _ in marks if f))
    if layer is not None:
        if layer not in folders:
            raise TableError(f"has no folder {layer!r}; it has {', '.join(folders) or 'none'}")
        marks = [(f, m) for f, m in marks if f == layer]
    if not marks:
        raise TableError("the KML holds no placemark")
    records, geoms = [], []
    for folder, mark in marks:
        rec: dict[str, str | None] = {}
        for key in ("name", "description"):
            node = _child(mark, key)
            rec[key] = None if node is None else (node.text or "").strip()
        if len(folders) > 1 and layer is None:
            rec["folder"] = folder
        for node in mark.iter():
            tag = _local(node.tag)
            if tag in ("Data", "SimpleData") and node.get("name"):
                value = node.text if tag == "SimpleData" else getattr(
                    _child(node, "value"), "text", None)
                key = node.get("name")
                rec[key if key not in ("name", "description", "folder") else f"{key}_data"] = (
                    value or "").strip()
        geom = None
        for node in mark:
            if _local(node.tag) in GEOMETRY_TAGS:
                try:
                    geom = _geometry(node)
                except (ValueError, IndexError, shapely.errors.GEOSException):
                    geom = None
                break
        records.append(rec)
        geoms.append(geom)
    frame = gpd.GeoDataFrame(records, geometry=geoms, crs=4326)
    if frame["description"].isna().all():
        frame = frame.drop(columns="description")
    return frame
