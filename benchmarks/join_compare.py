#!/usr/bin/env python
"""Street-front against nearest-node joining on real extracts (issue 14).

For each extract: the straight walk off the network of every resident (median, 90th
percentile, and how much longer it is when joining the nearest node), and the share of
residents covered per category and for the basket with each join (adult walker, the
standards' thresholds). Residents and facilities come from the extract's OSM tags
(``load_inputs``); an extract without buildings gets uniform random points instead (no
coverage then). Run: ``python benchmarks/join_compare.py [EXTRACT ...]``; prints one JSON
line per extract.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RAW = REPO.parent / "shared" / "data" / "raw"


def _network(path):
    from pyproj import Transformer

    from analysis.walk_network import walk_network
    from layers.crs import metric_crs
    from layers.network import read_network

    net = read_network(path)
    nodes = net.nodes
    lon, lat = nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    crs = metric_crs((lon, lat))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    import pandas as pd

    index = pd.Index(nodes["node_id"].to_numpy(np.int64))
    u = index.get_indexer(net.edges["u"].to_numpy(np.int64))
    v = index.get_indexer(net.edges["v"].to_numpy(np.int64))
    return net, walk_network(net.edges, u, v, x=np.asarray(x), y=np.asarray(y), crs=crs,
                             node_id=index.to_numpy(), lift=nodes["lift"].to_numpy(bool))


def compare(path: Path, seed: int = 0) -> dict:
    from analysis.coverage import category_node_times, coverage_frame
    from analysis.graph import build_profile_graph
    from analysis.join import join_points
    from analysis.profiles import connectors_from_table, profiles_from_table
    from analysis.snap import Snapped
    from geo_app.workflows.coverage import load_inputs, thresholds_min
    from geo_app.workflows.coverage_steps import to_metres
    from layers.connectors import load_connectors, load_walker_profiles

    t0 = time.perf_counter()
    net, wn = _network(path)
    adult = profiles_from_table(load_walker_profiles())["adult"]
    g = build_profile_graph(wn, adult, connectors_from_table(load_connectors()))
    out = {"extract": path.name, "nodes": g.n_nodes, "segments": wn.n_segments}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inputs = load_inputs(path)
        fac, dem = inputs.facilities, inputs.demand
        fx, fy = to_metres(fac, g.crs)
        dx, dy = to_metres(dem, g.crs)
        pop = dem["population"].to_numpy(float)
        out["residents"] = "OSM residential buildings"
    except ValueError as exc:  # no buildings: uniform points over the network's extent
        rng = np.random.default_rng(seed)
        dx = rng.uniform(wn.x.min(), wn.x.max(), 5000)
        dy = rng.uniform(wn.y.min(), wn.y.max(), 5000)
        fac, fx, fy, pop = None, np.zeros(0), np.zeros(0), np.ones(5000)
        out["residents"] = f"5,000 uniform points ({exc})"
    res = {}
    for how in ("street", "node"):
        j = join_points(g, [(fx, fy), (dx, dy)], how=how, speed_m_s=adult.flat_m_s,
                        max_dist_m=500.0)
        res[how] = j
    both = (res["street"].points[1].node >= 0) & (res["node"].points[1].node >= 0)
    street_m = res["street"].points[1].dist_m[both]
    node_m = res["node"].points[1].dist_m[both]
    extra = node_m - street_m
    out.update({
        "points": int(both.sum()),
        "off_street_median_m": {"street": round(float(np.median(street_m)), 1),
                                "node": round(float(np.median(node_m)), 1)},
        "extra_walk_node_vs_street_m": {"median": round(float(np.median(extra)), 1),
                                        "p90": round(float(np.quantile(extra, 0.9)), 1),
                                        "max": round(float(extra.max()), 1)}})
    if fac is not None:
        cats = sorted(set(fac["category"].astype(str)))
        limits_s = {c: 60.0 * m for c, m in thresholds_min(cats).items()}
        cat_of = fac["category"].astype(str).to_numpy()
        share = {}
        for how, j in res.items():
            f = j.points[0]
            by_cat = {c: Snapped(f.node[cat_of == c], f.dist_m[cat_of == c],
                                 f.access_s[cat_of == c]) for c in cats}
            frame = coverage_frame(j.points[1], category_node_times(j.graph, by_cat, limits_s),
                                   limits_s)
            share[how] = {c: float((pop * frame[f"cov_{c}"]).sum() / pop.sum())
                          for c in cats}
            share[how]["basket"] = float((pop * frame["basket_covered"]).sum() / pop.sum())
        out["covered_pct"] = {k: {"street": round(100 * share["street"][k], 1),
                                  "node": round(100 * share["node"][k], 1),
                                  "change_points": round(100 * (share["street"][k]
                                                                - share["node"][k]), 1)}
                              for k in share["street"]}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main(argv=None) -> int:
    import geo_app as ga

    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or [RAW / "chengdu_osm_eta" / "chengdu.osm",
                                        RAW / "saopaulo_osm_r5py" / "spo_osm.pbf",
                                        Path(ga.sample_path())]
    for p in paths:
        if p.is_file():
            print(json.dumps(compare(p), ensure_ascii=False))
        else:
            print(json.dumps({"extract": str(p), "skipped": "not found"}))
    return 0


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    raise SystemExit(main())
