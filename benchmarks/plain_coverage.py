#!/usr/bin/env python
"""The plain geopandas + networkx coverage script a planner would write (a PEER in
``bench_end_to_end.py``, not part of the package).

    python benchmarks/plain_coverage.py --network lines.gpkg --facilities f.csv \\
        --demand r.csv --minutes 15 --out plain.gpkg --areas {none,category,facility} \\
        [--facility-budget-s 120]

1. ``geopandas.read_file`` of the centre-lines; the walk rules a planner applies (drop
   motorways, cycleways, ``foot=no``, ``access=private``, ``area=yes``…); metres in the
   UTM zone (``estimate_utm_crs``).
2. A ``networkx.Graph``: one node per line end point (rounded to 1 cm), edge weight =
   length / speed (steps at half speed), the line kept on the edge.
3. Facilities and residents snapped to the nearest node with a scipy KD-tree; the
   straight-line distance to it is walked too.
4. Per category ``nx.multi_source_dijkstra_path_length(..., cutoff=limit)``; a resident is
   covered when node time + access time <= limit; coverage shares and the basket.
5. Gap areas per category and for the basket: uncovered residents buffered by 100 m,
   dissolved and split into polygons with their population (``sjoin``).
6. ``--areas category``: each category's service area, the reached streets buffered by 25 m
   and dissolved. ``--areas facility``: also every facility's isochrone
   (``single_source_dijkstra_path_length`` + buffer-union of its reached streets); when
   that would take longer than ``--facility-budget-s``, the facilities done in the budget
   are timed and the rest EXTRAPOLATED linearly (the JSON says so).
7. Everything written to a GeoPackage.

``--sample-categories K`` runs the gap and service-area stages on K categories only and
EXTRAPOLATES their time to all (for quick runs). Prints one JSON line: stage times (s,
extrapolated ones included), ``extra_s`` (the part of them that was extrapolated, not
run), counts, shares, and what was extrapolated.
"""

from __future__ import annotations

import argparse
import json
import time

T0 = time.perf_counter()

