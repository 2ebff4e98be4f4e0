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

    p = sub.add_parser("serve", help="start the Streamlit app")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print one clear line and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, KeyError) as exc:
        print(f"geo-app: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
