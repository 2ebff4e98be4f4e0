"""Labels of a scenario's network edits and walker profile in saved files: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "file_network_edits": (
        "路网编辑(GeoJSON,WGS-84:新增梯道、电梯、扶梯、天桥、通道及封闭路段)与步行人群",
        ("Network edits (GeoJSON, WGS-84: stairs, lifts, escalators, footbridges, passages "
         "added and segments closed) and the walker profile")),
}