NOT_WALKABLE = {"motorway", "motorway_link", "trunk", "trunk_link", "cycleway", "bus_guideway",
                "construction", "proposed", "raceway", "abandoned", "platform"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--network", required=True)
    ap.add_argument("--facilities", required=True)
    ap.add_argument("--demand", required=True)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--areas", choices=("none", "category", "facility"), default="category")
    ap.add_argument("--facility-budget-s", type=float, default=120.0)
    ap.add_argument("--sample-categories", type=int, default=0,
                    help="gap and service-area stages on this many categories only, "
                         "EXTRAPOLATED to all (0: all)")
    args = ap.parse_args(argv)

    import geopandas as gpd
    import networkx as nx
    import numpy as np
    import pandas as pd
    import shapely
    from scipy.spatial import cKDTree

    t = {"imports": time.perf_counter() - T0}
    mark = time.perf_counter()

    def lap(name):
        nonlocal mark
        now = time.perf_counter()
        t[name] = t.get(name, 0.0) + now - mark
        mark = now

    limit = args.minutes * 60.0
    # 1. read
    lines = gpd.read_file(args.network)
    lap("read")
    walk = ~lines["highway"].isin(NOT_WALKABLE)
    for col, bad in (("foot", "no"), ("access", "private"), ("area", "yes"),
                     ("sidewalk", "separate")):
        if col in lines.columns:
            walk &= lines[col] != bad
    lines = lines[walk]
    utm = lines.estimate_utm_crs()
    lines = lines.to_crs(utm)
    # 2. graph
    G = nx.Graph()
    for geom, hw in zip(lines.geometry, lines["highway"]):
        coords = list(geom.coords)
        for a, b in zip(coords[:-1], coords[1:]):
            a, b = (round(a[0], 2), round(a[1], 2)), (round(b[0], 2), round(b[1], 2))
            length = ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
            speed = args.speed * (0.5 if hw == "steps" else 1.0)
            G.add_edge(a, b, weight=length / speed, line=shapely.LineString([a, b]))
    nodes = list(G.nodes)
    node_xy = np.array(nodes)
    lap("graph")
    # 3. snapping
    fac = pd.read_csv(args.facilities)
    fac = gpd.GeoDataFrame(fac, geometry=gpd.points_from_xy(fac.lon, fac.lat), crs=4326)
    fac = fac.to_crs(utm)
    res = pd.read_csv(args.demand)
    res = gpd.GeoDataFrame(res, geometry=gpd.points_from_xy(res.lon, res.lat), crs=4326)
    res = res.to_crs(utm)
    tree = cKDTree(node_xy)
    _, f_idx = tree.query(np.column_stack([fac.geometry.x, fac.geometry.y]))
    r_dist, r_idx = tree.query(np.column_stack([res.geometry.x, res.geometry.y]))
    lap("snap")
    # 4. coverage per category
    cats = list(dict.fromkeys(fac["category"]))
    covered = {}
    reached_by_cat = {}
    for cat in cats:
        m = (fac["category"] == cat).to_numpy()
        sources = {nodes[i] for i in f_idx[m]}
        reached = nx.multi_source_dijkstra_path_length(G, sources, cutoff=limit)
        node_t = np.array([reached.get(n, np.inf) for n in nodes])
        covered[cat] = node_t[r_idx] + r_dist / args.speed <= limit
        reached_by_cat[cat] = reached
    pop = res["population"].to_numpy(float)
    basket = np.logical_and.reduce([covered[c] for c in cats])
    shares = {c: float(pop[covered[c]].sum() / pop.sum()) for c in cats}
    shares["basket"] = float(pop[basket].sum() / pop.sum())
    for c in cats:
        res[f"cov_{c}"] = covered[c]
    res["basket"] = basket
    lap("coverage")
    # 5. gaps
    gap_frames = []
    k = args.sample_categories
    gap_cats = [*cats, "basket"]
    gap_run = gap_cats[:k] if k else gap_cats
    extra = 0.0
    for cat in gap_run:
        unc = res[~(basket if cat == "basket" else covered[cat])]
        if len(unc) == 0:
            continue
        area = gpd.GeoDataFrame(geometry=[unc.buffer(100).union_all()], crs=utm).explode(
            index_parts=False).reset_index(drop=True)
        joined = gpd.sjoin(unc[["population", "geometry"]], area, predicate="within")
        area["population"] = joined.groupby("index_right")["population"].sum()
        area["category"] = cat
        gap_frames.append(area)
    gaps = pd.concat(gap_frames, ignore_index=True)
    lap("gaps")
    if len(gap_run) < len(gap_cats):
        add = t["gaps"] * (len(gap_cats) / len(gap_run) - 1)
        t["gaps"] += add
        extra += add
    out = {"service_areas": None, "isochrones": None}
    extrapolated = None
    # 6. service areas / isochrones
    if args.areas in ("category", "facility"):
        rows = []
        area_cats = cats[:k] if k else cats
        for cat in area_cats:
            sub = G.subgraph(reached_by_cat[cat].keys())
            street = [d["line"] for _, _, d in sub.edges(data=True)]
            rows.append({"category": cat,
                         "geometry": shapely.union_all(shapely.buffer(street, 25))})
        out["service_areas"] = gpd.GeoDataFrame(rows, crs=utm)
        lap("service_areas")
        if len(area_cats) < len(cats):
            add = t["service_areas"] * (len(cats) / len(area_cats) - 1)
            t["service_areas"] += add
            extra += add
    if args.areas == "facility":
        iso, done = [], 0
        started = time.perf_counter()
        todo = list(zip(fac["category"], f_idx))
        for cat, i in todo:
            reached = nx.single_source_dijkstra_path_length(G, nodes[i], cutoff=limit)
            sub = G.subgraph(reached.keys())
            street = [d["line"] for _, _, d in sub.edges(data=True)]
            iso.append({"category": cat,
                        "geometry": shapely.union_all(shapely.buffer(street, 25))})
            done += 1
            if time.perf_counter() - started > args.facility_budget_s:
                break
        spent = time.perf_counter() - started
        out["isochrones"] = gpd.GeoDataFrame(iso, crs=utm)
        lap("isochrones")
        if done < len(todo):
            add = spent / done * (len(todo) - done)
            extrapolated = {"done": done, "total": len(todo), "measured_s": spent,
                            "extrapolated_s": spent + add}
            t["isochrones"] += add
            extra += add
    # 7. write
    res.to_crs(4326).to_file(args.out, layer="demand", driver="GPKG")
    gaps.to_crs(4326).to_file(args.out, layer="gaps", driver="GPKG")
    for name, frame in out.items():
        if frame is not None:
            frame.to_crs(4326).to_file(args.out, layer=name, driver="GPKG")
    lap("write")
    print(json.dumps({"stages": t, "total_s": time.perf_counter() - T0 + extra,
                      "extra_s": extra, "nodes": G.number_of_nodes(),
                      "edges": G.number_of_edges(), "facilities": len(fac),
                      "residents": len(res), "shares": shares,
                      "extrapolated": extrapolated,
                      "sampled": k if k and k < len(cats) else None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
