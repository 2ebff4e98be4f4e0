"""Labels of network edits drawn in the app and their before/after comparison: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "ec_heading": ("路网改动情景:改动前后对比", "Network edits: before and after"),
    "ec_intro": ("在地图上画线(左上角的折线工具)表示新建的梯道、电梯、扶梯、人行天桥或通道,"
                 "或画在要封闭的路段上;为每条线选择类型,也可上传改动文件(GeoJSON 等,含 kind 列)。"
                 "对比按侧栏所选步行人群({walker})计算。",
                 "Draw lines on the map (the line tool at the top left) for a new stair, lift, "
                 "escalator, footbridge or passage, or over a way to close; choose each line's "
                 "kind, or upload a file of edits (GeoJSON …, with a kind column). The "
                 "comparison walks as the walker chosen in the sidebar ({walker})."),
    "ec_edits": ("路网改动", "Network edits"),
    "ec_open": ("画出或上传路网改动", "Draw or upload network edits"),
    "ec_line": ("第 {n} 条线", "Line {n}"),
    "ec_kind_stairs": ("梯道", "Stairs"),
    "ec_kind_elevator": ("电梯", "Lift"),
    "ec_kind_escalator": ("自动扶梯", "Escalator"),
    "ec_kind_footbridge": ("人行天桥", "Footbridge"),
    "ec_kind_passage": ("通道", "Passage"),
    "ec_kind_closed": ("封闭路段", "Closed way"),
    "ec_upload": ("或上传改动文件", "Or upload a file of edits"),
    "ec_run": ("运行改动前后对比", "Compare before and after"),
    "ec_clear": ("清除全部改动", "Clear all edits"),
    "ec_none": ("还没有改动:先在地图上画线或上传文件。",
                "No edits yet: draw a line on the map or upload a file."),
    "ec_count": ("共 {n} 处改动", "{n} edit(s)"),
    "ec_running": ("正在计算改动前后的覆盖", "Coverage before and after the edits"),
    "ec_result": ("改动前后对比(步行人群:{walker})", "Before and after the edits ({walker})"),
    "ec_gain": ("新增可达人口", "Residents gaining reach"),
    "ec_lose": ("失去可达人口", "Residents losing reach"),
    "ec_net": ("净变化(人)", "Net change (persons)"),
    "ec_nearer": ("步行时间缩短的人口", "Residents with a shorter walk"),
    "ec_mean_change": ("平均步行时间变化(分钟)", "Mean change of the walk (min)"),
    "ec_share_before": ("改动前覆盖率", "Share before"),
    "ec_share_after": ("改动后覆盖率", "Share after"),
    "ec_gained": ("改动后新增可达", "Gains reach"),
    "ec_lost": ("改动后失去可达", "Loses reach"),
    "ec_same": ("不变", "Unchanged"),
    "ec_effect": ("改动影响", "Effect of the edits"),
    "ec_download_summary": ("下载对比表(CSV)", "Download the comparison (CSV)"),
    "ec_download_edits": ("下载改动线(GeoJSON)", "Download the edit lines (GeoJSON)"),
    "draw_polyline": ("画线", "Draw a line"),
    "site_use_edits": ("在改动后的路网上选址({n} 处改动,来自覆盖分析页)",
                       "Site on the edited network ({n} edit(s), from the coverage page)"),
}
