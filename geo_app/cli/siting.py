"""``geo-app site`` and ``evaluate``."""

from __future__ import annotations

import argparse

from geo_app.cli.inputs import datum_of, input_notes, layer_of, reader_options, run_info_of


def add_network_options(p: argparse.ArgumentParser) -> None:
    """--profile, --edits and --join of site/evaluate (as for geo-app coverage)."""
    from pathlib import Path

    p.add_argument("--profile", help="walker profile (adult, elderly, child, wheelchair: "
                   "data/gis/walker_profiles.csv); --speed is then the profile's flat speed")
    p.add_argument("--edits", type=Path, help="network edits: GeoJSON lines in WGS-84 with a "
                   "kind column (stairs, elevator, escalator, footbridge, passage, closed)")
    p.add_argument("--join", choices=("street", "node"),
                   help="join residents and sites to the nearest street front (default) or "
                        "node (the default with --by)")


def walk_graph_of(args: argparse.Namespace, net):
    """The walk graph of site/evaluate (a profile's, with the edits, or the plain one at
    --speed), the access-walk speed (m/s) and the join."""
    from geo_app.cli.inputs import edits_of
    from geo_app.errors import ParameterError
    from geo_app.workflows.graphs import walk_graph_for, walk_graph_from_network, walker_profile

    edits = edits_of(args)
    profile = getattr(args, "profile", None)
    join = getattr(args, "join", None)
    if getattr(args, "by", None) and (profile or edits is not None or join == "street"):
        raise ParameterError("--by district sites on the plain walk graph with node joins: "
                             "drop --profile, --edits and --join street")
    join = join or ("node" if getattr(args, "by", None) else "street")
    if profile is None and edits is None:
        return walk_graph_from_network(net, speed_m_s=args.speed), args.speed, join
    profile = profile or "adult"
    speed = walker_profile(profile).flat_m_s
    return walk_graph_for(net, profile=profile, edits=edits), speed, join


def _siting_inputs(args: argparse.Namespace):
    """Network, demand and existing facilities of site/evaluate, read with the input options
    and checked (a GCJ-02/BD-09 shift against the streets, far outliers)."""
    import pandas as pd

    from geo_app.cli.coverage import category_map_of
    from geo_app.errors import InputError
    from geo_app.workflows.input_checks import check_points, streets_of
    from layers.facilities import load_basket, map_categories
    from layers.network import read_network
    from layers.sources import load_demand, load_facilities

    net = read_network(args.network, datum=datum_of(args, "network"),
                       layer=layer_of(args, "network"))
    print(f"network: {len(net.nodes):,} nodes, {len(net.edges):,} walkable segments")
    streets = streets_of(net)
    demand = load_demand(args.demand, network=args.network, **reader_options(args, "demand"))
    check_points(demand, args.demand, datum_of(args, "demand"), "demand", streets=streets)
    existing = None
    if args.existing:
        existing = load_facilities(args.existing, category_map=category_map_of(args),
                                   **reader_options(args, "existing"))
        check_points(existing, args.existing, datum_of(args, "existing"), "existing",
                     streets=streets)
    if existing is not None and args.category:
        basket = load_basket()
        have = sorted(set(existing["category"].astype(str)))
        wanted, unknown = map_categories(pd.Series([args.category]), basket)
        if len(unknown) and args.category not in have:
            raise InputError(f"--category {args.category}: no such category (basket: "
                             f"{', '.join(basket['category'])}; in {args.existing}: "
                             f"{', '.join(have)})")
        existing = existing[existing["category"] == wanted[0]]
        if not len(existing):
            raise InputError(f"--category {args.category}: {args.existing} has no facility of "
                             f"that category (it has: {', '.join(have)})")
    return net, demand, existing


def _read_sites(args: argparse.Namespace, name: str, net, read):
    """Candidates or proposed sites (``read(**options)``), checked like the other inputs."""
    from geo_app.workflows.input_checks import check_points, streets_of

    sites = read(**reader_options(args, name))
    check_points(sites, getattr(args, name), datum_of(args, name), name,
                 streets=streets_of(net))
    return sites


def _print_run(summary, sites) -> None:
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


