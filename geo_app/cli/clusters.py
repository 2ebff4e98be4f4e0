"""``geo-app clusters``, ``hotspots``, ``density``, ``catchments`` and ``service-areas``."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_app.cli import checks
from geo_app.cli import inputs as opts
from geo_app.cli.progress import progress_bar
from geo_app.labels import LANGS


def districts_near(gdf):
    from geo_app.workflows.base_layers import districts_near as near

    return near(gdf)


def _write_map(m, path: Path | None) -> None:
    if path is None:
        return
    from geo_app.maps.offline import save_offline_html

    out = save_offline_html(m, path)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, works offline)")


def _cmd_clusters(args: argparse.Namespace) -> int:
    from geo_app.io.export import write_gpkg_layers
    from geo_app.maps.clusters import clusters_map
    from geo_app.workflows.clusters import cluster_pois, default_places, load_pois

    with progress_bar("clusters") as say:
        say(0.0, "reading points")
        pois, notes = _read_points(args, load_pois)
        say(0.3, "clustering")
        result = cluster_pois(pois, method=args.method, eps_m=args.eps,
                              min_samples=args.min_samples,
                              places=default_places(args.points, pois), source=str(args.points))
        result.params.update(opts.run_info_of(args, notes))
        say(0.8, "writing")
        write_gpkg_layers(result.layers(), args.out)
        p = result.params
        print(f"points: {p['points']:,} ({args.points}); {p['method']}"
              + (f" eps {args.eps:g} m" if args.method == "dbscan" else "")
              + f", min samples {args.min_samples}; metric CRS {p['crs']}")
        print(f"clusters: {p['clusters']}; clustered points {p['clustered']:,}, "
              f"noise {p['points'] - p['clustered']:,}")
        for row in result.clusters.head(10).itertuples():
            print(f"  {row.cluster:>4}  {row.n_points:>6,} points  {row.area_km2:7.3f} km²  "
                  f"{row.label}"
                  + (f"  [{row.top_sector}]" if row.top_sector else ""))
        print(f"wrote {args.out} (layers: points, clusters, category_counts, sector_counts, "
              "run_info)")
        say(0.9, "map")
        _write_map(clusters_map(result, lang=args.lang, districts=districts_near(pois)), args.map)
    return 0


def _cmd_catchments(args: argparse.Namespace) -> int:
    from geo_app.io.export import write_gpkg_layers
    from geo_app.maps.clusters import catchment_map
    from geo_app.workflows.catchments import run_catchments

    names = ("centres", "demand", "network", "pois")
    with progress_bar("catchments") as say:
        say(0.0, "residents, costs and the Huff model")
        with opts.input_notes() as notes:
            bundled = None if args.centres else opts.columns_of(args, "centres").get("name")
            result = run_catchments(
                centres=args.centres, name_column=bundled, demand=args.demand,
                network=args.network, mode=args.mode, attractiveness=args.attractiveness,
                pois=args.pois, alpha=args.alpha, beta=args.beta,
                max_minutes=args.max_minutes, max_km=args.max_km, cell_m=args.cell_m,
                datum=args.datum, datums={n: opts.datum_of(args, n) for n in names},
                layers={n: opts.layer_of(args, n) for n in names},
                columns={n: opts.columns_of(args, n) for n in names}, on_bad_rows=args.on_bad_rows,
                progress=lambda f, m: say(0.8 * f, m))
        result.params.update(opts.run_info_of(args, notes))
        say(0.8, "writing")
        write_gpkg_layers(result.layers(), args.out)
        p = result.params
        print(f"centres: {p['centres']}; residents: {p['residents']:,.0f} in {p['cells']:,} cells "
              f"of {p['cell_m']:g} m ({p['demand']})")
        print(f"cost: {p['cost']}; attractiveness: {p['attractiveness']}; alpha {p['alpha']:g}, "
              f"beta {p['beta']:g}; unreached residents {p['unreached']:,.0f}")
        name = p["name_column"]
        for row in result.circles.sort_values("expected_visitors", ascending=False).itertuples():
            print(f"  {getattr(row, name)}: {row.expected_visitors:,.0f} expected visitors "
                  f"({100 * row.share:.1f} %), dominant in {row.dominant_cells:,} cells")
        print(f"wrote {args.out} (layers: cells, circles, dominant_areas, run_info)")
        say(0.9, "map")
        _write_map(catchment_map(result, lang=args.lang, name=name,
                                 districts=districts_near(result.cells)), args.map)
    return 0


def _cmd_hotspots(args: argparse.Namespace) -> int:
    from geo_app.io.export import write_geotiff, write_gpkg_layers
    from geo_app.maps.clusters import hotspot_map
    from geo_app.workflows.clusters import load_pois
    from geo_app.workflows.hotspots import plan_density, plan_hotspots, run_density, run_hotspots

    with progress_bar("hotspots") as say:
        say(0.0, "reading points")
        pts, notes = _points_for(args, load_pois)
        plan = plan_hotspots(pts, grid=args.grid, cell_m=args.cell_m,
                             permutations=args.permutations)  # refused here when too large
        if args.density or args.map:
            plan_density(pts, bandwidth_m=args.bandwidth)
        print(f"grid: {plan.label}, about {plan.cells:,} cells; {plan.permutations:,} "
              f"permutations (about {max(plan.seconds, 1):,.0f} s)")
        say(0.2, "Gi* permutations")
        result = run_hotspots(pts, grid=args.grid, cell_m=args.cell_m, weight=args.weight,
                              permutations=args.permutations, alpha=args.alpha, seed=args.seed,
                              progress=lambda f: say(0.2 + 0.4 * f, "Gi* permutations"))
        result.params.update(opts.run_info_of(args, notes))
        say(0.6, "writing")
        write_gpkg_layers(result.layers(), args.out)
        p = result.params
        print(f"points: {p['points']:,}; grid: {p['grid']}, {p['cells']:,} cells; "
              f"value: {p['value']}")
        print(f"Gi* with {p['permutations']:,} permutations, false-discovery rate {p['alpha']:g}: "
              f"{p['hot']:,} hot-spot cells, {p['cold']:,} cold-spot cells")
        print(f"wrote {args.out} (layers: cells, run_info)")
        say(0.7, "kernel density")
        density = None
        if args.density or args.map:
            density = run_density(pts, bandwidth_m=args.bandwidth, weight=args.weight)
        if args.density:
            d = density.density
            write_geotiff(d.values, d.transform, density.crs, args.density,
                          description=f"kernel density ({density.unit}), "
                                      f"bandwidth {args.bandwidth:g} m")
            print(f"wrote {args.density} (kernel density, "
                  f"{d.values.shape[1]} x {d.values.shape[0]} "
                  f"cells of {d.cell_m:g} m, {density.crs})")
        say(0.9, "map")
        _write_map(hotspot_map(result.cells, lang=args.lang, density=density,
                               districts=districts_near(pts)), args.map)
    return 0


def _read_points(args: argparse.Namespace, load):
    """The ``--points`` of clusters/hotspots read with the input options and checked (a
    GCJ-02/BD-09 shift against a district column, far outliers), and the warnings raised."""
    from geo_app.workflows.input_checks import check_points

    with opts.input_notes() as notes:
        pts = load(args.points, **opts.reader_options(args, "points"))
        check_points(pts, args.points, opts.datum_of(args, "points"), "points")
    return pts, notes


def _points_for(args: argparse.Namespace, load):
    pts, notes = _read_points(args, load)
    if args.category:
        keep = pts["category"].astype(str).isin(args.category)
        if "sector_9611" in pts.columns:
            keep |= pts["sector_9611"].astype(str).isin(args.category)
        if not keep.any():
            raise ValueError(f"no point has category or sector {', '.join(args.category)}")
        pts = pts[keep]
    return pts, notes


def _cmd_service_areas(args: argparse.Namespace) -> int:
    from geo_app.io.export import run_info, write_gpkg_layers
    from geo_app.maps.clusters import service_area_map
    from geo_app.workflows.catchments import graph_of
    from geo_app.workflows.input_checks import check_points, streets_of
    from geo_app.workflows.service_areas import service_areas
    from layers.network import read_network

    with progress_bar("service areas") as say:
        say(0.0, "drive network")
        with opts.input_notes() as notes:
            net = read_network(args.network, mode="drive", datum=opts.datum_of(args, "network"),
                               layer=opts.layer_of(args, "network"))
            say(0.3, "reading bases")
            if args.bases is None:
                from layers import load_logistics_bases

                bases = load_logistics_bases()
                name = opts.columns_of(args, "bases").get("name") or "name_zh"
            else:
                from geo_app.workflows.inputs import named_points

                bases, name = named_points(args.bases, **opts.reader_options(args, "bases")), "name"
                check_points(bases, args.bases, opts.datum_of(args, "bases"), "bases",
                             streets=streets_of(net))
        minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
        graph = graph_of(net, "drive")
        print(f"drive network: {graph.n_nodes:,} nodes, {graph.n_edges:,} directed links "
              f"({args.network})")
        say(0.5, "drive-time areas")
        areas, table = service_areas(graph, bases, minutes, name=name)
        say(0.8, "writing")
        write_gpkg_layers({"service_areas": areas, "bases": table,
                           "run_info": run_info(opts.run_info_of(args, notes))}, args.out)
        for row in table.itertuples():
            state = f"{row.snap_m:,.0f} m from the network" if row.on_network else "OFF the network"
            print(f"  {row.name}: {state}")
        for mins, group in areas.groupby("minutes"):
            print(f"  ≤ {mins:g} min: {group['area_km2'].sum():,.1f} km² in total")
        print(f"wrote {args.out} (layers: service_areas, bases, run_info)")
        say(0.9, "map")
        _write_map(service_area_map(bases.rename(columns={name: "name"})
                                    if name != "name" else bases, areas, lang=args.lang,
                                    districts=districts_near(areas)), args.map)
    return 0


def _common(p: argparse.ArgumentParser, inputs: tuple[str, ...],
            roles: tuple[str, ...] = opts.BASE_ROLES) -> None:
    """Options every cluster-map command shares: the input options, outputs, language."""
    opts.input_options(p, inputs, roles=roles)
    p.add_argument("--out", required=True, type=Path, help="GeoPackage to write")
    p.add_argument("--map", type=Path, help="also write an offline HTML map")
    p.add_argument("--lang", choices=LANGS, default="zh")


def add_commands(sub) -> None:
    """Register the cluster-map commands on the ``geo-app`` sub-parsers."""
    p = sub.add_parser("clusters", help="service clusters of points of interest (DBSCAN/HDBSCAN)")
    p.add_argument("--points", required=True, type=Path,
                   help="an .osm.pbf/.osm file (its amenity/shop/office/tourism/leisure/healthcare/"
                        "craft features) or a CSV/vector file with a category column")
    p.add_argument("--method", choices=("dbscan", "hdbscan"), default="dbscan")
    p.add_argument("--eps", type=checks.POSITIVE_M, default=150.0,
                   help="DBSCAN radius in metres (default 150)")
    p.add_argument("--min-samples", type=checks.number(2, integer=True), default=10,
                   help="DBSCAN: neighbours for a core point; HDBSCAN: smallest cluster "
                        "(default 10)")
    _common(p, ("points",))
    p.set_defaults(func=_cmd_clusters, out_suffixes=(".gpkg",))

    p = sub.add_parser("catchments", help="business-circle catchments (Huff model)")
    p.add_argument("--centres", type=Path,
                   help="centres with a name column (default: the bundled business circles; "
                        "--name-column names it, default name, or name_zh for the bundled "
                        "circles)")
    p.add_argument("--demand", default="census",
                   help="'census' (district census populations spread evenly; Chongqing only), "
                        "or residents as for geo-app coverage (file, GeoTIFF or 'buildings')")
    p.add_argument("--network", type=Path, help="a street network: costs become network travel "
                   "times (default: straight-line distance)")
    p.add_argument("--mode", choices=("walk", "drive"), default="walk",
                   help="travel mode on --network (default walk)")
    p.add_argument("--attractiveness", default="equal",
                   help="equal, pois (points of interest within 500 m, needs --pois) or "
                        "column:NAME (e.g. floor area)")
    p.add_argument("--pois", type=Path, help="points of interest for --attractiveness pois")
    p.add_argument("--alpha", type=checks.number(0), default=1.0, help="attractiveness exponent")
    p.add_argument("--beta", type=checks.number(0, lo_open=True), default=2.0,
                   help="distance-decay exponent")
    p.add_argument("--max-minutes", type=checks.number(0, 1_440, lo_open=True), default=60.0,
                   help="network: nobody travels longer than this (minutes)")
    p.add_argument("--max-km", type=checks.number(0, 1_000, lo_open=True), default=20.0,
                   help="straight line: nobody travels farther than this (km)")
    p.add_argument("--cell-m", type=checks.number(10, 100_000), default=1000.0,
                   help="side of the residents' cells (m); cells and cells x centres are "
                        "capped (Settings max_grid_cells, max_catchment_pairs)")
    _common(p, ("centres", "demand", "network", "pois"), (*opts.BASE_ROLES, "id"))
    p.set_defaults(func=_cmd_catchments, out_suffixes=(".gpkg",))

    p = sub.add_parser("hotspots", help="Getis-Ord Gi* hot and cold spots of points on a grid, "
                       "and their kernel density")
    p.add_argument("--points", required=True, type=Path, help="as for geo-app clusters")
    p.add_argument("--grid", choices=("h3", "square"), default="h3")
    p.add_argument("--cell-m", type=checks.number(10, 100_000), default=250.0,
                   help="cell size in metres: square side or hexagon width (default 250); "
                        "cells and Gi* work are capped (Settings max_grid_cells, "
                        "max_hotspot_draws), the size that fits is named")
    p.add_argument("--weight", help="sum this column of --points instead of counting points "
                   "(e.g. population, or any numeric column of your file)")
    p.add_argument("--category", nargs="*", help="only points of these categories or sectors")
    p.add_argument("--permutations", type=checks.number(99, 99_999, integer=True),
                   help="default 999, 9,999 above 1,000 cells")
    p.add_argument("--alpha", type=checks.number(0, 1, lo_open=True, hi_open=True), default=0.05,
                   help="false-discovery rate (default 0.05)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the permutations")
    p.add_argument("--bandwidth", type=checks.POSITIVE_M, default=300.0,
                   help="kernel density bandwidth (m)")
    p.add_argument("--density", type=Path, help="also write the kernel density as a GeoTIFF "
                   "(raster cells capped by Settings max_density_cells)")
    _common(p, ("points",), (*opts.BASE_ROLES, "capacity"))
    p.set_defaults(func=_cmd_hotspots, out_suffixes=(".gpkg",))

    p = sub.add_parser("service-areas", help="drive-time service areas around logistics bases")
    p.add_argument("--network", required=True, type=Path,
                   help=".osm.pbf, .osm, or road centre-lines (optional oneway, maxspeed columns)")
    p.add_argument("--bases", type=Path, help="depots with a name column (default: the bundled "
                   "logistics bases)")
    p.add_argument("--minutes", default="15,30,45", help="drive times, comma-separated")
    _common(p, ("network", "bases"))
    p.set_defaults(func=_cmd_service_areas, out_suffixes=(".gpkg",))
