"""Labels of the base map drawn from the user's own data: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "local": ("本地数据底图(离线)", "Base map from your data (offline)"),
    "local_none": ("所选路网不是 OSM 文件:本地底图只画街道。",
                   "The network is not an OSM file: the base map from your data has streets only."),
}
