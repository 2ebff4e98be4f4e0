"""The cluster maps page: service clusters, hot spots and density, catchments, logistics areas."""

from __future__ import annotations

import streamlit as st

from geo_app.io.display import on_screen, people_csv
from geo_app.io.export import geojson_bytes, geotiff_bytes, gpkg_bytes
from geo_app.labels import t
from geo_app.labels.engine import osm_tag_label
from geo_app.maps.clusters import (
    catchment_map,
    clusters_map,
    hotspot_map,
    named_clusters,
    service_area_map,
)
from geo_app.ui.assets import upload_types
from geo_app.ui.common import (
    LOAD_ERRORS,
    L,
    base_layers,
    data_choice,
    run_button,
    saved_upload,
    show_error,
    show_map,
    study_area,
    tiles_choice,
)
from geo_app.ui.served import heavy_run, show_refused
from geo_app.workflows import runs
from geo_app.workflows.inputs import hide_paths, named_points

VIEWS = ("cl_clusters", "cl_hotspots", "cl_catchments", "cl_service")
KEPT = 3  # results kept per view, newest last


@st.cache_resource(show_spinner=False, max_entries=4)
def pois_of(path: str, category_column: str, datum: str):
    from geo_app.workflows.clusters import load_pois

    return load_pois(path, category_column=category_column, datum=datum)


@st.cache_resource(show_spinner=False, max_entries=2)
def places_of(path: str, _pois):
    from geo_app.workflows.clusters import default_places

    return default_places(path, _pois)


@st.cache_resource(show_spinner=False, max_entries=2)
def drive_graph_of(path: str, datum: str):
    from geo_app.workflows.inputs import drive_graph

    return drive_graph(path, datum=datum)


def current_pois():
    """The POIs of the chosen data inside the study area (None and a message if unreadable)."""
    from geo_app.workflows.study_area import clip_points

    data = data_choice()
    path = data.get("pois") or data["network"]
    try:
        pois = pois_of(path, data.get("category_column", "category"), data["datum"])
        inside = clip_points(pois, study_area().geometry)
    except LOAD_ERRORS as exc:
        show_error(exc)
        return None, path
    if len(inside) == 0:
        st.warning(t("no_pois_in_area", L()))
        return None, path
    return inside, path


def computed(view: str, key: tuple, compute, prompt: str = "press_run_cluster",
             need: int | None = None):
    """The view's result for ``key``: computed when its Run button is pressed (errors shown,
    the last few results kept in the session), else the kept one; None (and a prompt) if none.
    ``need``: the run's memory estimate (bytes); it waits its turn among the server's heavy
    runs (:func:`geo_app.ui.served.heavy_run`)."""
    kept = st.session_state.setdefault(f"{view}_results", {})
    if run_button(f"{view}_run"):
        slot = st.empty()
        try:
            with heavy_run(view, runs.points_bytes(0) if need is None else need, slot), \
                    st.spinner(t("computing", L())):
                value = compute()
        except runs.RunRefused as exc:
            show_refused(exc)
            return None
        except LOAD_ERRORS as exc:
            show_error(exc)
            return None
        kept.pop(key, None)
        kept[key] = value  # newest last
        while len(kept) > KEPT:
            kept.pop(next(iter(kept)))
    value = kept.get(key)
    if value is None:
        st.info(t(prompt, L()))
    return value


def _downloads(items: list[tuple[str, bytes, str, str]], key: str) -> None:
    cols = st.columns(len(items))
    for i, (col, (label, data, name, mime)) in enumerate(zip(cols, items)):
        col.download_button(t(label, L()), data=data, file_name=name, mime=mime,
                            key=f"{key}_dl_{i}", on_click="ignore")


def _labelled(table):
    """A result table for people: column names in the session's language, numbers as a
    planner writes them (:func:`geo_app.io.display.on_screen`)."""
    lang = L()
    return on_screen(table, names=lambda c: t(c, lang))


def _districts_near(gdf):
    """Chongqing's districts when ``gdf`` overlaps them (for map orientation), else None."""
    from geo_app.workflows.base_layers import districts_near

    return districts_near(gdf, base_layers().districts)


def clusters_view(tiles: str) -> None:
    from geo_app.workflows.clusters import cluster_pois

    lang = L()
    pois, path = current_pois()
    if pois is None:
        return
    method = st.sidebar.radio(t("cluster_method", lang), ("dbscan", "hdbscan"), key="cl_method",
                              horizontal=True, format_func=str.upper)
    eps = st.sidebar.number_input(t("eps_m", lang), 10.0, 5000.0, 60.0, 10.0, key="cl_eps",
                                  disabled=method != "dbscan")
    k = int(st.sidebar.number_input(t("min_samples", lang), 2, 500, 8, key="cl_min_samples"))
    key = (path, study_area().key, method, eps if method == "dbscan" else None, k)
    r = computed("cl_clusters", key, lambda: cluster_pois(
        pois, method=method, eps_m=eps, min_samples=k, places=places_of(path, pois),
        source=hide_paths(path)), need=runs.points_bytes(len(pois)))
    if r is None:
        return
    p = r.params
    cols = st.columns(3)
    cols[0].metric(t("n_points", lang), f"{p['points']:,}")
    cols[1].metric(t("n_clusters", lang), f"{p['clusters']:,}")
    cols[2].metric(t("noise", lang), f"{p['points'] - p['clustered']:,}")
    show_map(clusters_map(r, lang=lang, tiles=tiles, districts=_districts_near(r.points)),
             "clusters_map.html", "cl_clusters_map")
    table = named_clusters(r.clusters, lang).drop(columns="geometry")
    st.dataframe(**_labelled(table))
    _downloads([("download_gpkg", gpkg_bytes(r.layers(), "clusters"), "clusters.gpkg",
                 "application/geopackage+sqlite3"),
                ("download_geojson", geojson_bytes(r.clusters), "clusters.geojson",
                 "application/geo+json"),
                ("download_csv", people_csv(r.sector_counts), "cluster_sectors.csv", "text/csv")],
               "cl_clusters")


