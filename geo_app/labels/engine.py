"""Labels of engine warnings, progress steps and run parameters: key -> (zh, en).

Also the three translators the pages use on what the engine hands them: a warning
(:func:`warning_text`), a progress step (:func:`step_text`) and an OSM tag (:func:`osm_tag_label`).
"""

from __future__ import annotations

import re

TEXT: dict[str, tuple[str, str]] = {
    # engine warnings (GeoAppWarning.key; values filled in by warning_text)
    "warn_no_facilities": ("没有“{category}”设施:无人被覆盖",
                           "no '{category}' facilities: nobody is covered"),
    "warn_facilities_off_network": ("{off} / {total} 个“{category}”设施距路网超过 {max_snap_m} 米,"
                                    "未参与计算",
                                    "{off} of {total} '{category}' facilities are more than "
                                    "{max_snap_m} m from the network and were not used"),
    "warn_no_facility_on_network": ("没有任何“{category}”设施在路网上:无人被覆盖",
                                    "no '{category}' facility is on the network: nobody is "
                                    "covered"),
    "warn_demand_off_network": ("{off} / {total} 个居民点(约 {residents} 人)距路网超过 "
                                "{max_snap_m} 米:按未覆盖计",
                                "{off} of {total} demand points ({residents} residents) are more "
                                "than {max_snap_m} m from the network: counted as not covered"),
    "warn_candidates_off_network": ("{off} / {total} 个候选点距路网超过 {max_snap_m} 米,不能入选",
                                    "{off} of {total} candidates are more than {max_snap_m} m "
                                    "from the network and cannot be chosen"),
    "warn_far_points": ("{path}:部分点远离其余各点,请核对这些行",
                        "{path}: some points lie far from the rest; check those rows"),
    "warn_unknown_categories": ("{path}:{n} 个类别值不属于设施篮子,按默认步行时间计:{listed}",
                                "{path}: {n} value(s) match no basket category and keep the "
                                "default threshold: {listed}"),
    "warn_datum_vs_streets": ("{path}:坐标看似 {datum},却按 WGS-84 读取;请声明其坐标系",
                              "{path}: looks like {datum} coordinates read as WGS-84; declare "
                              "its datum"),
    "warn_rows_dropped": ("{path}:已舍弃 {n} 行(坐标或人口无效、重复)",
                          "{path}: {n} row(s) dropped (bad coordinates or population, repeats)"),
    "warn_option_ignored": ("选项 {option} 对本次输入无效,已忽略",
                            "option {option} does not apply to these inputs: ignored"),
    # progress steps (step_text)
    "step_walk_graph": ("构建步行网络", "building the walk graph"),
    "step_join": ("将设施和居民连接到路网", "joining facilities and residents to the network"),
    "step_walk_times": ("计算 {n} 类设施的步行时间", "walking times for {n} categories"),
    "step_service_areas": ("服务范围", "service areas"),
    "step_isochrones": ("等时圈({category})", "isochrones ({category})"),
    "step_gap_areas": ("服务盲区", "gap areas"),
    "step_life_circles": ("生活圈", "life circles"),
    "step_done": ("完成", "done"),
    "step_shard": ("分片 {k} / {n}", "shard {k} of {n}"),
    "step_shards_done": ("已完成 {k} / {n} 个分片", "{k} of {n} shards done"),
    "step_tiles_read": ("在 {n} 个图块中读取路网", "reading the network in {n} tiles"),
    "step_tiles_walk": ("并行计算步行时间", "walking times on the workers"),
    "step_tiles_done": ("已完成 {k} / {n} 个图块", "{k} of {n} tiles done"),
    "step_residents": ("居民", "residents"),
    "step_travel_costs": ("出行成本", "travel costs"),
    "step_huff": ("Huff 模型", "Huff model"),
    "step_network": ("路网", "network"),
    "step_zone": ("{zone}({k} / {n})", "{zone} ({k} of {n})"),
    # run information: keys
    "ri_run_at": ("运行时间", "Run at"),
    "ri_network_nodes": ("路网节点数", "Network nodes"),
    "ri_network_edges": ("路网路段数", "Network segments"),
    "ri_metric_crs": ("计算用投影坐标系", "Projected CRS used"),
    "ri_speed_m_s": ("步行速度(米/秒)", "Walking speed (m/s)"),
    "ri_steps_speed_m_s": ("台阶步行速度(米/秒)", "Speed on steps (m/s)"),
    "ri_max_snap_m": ("最大连接距离(米)", "Longest join to the network (m)"),
    "ri_isochrones": ("等时圈绘制方式", "Isochrones drawn"),
    "ri_service_area_cell_m": ("服务范围栅格(米)", "Service-area cell (m)"),
    "ri_shards": ("分片", "Shards"),
    "ri_walker_profile": ("步行者类型", "Walker"),
    "ri_join": ("连接方式", "Joined"),
    "ri_network_edits": ("路网编辑条数", "Network edits"),
    "ri_elevation": ("高程", "Elevation"),
    "ri_thresholds_min": ("各类步行时间门槛(分钟)", "Thresholds by category (min)"),
    "ri_population_is_estimate": ("人口为估算值", "Residents estimated"),
    "ri_seconds": ("计算用时(秒)", "Computing time (s)"),
    "ri_source_network": ("路网来源", "Network source"),
    "ri_source_facilities": ("设施来源", "Facilities source"),
    "ri_source_demand": ("居民来源", "Residents source"),
    "ri_datum": ("坐标系", "Datum"),
    "ri_study_area": ("研究范围", "Study area"),
    "ri_candidates": ("候选点", "Candidates"),
    "ri_objective": ("目标", "Objective"),
    "ri_n_sites": ("新增站点数", "New sites"),
    "ri_solver": ("求解方法", "Solver"),
    "ri_status": ("求解状态", "Status"),
    # run information: values in plain words
    "rv_true": ("是", "yes"),
    "rv_false": ("否", "no"),
    "rv_buildings": ("按住宅建筑面积估算", "estimated from residential buildings"),
    "rv_osm_tags": ("路网文件中的 OSM 标签", "OSM tags of the network file"),
    "rv_data_extent": ("数据全范围", "the data's whole extent"),
    "rv_drawn": ("绘制范围", "a drawn area"),
    "rv_plain_walk": ("普通步行", "plain walk"),
    "rv_flat": ("无(按平地计)", "none (flat)"),
    "rv_dem": ("DEM {file}", "DEM {file}"),
    "rv_dem_partial": ("DEM {file}(未覆盖处按平地计)", "DEM {file} (level where it has no height)"),
    "rv_street": ("连接到最近路段上的点", "to the nearest point of a street"),
    "rv_node": ("连接到最近路网节点", "to the nearest network node"),
    "rv_category": ("按设施类别", "by category"),
    "rv_facility": ("按每个设施", "by facility"),
    "rv_grid": ("网格 {n} 米", "grid {n} m"),
    "rv_dbscan": ("DBSCAN 密度聚类", "DBSCAN density clustering"),
    "rv_hdbscan": ("HDBSCAN 层次密度聚类", "HDBSCAN hierarchical density clustering"),
    "rv_sample": ("离线样例", "the offline sample"),
    "key": ("项目", "Item"),
    # OSM tag keys and common values (cluster names of OSM data)
    "osm_amenity": ("公共设施", "amenity"), "osm_shop": ("商店", "shop"),
    "osm_office": ("办公", "office"), "osm_tourism": ("旅游", "tourism"),
    "osm_leisure": ("休闲", "leisure"), "osm_craft": ("手工业", "craft"),
    "osm_healthcare": ("医疗", "healthcare"), "osm_historic": ("历史遗迹", "historic"),
    "osm_sport": ("体育", "sport"), "osm_other": ("{key}(其他)", "{key}: {value}"),
    "osm_restaurant": ("餐馆", "restaurant"), "osm_company": ("公司", "company"),
    "osm_clothes": ("服装店", "clothes shop"), "osm_cafe": ("咖啡馆", "café"),
    "osm_artwork": ("公共艺术品", "artwork"), "osm_fast_food": ("快餐", "fast food"),
    "osm_pub": ("酒馆", "pub"), "osm_hairdresser": ("理发店", "hairdresser"),
    "osm_yes": ("其他商店", "shop"), "osm_hotel": ("酒店", "hotel"),
    "osm_jewelry": ("珠宝店", "jeweller"), "osm_ngo": ("社会组织", "NGO"),
    "osm_bar": ("酒吧", "bar"), "osm_beauty": ("美容店", "beauty salon"),
    "osm_atm": ("自动取款机", "ATM"), "osm_toilets": ("公共厕所", "toilets"),
    "osm_optician": ("眼镜店", "optician"), "osm_bank": ("银行", "bank"),
    "osm_kiosk": ("报亭小卖部", "kiosk"), "osm_embassy": ("使馆", "embassy"),
    "osm_park": ("公园", "park"), "osm_shoes": ("鞋店", "shoe shop"),
    "osm_furniture": ("家具店", "furniture shop"), "osm_cosmetics": ("化妆品店", "cosmetics"),
    "osm_books": ("书店", "bookshop"), "osm_convenience": ("便利店", "convenience store"),
    "osm_art": ("艺术品店", "art shop"), "osm_theatre": ("剧院", "theatre"),
    "osm_nightclub": ("夜总会", "nightclub"), "osm_place_of_worship": ("宗教场所", "place of worship"),
    "osm_sports": ("体育用品店", "sports shop"), "osm_alcohol": ("酒类商店", "off-licence"),
    "osm_library": ("图书馆", "library"), "osm_government": ("政府机构", "government office"),
    "osm_interior_decoration": ("家居装饰店", "interior decoration"),
    "osm_supermarket": ("超市", "supermarket"), "osm_lawyer": ("律师事务所", "lawyer"),
    "osm_gallery": ("画廊", "gallery"), "osm_museum": ("博物馆", "museum"),
    "osm_pharmacy": ("药店", "pharmacy"), "osm_bakery": ("面包店", "bakery"),
    "osm_dentist": ("牙科诊所", "dentist"), "osm_doctors": ("诊所", "doctors"),
    "osm_clinic": ("诊所", "clinic"), "osm_hospital": ("医院", "hospital"),
    "osm_school": ("学校", "school"), "osm_kindergarten": ("幼儿园", "kindergarten"),
    "osm_university": ("大学", "university"), "osm_college": ("学院", "college"),
    "osm_cinema": ("电影院", "cinema"), "osm_post_office": ("邮局", "post office"),
    "osm_police": ("派出所", "police"), "osm_fuel": ("加油站", "fuel station"),
    "osm_parking": ("停车场", "parking"), "osm_marketplace": ("市场", "marketplace"),
    "osm_ice_cream": ("冷饮店", "ice cream"), "osm_gift": ("礼品店", "gift shop"),
    "osm_mobile_phone": ("手机店", "mobile phones"), "osm_electronics": ("电器店", "electronics"),
    "osm_bicycle": ("自行车店", "bicycle shop"), "osm_florist": ("花店", "florist"),
    "osm_department_store": ("百货商店", "department store"), "osm_mall": ("购物中心", "mall"),
    "osm_hostel": ("青年旅舍", "hostel"), "osm_guest_house": ("旅馆", "guest house"),
    "osm_attraction": ("景点", "attraction"), "osm_viewpoint": ("观景点", "viewpoint"),
    "osm_information": ("游客信息点", "information"), "osm_fitness_centre": ("健身房", "gym"),
    "osm_playground": ("儿童游乐场", "playground"), "osm_sports_centre": ("体育中心", "sports centre"),
    "osm_pitch": ("运动场", "pitch"), "osm_it": ("信息技术企业", "IT company"),
    "osm_insurance": ("保险机构", "insurance"), "osm_estate_agent": ("房产中介", "estate agent"),
    "osm_architect": ("建筑设计事务所", "architect"), "osm_association": ("协会", "association"),
    "osm_financial": ("金融机构", "financial"), "osm_travel_agent": ("旅行社", "travel agent"),
    "osm_bicycle_rental": ("共享单车点", "bicycle rental"), "osm_community_centre": ("社区中心", "community centre"),
    "osm_arts_centre": ("艺术中心", "arts centre"), "osm_townhall": ("政府大楼", "town hall"),
    "osm_car": ("汽车店", "car dealer"), "osm_hardware": ("五金店", "hardware"),
    "osm_second_hand": ("二手店", "second-hand shop"), "osm_tattoo": ("文身店", "tattoo"),
    "osm_music": ("音像店", "music shop"), "osm_toys": ("玩具店", "toy shop"),
    "osm_variety_store": ("杂货店", "variety store"), "osm_tobacco": ("烟草店", "tobacco"),
    "osm_chemist": ("日化店", "chemist"), "osm_photo": ("照相馆", "photo shop"),
    "osm_copyshop": ("打印店", "copy shop"), "osm_laundry": ("洗衣店", "laundry"),
    "osm_dry_cleaning": ("干洗店", "dry cleaner"), "osm_deli": ("熟食店", "delicatessen"),
    "osm_butcher": ("肉店", "butcher"), "osm_confectionery": ("糖果店", "sweet shop"),
    "osm_wine": ("葡萄酒店", "wine shop"), "osm_tea": ("茶叶店", "tea shop"),
    "osm_coffee": ("咖啡豆店", "coffee shop"), "osm_outdoor": ("户外用品店", "outdoor shop"),
    "osm_fabric": ("布料店", "fabric shop"), "osm_bag": ("箱包店", "bag shop"),
    "osm_boutique": ("精品店", "boutique"), "osm_watches": ("钟表店", "watch shop"),
    "osm_computer": ("电脑店", "computer shop"), "osm_video_games": ("游戏店", "video games"),
    "osm_frame": ("画框店", "framing"), "osm_antiques": ("古玩店", "antiques"),
    "osm_stationery": ("文具店", "stationery"), "osm_pet": ("宠物店", "pet shop"),
    "osm_newsagent": ("报刊店", "newsagent"), "osm_ticket": ("票务点", "tickets"),
    "osm_massage": ("按摩店", "massage"), "osm_vacant": ("空置商铺", "vacant shop"),
    "osm_social_facility": ("社会福利设施", "social facility"),
    "osm_bureau_de_change": ("外币兑换", "currency exchange"),
    "osm_memorial": ("纪念物", "memorial"), "osm_monument": ("纪念碑", "monument"),
}

