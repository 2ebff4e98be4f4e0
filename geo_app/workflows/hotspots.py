"""Hot spots (Gi* on an H3 or square grid) and kernel density of points, as the CLI and app
run them; both estimate their cells and work first and refuse beyond the settings' caps."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.density import Density, kernel_density
from analysis.grids import (
    fitting_cell,
    h3_resolution,
    hex_cell_count,
    hex_grid,
    square_cell_count,
    square_grid,
)
from analysis.hotspots import gi_draws, gi_star
from geo_app.config import DEFAULT, Settings
from geo_app.errors import ParameterError
from geo_app.io.export import run_info
from layers.crs import metric_crs
from layers.validate import nonnegative_column

log = logging.getLogger(__name__)

GRIDS = ("h3", "square")
BIG_GRID = 1_000  # above this many cells, 9,999 permutations (999 cannot pass the FDR cut)


@dataclass(frozen=True)
class HotspotResult:
    """``cells`` (EPSG:4326): ``count``, ``value`` (count or weight sum), ``z``, ``p_sim``,
    ``significant`` (after the FDR correction) and ``kind`` (+1 hot, −1 cold, 0 neither)."""

    cells: gpd.GeoDataFrame
    params: dict = field(default_factory=dict)

    def layers(self) -> dict[str, pd.DataFrame]:
        return {"cells": self.cells, "run_info": run_info(self.params)}


@dataclass(frozen=True)
class DensityResult:
    """A kernel density surface in ``crs`` with the unit of its values."""

    density: Density
    crs: str
    unit: str  # a label key ("points_per_km2", "persons_per_km2") or "<column>/km²"
    params: dict = field(default_factory=dict)


def _weights(points: gpd.GeoDataFrame, weight: str | None) -> np.ndarray | None:
    """The ``weight`` column as numbers ≥ 0 (text cleaned: full-width digits, thousands
    separators), or a ValueError naming the column and rows."""
    if weight is None:
        return None
    weight = weight_column(points, weight)
    if weight in points.columns and not pd.api.types.is_numeric_dtype(points[weight]):
        from layers.clean import parse_counts

        raw = points[weight]
        parsed = parse_counts(raw, weight).values
        text = raw.astype("string").fillna("").str.strip()
        parsed = np.where(np.isfinite(parsed), parsed, pd.to_numeric(text, errors="coerce"))
        points = points.assign(**{weight: parsed})
    return nonnegative_column(points, weight, "the points")


def weight_column(points: gpd.GeoDataFrame, weight: str) -> str:
    """The column of ``weight``: itself, or the role it is an alias of when the reader named
    the column by its role (``--weight 人口`` → ``population``)."""
    if weight in points.columns:
        return weight
    from layers.columns import candidates

    return next((role for role in ("population", "capacity")
                 if role in points.columns and candidates([weight], role)), weight)


def _perms(n: int, permutations: int | None) -> int:
    return permutations or (9_999 if n > BIG_GRID else 999)


@dataclass(frozen=True)
class GridPlan:
    """What a hot-spot run will do, known before it starts: the ``grid`` ("square" or
    "h3"), its ``label``, about how many ``cells``, the ``permutations`` and the Gi*
    ``draws`` (cells × permutations × neighbours); ``crs``/``resolution`` of the grid."""

    grid: str
    label: str
    cells: int
    permutations: int
    draws: float
    crs: str | None = None
    resolution: int | None = None

    @property
    def seconds(self) -> float:
        """A rough duration of the permutations (50 million draws a second)."""
        return self.draws / DRAWS_PER_S


DRAWS_PER_S = 5e7  # Gi* draws a second on one core (measured: 35–52 million)
NEIGHBOURS = {"square": 8, "h3": 6}


def _spread_text(points: gpd.GeoDataFrame, crs: str | None, far_km: float) -> str:
    """The extent of the points in km, and their far outliers, for a refusal."""
    from layers.crs import far_note

    xy = gpd.GeoSeries(points.geometry.values, crs=4326).to_crs(crs or metric_crs(points))
    w = (xy.x.max() - xy.x.min()) / 1000
    h = (xy.y.max() - xy.y.min()) / 1000
    note = far_note(points, far_km)
    return (f"the {len(points):,} points span {w:,.1f} km × {h:,.1f} km"
            + (f"; {note}" if note else ""))


def plan_hotspots(points: gpd.GeoDataFrame, *, grid: str = "h3", cell_m: float = 250.0,
                  permutations: int | None = None, settings: Settings | None = None) -> GridPlan:
    """Estimate the grid and the Gi* work of :func:`run_hotspots` before any work, and
    refuse (:class:`~geo_app.errors.ParameterError`) beyond ``settings.max_grid_cells`` cells
    or ``settings.max_hotspot_draws`` draws, naming the cell size that fits."""
    s = settings or DEFAULT
    if grid not in GRIDS:
        raise ValueError(f"unknown grid {grid!r}: expected one of {', '.join(GRIDS)}")
    if len(points) < 3:
        raise ValueError(f"{len(points)} point(s) are too few for hot spots")
    lon, lat = points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    k = NEIGHBOURS[grid]
    if grid == "square":
        crs = metric_crs(points)
        xy = points.geometry.to_crs(crs)
        n = square_cell_count((xy.x.min(), xy.y.min(), xy.x.max(), xy.y.max()), cell_m)
        label, res = f"square {cell_m:g} m", None
    else:
        crs, res = None, h3_resolution(cell_m / math.sqrt(3))
        n = hex_cell_count(lon, lat, res)
        label = f"H3 resolution {res} (about {cell_m:g} m across)"
    perms = _perms(n, permutations)
    plan = GridPlan(grid, label, n, perms, gi_draws(n, perms, k), crs, res)
    if n <= s.max_grid_cells and plan.draws <= s.max_hotspot_draws:
        return plan
    # the most cells that fit both limits (the default permutations grow above 1,000 cells)
    fit = min(s.max_grid_cells, s.max_hotspot_draws / (_perms(BIG_GRID + 1, permutations) * k))
    if permutations is None and fit <= BIG_GRID:
        fit = min(BIG_GRID, s.max_grid_cells, s.max_hotspot_draws / (999 * k))
    if grid == "square":
        bigger = fitting_cell(cell_m, n, fit)
    else:
        r = res
        while r > 0 and hex_cell_count(lon, lat, r) > fit:
            r -= 1
        bigger = float(math.ceil(_h3_edge(r) * math.sqrt(3)))
    why = (f"about {n:,} cells (limit {s.max_grid_cells:,}, max_grid_cells)"
           if n > s.max_grid_cells else
           f"{n:,} cells × {perms:,} permutations × {k} neighbours = {plan.draws:.3g} Gi* "
           f"draws, about {plan.seconds:,.0f} s (limit {s.max_hotspot_draws:.3g}, "
           "max_hotspot_draws)")
    raise ParameterError(f"a {label} grid here would have {why}: use --cell-m {bigger:g} or "
                         f"more{'' if n > s.max_grid_cells else ' or fewer --permutations'} "
                         f"({_spread_text(points, crs, s.far_points_km)})")


def _h3_edge(resolution: int) -> float:
    import h3

    return h3.average_hexagon_edge_length(int(resolution), unit="m")


def run_hotspots(points: gpd.GeoDataFrame, *, grid: str = "h3", cell_m: float = 250.0,
                 weight: str | None = None, permutations: int | None = None,
                 alpha: float = 0.05, seed: int = 0, settings: Settings | None = None,
                 progress=None) -> HotspotResult:
    """Gi* hot and cold spots of point counts (or ``weight`` sums) on a grid of ``cell_m``
    cells: square sides, or H3 hexagons about ``cell_m`` across (edge ``cell_m``/√3).

    ``permutations`` defaults to 999, or 9,999 above 1,000 cells, where 999 would leave
    no p-value small enough to pass the false-discovery correction. The grid and the work
    are estimated first (:func:`plan_hotspots`) and refused beyond the ``settings``' caps.
    ``progress(fraction)`` follows the permutations.
    """
    s = settings or DEFAULT
    plan = plan_hotspots(points, grid=grid, cell_m=cell_m, permutations=permutations,
                         settings=s)
    w = _weights(points, weight)
    if grid == "square":
        crs = plan.crs
        xy = points.geometry.to_crs(crs)
        g = square_grid(xy.x.to_numpy(), xy.y.to_numpy(), cell_m, weights=w,
                        max_cells=s.max_grid_cells)
        cells = gpd.GeoSeries(g.cells, crs=crs).to_crs(4326).to_numpy()
        label = f"square {cell_m:g} m"
    else:
        res = plan.resolution
        g = hex_grid(points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), res, weights=w,
                     max_cells=max(s.max_grid_cells, plan.cells))
        cells = g.cells
        label = f"H3 resolution {res}"
    n = len(g.sums)
    perms = _perms(n, permutations)
    gi = gi_star(g.sums, g.w, permutations=perms, alpha=alpha, seed=seed, progress=progress)
    out = gpd.GeoDataFrame({"count": g.counts.astype(np.int64), "value": g.sums, "z": gi.z,
                            "p_sim": gi.p_sim, "significant": gi.significant, "kind": gi.kind},
                           geometry=cells, crs=4326)
    if g.ids is not None:
        out.insert(0, "h3", g.ids)
    params = {"grid": label, "cells": n, "points": len(points), "value": weight or "count",
              "permutations": perms, "alpha": alpha, "hot": int((gi.kind > 0).sum()),
              "cold": int((gi.kind < 0).sum()), "seed": seed}
    return HotspotResult(out, params)


def plan_density(points: gpd.GeoDataFrame, *, bandwidth_m: float = 300.0,
                 cell_m: float | None = None, kernel: str = "quartic",
                 settings: Settings | None = None) -> int:
    """Raster cells of :func:`run_density`'s surface, refused
    (:class:`~geo_app.errors.ParameterError`) beyond ``settings.max_density_cells`` with the
    bandwidth (cells are a fifth of it by default) or cell size that fits."""
    from analysis.density import support

    s = settings or DEFAULT
    if len(points) == 0:
        raise ValueError("there are no points for a density surface")
    crs = metric_crs(points)
    xy = points.geometry.to_crs(crs)
    cell = cell_m or bandwidth_m / 5
    reach = support(bandwidth_m, kernel)
    n = square_cell_count((xy.x.min() - reach, xy.y.min() - reach, xy.x.max() + reach,
                           xy.y.max() + reach), cell)
    if n <= s.max_density_cells:
        return n
    bigger = fitting_cell(cell, n, s.max_density_cells)
    fix = (f"--bandwidth {5 * bigger:g} or more (cells are a fifth of it)" if cell_m is None
           else f"a cell of {bigger:g} m or more")
    raise ParameterError(f"a kernel density surface of {cell:g} m cells here would have "
                         f"{n:,} cells (limit {s.max_density_cells:,}, max_density_cells): use "
                         f"{fix} ({_spread_text(points, crs, s.far_points_km)})")


def run_density(points: gpd.GeoDataFrame, *, bandwidth_m: float = 300.0,
                cell_m: float | None = None,
                weight: str | None = None, kernel: str = "quartic",
                settings: Settings | None = None) -> DensityResult:
    """Kernel density (per km²) of points in their UTM zone; cells default to a fifth of
    the bandwidth. The raster is estimated first (:func:`plan_density`) and refused beyond
    the ``settings``' cap."""
    s = settings or DEFAULT
    plan_density(points, bandwidth_m=bandwidth_m, cell_m=cell_m, kernel=kernel, settings=s)
    crs = metric_crs(points)
    xy = points.geometry.to_crs(crs)
    cell = cell_m or bandwidth_m / 5
    d = kernel_density(xy.x.to_numpy(), xy.y.to_numpy(), bandwidth_m=bandwidth_m, cell_m=cell,
                       weights=_weights(points, weight), kernel=kernel,
                       max_cells=max(s.max_density_cells, 1))
    unit = "points_per_km2" if weight is None else (
        "persons_per_km2" if weight == "population" else f"{weight}/km²")
    params = {"bandwidth_m": bandwidth_m, "cell_m": cell, "kernel": kernel, "crs": crs,
              "points": len(points), "weight": weight or "", "total": d.total}
    return DensityResult(d, crs, unit, params)
