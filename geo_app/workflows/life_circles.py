"""Life circles of a coverage result, as Chongqing draws them: residents partitioned into
contiguous circles over the walk network with a population floor and ceiling and a longest
walk (optionally inside community or township boundaries), or the hub-centred circles of the
run; each circle with its residents, area, basket compliance and ``meets_standard``, and the
count of circles meeting the standard against the plan's target, per district."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.delineation import circle_polygons, delineate
from analysis.regions import Bounds
from analysis.snap import snap_points
from geo_app.errors import CoverageWarning, GeoAppWarning, ParameterError, warn
from geo_app.io.export import run_info
from geo_app.workflows.compliance import run_compliance
from geo_app.workflows.coverage_data import CoverageData
from geo_app.workflows.coverage_steps import HUB_CATEGORY, to_metres

# Residents of a life circle by level: GB 50180-2018 表3.0.4 (15-min 50,000–100,000;
# 10-min 15,000–25,000; 5-min 5,000–12,000), the 15-minute range also in TD/T 1062-2021
# (shared/reference/standards-indicators-peers.md §B1–B2; DESIGN.md).
TIER_POPULATION = {15: (50_000.0, 100_000.0), 10: (15_000.0, 25_000.0), 5: (5_000.0, 12_000.0)}
# The share of a circle's residents that must reach its level's whole basket for the circle
# to meet the standard. No source sets it: the project's choice, editable (--min-share).
MIN_SHARE = 0.9
MODES = ("delineate", "hubs")
ZONES = ("district", "township")


@dataclass(frozen=True)
class CircleParams:
    """How circles are drawn and judged: level (min), residents floor and ceiling
    (persons), longest walk to the centre (min), share of residents that must reach the
    basket, unit square (m; default a quarter of the longest walk at the run's speed),
    ``nest`` within or whole boundaries, ``method`` network or spopt, ``mode``."""

    tier: int = 15
    min_pop: float = TIER_POPULATION[15][0]
    max_pop: float = TIER_POPULATION[15][1]
    max_minutes: float = 15.0
    min_share: float = MIN_SHARE
    unit_m: float | None = None
    nest: str = "within"
    method: str = "network"
    mode: str = "delineate"
    iterations: int = 16
    seed: int = 0


def circle_params(tier: int = 15, **given) -> CircleParams:
    """The parameters of a level, with the given ones (None: the level's default)."""
    if tier not in TIER_POPULATION:
        raise ParameterError(f"tier must be one of {', '.join(map(str, TIER_POPULATION))}, "
                             f"got {tier}")
    lo, hi = TIER_POPULATION[tier]
    p = CircleParams(tier=tier, min_pop=lo, max_pop=hi, max_minutes=float(tier))
    p = replace(p, **{k: v for k, v in given.items() if v is not None})
    if not 0 <= p.min_pop <= p.max_pop:
        raise ParameterError(f"need 0 ≤ --min-pop ≤ --max-pop, got {p.min_pop:g} and "
                             f"{p.max_pop:g}")
    if not 0 < p.max_minutes <= 120:
        raise ParameterError(f"the longest walk must be 0–120 min, got {p.max_minutes:g}")
    if not 0 < p.min_share <= 1:
        raise ParameterError(f"the share of residents must be in (0, 1], got {p.min_share:g}")
    for name, value, allowed in (("mode", p.mode, MODES), ("nest", p.nest, ("within", "whole")),
                                 ("method", p.method, ("network", "spopt"))):
        if value not in allowed:
            raise ParameterError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return p


@dataclass
class LifeCircles:
    """``circles``: one row per circle (EPSG:4326 polygons); ``units``: the demand units with
    their ``circle`` (0: none); ``not_assessed``: facility types left out of the basket."""

    circles: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    params: CircleParams
    not_assessed: dict[str, str] = field(default_factory=dict)
    warnings: list[GeoAppWarning] = field(default_factory=list)
    source: str = ""

    def run_info(self) -> pd.DataFrame:
        info = {f"param_{k}": v for k, v in asdict(self.params).items()}
        info |= {"coverage": self.source, "circles": len(self.circles),
                 "meeting_standard": int(self.circles["meets_standard"].sum()),
                 **{f"not_assessed_{k}": v for k, v in self.not_assessed.items()}}
        return run_info(info)

    def layers(self) -> dict:
        return {"circles": self.circles, "units": self.units, "run_info": self.run_info()}


def unit_groups(units: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None,
                name: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's boundary (index, -1 outside every one) and the boundary names."""
    if boundaries is None:
        return np.full(len(units), -1), np.array([], dtype=object)
    names = boundaries[name].astype(str).to_numpy(object)
    from analysis.zones import zone_of

    return zone_of(units.geometry.values,
                   boundaries.geometry.to_crs(4326).values), names


def majority(labels: np.ndarray, circle: np.ndarray, pop: np.ndarray, k: int) -> np.ndarray:
    """Per circle (0…k-1), the label holding most of its residents ('' for none)."""
    out = np.full(k, "", dtype=object)
    keep = circle >= 0
    if not keep.any():
        return out
    f = pd.DataFrame({"c": circle[keep], "z": labels[keep], "p": pop[keep] + 1e-9})
    top = f.groupby(["c", "z"], sort=False)["p"].sum().sort_values(ascending=False)
    top = top[~top.index.get_level_values(0).duplicated()]
    out[top.index.get_level_values(0).to_numpy(int)] = top.index.get_level_values(1)
    return out


def walk_graph_of(data: CoverageData, network=None, *, datum: str = "wgs84"):
    """The walk graph the coverage run used: its network file (``network`` overrides) read
    again at the run's speeds, in its metric CRS."""
    from geo_app.workflows.graphs import walk_graph_from_network
    from layers.network import read_network

    path = network or data.info.get("source_network") or data.info.get("network")
    if not path:
        raise ParameterError("the coverage result does not name its network: give --network")
    net = read_network(path, datum=datum)
    dem = str(data.info.get("elevation", "none"))
    return walk_graph_from_network(
        net, speed_m_s=float(data.info.get("speed_m_s", 1.0)),
        steps_speed_m_s=float(data.info.get("steps_speed_m_s", 0.5)), crs=data.metric_crs,
        dem=dem[4:] if dem.startswith("DEM ") else None)


def delineate_circles(data: CoverageData, graph, params: CircleParams | None = None, *,
                      boundaries: gpd.GeoDataFrame | None = None, boundary_name: str = "name",
                      standards: pd.DataFrame | None = None) -> LifeCircles:
    """Circles of ``params`` (default the 15-minute level) over ``graph`` (the run's walk
    graph, :func:`walk_graph_of`), judged on the standards' basket of their level."""
    p = params or circle_params()
    if p.mode == "hubs":
        return hub_circles(data, p, standards=standards)
    d = data.demand
    speed = float(data.info.get("speed_m_s", 1.0))
    unit_m = p.unit_m or p.max_minutes * 60.0 * speed / 4.0
    dx, dy = to_metres(d, graph.crs)
    snap = snap_points(graph, dx, dy, speed_m_s=speed,
                       max_dist_m=float(data.info.get("max_snap_m", 500.0)))
    node = np.where(d["on_network"].astype(bool).to_numpy(), snap.node, -1) \
        if "on_network" in d.columns else snap.node
    group, names = unit_groups(d, boundaries, boundary_name)
    pop = d["population"].to_numpy(float)
    found = delineate(graph, node, pop, Bounds(p.min_pop, p.max_pop, 60.0 * p.max_minutes),
                      cell_m=unit_m, group=group if boundaries is not None else None,
                      nest=p.nest, method=p.method, iterations=p.iterations, seed=p.seed)
    k = len(found.population)
    polys = gpd.GeoSeries(circle_polygons(dx, dy, found.unit_circle, k, unit_m),
                          crs=graph.crs).to_crs(4326)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(graph.crs, 4326, always_xy=True).transform(
        graph.x[found.centre_node], graph.y[found.centre_node])
    b = found.bounds
    table = pd.DataFrame({
        "circle": np.arange(1, k + 1), "mode": "delineate",
        "boundary": [names[g] if g >= 0 else "" for g in found.group],
        "centre_lon": lon, "centre_lat": lat, "residents": found.population,
        "units": found.units, "max_walk_min": found.max_walk_s / 60.0,
        "mean_walk_min": found.mean_walk_s / 60.0, "below_floor": found.below_floor,
        "above_ceiling": found.above_ceiling, "over_walk_min": found.over_walk_s / 60.0,
        "within_bounds": found.within_bounds, "contiguous": found.contiguous,
        "floor": b.floor, "ceiling": b.ceiling, "max_minutes": p.max_minutes})
    out = _finish(data, table, found.unit_circle, polys.to_numpy(), p, standards)
    if (~found.within_bounds).any():
        n_bad = int((~found.within_bounds).sum())
        warn(out.warnings, f"{n_bad} of {k} circles are outside the bounds ({p.min_pop:,.0f}–"
             f"{p.max_pop:,.0f} residents, {p.max_minutes:g} min): see below_floor, "
             "above_ceiling and over_walk_min", CoverageWarning, key="warn_circles_bounds",
             n=n_bad, total=k)
    return out


def hub_circles(data: CoverageData, params: CircleParams | None = None, *,
                standards: pd.DataFrame | None = None) -> LifeCircles:
    """The coverage run's hub-centred circles (each resident with the nearest 渝邻汇 hub
    within its threshold: a network Voronoi partition), judged like delineated ones."""
    p = replace(params or circle_params(), mode="hubs")
    d, lc = data.demand, data.life_circles
    if "life_circle" not in d.columns or not len(lc):
        raise ParameterError("the coverage result has no hub-centred circles (no "
                             f"{HUB_CATEGORY} facility on the network)")
    ids = pd.to_numeric(d["life_circle"], errors="coerce").fillna(0).astype(int).to_numpy()
    number = lc["circle"].astype(int).to_numpy()
    pos = np.full(number.max(initial=0) + 1, -1)
    pos[number] = np.arange(len(lc))
    unit_circle = np.where(ids > 0, pos[np.minimum(ids, len(pos) - 1)], -1)
    k, pop = len(lc), d["population"].to_numpy(float)
    t = pd.to_numeric(d.get(f"t_{HUB_CATEGORY}"), errors="coerce").to_numpy(float) / 60.0
    on = unit_circle >= 0
    walk = pd.Series(t[on]).groupby(unit_circle[on])
    residents = np.bincount(unit_circle[on], weights=pop[on], minlength=k)
    cent = lc.geometry.representative_point()
    table = pd.DataFrame({
        "circle": np.arange(1, k + 1), "mode": "hubs", "boundary": lc["hub"].astype(str),
        "centre_lon": cent.x.to_numpy(), "centre_lat": cent.y.to_numpy(),
        "residents": residents, "units": np.bincount(unit_circle[on], minlength=k),
        "max_walk_min": walk.max().reindex(range(k)).to_numpy(),
        "mean_walk_min": walk.mean().reindex(range(k)).to_numpy(),
        "below_floor": np.maximum(p.min_pop - residents, 0),
        "above_ceiling": np.maximum(residents - p.max_pop, 0)})
    table["over_walk_min"] = np.maximum(table["max_walk_min"].fillna(0) - p.max_minutes, 0)
    table["within_bounds"] = (table["below_floor"] == 0) & (table["above_ceiling"] == 0) & \
        (table["over_walk_min"] == 0)
    table["contiguous"] = True
    table[["floor", "ceiling", "max_minutes"]] = p.min_pop, p.max_pop, p.max_minutes
    return _finish(data, table, unit_circle, lc.geometry.to_numpy(), p, standards)


def _finish(data: CoverageData, table: pd.DataFrame, unit_circle: np.ndarray, geoms,
            p: CircleParams, standards) -> LifeCircles:
    """Compliance, zones and area of each circle; the units with their circle."""
    d = data.demand
    k, pop = len(table), d["population"].to_numpy(float)
    comp = run_compliance(data, standards)
    level = f"level{p.tier}_walk"
    if level not in comp.units.columns:
        raise ParameterError(f"the standards have no facility type of the {p.tier}-minute level "
                             "assessed by walking: rerun the coverage with longer thresholds")
    on = unit_circle >= 0
    tot = np.bincount(unit_circle[on], weights=pop[on], minlength=k)

    def share(flags) -> np.ndarray:
        f = np.asarray(flags, bool)
        met = np.bincount(unit_circle[on], weights=pop[on] * f[on], minlength=k)
        return np.where(tot > 0, met / np.where(tot > 0, tot, 1), np.nan)

    table["basket_share"] = share(comp.units[level])
    table["meets_standard"] = (tot > 0) & (table["basket_share"] >= p.min_share - 1e-12)
    types = comp.types[comp.types["tier_min"] <= p.tier]
    shares = {s.type: share(comp.units[f"walk_{s.type}"]) for s in types.itertuples()
              if f"walk_{s.type}" in comp.units.columns}
    names = dict(zip(types["type"], types["name_zh"]))
    lacking = [[t for t, v in shares.items() if not v[c] >= p.min_share] for c in range(k)]
    table["lacking"] = ["; ".join(x) for x in lacking]
    table["lacking_zh"] = ["、".join(names[t] for t in x) for x in lacking]
    for kind in ZONES:
        if kind in d.columns:
            table[kind] = majority(d[kind].astype(str).to_numpy(object), unit_circle, pop, k)
    gs = gpd.GeoSeries(list(geoms), crs=4326)
    from layers.districts import AREA_CRS

    table["area_km2"] = gs.to_crs(AREA_CRS).area.to_numpy() / 1e6
    table["density_per_km2"] = table["residents"] / table["area_km2"].where(
        table["area_km2"] > 0)
    circles = gpd.GeoDataFrame(table, geometry=gs.to_numpy(), crs=4326)
    keep = [c for c in ("id", "population", *ZONES) if c in d.columns]
    units = gpd.GeoDataFrame(d[keep].reset_index(drop=True),
                             geometry=d.geometry.to_numpy(), crs=4326)
    units["circle"] = np.where(on, unit_circle + 1, 0)
    units["meets_standard"] = np.where(on, table["meets_standard"].to_numpy()[
        np.maximum(unit_circle, 0)], False)
    out = LifeCircles(circles, units, p, dict(comp.not_assessed), [], data.source)
    missing = [t for t in comp.not_assessed if t in set(types["type"])]
    if missing:
        warn(out.warnings, f"{len(missing)} facility type(s) of the {p.tier}-minute basket could "
             f"not be judged by walking and were left out: {', '.join(missing)}",
             CoverageWarning, key="warn_circles_not_assessed", n=len(missing),
             types=", ".join(missing))
    return out


JUDGED = ("basket_share", "meets_standard", "lacking", "lacking_zh", *ZONES, "area_km2",
          "density_per_km2")


def judge(circles: LifeCircles, data: CoverageData, *,
          standards: pd.DataFrame | None = None) -> LifeCircles:
    """The same circles (same residents: the demand of ``data`` in the same order) judged on
    another coverage of them, e.g. with proposed hubs added."""
    c = circles.circles
    if len(data.demand) != len(circles.units):
        raise ParameterError(f"the coverage has {len(data.demand)} residential units, the "
                             f"circles {len(circles.units)}: not the same residents")
    table = pd.DataFrame(c.drop(columns=[x for x in (*JUDGED, c.geometry.name)
                                         if x in c.columns]))
    unit_circle = circles.units["circle"].to_numpy() - 1
    return _finish(data, table, unit_circle, c.geometry.to_numpy(), circles.params, standards)


def count_meeting(circles: gpd.GeoDataFrame, target: float | None = None,
                  by: str = "district") -> pd.DataFrame:
    """Circles meeting the standard: the study area, then each zone of ``by`` (the zone
    holding most of a circle's residents): ``circles``, ``meeting``, ``residents_meeting``,
    and against ``target`` (the study area's row only) ``target`` and ``progress`` (0–1)."""
    c = circles
    rows = [{"zone_type": "study_area", "zone": "study area", "circles": len(c),
             "meeting": int(c["meets_standard"].sum()),
             "residents_meeting": float(c.loc[c["meets_standard"], "residents"].sum())}]
    if by in c.columns:
        g = c.assign(met_res=c["residents"].where(c["meets_standard"], 0.0)).groupby(by)
        z = pd.DataFrame({"circles": g.size(), "meeting": g["meets_standard"].sum(),
                          "residents_meeting": g["met_res"].sum()}).reset_index()
        for r in z.itertuples(index=False):
            rows.append({"zone_type": by, "zone": getattr(r, by), "circles": int(r.circles),
                         "meeting": int(r.meeting),
                         "residents_meeting": float(r.residents_meeting)})
    out = pd.DataFrame(rows)
    out["target"] = np.where(out["zone_type"] == "study_area",
                             np.nan if target is None else float(target), np.nan)
    out["progress"] = out["meeting"] / out["target"]
    return out
