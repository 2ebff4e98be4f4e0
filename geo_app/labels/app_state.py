"""Labels of state, landing panel, progress and language of the workbench: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    # an engine error without Chinese words of its own
    "error_details_hint": ("请按下方“详细信息”中指出的文件、行和列修改后重试。",
                           "Fix the file, row or column named below and try again."),
    "error_details": ("详细信息(程序原文,英文)", "Details"),
    "zone_unknown": ("(未落入任何区县)", "(no zone)"),
    "point_layers": ("点图层", "Point layers"),
    # the landing panel of the first page
    "start_heading": ("从这里开始:三步完成一次规划分析", "Start here: a planning study in three steps"),
    "start_step_data": ("① 研究范围与数据", "① Study area and data"),
    "start_step_data_text": (("选定研究范围(区县、街道或自绘范围),上传路网、设施和人口,"
                             "或下载该范围的 OSM 数据。"),
                             ("Choose the study area (district, township or drawn on the map), "
                             "upload the network, facilities and residents, or download OSM for "
                             "the area.")),
    "start_step_analysis": ("② 分析", "② Analysis"),
    "start_step_analysis_text": (("覆盖分析:居民步行可达的设施与服务缺口;再看指标、区县评比与"
                                 "服务业集聚区。"),
                                 ("Coverage: the facilities residents reach on foot and the gaps; "
                                 "then indicators, scorecards and service clusters.")),
    "start_step_plan": ("③ 方案与报告", "③ Proposal and report"),
    "start_step_plan_text": ("选址:提出新的服务站点,在地图上增删调整,保存方案并导出报告。",
                             ("Siting: propose new hubs, add, remove and move them on the map, "
                             "save the scenario and export the report.")),
    "start_go_data": ("设置范围与数据", "Set area and data"),
    "start_go_coverage": ("进行覆盖分析", "Analyse coverage"),
    "start_go_siting": ("进行选址", "Site new hubs"),
    "start_sample_note": (("当前分析数据为离线样例数据:芬兰赫尔辛基的 OSM 路网、设施与建筑,"
                          "仅供试用各项功能,不是重庆数据。规划判断请先在“研究范围与数据”中上传"
                          "重庆数据或下载 OSM。"),
                          ("The analysis data now is the offline sample: OSM streets, facilities "
                          "and buildings of Helsinki, Finland, for trying the tools, not data of "
                          "Chongqing. For planning, upload Chongqing data or download OSM on "
                          "\"Study area and data\" first.")),
    "start_own_data_note": ("当前分析数据:{source}。", "Analysis data now: {source}."),
    "overview_map_note": (("下图:重庆市38个区县及随程序附带的商圈、物流基地和服务业集聚区"
                          "(与分析数据无关)。"),
                          ("Below: Chongqing's 38 districts with the bundled business circles, "
                          "logistics bases and service clusters (whatever the analysis data).")),
    # the caption under the page choice
    "caption_overview_map": ("总览地图:重庆市", "Overview map: Chongqing"),
    "caption_analysis_data": ("分析数据", "Analysis data"),
    # the progress of a run
    "progress_starting": ("准备中", "starting"),
    "progress_label": ("{what} · {percent}% · 已用 {seconds} 秒",
                       "{what} · {percent}% · {seconds} s"),
    "running_coverage": ("正在进行覆盖分析", "Running the coverage analysis"),
    "running_siting": ("正在选址", "Siting"),
    "running_clusters": ("正在识别集聚区", "Finding clusters"),
    "running_scorecard": ("正在计算区县评比", "Computing the scorecards"),
    "running_indicators": ("正在计算指标", "Computing the indicators"),
    "running_download": ("正在下载 OSM 数据", "Downloading OSM data"),
    # Streamlit's own words in widgets
    "choose_options": ("请选择", "Choose options"),
    "uploader_button": ("选择文件", "Browse files"),
    "uploader_drop": ("将文件拖放到此处", "Drop the file here"),
    "uploader_limit": ("拖放文件到此处,或点击“选择文件”;单个文件不超过 {mb} MB",
                       "Drag and drop a file here, or browse; at most {mb} MB per file"),
    # Leaflet.draw's own words on the study-area map
    "draw_cancel": ("取消", "Cancel"),
    "draw_cancel_title": ("取消绘制", "Cancel drawing"),
    "draw_finish": ("完成", "Finish"),
    "draw_finish_title": ("完成绘制", "Finish drawing"),
    "draw_undo": ("删除上一点", "Delete last point"),
    "draw_undo_title": ("删除最后绘制的点", "Delete last point drawn"),
    "draw_polygon": ("绘制多边形", "Draw a polygon"),
    "draw_rectangle": ("绘制矩形", "Draw a rectangle"),
    "draw_circle": ("绘制圆形", "Draw a circle"),
    "draw_poly_start": ("单击开始绘制。", "Click to start drawing shape."),
    "draw_poly_cont": ("单击继续绘制。", "Click to continue drawing shape."),
    "draw_poly_end": ("单击第一个点闭合图形。", "Click first point to close this shape."),
    "draw_rect_start": ("按住并拖动以绘制矩形。", "Click and drag to draw rectangle."),
    "draw_circle_start": ("按住并拖动以绘制圆形。", "Click and drag to draw circle."),
    "draw_release": ("松开鼠标完成绘制。", "Release mouse to finish drawing."),
    "draw_radius": ("半径", "Radius"),
    "draw_error": ("<strong>错误:</strong>边线不能交叉!", "<strong>Error:</strong> shape edges cannot cross!"),
}