# engine progress messages (English, from the workflows) -> (key, value names)
_STEPS = [(re.compile(p), k, names) for p, k, names in (
    (r"building the walk graph$", "step_walk_graph", ()),
    (r"joining facilities and residents to the network$", "step_join", ()),
    (r"walking times for (\d+) categories$", "step_walk_times", ("n",)),
    (r"service areas$", "step_service_areas", ()),
    (r"isochrones \((.+)\)$", "step_isochrones", ("category",)),
    (r"gap areas$", "step_gap_areas", ()),
    (r"life circles$", "step_life_circles", ()),
    (r"done$", "step_done", ()),
    (r"shard (\d+) of (\d+) \(.*\)$", "step_shard", ("k", "n")),
    (r"(\d+) of (\d+) shards done$", "step_shards_done", ("k", "n")),
    (r"reading the network in (\d+) tiles on the workers$", "step_tiles_read", ("n",)),
    (r"walking times on the workers$", "step_tiles_walk", ()),
    (r"(\d+) of (\d+) tiles done$", "step_tiles_done", ("k", "n")),
    (r"residents$", "step_residents", ()),
    (r"travel costs$", "step_travel_costs", ()),
    (r"Huff model$", "step_huff", ()),
    (r"\w+ network$", "step_network", ()),
    (r"(.+) \((\d+) of (\d+)\)$", "step_zone", ("zone", "k", "n")),
)]


