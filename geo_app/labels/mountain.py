"""Labels of walker profiles, connectors and network edits: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "err_dem_uncovered": (
        "DEM 文件 {file} 未覆盖 {missing} / {total} 个路网节点(在其范围外或落在无数据像元上)。"
        "请换用覆盖整个研究范围的 DEM,或勾选侧栏的“DEM 未覆盖处按平地计”:覆盖处计坡度,其余按平地。",
        "The DEM {file} does not cover {missing} of {total} network nodes (outside it or on "
        "no-data cells). Use a DEM covering the whole study area, or tick “Level ground where "
        "the DEM has no height” in the sidebar: slopes where it covers, level elsewhere."),
    "dem_partial_box": ("DEM 未覆盖处按平地计", "Level ground where the DEM has no height"),
    "dem_partial_help": ("只在 DEM 覆盖的路段计算坡度;其余路段按平地步行。",
                         "Slopes only on streets the DEM covers; the rest is walked as level."),
}
