"""Hot spots (Gi* on an H3 or square grid) and kernel density of points, as the CLI and app run them."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.density import Density, kernel_density
from analysis.grids import h3_resolution, hex_grid, square_grid
from analysis.hotspots import gi_star
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
    if weight is None:
        return None
    return nonnegative_column(points, weight, "the points")


def run_hotspots(points: gpd.GeoDataFrame, *, grid: str = "h3", cell_m: float = 250.0,
                 weight: str | None = None, permutations: int | None = None,
                 alpha: float = 0.05, seed: int = 0) -> HotspotResult:
    """Gi* hot and cold spots of point counts (or ``weight`` sums) on a grid of ``cell_m``
    cells: square sides, or H3 hexagons about ``cell_m`` across (edge ``cell_m``/√3).

    ``permutations`` defaults to 999, or 9,999 above 1,000 cells, where 999 would leave
    no p-value small enough to pass the false-discovery correction.
    """
    if grid not in GRIDS:
        raise ValueError(f"unknown grid {grid!r}: expected one of {', '.join(GRIDS)}")
    if len(points) < 3:
        raise ValueError(f"{len(points)} point(s) are too few for hot spots")
    w = _weights(points, weight)
    if grid == "square":
        crs = metric_crs(points)
        xy = points.geometry.to_crs(crs)
        g = square_grid(xy.x.to_numpy(), xy.y.to_numpy(), cell_m, weights=w)
        cells = gpd.GeoSeries(g.cells, crs=crs).to_crs(4326).to_numpy()
        label = f"square {cell_m:g} m"
    else:
        res = h3_resolution(cell_m / math.sqrt(3))
        g = hex_grid(points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), res, weights=w)
        cells = g.cells
        label = f"H3 resolution {res}"
    n = len(g.sums)
    perms = permutations or (9_999 if n > BIG_GRID else 999)
    gi = gi_star(g.sums, g.w, permutations=perms, alpha=alpha, seed=seed)
    out = gpd.GeoDataFrame({"count": g.counts.astype(np.int64), "value": g.sums, "z": gi.z,
                            "p_sim": gi.p_sim, "significant": gi.significant, "kind": gi.kind},
                           geometry=cells, crs=4326)
    if g.ids is not None:
        out.insert(0, "h3", g.ids)
    params = {"grid": label, "cells": n, "points": len(points), "value": weight or "count",
              "permutations": perms, "alpha": alpha, "hot": int((gi.kind > 0).sum()),
              "cold": int((gi.kind < 0).sum()), "seed": seed}
    return HotspotResult(out, params)


def run_density(points: gpd.GeoDataFrame, *, bandwidth_m: float = 300.0, cell_m: float | None = None,
                weight: str | None = None, kernel: str = "quartic") -> DensityResult:
    """Kernel density (per km²) of points in their UTM zone; cells default to a fifth of
    the bandwidth."""
    if len(points) == 0:
        raise ValueError("there are no points for a density surface")
    crs = metric_crs(points)
    xy = points.geometry.to_crs(crs)
    cell = cell_m or bandwidth_m / 5
    d = kernel_density(xy.x.to_numpy(), xy.y.to_numpy(), bandwidth_m=bandwidth_m, cell_m=cell,
                       weights=_weights(points, weight), kernel=kernel)
    unit = "points_per_km2" if weight is None else (
        "persons_per_km2" if weight == "population" else f"{weight}/km²")
    params = {"bandwidth_m": bandwidth_m, "cell_m": cell, "kernel": kernel, "crs": crs,
              "points": len(points), "weight": weight or "", "total": d.total}
    return DensityResult(d, crs, unit, params)
