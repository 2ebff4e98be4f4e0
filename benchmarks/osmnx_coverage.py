#!/usr/bin/env python
"""Coverage the way an OSMnx user gets it from an ``.osm.pbf`` (a PEER in
``bench_end_to_end.py``, not part of the package).

OSMnx reads OSM XML (``graph_from_xml``), not PBF; its users read a ``.osm.pbf`` with
pyrosm and export an OSMnx graph (``OSM.to_graph(graph_type="networkx")``, which builds
it with OSMnx's conventions: a simplified ``MultiDiGraph`` of the largest component with
``length`` in metres). Then: walking time per edge (steps at half speed),
``osmnx.distance.nearest_nodes`` for facilities and residents, and per category
``networkx.multi_source_dijkstra_path_length`` with a cutoff; coverage shares.

    python benchmarks/osmnx_coverage.py --pbf city.osm.pbf --facilities f.csv \\
        --demand r.csv --minutes 15

Prints one JSON line with stage times (s), graph size and shares.
"""

from __future__ import annotations

import argparse
import json
import time

T0 = time.perf_counter()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pbf", required=True)
    ap.add_argument("--facilities", required=True)
    ap.add_argument("--demand", required=True)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--speed", type=float, default=1.0)
    args = ap.parse_args(argv)

    import networkx as nx
    import numpy as np
    import osmnx as ox
    import pandas as pd
    import pyrosm

    t = {"imports": time.perf_counter() - T0}
    mark = time.perf_counter()

    def lap(name):
        nonlocal mark
        now = time.perf_counter()
        t[name] = now - mark
        mark = now

    limit = args.minutes * 60.0
    osm = pyrosm.OSM(args.pbf)
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    lap("read (pyrosm)")
    G = osm.to_graph(nodes, edges, graph_type="networkx")
    lap("to_graph (OSMnx graph)")
    for _, _, d in G.edges(data=True):
        d["time"] = d["length"] / (args.speed * (0.5 if d.get("highway") == "steps" else 1.0))
    fac = pd.read_csv(args.facilities)
    res = pd.read_csv(args.demand)
    f_node = np.asarray(ox.distance.nearest_nodes(G, fac["lon"].to_numpy(),
                                                  fac["lat"].to_numpy()))
    r_node = np.asarray(ox.distance.nearest_nodes(G, res["lon"].to_numpy(),
                                                  res["lat"].to_numpy()))
    lap("weights + nearest_nodes")
    pop = res["population"].to_numpy(float)
    shares, covered = {}, []
    for cat in dict.fromkeys(fac["category"]):
        sources = set(f_node[(fac["category"] == cat).to_numpy()].tolist())
        reached = nx.multi_source_dijkstra_path_length(G, sources, cutoff=limit, weight="time")
        cov = np.fromiter((n in reached for n in r_node.tolist()), bool, len(r_node))
        covered.append(cov)
        shares[cat] = float(pop[cov].sum() / pop.sum())
    shares["basket"] = float(pop[np.logical_and.reduce(covered)].sum() / pop.sum())
    lap("coverage (multi-source Dijkstra x categories)")
    print(json.dumps({"stages": t, "total_s": time.perf_counter() - T0,
                      "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
                      "shares": shares}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
