"""``geo-app life-circles`` (delineate life circles on a coverage result and count those
meeting the standard) and ``geo-app scorecard`` (district scorecards and the 2027 targets)."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo_app.cli import checks
from geo_app.labels import LANGS

PEOPLE = checks.number(0, 1e8, unit="persons")


def add_commands(sub) -> None:
    """Register ``life-circles`` and ``scorecard``."""
    p = sub.add_parser("life-circles", help="partition the residents of a coverage result into "
                       "contiguous life circles (population floor and ceiling, longest walk) "
                       "and count those meeting the standard")
    p.add_argument("--coverage", required=True, type=Path,
                   help="a coverage result GeoPackage (geo-app coverage --out result.gpkg)")
    p.add_argument("--network", type=Path, help="the network file (default: the one the "
                   "coverage result names)")
    p.add_argument("--network-datum", default="wgs84", help="datum of --network")
    p.add_argument("--townships", type=Path, help="community or township polygons the circles "
                   "must respect")
    p.add_argument("--township-name", default="name", help="name column of --townships")
    p.add_argument("--nest", choices=("within", "whole"), default="within",
                   help="within: a circle never crosses a boundary; whole: a polygon is never "
                        "split (circles made of whole communities)")
    p.add_argument("--tier", type=int, choices=(5, 10, 15), default=15,
                   help="life-circle level (min): sets the defaults below")
    p.add_argument("--min-pop", type=PEOPLE, help="residents floor (15-min: 50000)")
    p.add_argument("--max-pop", type=PEOPLE, help="residents ceiling (15-min: 100000)")
    p.add_argument("--max-minutes", type=checks.number(0, 120, lo_open=True, unit="minutes"),
                   help="longest walk from a resident to the circle's centre (default: tier)")
    p.add_argument("--min-share", type=checks.number(0, 1, lo_open=True), help="share of a "
                   "circle's residents that must reach its level's whole basket (default 0.9)")
    p.add_argument("--unit-m", type=checks.POSITIVE_M, help="side of the squares residents "
                   "are grouped in before circles are drawn (default: a quarter of the walk)")
    p.add_argument("--method", choices=("network", "spopt", "hubs"), default="network",
                   help="network: max-p with floor, ceiling and walk on the walk network; "
                        "spopt: PySAL spopt max-p (floor only); hubs: the run's hub circles")
    p.add_argument("--standards", type=Path, help="an edited standards.csv")
    p.add_argument("--target", type=checks.number(1, 1e6), help="circles meeting the "
                   "standard the plan asks for (default: targets.csv, 100 citywide by 2027)")
    p.add_argument("--sites", type=Path, help="proposed hub sites: circles before and after "
                   "adding them (the coverage is redone from the files its run info names)")
    p.add_argument("--datum", default="wgs84", help="datum of --sites and --townships")
    p.add_argument("--out", required=True, type=Path, help="circles.gpkg")
    p.set_defaults(func=cmd_life_circles, out_suffixes=(".gpkg",))

    p = sub.add_parser("scorecard", help="district scorecards: residents, coverage, circles "
                       "meeting the standard, hubs, facilities per 10,000, places, ranks, "
                       "region groups and the 2027 targets, one Excel sheet per view")
    p.add_argument("--coverage", nargs="*", type=Path, default=[],
                   help="coverage result GeoPackages (none: census figures and places only)")
    p.add_argument("--circles", nargs="*", type=Path, default=[],
                   help="life-circle GeoPackages (geo-app life-circles --out)")
    p.add_argument("--zones", type=Path, help="zone polygons instead of the 38 districts")
    p.add_argument("--zone-name", default="name", help="name column of --zones")
    p.add_argument("--project", type=Path, help="a project file (.cqproj.sqlite): its siting "
                   "scenarios count as proposed, its marked facilities as marked")
    p.add_argument("--scenario", action="append", help="only this siting scenario (repeat)")
    p.add_argument("--marks", type=Path, help="CSV/Excel of facilities marked for targets "
                   "(target, name, status built/proposed, district, lon, lat)")
    p.add_argument("--targets", type=Path, help="an edited targets.csv")
    p.add_argument("--datum", default="wgs84", help="datum of --zones")
    p.add_argument("--lang", choices=LANGS, default="zh", help="language of the workbook")
    p.add_argument("--out", required=True, type=Path, help="card.xlsx")
    p.set_defaults(func=cmd_scorecard, out_suffixes=(".xlsx",))


def _polygons(path: Path, name: str, datum: str):
    from layers.userfile import read_user_layer

    gdf, _ = read_user_layer(path, datum=datum, required_columns=(name,),
                             geometry_types=("Polygon", "MultiPolygon"))
    return gdf


def default_target() -> float:
    from layers.targets import load_targets, needed

    t = load_targets()
    row = t[t["counted_from"] == "life_circles"]
    return needed(next(row.itertuples(index=False))) if len(row) else float("nan")


def cmd_life_circles(args: argparse.Namespace) -> int:
    from geo_app.cli.progress import progress_bar
    from geo_app.io.scorecard import write_circles
    from geo_app.workflows import life_circles as lc
    from geo_app.workflows.coverage_data import read_coverage
    from layers.standards import read_standards

    standards = read_standards(args.standards) if args.standards else None
    mode = "hubs" if args.method == "hubs" else "delineate"
    params = lc.circle_params(args.tier, min_pop=args.min_pop, max_pop=args.max_pop,
                              max_minutes=args.max_minutes, min_share=args.min_share,
                              unit_m=args.unit_m, nest=args.nest, mode=mode,
                              method="network" if mode == "hubs" else args.method)
    bounds = _polygons(args.townships, args.township_name, args.datum) \
        if args.townships else None
    target = args.target if args.target is not None else default_target()
    extra = {}
    with progress_bar("life circles") as say:
        say(0.0, "reading the coverage result")
        data = read_coverage(args.coverage)
        graph = None
        if mode == "delineate" or args.sites:
            say(0.1, "the walk network")
            graph = lc.walk_graph_of(data, args.network, datum=args.network_datum)
        say(0.3, "drawing the circles")
        if args.sites:
            effect = _before_after(args, data, graph, params, bounds, standards, target)
            circles = effect.after
            extra = {"counts": effect.counts, "flips": effect.flips,
                     "circles_before": effect.before.circles}
        else:
            circles = lc.delineate_circles(data, graph, params, boundaries=bounds,
                                           boundary_name=args.township_name,
                                           standards=standards)
            extra = {"counts": lc.count_meeting(circles.circles, target)}
        say(0.9, "writing")
        write_circles(circles, args.out, extra)
    print(circles_text(circles, extra, target))
    print(f"wrote {args.out} (layers: {', '.join(['circles', 'units', 'run_info', *extra])})")
    return 0


def _before_after(args, data, graph, params, bounds, standards, target):
    from geo_app.workflows.circle_effects import circles_before_after
    from geo_app.workflows.coverage import load_inputs
    from geo_app.workflows.siting import read_sites

    src = {k: data.info.get(f"source_{k}") for k in ("network", "facilities", "demand")}
    if not all(src.values()):
        raise ValueError(f"{args.coverage}: its run info does not name the network, facilities "
                         "and demand files the coverage was made from; --sites needs them")
    inputs = load_inputs(args.network or src["network"], src["facilities"], src["demand"])
    limits = set(data.thresholds_min.values())
    minutes = limits.pop() if len(limits) == 1 else None
    return circles_before_after(inputs, read_sites(args.sites, datum=args.datum), params,
                                minutes=minutes, graph=graph,
                                speed_m_s=float(data.info.get("speed_m_s", 1.0)),
                                boundaries=bounds, boundary_name=args.township_name,
                                standards=standards, target=target,
                                max_snap_m=float(data.info.get("max_snap_m", 500.0)))


def circles_text(circles, extra: dict, target: float) -> str:
    """The circles for a terminal: counts, bounds, meeting the standard against the target."""
    c, p = circles.circles, circles.params
    lines = [f"{len(c)} life circles ({p.mode}, {p.tier}-minute level: {p.min_pop:,.0f}–"
             f"{p.max_pop:,.0f} residents, walk ≤ {p.max_minutes:g} min)",
             f"  within every bound: {int(c['within_bounds'].sum())}; below the floor: "
             f"{int((c['below_floor'] > 0).sum())}; above the ceiling: "
             f"{int((c['above_ceiling'] > 0).sum())}; walk too long: "
             f"{int((c['over_walk_min'] > 0).sum())}",
             f"  meeting the standard (≥ {100 * p.min_share:g}% of residents reach the whole "
             f"basket): {int(c['meets_standard'].sum())} of {len(c)}; plan target {target:g}"]
    counts = extra.get("counts")
    if counts is not None and "meeting_after" in counts.columns:
        area = counts[counts["zone_type"] == "study_area"].iloc[0]
        lines.append(f"  before the proposal: {int(area['meeting_before'])}, after: "
                     f"{int(area['meeting_after'])} (gain {int(area['gain'])})")
        flips = extra.get("flips")
        for r in flips.itertuples(index=False):
            lines.append(f"    circle {r.circle}: turned by {r.hubs or '(none in reach)'}")
    if "district" in c.columns and c["district"].ne("").any():
        by = c.groupby("district")["meets_standard"].agg(["size", "sum"])
        lines.append(f"  {'district':<12}{'circles':>9}{'meeting':>9}")
        for z, r in by.iterrows():
            lines.append(f"  {str(z):<12}{int(r['size']):>9}{int(r['sum']):>9}")
    if circles.not_assessed:
        lines.append("  not judged by walking: " + ", ".join(circles.not_assessed))
    return "\n".join(lines)


def cmd_scorecard(args: argparse.Namespace) -> int:
    from geo_app.cli.progress import progress_bar
    from geo_app.io.scorecard import read_circles, write_scorecard
    from geo_app.workflows.scorecard import build_scorecard
    from geo_app.workflows.targets import project_inputs
    from layers.targets import read_marks, read_targets

    targets = read_targets(args.targets) if args.targets else None
    with progress_bar("scorecard") as say:
        say(0.0, "reading")
        zones = (_polygons(args.zones, args.zone_name, args.datum), args.zone_name) \
            if args.zones else None
        circles = [read_circles(p) for p in args.circles]
        proposals, marks = ([], None)
        if args.project:
            proposals, marks = project_inputs(args.project, args.scenario)
        if args.marks:
            import pandas as pd

            more = read_marks(args.marks, targets)
            marks = more if marks is None else pd.concat([marks, more], ignore_index=True)
        say(0.3, "scorecard")
        card = build_scorecard(args.coverage, zones=zones, circles=circles,
                               proposals=proposals, marks=marks, targets=targets)
        say(0.9, "writing")
        write_scorecard(card, args.out, args.lang)
    print(scorecard_text(card))
    print(f"wrote {args.out}")
    return 0


def scorecard_text(card) -> str:
    """The scorecard for a terminal: zones with residents, then region groups and targets."""
    s = card.views["scorecard"]
    lines = [f"{'zone':<14}{'residents':>12}{'basket':>8}{'circles':>8}{'meeting':>8}"
             f"{'fac/10k':>9}"]
    shown = s.sort_values("residents", ascending=False, na_position="last").head(12)
    for r in shown.itertuples(index=False):
        res = "-" if r.residents != r.residents else f"{r.residents:,.0f}"
        bask = "-" if r.share_basket != r.share_basket else f"{100 * r.share_basket:.1f}%"
        circ = "-" if r.circles != r.circles else f"{r.circles:.0f}"
        meet = "-" if r.circles_meeting != r.circles_meeting else f"{r.circles_meeting:.0f}"
        fac = "-" if r.facilities_per_10k != r.facilities_per_10k else \
            f"{r.facilities_per_10k:.1f}"
        lines.append(f"{str(r.zone)[:13]:<14}{res:>12}{bask:>8}{circ:>8}{meet:>8}{fac:>9}")
    if len(s) > len(shown):
        lines.append(f"… {len(s) - len(shown)} more zones in the workbook")
    if "regions" in card.views:
        lines.append("")
        for r in card.views["regions"].itertuples(index=False):
            lines.append(f"{r.region_group}: {r.districts} districts, census "
                         f"{r.residents_census:,.0f} residents")
    lines.append("")
    for r in card.views["targets"].itertuples(index=False):
        lines.append(f"{r.name_en[:44]:<45}{r.achieved:>6.0f} of {r.needed:<5.0f}"
                     f" (+{r.proposed:.0f} proposed) [{r.section}]")
    return "\n".join(lines)
