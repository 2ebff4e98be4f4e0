"""The ``geo-app`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from geo_app.labels import LANGS


def _cmd_layers(args: argparse.Namespace) -> int:
    from geo_app.pipeline import layer_summary, load_base_layers

    table = layer_summary(load_base_layers(), args.lang)
    width = max(len(k) for k in table["layer"])
    print(f"{'layer':<{width}}  features  no-coords  source")
    for row in table.itertuples():
        print(f"{row.layer:<{width}}  {row.features:>8}  {row.without_coordinates:>9}  "
              f"{row.label}: {row.source}")
    return 0


def _cmd_map_overview(args: argparse.Namespace) -> int:
    from geo_app.maps import overview_map
    from geo_app.offline import save_offline_html
    from geo_app.pipeline import load_base_layers

    base = load_base_layers()
    keys = args.layers or list(base.places)
    unknown = [k for k in keys if k not in base.places]
    if unknown:
        raise ValueError(f"unknown layer(s) {', '.join(unknown)}: expected {', '.join(base.places)}")
    m = overview_map(base.districts, {k: base.places[k] for k in keys},
                     choropleth=args.choropleth, lang=args.lang, tiles=args.tiles)
    out = save_offline_html(m, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, works offline)")
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from geo_app import workflow
    from geo_app.coverage import summary_text, write_geopackage

    inputs = workflow.load_inputs(args.network, args.facilities, args.demand, datum=args.datum,
                                  townships=args.townships, township_name=args.township_name)
    net = inputs.network
    print(f"network: {len(net.nodes):,} nodes, {len(net.edges):,} walkable segments ({args.network})")
    result = workflow.run(inputs, minutes=args.minutes, speed_m_s=args.speed,
                          area_type=args.area_type, steps_speed_m_s=args.steps_speed,
                          max_snap_m=args.max_snap_m, isochrones=not args.no_isochrones,
                          dem=args.dem)
    write_geopackage(result, args.out)
    if inputs.demand["estimate"].any():
        print("population: ESTIMATE from OSM residential buildings (footprint area x levels)")
    print(summary_text(result))
    for w in result.warnings:
        print(f"warning: {w}")
    print(f"wrote {args.out} (layers: demand, summary, gaps, isochrones, facilities, "
          f"life_circles, run_info)")
    return 0


def _siting_inputs(args: argparse.Namespace):
    """Network, demand, existing facilities and the prepared siting run for site/evaluate."""
    from geo_app.inputs import load_demand, load_facilities
    from layers.network import read_network

    net = read_network(args.network, datum=args.datum)
    print(f"network: {len(net.nodes):,} nodes, {len(net.edges):,} walkable segments")
    demand = load_demand(args.demand, network=args.network, datum=args.datum)
    existing = load_facilities(args.existing, datum=args.datum) if args.existing else None
    if existing is not None and args.category:
        existing = existing[existing["category"] == args.category]
    return net, demand, existing


def _print_run(summary, sites, warnings) -> None:
    row = summary.iloc[0]
    print(f"objective {row['objective']}: {row['value']:,.1f} (bound {row['bound']:,.1f}, "
          f"gap {100 * row['gap']:.2f}%, {row['solver']}, {row['status']}); "
          f"prepare {row['seconds_prepare']:.2f} s, solve {row['seconds_solve']:.2f} s")
    print(f"residents {row['residents']:,.0f}: covered before {row['covered_before']:,.0f}, "
          f"newly covered {row['newly_covered']:,.0f}, share after {100 * row['share_after']:.1f}%")
    print(f"{'#':>3}  {'gain':>10}  {'alone':>10}  {'unique':>10}  site")
    for r in sites.itertuples():
        print(f"{r.order:>3}  {r.gain:>10,.0f}  {r.gain_alone:>10,.0f}  {r.unique_gain:>10,.0f}  "
              f"{r.name} ({r.geometry.x:.5f}, {r.geometry.y:.5f})")
    for w in warnings:
        print(f"warning: {w}")


def _cmd_site(args: argparse.Namespace) -> int:
    import pandas as pd

    from geo_app.export import write_gpkg_layers
    from geo_app.pipeline import walk_graph_from_network
    from geo_app.siting import (
        district_groups,
        prepare,
        sites_frame,
        solve,
        summary_frame,
        uncovered_frame,
    )
    from geo_app.siting_workflow import candidate_sites
    from layers import load_districts

    net, demand, existing = _siting_inputs(args)
    graph = walk_graph_from_network(net, speed_m_s=args.speed)
    candidates = candidate_sites(args.candidates, graph, network=args.network, datum=args.datum,
                                 max_snap_m=args.max_snap_m)
    print(f"candidates: {len(candidates):,} ({args.candidates})")
    run = prepare(graph, demand, candidates, existing=existing, minutes=args.minutes,
                  speed_m_s=args.speed, max_snap_m=args.max_snap_m)
    groups = lo = hi = None
    if args.quotas:
        groups, lo, hi, _ = district_groups(run.candidates, load_districts(),
                                            pd.read_csv(args.quotas, dtype={"district": str}))
    result = solve(run, n=args.n, objective=args.objective, target_share=args.target_share,
                   groups=groups, min_per_group=lo, max_per_group=hi,
                   time_limit_s=args.time_limit, exact=not args.heuristic,
                   capacity=args.capacity)
    sites = sites_frame(run, result)
    summary = summary_frame(run, result, args.objective)
    write_gpkg_layers({"sites": sites, "summary": summary,
                       "uncovered": uncovered_frame(run, result.sites)}, args.out)
    _print_run(summary, sites, run.warnings)
    print(f"wrote {args.out} (layers: sites, summary, uncovered)")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from geo_app.export import write_gpkg_layers
    from geo_app.siting import prepare, read_sites, sites_frame, summary_frame, uncovered_frame
    from analysis.siting import SitingResult

    net, demand, existing = _siting_inputs(args)
    proposal = read_sites(args.sites, datum=args.datum)
    run = prepare(net, demand, proposal, existing=existing, minutes=args.minutes,
                  speed_m_s=args.speed, max_snap_m=args.max_snap_m)
    sites = list(range(len(proposal)))
    from analysis.siting import _gains_in_order, covered_weight

    value = covered_weight(run.cover, run.weights, sites, run.covered)
    result = SitingResult(sites, value, value, "evaluation", 0.0,
                          _gains_in_order(run.cover, run.weights, sites, run.covered), "given")
    table = sites_frame(run, result)
    summary = summary_frame(run, result, "evaluate")
    write_gpkg_layers({"sites": table, "summary": summary,
                       "uncovered": uncovered_frame(run, sites)}, args.out)
    _print_run(summary, table, run.warnings)
    print(f"wrote {args.out} (layers: sites, summary, uncovered)")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import subprocess

    app = Path(__file__).resolve().parents[1] / "streamlit_app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.enableStaticServing", "true"]  # Leaflet is served from ./static
    print(f"starting the app at http://localhost:{args.port} (Ctrl+C stops it)")
    try:
        return subprocess.call(cmd, cwd=app.parent)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    from geo_app.maps import CHOROPLETH_VARIABLES, TILES

    parser = argparse.ArgumentParser(prog="geo-app",
                                     description="Chongqing 15-minute life-circle planner")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("layers", help="list the bundled layers with feature counts and sources")
    p.add_argument("--lang", choices=LANGS, default="zh")
    p.set_defaults(func=_cmd_layers)

    p = sub.add_parser("map", help="write a map as a standalone HTML file")
    maps = p.add_subparsers(dest="map_kind", required=True)
    o = maps.add_parser("overview", help="districts, business circles, logistics bases, clusters")
    o.add_argument("--out", required=True, type=Path, help="HTML file to write")
    o.add_argument("--choropleth", choices=CHOROPLETH_VARIABLES, default="pop_2020")
    o.add_argument("--lang", choices=LANGS, default="zh")
    o.add_argument("--tiles", choices=TILES, default="blank",
                   help="initial base map (both stay selectable): blank works offline")
    o.add_argument("--layers", nargs="*", help="point layers to draw (default: all)")
    o.set_defaults(func=_cmd_map_overview)

    p = sub.add_parser("coverage", help="walking-time coverage of residents by facility category")
    p.add_argument("--network", required=True, type=Path,
                   help=".osm.pbf, .osm, or road centre-lines (GeoJSON/GeoPackage/Shapefile)")
    p.add_argument("--facilities", required=True,
                   help="CSV (lon, lat, category) or vector file with 'category'; an .osm.pbf/.osm "
                        "file maps its OSM tags to the facility basket")
    p.add_argument("--demand", required=True,
                   help="CSV (lon, lat, population), vector points/polygons with 'population', a "
                        "population GeoTIFF, or 'buildings' to estimate residents from the OSM "
                        "network file's residential buildings")
    p.add_argument("--out", required=True, type=Path, help="GeoPackage to write")
    p.add_argument("--minutes", type=float, help="one threshold for every category "
                   "(default: each basket category's life-circle level, 15 min for others)")
    p.add_argument("--speed", type=float, default=1.0, help="walking speed, m/s (default 1.0)")
    p.add_argument("--steps-speed", type=float, default=0.5, help="speed on steps, m/s")
    p.add_argument("--max-snap-m", type=float, default=500.0,
                   help="points farther than this from the network are off-network (m)")
    p.add_argument("--area-type", choices=("urban", "rural"), default="urban",
                   help="rural uses the 30-minute rural life-circle standard")
    p.add_argument("--datum", default="wgs84", help="datum of user files: wgs84, cgcs2000, gcj02, "
                   "bd09 or EPSG:<code>")
    p.add_argument("--townships", type=Path, help="township polygons for the summary")
    p.add_argument("--township-name", default="name", help="name column of --townships")
    p.add_argument("--dem", type=Path, help="DEM GeoTIFF: walking times follow Tobler's hiking "
                   "function on slopes, in each direction")
    p.add_argument("--no-isochrones", action="store_true", help="skip per-facility isochrones")
    p.set_defaults(func=_cmd_coverage)

    def siting_common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--network", required=True, type=Path, help="as for geo-app coverage")
        q.add_argument("--demand", required=True, help="as for geo-app coverage")
        q.add_argument("--existing", help="existing facilities (counted as already covering)")
        q.add_argument("--category", help="only existing facilities of this category")
        q.add_argument("--minutes", type=float, default=15.0, help="walking threshold (min)")
        q.add_argument("--speed", type=float, default=1.0, help="walking speed, m/s")
        q.add_argument("--max-snap-m", type=float, default=500.0,
                       help="points farther than this from the network are off-network (m)")
        q.add_argument("--datum", default="wgs84", help="datum of user files")
        q.add_argument("--out", required=True, type=Path, help="GeoPackage to write")

    p = sub.add_parser("site", help="choose new hub sites (maximal covering, set cover, p-median)")
    siting_common(p)
    p.add_argument("--candidates", required=True,
                   help="a file of candidate sites, grid:METRES for a grid over the network, or "
                        "osm for community/public buildings and vacant land in the OSM network file")
    p.add_argument("--n", type=int, help="number of sites (mclp, pmedian; a cap for cover)")
    p.add_argument("--objective", choices=("mclp", "cover", "pmedian"), default="mclp")
    p.add_argument("--target-share", type=float, default=0.9,
                   help="cover: share of residents to reach (0–1)")
    p.add_argument("--quotas", type=Path, help="CSV of district (name or code), min, max sites")
    p.add_argument("--capacity", type=float, help="mclp: residents one hub can serve at most")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds for the exact solver")
    p.add_argument("--heuristic", action="store_true", help="greedy + swaps only, no MIP")
    p.set_defaults(func=_cmd_site)

    p = sub.add_parser("evaluate", help="gains of a proposed set of sites")
    siting_common(p)
    p.add_argument("--sites", required=True, help="the proposed sites (points or polygons)")
    p.set_defaults(func=_cmd_evaluate)

    from geo_app.cli_clusters import add_commands

    add_commands(sub)

    p = sub.add_parser("serve", help="start the Streamlit app")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print one clear line and exit with status 2."""
    parser = build_parser()
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, KeyError) as exc:
        if args.debug:
            raise
        print(f"geo-app: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an unforeseen failure still gets one readable line
        if args.debug:
            raise
        print(f"geo-app: error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