def cmd_site(args: argparse.Namespace) -> int:
    import pandas as pd

    from geo_app.cli.progress import progress_bar
    from geo_app.io.export import run_info, write_gpkg_layers
    from geo_app.workflows.siting import (
        candidate_sites,
        district_groups,
        prepare,
        sites_frame,
        solve,
        summary_frame,
        uncovered_frame,
    )
    from layers import load_districts

    with progress_bar("site") as say:
        say(0.0, "reading inputs")
        with input_notes() as notes:
            net, demand, existing = _siting_inputs(args)
            say(0.2, "walk graph and candidates")
            graph, speed, join = walk_graph_of(args, net)
            candidates = _read_sites(args, "candidates", net, lambda **o: candidate_sites(
                args.candidates, graph, network=args.network, max_snap_m=args.max_snap_m,
                **o))
        info = run_info(run_info_of(args, notes))
        print(f"candidates: {len(candidates):,} ({args.candidates})")
        say(0.3, "coverage sets")
        run = prepare(graph, demand, candidates, existing=existing, minutes=args.minutes,
                      speed_m_s=speed, max_snap_m=args.max_snap_m, join=join)
        if args.by:
            return _site_by_district(args, net, graph, demand, existing, candidates, say, info)
        groups = lo = hi = None
        if args.quotas:
            groups, lo, hi, _ = district_groups(run.candidates, load_districts(),
                                                pd.read_csv(args.quotas, dtype={"district": str}))
        say(0.5, "solving")
        result = solve(run, n=args.n, objective=args.objective, target_share=args.target_share,
                       groups=groups, min_per_group=lo, max_per_group=hi,
                       time_limit_s=args.time_limit, exact=not args.heuristic,
                       capacity=args.capacity)
        say(0.9, "writing")
        sites = sites_frame(run, result)
        summary = summary_frame(run, result, args.objective)
        write_gpkg_layers({"sites": sites, "summary": summary,
                           "uncovered": uncovered_frame(run, result.sites),
                           "run_info": info}, args.out)
    _print_run(summary, sites)
    print(f"wrote {args.out} (layers: sites, summary, uncovered, run_info)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from geo_app.io.export import run_info, write_gpkg_layers
    from geo_app.workflows.siting import (
        evaluation_result,
        prepare,
        read_sites,
        sites_frame,
        summary_frame,
        uncovered_frame,
    )

    with input_notes() as notes:
        net, demand, existing = _siting_inputs(args)
        proposal = _read_sites(args, "sites", net, lambda **o: read_sites(args.sites, **o))
    graph, speed, join = walk_graph_of(args, net)
    run = prepare(graph, demand, proposal, existing=existing, minutes=args.minutes,
                  speed_m_s=speed, max_snap_m=args.max_snap_m, join=join)
    result = evaluation_result(run)
    table = sites_frame(run, result)
    summary = summary_frame(run, result, "evaluate")
    write_gpkg_layers({"sites": table, "summary": summary,
                       "uncovered": uncovered_frame(run, result.sites),
                       "run_info": run_info(run_info_of(args, notes))}, args.out)
    _print_run(summary, table)
    print(f"wrote {args.out} (layers: sites, summary, uncovered, run_info)")
    return 0


def _site_by_district(args, net, graph, demand, existing, candidates, say, info) -> int:
    """``geo-app site --by district``: each district of the quota table on its own."""
    import pandas as pd

    from geo_app.errors import InputError
    from geo_app.io.export import write_gpkg_layers
    from geo_app.workflows.dask_cluster import dask_client
    from geo_app.workflows.sharding import site_by_zone
    from geo_app.workflows.siting import (
        evaluation_result,
        prepare,
        sites_frame,
        summary_frame,
        uncovered_frame,
    )
    from layers import load_districts

    if not args.quotas:
        raise InputError("--by district needs --quotas (district, min, max): each district "
                         "gets its 'max' sites")
    quotas = pd.read_csv(args.quotas, dtype={"district": str})
    missing = {"district", "max"} - set(quotas.columns)
    if missing:
        raise InputError(f"{args.quotas}: no column {', '.join(sorted(missing))}")
    districts = load_districts()
    col = "adcode" if quotas["district"].str.fullmatch(r"\d{6}").all() else "name_zh"
    unknown = sorted(set(quotas["district"]) - set(districts[col].astype(str)))
    if unknown:
        raise InputError(f"{args.quotas}: unknown district(s) {', '.join(unknown)}")
    quota = dict(zip(quotas["district"], pd.to_numeric(quotas["max"]).fillna(0).astype(int)))
    with dask_client(args.scheduler) as client:
        say(0.3, "districts")
        chosen, records = site_by_zone(
            net, demand, candidates, existing, districts, col, quota,
            minutes=args.minutes, speed_m_s=args.speed, max_snap_m=args.max_snap_m,
            time_limit_s=args.time_limit, exact=not args.heuristic, crs=graph.crs,
            reach_speed_m_s=graph.max_straight_speed_m_s, client=client,
            progress=lambda f, m: say(0.3 + 0.5 * f, m))
    if not len(chosen):
        raise InputError("no district of the quota table has candidates and a positive 'max'")
    say(0.85, "evaluating the union")
    run = prepare(graph, demand, candidates.iloc[chosen], existing=existing,
                  minutes=args.minutes, speed_m_s=args.speed, max_snap_m=args.max_snap_m)
    result = evaluation_result(run)
    sites = sites_frame(run, result)
    summary = summary_frame(run, result, "mclp by district")
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "sites"} | {"chosen": len(r["sites"])}
                          for r in records])
    write_gpkg_layers({"sites": sites, "summary": summary, "by_district": table,
                       "uncovered": uncovered_frame(run, result.sites), "run_info": info},
                      args.out)
    for r in table.itertuples():
        print(f"  {r.zone}: {r.chosen} of {r.asked} sites, newly covered {r.value:,.0f} "
              f"(bound {r.bound:,.0f}, {r.solver} {r.status})")
    _print_run(summary, sites)
    print(f"wrote {args.out} (layers: sites, summary, by_district, uncovered, run_info)")
    return 0

