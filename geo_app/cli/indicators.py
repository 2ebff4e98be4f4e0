"""``geo-app indicators``: 城市体检 / GB 50180 / TD/T 1062 indicators and standards compliance
of a coverage result."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_app.cli import checks
from geo_app.labels import LANGS

YEAR = checks.number(1990, 2100, integer=True)


def add_commands(sub) -> None:
    """Register ``indicators``."""
    p = sub.add_parser("indicators", help="city check-up (城市体检), GB 50180 and TD/T 1062 "
                       "indicators and standards compliance of a coverage result, by zone and "
                       "population group")
    p.add_argument("--coverage", required=True, type=Path,
                   help="a coverage result GeoPackage (geo-app coverage --out result.gpkg)")
    land = "an .osm.pbf/.osm file, 'osm' (the coverage run's OSM network file) or a file of "
    p.add_argument("--residential-land",
                   help=land + "residential land polygons (the denominator of land indicators)")
    p.add_argument("--parks", help=land + "park polygons (classed by area)")
    p.add_argument("--greenways", help="a file of greenway lines")
    p.add_argument("--datum", default="wgs84", help="datum of the land files")
    p.add_argument("--year", type=YEAR, help="use the definitions in force in this year "
                   "(default: the latest of each indicator)")
    p.add_argument("--indicator-table", type=Path,
                   help="an edited indicators.csv (default: the bundled table)")
    p.add_argument("--standards", type=Path,
                   help="an edited standards.csv (default: the bundled table)")
    p.add_argument("--lang", choices=LANGS, default="zh", help="language of rules and notes")
    p.add_argument("--out", required=True, type=Path,
                   help="indicators.xlsx (one sheet per table), indicators.csv (with "
                        "indicators.compliance.csv beside it) or indicators.gpkg")
    p.set_defaults(func=cmd_indicators, out_suffixes=(".xlsx", ".csv", ".gpkg"))


def cmd_indicators(args: argparse.Namespace) -> int:
    from geo_app.cli.progress import progress_bar
    from geo_app.io.indicators import write_indicators
    from geo_app.workflows.indicators import load_inputs, run_indicators
    from layers.standards import check_links, read_indicators, read_standards

    definitions = standards = None
    if args.indicator_table is not None:
        definitions = read_indicators(args.indicator_table)
    if args.standards is not None:
        standards = read_standards(args.standards)
    if standards is not None:  # its 'indicators' column names ids of the table in use
        from layers.standards import load_indicators

        check_links(standards, load_indicators() if definitions is None else definitions,
                    str(args.standards))
    with progress_bar("indicators") as say:
        say(0.0, "reading the coverage result and land layers")
        inputs = load_inputs(args.coverage, residential_land=args.residential_land,
                             parks=args.parks, greenways=args.greenways, datum=args.datum)
        say(0.4, "indicators and compliance")
        result = run_indicators(inputs, year=args.year, definitions=definitions,
                                standards=standards, lang=args.lang)
        say(0.9, "writing")
        written = write_indicators(result, args.out)
    print(summary_text(result))
    print(f"wrote {', '.join(map(str, written))}")
    return 0


def summary_text(result) -> str:
    """The study area's indicators for a terminal: value, target, denominator kind."""
    rows = result.study_area()
    lines = [f"{'indicator':<26}{'value %':>9}{'target %':>10}  denominator"]
    for r in rows.itertuples(index=False):
        value = "-" if r.value_pct != r.value_pct else f"{r.value_pct:.1f}"
        target = "-" if r.target_pct != r.target_pct else f"{r.target_pct:g}"
        lines.append(f"{r.indicator:<26}{value:>9}{target:>10}  {r.denominator_kind}"
                     + ("  (not computed: see the warning)" if value == "-" else ""))
    groups = sorted(set(result.table["group"]) - {"all"})
    if groups:
        lines.append(f"groups reported beside the total: {', '.join(groups)}")
    lines.append("definitions marked 'verify' were not checked against the official text")
    return "\n".join(lines)