def hotspots_view(tiles: str) -> None:
    from geo_app.workflows.hotspots import run_density, run_hotspots

    lang = L()
    pois, path = current_pois()
    if pois is None:
        return
    grid = st.sidebar.radio(t("grid", lang), ("h3", "square"), key="cl_grid", horizontal=True,
                            format_func=lambda g: t(f"grid_{g}", lang))
    cell = st.sidebar.number_input(t("cell_m", lang), 50.0, 5000.0, 150.0, 50.0, key="cl_cell")
    bandwidth = st.sidebar.number_input(t("bandwidth_m", lang), 20.0, 10000.0, 300.0, 20.0,
                                        key="cl_bandwidth")
    cats = sorted(set(pois["category"].astype(str)) | set(pois.get("sector_9611", []))
                  - {""})
    chosen = st.sidebar.multiselect(t("only_categories", lang), cats, key="cl_categories",
                                    placeholder=t("choose_options", lang),
                                    format_func=lambda c: osm_tag_label(c, lang))
    key = (path, study_area().key, grid, cell, bandwidth, tuple(chosen))
    def compute():
        pts = pois
        if chosen:
            keep = pois["category"].isin(chosen)
            if "sector_9611" in pois.columns:
                keep |= pois["sector_9611"].isin(chosen)
            pts = pois[keep]
        return (run_hotspots(pts, grid=grid, cell_m=cell),
                run_density(pts, bandwidth_m=bandwidth), pts)

    got = computed("cl_hotspots", key, compute, need=runs.points_bytes(len(pois)))
    if got is None:
        return
    hs, dens, pts = got
    p = hs.params
    cols = st.columns(4)
    cols[0].metric(t("cells", lang), f"{p['cells']:,}")
    cols[1].metric(t("hot_95", lang).split("(")[0], f"{p['hot']:,}")
    cols[2].metric(t("cold_95", lang).split("(")[0], f"{p['cold']:,}")
    cols[3].metric(t("permutations", lang), f"{p['permutations']:,}")
    show_map(hotspot_map(hs.cells, lang=lang, tiles=tiles, density=dens,
                         districts=_districts_near(pts)), "hotspots_map.html", "cl_hot_map")
    d = dens.density
    _downloads([("download_gpkg", gpkg_bytes(hs.layers(), "hotspots"), "hotspots.gpkg",
                 "application/geopackage+sqlite3"),
                ("download_geojson", geojson_bytes(hs.cells), "hotspots.geojson",
                 "application/geo+json"),
                ("download_geotiff", geotiff_bytes(d.values, d.transform, dens.crs,
                                                   description=f"kernel density ({dens.unit})"),
                 "density.tif", "image/tiff")], "cl_hot")


