"""Network edits as a scenario in the app: the lines a planner draws (or uploads) checked as
the CLI checks ``--edits``, coverage before and after them for one walker, and the residents
who gain or lose reach, by category."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry

from geo_app.workflows.coverage import CoverageInputs, CoverageResult, Progress, run
from layers.edits import EDIT_KINDS, NetworkEdits, edits_from_frame, read_edits

DRAWN = "drawn edits"  # the source name of lines drawn on the map
GAIN, SAME, LOSE = 1, 0, -1
SUMMARY_COLUMNS = ("category", "residents", "covered_before", "covered_after", "gain", "lose",
                   "net", "share_before", "share_after", "nearer", "farther", "mean_change_s")
NEARER_S = 1.0  # a walk this many seconds shorter (longer) counts as nearer (farther)


def drawn_edits(features: Sequence[dict], kinds: Sequence[str]) -> NetworkEdits:
    """Lines drawn on the map (GeoJSON features in WGS-84) with a kind each, checked as a
    file of edits is (row = the line's number in drawing order)."""
    geoms = [shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
             for f in features]
    frame = gpd.GeoDataFrame({"kind": list(kinds)}, geometry=geoms, crs=4326)
    return edits_from_frame(frame, DRAWN)


def file_edits(path: str) -> NetworkEdits:
    """An uploaded file of edit lines (GeoJSON, GeoPackage …), checked."""
    return read_edits(path)


def kinds() -> tuple[str, ...]:
    return EDIT_KINDS


@dataclass
class EditComparison:
    """Coverage before and after the edits for one walker, and what changed per resident:
    ``status`` has a column per category and ``basket`` (1 gains reach, -1 loses it, 0 as
    before); ``summary`` one row per category (persons and shares, see :data:`SUMMARY_COLUMNS`)."""

    before: CoverageResult
    after: CoverageResult
    status: pd.DataFrame
    summary: pd.DataFrame
    edits: NetworkEdits
    profile: str
    time_change: pd.DataFrame | None = None  # see time_changes


    @property
    def categories(self) -> list[str]:
        return [*self.after.categories, "basket"]


def edit_effects(before: CoverageResult, after: CoverageResult) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame]:
    """Per resident and category, whether the edits gave (1) or took (-1) reach, and the
    summary by category: residents, covered before and after, gain, lose, net (persons),
    shares (0–1), persons nearer and farther and the mean change of the walk (s; see
    :func:`time_changes`, none for the basket). Both results must hold the same residents
    in the same order."""
    b, a = before.demand, after.demand
    if len(a) != len(b):
        raise ValueError(f"before and after hold {len(b)} and {len(a)} residents: compare "
                         "runs of the same residents")
    pop = a["population"].to_numpy(float)
    total = float(pop.sum())
    status, rows = {}, []
    for cat in [*after.categories, "basket"]:
        col = "basket_covered" if cat == "basket" else f"cov_{cat}"
        was = b[col].to_numpy(bool) if col in b.columns else np.zeros(len(b), bool)
        now = a[col].to_numpy(bool)
        s = np.where(now & ~was, GAIN, np.where(was & ~now, LOSE, SAME)).astype(np.int8)
        status[cat] = s
        cb, ca = float(pop[was].sum()), float(pop[now].sum())
        gain, lose = float(pop[s == GAIN].sum()), float(pop[s == LOSE].sum())
        rows.append({"category": cat, "residents": total, "covered_before": cb,
                     "covered_after": ca, "gain": gain, "lose": lose, "net": gain - lose,
                     "share_before": cb / total if total else np.nan,
                     "share_after": ca / total if total else np.nan})
    times = _time_summary(time_changes(before, after), pop)
    summary = pd.DataFrame(rows).merge(times, on="category", how="left")
    return pd.DataFrame(status), summary.reindex(columns=list(SUMMARY_COLUMNS))


def time_changes(before: CoverageResult, after: CoverageResult) -> pd.DataFrame:
    """Per resident (rows) and category (columns): seconds of walk to the nearest facility
    after the edits minus before (negative: nearer); NaN where it is beyond the search
    before or after (unreachable, or beyond the threshold's search)."""
    cats = list(after.categories)
    cols = [f"t_{c}" for c in cats]
    a = after.demand.reindex(columns=cols).to_numpy(float)
    b = before.demand.reindex(columns=cols).to_numpy(float)
    return pd.DataFrame(a - b, columns=cats, index=after.demand.index)


def _time_summary(dt: pd.DataFrame, pop: np.ndarray) -> pd.DataFrame:
    """Persons whose walk got shorter / longer by more than :data:`NEARER_S`, and the
    population-weighted mean change (s) of those who reach the category before and after."""
    d = dt.to_numpy(float)
    ok = np.isfinite(d)
    w = pop[:, None] * ok
    total = w.sum(axis=0)
    mean = np.where(total > 0, (np.where(ok, d, 0.0) * w).sum(axis=0)
                    / np.where(total > 0, total, 1.0), np.nan)
    return pd.DataFrame({"category": dt.columns,
                         "nearer": (pop[:, None] * (ok & (d < -NEARER_S))).sum(axis=0),
                         "farther": (pop[:, None] * (ok & (d > NEARER_S))).sum(axis=0),
                         "mean_change_s": mean})


def compare_edits(inputs: CoverageInputs, edits: NetworkEdits, *, profile: str = "adult",
                  minutes: float | None = None, area_type: str = "urban", dem: str | None = None,
                  dem_partial: bool = False, graphs=None,
                  progress: Progress | None = None) -> EditComparison:
    """Coverage of the inputs by ``profile`` without and with ``edits`` (service areas not
    drawn) and their difference. ``graphs``: a function ``(profile, edits) -> WalkGraph``
    (e.g. the app's cached builder); by default
    :func:`geo_app.workflows.graphs.walk_graph_for`. Edits the network refuses raise a
    ``LayerValidationError`` naming the line (row) and the fix."""
    from geo_app.workflows.graphs import walk_graph_for

    say = progress or (lambda f, m: None)

    def graph(e):
        if graphs is not None:
            return graphs(profile, e)
        return walk_graph_for(inputs.network, profile=profile, edits=e, dem=dem,
                              dem_partial=dem_partial)

    after_graph = graph(edits)  # refused edits stop here, before any walk
    results = []
    for k, (g, e) in enumerate(((graph(None), None), (after_graph, edits))):
        results.append(run(inputs, minutes=minutes, area_type=area_type, graph=g,
                           profile=profile, edits=e, dem=dem, dem_partial=dem_partial,
                           isochrones="none",
                           progress=lambda f, m, k=k: say(0.5 * (k + f), m)))
    before, after = results
    status, summary = edit_effects(before, after)
    return EditComparison(before, after, status, summary, edits, profile,
                          time_changes(before, after))
