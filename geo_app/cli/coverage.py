"""``geo-app coverage``."""

from __future__ import annotations

import argparse


def cmd_coverage(args: argparse.Namespace) -> int:
    from geo_app.workflows import coverage as workflow
    from geo_app.workflows.coverage import summary_text, write_geopackage

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
    print(f"wrote {args.out} (layers: demand, summary, gaps, isochrones, facilities, "
          f"life_circles, run_info)")
    return 0