def step_text(message: str, lang: str = "zh") -> str:
    """A progress message of the engine in ``lang`` (a step it does not know: a neutral word)."""
    from geo_app.labels import facility_label, t

    for pattern, key, names in _STEPS:
        m = pattern.match(message)
        if m:
            values = dict(zip(names, m.groups()))
            if "category" in values:
                values["category"] = facility_label(values["category"], lang)
            return t(key, lang).format(**values)
    return t("computing", lang)


def osm_tag_label(tag: str, lang: str = "zh") -> str:
    """``"office=company"`` -> 公司 / company; a value without a label: its key's name."""
    from geo_app.labels import has_label, t

    if "=" not in str(tag):
        return str(tag)
    key, value = str(tag).split("=", 1)
    if has_label(f"osm_{value}") and value != "yes":
        return t(f"osm_{value}", lang)
    name = t(f"osm_{key}", lang) if has_label(f"osm_{key}") else t("osm_other_key", lang)
    if value == "yes":
        return name
    return t("osm_other", lang).format(key=name, value=value)


def _value(name: str, v, lang: str):
    """One warning value in words: category names, file names, counts, numbers."""
    from geo_app.io.display import fmt_number
    from geo_app.labels import facility_label

    if name == "category":
        return facility_label(str(v), lang)
    if name == "path":
        from geo_app.workflows.inputs import hide_paths
        return hide_paths(str(v)).replace("\\", "/").rsplit("/", 1)[-1]
    if name == "datum":
        return str(v).upper().replace("GCJ02", "GCJ-02").replace("BD09", "BD-09")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return fmt_number(v)
    return v


