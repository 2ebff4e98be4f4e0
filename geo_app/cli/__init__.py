"""The ``geo-app`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from geo_app.cli import base, checks, coverage, inputs, siting
from geo_app.labels import LANGS


def build_parser() -> argparse.ArgumentParser:
    from geo_app.maps import CHOROPLETH_VARIABLES, TILES

    parser = argparse.ArgumentParser(prog="geo-app",
                                     description="Chongqing 15-minute life-circle planner")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("layers", help="list the bundled layers with feature counts and sources")
    p.add_argument("--lang", choices=LANGS, default="zh")
    p.set_defaults(func=base.cmd_layers)

    p = sub.add_parser("map", help="write a map as a standalone HTML file")
    maps = p.add_subparsers(dest="map_kind", required=True)
    o = maps.add_parser("overview", help="districts, business circles, logistics bases, clusters")
    o.add_argument("--out", required=True, type=Path, help="HTML file to write")
    o.add_argument("--choropleth", choices=CHOROPLETH_VARIABLES, default="pop_2020")
    o.add_argument("--lang", choices=LANGS, default="zh")
    o.add_argument("--tiles", choices=TILES, default="blank",
                   help="initial base map (both stay selectable): blank works offline")
    o.add_argument("--layers", nargs="*", help="point layers to draw (default: all)")
    o.set_defaults(func=base.cmd_map_overview, out_suffixes=(".html", ".htm"))

    coverage.add_commands(sub)

    def siting_common(q: argparse.ArgumentParser, sites: str) -> None:
        q.add_argument("--network", required=True, type=Path, help="as for geo-app coverage")
        q.add_argument("--demand", required=True, help="as for geo-app coverage")
        q.add_argument("--existing", help="existing facilities (counted as already covering)")
        q.add_argument("--category", help="only existing facilities of this category")
        q.add_argument("--category-map", type=Path, help="CSV (value, category) for category "
                       "values of --existing that the basket's names and aliases do not match")
        inputs.input_options(q, ("network", "demand", "existing", sites),
                             roles=(*inputs.BASE_ROLES, "id"))
        q.add_argument("--minutes", type=checks.MINUTES, default=15.0,
                       help="walking threshold (min)")
        q.add_argument("--speed", type=checks.from_settings("walk_speed_m_s"), default=1.0,
                       help="walking speed, m/s")
        q.add_argument("--max-snap-m", type=checks.from_settings("max_snap_m"), default=500.0,
                       help="points farther than this from the network are off-network (m)")
        q.add_argument("--out", required=True, type=Path, help="GeoPackage to write")
        siting.add_network_options(q)

    p = sub.add_parser("site", help="choose new hub sites (maximal covering, set cover, p-median)")
    siting_common(p, "candidates")
    p.add_argument("--candidates", required=True,
                   help="a file of candidate sites, grid:METRES for a grid over the network, or "
                        "osm for community/public buildings and vacant land in the OSM network "
                        "file")
    p.add_argument("--n", type=checks.number(1, integer=True),
                   help="number of sites (mclp, pmedian; a cap for cover)")
    p.add_argument("--objective", choices=("mclp", "cover", "pmedian"), default="mclp")
    p.add_argument("--target-share", type=checks.number(0, 1, lo_open=True), default=0.9,
                   help="cover: share of residents to reach (0–1)")
    p.add_argument("--quotas", type=Path, help="CSV of district (name or code), min, max sites")
    p.add_argument("--capacity", type=checks.number(0, lo_open=True),
                   help="mclp: residents one hub can serve at most")
    p.add_argument("--time-limit", type=checks.number(0, 86_400, lo_open=True), default=10.0,
                   help="seconds for the exact solver")
    p.add_argument("--heuristic", action="store_true", help="greedy + swaps only, no MIP")
    p.add_argument("--by", choices=("district",),
                   help="solve each district of --quotas on its own (its 'max' sites), in "
                        "parallel with --scheduler; the union is evaluated over the whole area")
    p.add_argument("--scheduler", help="with --by: local, local:N or tcp://HOST:PORT (Dask)")
    p.set_defaults(func=siting.cmd_site, out_suffixes=(".gpkg",))

    p = sub.add_parser("evaluate", help="gains of a proposed set of sites")
    siting_common(p, "sites")
    p.add_argument("--sites", required=True, help="the proposed sites (points or polygons)")
    p.set_defaults(func=siting.cmd_evaluate, out_suffixes=(".gpkg",))

    from geo_app.cli.clusters import add_commands

    add_commands(sub)

    from geo_app.cli.indicators import add_commands as add_indicator_commands

    add_indicator_commands(sub)

    from geo_app.cli.scorecard import add_commands as add_scorecard_commands

    add_scorecard_commands(sub)

    from geo_app.cli.cluster import add_commands as add_cluster_commands

    add_cluster_commands(sub)

    p = sub.add_parser("serve", help="start the Streamlit app")
    p.add_argument("--port", type=checks.number(1, 65_535, integer=True), default=8501)
    p.set_defaults(func=base.cmd_serve)
    return parser


# what each output option may be; --out of coverage is checked by its command (it also takes
# .parquet and folders)
OUTPUT_SUFFIXES = {"map": (".html", ".htm"), "density": (".tif", ".tiff")}


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, an output path whose extension, kind or folder would fail."""
    from geo_app.io.files import check_output

    wanted = {"out": getattr(args, "out_suffixes", None), **OUTPUT_SUFFIXES}
    for name, suffixes in wanted.items():
        value = getattr(args, name, None)
        if value is not None and suffixes:
            check_output(value, suffixes)


def stop_on_sigterm() -> None:
    """Let SIGTERM stop a command the way Ctrl+C does, so that half-written temporary files
    are removed (the atomic writer cleans up on any interruption)."""
    import signal
    import threading

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def _show_warning(original):
    """Print the project's warnings as one ``warning: …`` line on stderr; others as usual."""
    from geo_app.errors import GeoAppWarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, GeoAppWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print one clear line and exit with status 2."""
    import logging
    import warnings

    from geo_app.errors import GeoAppError, GeoAppWarning

    parser = build_parser()
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    with warnings.catch_warnings():
        warnings.simplefilter("always", GeoAppWarning)
        warnings.showwarning = _show_warning(warnings.showwarning)
        stop_on_sigterm()
        try:
            check_outputs(args)
            inputs.check_options(args)
            return args.func(args)
        except (GeoAppError, ValueError, OSError, KeyError) as exc:
            if args.debug:
                raise
            print(f"geo-app: error: {inputs.hint(args, str(exc))}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # Ctrl+C: one line, not a traceback
            if args.debug:
                raise
            print("geo-app: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # an unforeseen failure still gets one readable line
            if args.debug:
                raise
            print(f"geo-app: error: {type(exc).__name__}: {exc} (run with --debug for details)",
                  file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
