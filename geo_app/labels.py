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