def catchments_view(tiles: str) -> None:
    from geo_app.workflows.catchments import run_catchments
    from geo_app.workflows.study_area import overlaps

    lang = L()
    data = data_choice()
    area = study_area()
    circles = base_layers().places["business_circles"]
    in_area = overlaps(area.geometry, circles.total_bounds)
    options = ("bundled", "clusters") if in_area else ("clusters", "bundled")
    source = st.sidebar.radio(t("centres", lang), options, key="cl_centres",
                              format_func=lambda k: t(f"centres_{k}", lang))
    cost = st.sidebar.radio(t("cost", lang), ("straight", "walk"), key="cl_cost", horizontal=True,
                            format_func=lambda k: t(f"cost_{k}", lang))
    beta = st.sidebar.slider(t("beta", lang), 0.5, 3.0, 2.0, 0.1, key="cl_beta")
    limit = st.sidebar.number_input(t("max_km", lang) if cost == "straight" else
                                    t("max_minutes", lang), 1.0, 120.0,
                                    15.0 if cost == "straight" else 30.0, 1.0, key="cl_limit")
    cell = st.sidebar.number_input(t("cell_m", lang), 100.0, 5000.0,
                                   1000.0 if source == "bundled" else 200.0, 100.0,
                                   key=f"cl_catch_cell_{source}")  # each source its default
    centres = None
    if source == "clusters":
        found = st.session_state.get("cl_clusters_results", {})
        if not found:
            st.info(t("need_clusters", lang))
            return
        r = list(found.values())[-1]
        named = named_clusters(r.clusters, lang)
        centres = named.assign(geometry=r.clusters.geometry.representative_point(),
                                    name=named["label"],
                                    pois=r.clusters["n_points"].astype(float))
    key = (data["network"], area.key, source, cost, beta, limit, cell,
           None if centres is None else tuple(centres["label"]))
    cells = int(area.area_km2 * 1e6 / cell ** 2)
    n_centres = len(circles) if centres is None else len(centres)
    res = computed("cl_catchments", key, lambda: _catchments(
        run_catchments, data, source, centres, cost, beta, limit, cell),
        need=runs.catchment_bytes(cells, n_centres))
    if res is None:
        return
    p = res.params
    residents = t("census_spread", lang) if p["demand"].startswith("census") else \
        t("buildings_estimate", lang) if p["demand"] == "buildings" else p["demand"]
    unit = "km" if cost == "straight" else t("minutes_unit", lang)
    attract = t("attr_pois", lang) if source == "clusters" else t("attr_equal", lang)
    st.caption(f"{t('demand', lang)}: {residents} · {t('cost', lang)}: {t('cost_' + cost, lang)} "
               f"(≤ {limit:g} {unit}) · {t('attractiveness', lang)}: {attract}")
    names = list(res.circles[p["name_column"]].astype(str))
    pick = st.selectbox(t("probability_of", lang), ["", *names], key="cl_circle",
                        format_func=lambda n: n or t("dominant_circle", lang))
    show_map(catchment_map(res, circle=names.index(pick) if pick else None, lang=lang,
                           tiles=tiles, name=p["name_column"],
                           districts=_districts_near(res.cells)),
             "catchments_map.html", "cl_catch_map")
    table = res.circles.drop(columns="geometry")
    st.dataframe(**_labelled(table[[p["name_column"], "attractiveness", "expected_visitors",
                                    "share", "dominant_cells"]]))
    _downloads([("download_gpkg", gpkg_bytes(res.layers(), "catchments"), "catchments.gpkg",
                 "application/geopackage+sqlite3"),
                ("download_csv", people_csv(table), "catchments.csv", "text/csv")], "cl_catch")


def _catchments(run_catchments, data, source, centres, cost, beta, limit, cell):
    """Huff for the page's choices: the bundled circles over census cells (Chongqing only),
    or the detected clusters over the data's residents."""
    network = data["network"] if cost == "walk" else None
    common = dict(network=network, max_km=limit, max_minutes=limit, beta=beta, cell_m=cell)
    if source == "bundled":
        res = run_catchments(demand="census", datum=data["datum"], **common)
    else:
        res = run_catchments(centres=centres[["name", "pois", "geometry"]], name_column="name",
                             attractiveness="column:pois",
                             demand=data.get("demand") or "buildings", datum=data["datum"],
                             osm_file=data["network"], **common)
    res.params.update({k: hide_paths(v) for k, v in res.params.items() if isinstance(v, str)})
    return res  # its caption and run info name files, not the server's folders


def service_view(tiles: str) -> None:
    from geo_app.workflows.service_areas import service_areas

    lang = L()
    data = data_choice()
    text = st.sidebar.text_input(t("drive_minutes", lang), "10,20,30", key="cl_drive_minutes")
    try:
        minutes = [float(m) for m in text.split(",") if m.strip()]
    except ValueError:
        st.sidebar.error(t("bad_minutes", lang))
        return
    f = st.sidebar.file_uploader(t("bases_file", lang), type=upload_types("candidates"),
                                 key="cl_bases_upload")
    bases, name = base_layers().places["logistics_bases"], "name_zh"
    if f is not None or data.get("bases"):  # a file here, else the data page's bases
        path = saved_upload("candidates", f) if f is not None else data["bases"]
        if path is None:
            return
        try:
            bases = named_points(path, datum=data["datum"])
        except LOAD_ERRORS as exc:
            show_error(exc)
            return
        name = "name"
    key = (data["network"], tuple(minutes), f.name if f is not None else data.get("bases"))
    got = computed("cl_service", key, lambda: service_areas(
        drive_graph_of(data["network"], data["datum"]), bases, minutes, name=name),
        prompt="press_run_service")
    if got is None:
        return
    areas, table = got
    show_map(service_area_map(bases.rename(columns={name: "name"}), areas, lang=lang, tiles=tiles,
                              districts=_districts_near(areas)), "service_areas.html",
             "cl_service_map")
    st.dataframe(**_labelled(table))
    _downloads([("download_gpkg", gpkg_bytes({"service_areas": areas, "bases": table},
                                             "service_areas"), "service_areas.gpkg",
                 "application/geopackage+sqlite3")], "cl_service")


def clusters_page() -> None:
    lang = L()
    view = st.sidebar.radio(t("cl_view", lang), VIEWS, key="cl_view",
                            format_func=lambda v: t(v, lang))
    tiles = tiles_choice()
    {"cl_clusters": clusters_view, "cl_hotspots": hotspots_view,
     "cl_catchments": catchments_view, "cl_service": service_view}[view](tiles)
