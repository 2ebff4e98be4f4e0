"""``geo-app coverage`` and ``geo-app batch coverage``."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_app.cli import checks
from geo_app.cli.inputs import (
    BASE_ROLES,
    columns_of,
    datum_of,
    edits_of,
    input_notes,
    input_options,
    layer_of,
    run_info_of,
)


def coverage_options(p: argparse.ArgumentParser) -> None:
    """The options of ``coverage`` (and ``batch coverage``)."""
    p.add_argument("--network", required=True, type=Path,
                   help=".osm.pbf, .osm, or road centre-lines (GeoJSON/GeoPackage/Shapefile)")
    p.add_argument("--facilities", required=True,
                   help="CSV (lon, lat, category) or vector file with 'category'; an .osm.pbf/.osm "
                        "file maps its OSM tags to the facility basket")
    p.add_argument("--demand", required=True,
                   help="CSV (lon, lat, population), vector points/polygons with 'population', a "
                        "population GeoTIFF, or 'buildings' to estimate residents from the OSM "
                        "network file's residential buildings")
    p.add_argument("--out", required=True,
                   help="result.gpkg (GeoPackage), result.parquet or a folder/ (GeoParquet, "
                        "one file per layer)")
    p.add_argument("--minutes", type=checks.MINUTES, help="one threshold for every category "
                   "(default: each basket category's life-circle level, 15 min for others)")
    p.add_argument("--speed", type=checks.from_settings("walk_speed_m_s"), default=1.0,
                   help="walking speed, m/s (default 1.0)")
    p.add_argument("--steps-speed", type=checks.from_settings("steps_speed_m_s"), default=0.5,
                   help="speed on steps, m/s")
    p.add_argument("--max-snap-m", type=checks.from_settings("max_snap_m"), default=500.0,
                   help="points farther than this from the network are off-network (m)")
    p.add_argument("--area-type", choices=("urban", "rural"), default="urban",
                   help="rural uses the 30-minute rural life-circle standard")
    input_options(p, ("network", "facilities", "demand"), roles=(*BASE_ROLES, "id"))
    p.add_argument("--category-map", type=Path, help="CSV (value, category) assigning your "
                   "category values to basket categories, for values the basket's names and "
                   "aliases do not match")
    p.add_argument("--townships", type=Path, help="township polygons for the summary")
    p.add_argument("--township-name", default="name", help="name column of --townships")
    p.add_argument("--dem", type=Path, help="DEM GeoTIFF: walking times follow Tobler's hiking "
                   "function on slopes, in each direction")
    p.add_argument("--dem-partial", action="store_true",
                   help="with --dem: a DEM that misses part of the network gives slopes where "
                   "it covers, level ground elsewhere (without it such a DEM is refused)")
    p.add_argument("--profile", choices=("adult", "elderly", "child", "wheelchair"),
                   help="walker profile (data/gis/walker_profiles.csv): its speeds on the flat "
                        "and on stairs, lift and escalator waits, and what it may use "
                        "(wheelchair: no stairs); default the plain walk at --speed")
    p.add_argument("--edits", type=Path, help="GeoJSON lines in WGS-84 with a kind column "
                   "(stairs, elevator, escalator, footbridge, passage, closed): the network "
                   "is edited before the run (adult profile unless --profile)")
    p.add_argument("--join", choices=("street", "node"), default="street",
                   help="join facilities and residents to the nearest street front "
                        "(default) or to the nearest network node")
    p.add_argument("--isochrones", choices=("none", "category", "facility"), default="category",
                   help="category: each category's service area (layer service_areas, default); "
                        "facility: also every facility's own isochrone (layer isochrones); "
                        "none: neither")
    p.add_argument("--no-isochrones", action="store_true", help="the same as --isochrones none")
    p.add_argument("--scheduler", help="run shards on Dask: local or local:N (a LocalCluster of "
                   "N worker processes on this machine) or tcp://HOST:PORT (a running "
                   "scheduler); without it, one process")
    p.add_argument("--shard-km", type=checks.number(0.1, 1_000),
                   help="shard into square tiles of this side (km; default with "
                   "--scheduler: about two tiles a worker, at least four times the longest "
                   "walk)")
    p.add_argument("--shard-inputs", choices=("auto", "shared", "scatter"), default="auto",
                   help="with --scheduler: shared = each worker reads its tile of the network "
                   "file itself (a GeoPackage, FlatGeobuf or shapefile at a path every worker "
                   "can open); scatter = this process reads it and sends each shard its piece; "
                   "auto (default): shared where the file and the run allow it")


def add_commands(sub) -> None:
    """Register ``coverage`` and ``batch coverage``."""
    p = sub.add_parser("coverage", help="walking-time coverage of residents by facility category")
    coverage_options(p)
    p.add_argument("--by", choices=("district", "township"),
                   help="shard by district (inside Chongqing) or by --townships instead of tiles")
    p.add_argument("--compare-profiles", action="store_true",
                   help="also cover the same residents for every walker profile (adult, "
                   "elderly, child, wheelchair) and write them side by side (layer profiles)")
    p.add_argument("--profiles-report", type=Path, metavar="FILE",
                   help="with --compare-profiles: the age-friendly (适老化) report, .html or .pdf")
    p.add_argument("--report-lang", choices=("zh", "en"), default="zh",
                   help="language of --profiles-report (default zh)")
    p.set_defaults(func=cmd_coverage)

    a = sub.add_parser("accessibility", help="2SFCA supply per resident by category, and the "
                       "equity of its spread (Gini, Theil, Palma)")
    for name, text in (("network", ".osm.pbf, .osm or road centre-lines"),
                       ("facilities", "as for coverage; a capacity column gives the supply"),
                       ("demand", "as for coverage")):
        a.add_argument(f"--{name}", required=True, help=text)
    a.add_argument("--method", choices=("2sfca", "e2sfca", "g2sfca"), default="2sfca",
                   help="2SFCA (1 within the catchment), E2SFCA (three zones weighted 1, 0.68, "
                        "0.22) or G2SFCA (Gaussian kernel)")
    a.add_argument("--minutes", type=checks.MINUTES, default=15.0, help="catchment (min)")
    input_options(a, ("network", "facilities", "demand"),
                  roles=(*BASE_ROLES, "capacity", "id"))
    a.add_argument("--category-map", type=Path, help="as for geo-app coverage")
    a.add_argument("--out", required=True, help="GeoPackage to write (--capacity-column: "
                   "facility supply, beds, seats, floor area …; default 1 per facility)")
    a.set_defaults(func=cmd_accessibility, out_suffixes=(".gpkg",))

    b = sub.add_parser("batch", help="run a command for every district or township at once")
    kinds = b.add_subparsers(dest="batch_command", required=True)
    q = kinds.add_parser("coverage", help="coverage of every district (or township) of the "
                         "area: one result and a per-zone summary")
    coverage_options(q)
    q.add_argument("--by", choices=("district", "township"), required=True)
    q.set_defaults(func=cmd_batch_coverage)


def _run(args: argparse.Namespace, say, client):
    """Read the inputs and run the coverage; ``client`` waits for the Dask client that
    :func:`~geo_app.workflows.dask_cluster.client_starting` began (before this process
    imported the rest, so that its workers start meanwhile)."""
    from concurrent.futures import ThreadPoolExecutor

    from geo_app.workflows import coverage as workflow

    say(0.0, "reading inputs")
    edits = edits_of(args)
    sharded = bool(args.scheduler or args.shard_km or args.by)
    by_tiles = _read_by_tiles(args, edits)
    with ThreadPoolExecutor(1) as pool:
        # the cluster starts (and, reading by tiles, its workers read the network) while
        # this process reads the facilities and residents
        tiles = pool.submit(_start_tiles, args, client) if by_tiles else None
        inputs = load_coverage_inputs(args, network_by_tiles=by_tiles)
        net = inputs.network
        if by_tiles:
            print(f"network: {args.network}, read tile by tile by the Dask workers")
        else:
            print(f"network: {len(net.nodes):,} nodes, {len(net.edges):,} walkable segments "
                  f"({args.network})")
        mode = "none" if args.no_isochrones else args.isochrones
        result = workflow.run(inputs, minutes=args.minutes, speed_m_s=args.speed,
                              area_type=args.area_type, steps_speed_m_s=args.steps_speed,
                              max_snap_m=args.max_snap_m, isochrones=mode, dem=args.dem,
                              dem_partial=args.dem_partial,
                              shard_by=(args.by or "tiles") if sharded else None,
                              shard_km=args.shard_km, client=client(),
                              tiles_started=tiles.result() if tiles else None,
                              profile=args.profile, edits=edits, join=args.join,
                              progress=lambda f, m: say(0.1 + 0.85 * f, m))
    if sharded:
        print(f"shards: {result.info('shards')}")
    return inputs, result


def _start_tiles(args: argparse.Namespace, client):
    """The workers start reading their tiles, with a halo for the longest threshold any
    category can have in this run."""
    from geo_app.config import DEFAULT
    from geo_app.workflows.coverage import thresholds_min
    from geo_app.workflows.shard_reads import NetworkFile, start
    from layers.facilities import load_basket

    longest = max(thresholds_min([*load_basket()["category"], "(other)"], minutes=args.minutes,
                                 area_type=args.area_type).values())
    nf = NetworkFile(str(args.network), datum_of(args, "network"), layer_of(args, "network"))
    return start(nf, client(), side_km=args.shard_km, longest_s=60.0 * longest,
                 speed_m_s=args.speed or DEFAULT.walk_speed_m_s,
                 steps_speed_m_s=args.steps_speed or DEFAULT.steps_speed_m_s,
                 max_snap_m=args.max_snap_m or DEFAULT.max_snap_m, dem=args.dem)


def _read_by_tiles(args: argparse.Namespace, edits) -> bool:
    """Whether the workers read the network themselves (``--shard-inputs``)."""
    from geo_app.errors import ParameterError
    from geo_app.workflows.shard_reads import readable_by_box

    want = getattr(args, "shard_inputs", "auto")
    if not getattr(args, "scheduler", None) or want == "scatter":
        if want == "shared":
            raise ParameterError("--shard-inputs shared needs --scheduler (the workers that "
                                 "read the network)")
        return False
    why = ("the network is not a GeoPackage, FlatGeobuf or shapefile"
           if not readable_by_box(args.network) else
           "--by shards by zone" if args.by else
           "--profile and --edits need the whole network here" if args.profile or edits
           else "--dem-partial needs the whole network" if getattr(args, "dem_partial", False)
           else None)
    if why and want == "shared":
        raise ParameterError(f"--shard-inputs shared: {why}; use --shard-inputs scatter")
    return why is None


def load_coverage_inputs(args: argparse.Namespace, *, network_by_tiles: bool = False):
    """The network, facilities and demand of ``coverage``/``accessibility``, read with the
    input options; how they were read and the warnings raised go to the inputs' sources
    (the result's run info)."""
    import dataclasses

    from geo_app.workflows import coverage as workflow

    names = ("facilities", "demand")
    with input_notes() as notes:
        inputs = workflow.load_inputs(
            args.network, args.facilities, args.demand, datum=args.datum,
            townships=getattr(args, "townships", None),
            township_name=getattr(args, "township_name", "name"),
            category_map=category_map_of(args), on_bad_rows=args.on_bad_rows,
            network_datum=datum_of(args, "network"),
            facilities_datum=datum_of(args, "facilities"),
            demand_datum=datum_of(args, "demand"),
            layers={n: layer_of(args, n) for n in ("network", *names) if layer_of(args, n)},
            columns={n: columns_of(args, n) for n in names},
            network_by_tiles=network_by_tiles)
    info = {k: v for k, v in run_info_of(args, notes).items()
            if not k.startswith("input_") or k == "input_warnings"}
    return dataclasses.replace(inputs, sources={**inputs.sources, **info})


def category_map_of(args: argparse.Namespace) -> dict | None:
    """The ``--category-map`` file as value → basket key (None without one)."""
    if getattr(args, "category_map", None) is None:
        return None
    from layers.facilities import load_basket, read_category_map

    return read_category_map(args.category_map, load_basket())


def _check_out(out: str) -> None:
    from geo_app.io.files import check_output, output_kind

    if output_kind(out) == "gpkg":  # refuse an unknown format or a non-file before any work
        check_output(out, (".gpkg",))
    elif not str(out).endswith(("/", "\\")) and not Path(out).is_dir():
        check_output(out, (".parquet",))


def cmd_coverage(args: argparse.Namespace) -> int:
    from geo_app.cli.progress import progress_bar
    from geo_app.workflows.dask_cluster import client_starting

    _check_out(args.out)
    if args.compare_profiles and (args.scheduler or args.shard_km or args.by):
        from geo_app.errors import ParameterError

        raise ParameterError("--compare-profiles runs in one process: leave out --scheduler, "
                             "--shard-km and --by")
    report = getattr(args, "profiles_report", None)
    if report is not None:
        from geo_app.errors import ParameterError
        from geo_app.io.files import check_output

        if not args.compare_profiles:
            raise ParameterError("--profiles-report needs --compare-profiles")
        check_output(report, (".html", ".htm", ".pdf"))
    with progress_bar("coverage") as say:
        with client_starting(args.scheduler) as client:  # its workers start before imports
            inputs, result = _run(args, say, client)
        from geo_app.io.export import write_layers
        from geo_app.workflows.coverage import result_layers, summary_text

        layers = result_layers(result)
        if args.compare_profiles:
            layers["profiles"] = _profiles(args, inputs, say)
        say(0.95, "writing")
        written = write_layers(layers, args.out)
    if inputs.demand["estimate"].any():
        print("population: ESTIMATE from OSM residential buildings (footprint area x levels)")
    print(summary_text(result))
    if "profiles" in layers:
        from geo_app.workflows.profile_compare import profiles_text

        print("\nshare covered by walker:")
        print(profiles_text(layers["profiles"]))
        if report is not None:
            _write_profiles_report(layers["profiles"], report, args.report_lang,
                                   Path(str(args.network)).name)
            print(f"wrote {report}")
    where = args.out if len(written) == 1 else f"{len(written)} GeoParquet files at {args.out}"
    print(f"wrote {where} (layers: {', '.join(layers)})")
    return 0


def _write_profiles_report(table, path: Path, lang: str, source: str) -> None:
    from geo_app.io.files import write_atomic
    from geo_app.io.walker_report import walkers_report_html, walkers_report_pdf

    if path.suffix.lower() == ".pdf":
        from geo_app.errors import OutputError

        try:
            data = walkers_report_pdf(table, lang=lang, source=source)
        except RuntimeError as exc:  # no Chromium here: the HTML report needs none
            raise OutputError(f"{path}: {exc}; write the report as .html instead") from None
    else:
        data = walkers_report_html(table, lang=lang, source=source).encode("utf-8")
    write_atomic(path, data)


def _profiles(args: argparse.Namespace, inputs, say):
    """Coverage side by side for every walker (``--compare-profiles``)."""
    from geo_app.workflows.profile_compare import profiles_table

    return profiles_table(inputs, minutes=args.minutes, area_type=args.area_type,
                          max_snap_m=args.max_snap_m, dem=args.dem, dem_partial=args.dem_partial,
                          edits=edits_of(args), join=args.join,
                          progress=lambda f, m: say(0.8 + 0.15 * f, m))


def cmd_batch_coverage(args: argparse.Namespace) -> int:
    from geo_app.cli.progress import progress_bar
    from geo_app.workflows.dask_cluster import client_starting

    _check_out(args.out)
    with progress_bar(f"coverage by {args.by}") as say:
        with client_starting(args.scheduler) as client:
            _, result = _run(args, say, client)
        from geo_app.io.export import csv_bytes, write_layers
        from geo_app.io.files import write_atomic
        from geo_app.workflows.coverage import result_layers, zone_table

        say(0.95, "writing")
        layers = result_layers(result)
        table = zone_table(result, args.by)
        layers[f"by_{args.by}"] = table
        written = write_layers(layers, args.out)
    out = Path(str(args.out).rstrip("/\\"))
    csv = out.with_name(f"{out.stem}.{args.by}.csv") if out.suffix else out / f"{args.by}.csv"
    write_atomic(csv, csv_bytes(table))
    print(f"{len(table)} {args.by} summaries; residents {table['population'].sum():,.0f}")
    for r in table.sort_values("share_basket").head(10).itertuples():
        print(f"  {r.zone}: {r.population:,.0f} residents, full basket {100 * r.share_basket:.1f}%")
    where = args.out if len(written) == 1 else f"{len(written)} GeoParquet files at {args.out}"
    print(f"wrote {where} (layers: {', '.join(layers)}) and {csv}")
    return 0


def cmd_accessibility(args: argparse.Namespace) -> int:
    import pandas as pd

    from geo_app.cli.progress import progress_bar
    from geo_app.io.export import run_info, write_gpkg_layers
    from geo_app.workflows.accessibility import run_accessibility

    with progress_bar("accessibility") as say:
        say(0.0, "reading inputs")
        inputs = load_coverage_inputs(args)
        say(0.2, f"{args.method} by category")
        capacity = columns_of(args, "facilities").get("capacity")
        if capacity is not None and capacity not in inputs.facilities.columns:
            capacity = "capacity"  # the reader names the column by its role
        result = run_accessibility(inputs.network, inputs.facilities, inputs.demand,
                                   method=args.method, minutes=args.minutes,
                                   capacity_column=capacity, zones=inputs.zones)
        say(0.9, "writing")
        extra = {f"source_{k}": v for k, v in inputs.sources.items()}
        result.run_info = pd.concat([result.run_info, run_info(extra)], ignore_index=True)
        write_gpkg_layers(result.layers(), args.out)
    area = result.equity[result.equity["zone_type"] == "study_area"]
    print(f"{'category':<20}{'per 1,000':>12}{'Gini':>8}{'Theil':>8}{'Palma':>8}")
    for r in area.itertuples():
        print(f"{r.category:<20}{r.mean_per_1000:>12.3f}{r.gini:>8.3f}{r.theil:>8.3f}"
              f"{r.palma:>8.2f}")
    print(f"wrote {args.out} (layers: demand with access_<category>, supply, equity, run_info)")
    return 0