def warning_text(w, lang: str = "zh") -> str:
    """A GeoAppWarning in ``lang`` from its ``key`` and ``values`` (no server paths)."""
    from geo_app.labels import has_label, t
    from geo_app.workflows.inputs import hide_paths

    key = getattr(w, "key", None)
    if not key or not has_label(key):
        return hide_paths(str(w)) if lang == "en" else t("warn_unlabelled", lang)
    raw = dict(getattr(w, "values", {}) or {})
    template = t(key, lang)
    values = {k: v if "{" + k + ":" in template else _value(k, v, lang) for k, v in raw.items()}
    if isinstance(raw.get("rows"), (list, tuple)):
        values["n"] = _value("n", len(raw["rows"]), lang)
    if isinstance(raw.get("values"), dict):
        values["n"] = _value("n", sum(int(c) for c in raw["values"].values()), lang)
        values["listed"] = "、".join(map(str, list(raw["values"])[:10]))
    if "reason" in raw and has_label(str(raw["reason"])):
        values["reason"] = t(str(raw["reason"]), lang)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return re.sub(r"[\s:,:,]+$", "", template.split("{", 1)[0])


TEXT.update({
    "osm_other_key": ("其他", "other"),
    "warn_unlabelled": ("计算中有一项提示(详见英文界面)", "a note from the computation"),
})

TEXT.update({
    "ri_area_id": ("研究范围", "Study area"),
    "ri_area": ("研究范围", "Study area"),
    "ri_dem": ("高程数据", "Elevation raster"),
    "ri_edits": ("路网编辑", "Network edits"),
    "ri_method": ("聚类方法", "Method"),
    "ri_crs": ("计算用投影坐标系", "Projected CRS used"),
    "ri_clustered": ("入聚类的点数", "Points in clusters"),
    "ri_points": ("点数", "Points"),
    "ri_clusters": ("聚集区数", "Clusters"),
    "ri_source": ("数据来源", "Source"),
})
TEXT["rv_cut_to"] = ("{file}(裁剪至“{area}”外扩 {margin} 米)", "{file} (cut to {area} + {margin} m)")
TEXT["tz_beijing"] = ("北京时间", "Beijing time")
TEXT["mark_built"] = ("已建成", "built")
TEXT["mark_proposed"] = ("拟建", "proposed")
