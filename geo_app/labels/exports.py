"""Labels of printed maps, basemaps, legends and reports: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "print_sources": ("数据来源:OpenStreetMap 贡献者(ODbL)及用户提供的数据;坐标 WGS-84",
                      "Sources: OpenStreetMap contributors (ODbL) and the user's data; "
                      "coordinates WGS-84"),
    "print_made": ("制图时间:{when}(北京时间)", "Made {when} (Beijing time)"),
    "north": ("指北针", "North arrow"),
    "download_map_pdf": ("下载地图(PDF,A4横向)", "Download map (PDF, A4 landscape)"),
}
