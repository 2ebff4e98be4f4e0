"""Coverage of the same residents and facilities for each walker side by side (the 适老化
view): who reaches each category within its threshold as a young adult, an elderly
resident, a child with a carer and a wheelchair or stroller user."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd


def walker_names() -> list[str]:
    """The walker profiles of the bundled table, in its order."""
    from layers.connectors import load_walker_profiles

    return [str(p) for p in load_walker_profiles().index]


def profiles_table(inputs, *, profiles: Sequence[str] | None = None,
                   progress: Callable[[float, str], None] | None = None,
                   **options) -> pd.DataFrame:
    """One row per category and one for the full basket: its threshold (minutes), then for
    each walker the residents covered (``pop_<walker>``) and their share (``share_<walker>``,
    0–1) over the whole study area. ``options`` go to each coverage run (``minutes``,
    ``edits``, ``join``, ``dem`` …); service areas are not drawn."""
    return profile_runs(inputs, profiles=profiles, progress=progress, **options)[0]


def profile_runs(inputs, *, profiles: Sequence[str] | None = None,
                 progress: Callable[[float, str], None] | None = None,
                 graphs: Callable | None = None, **options) -> tuple[pd.DataFrame, dict]:
    """:func:`profiles_table` and each walker's coverage result ({walker: result}), for maps
    of who reaches a category as one walker and not as another. ``graphs``: a function
    ``walker -> WalkGraph`` (e.g. the app's cached builder; default: built per run)."""
    from geo_app.workflows.coverage import run

    say = progress or (lambda f, m: None)
    names = list(profiles or walker_names())
    table, results = None, {}
    for k, name in enumerate(names):
        say(k / len(names), f"walker {name} ({k + 1} of {len(names)})")
        extra = {} if graphs is None else {"graph": graphs(name)}
        result = results[name] = run(inputs, profile=name, isochrones="none", **extra,
                                     **options)
        area = result.summary[result.summary["zone_type"] == "study_area"].iloc[0]
        cats = [*result.categories, "basket"]
        if table is None:
            limits = result.thresholds_min
            table = pd.DataFrame({"category": cats,
                                  "minutes": [limits.get(c, float("nan")) for c in cats]})
        table[f"pop_{name}"] = [float(area[f"pop_{c}"]) for c in cats]
        table[f"share_{name}"] = [float(area[f"share_{c}"]) for c in cats]
    say(1.0, "done")
    return table, results


def reach_difference(results: dict, category: str, slower: str, base: str = "adult"):
    """Per resident: -1 where ``base`` reaches ``category`` (or the basket) and ``slower``
    does not, 1 the other way round, 0 alike (the residents of both runs are the same)."""
    import numpy as np

    col = "basket_covered" if category == "basket" else f"cov_{category}"
    a = results[base].demand[col].to_numpy(bool)
    b = results[slower].demand[col].to_numpy(bool)
    return pd.DataFrame({category: np.where(a & ~b, -1, np.where(b & ~a, 1, 0))})


def profiles_text(table: pd.DataFrame) -> str:
    """The table for a terminal: share covered (%) per category and walker."""
    walkers = [c.removeprefix("share_") for c in table.columns if c.startswith("share_")]
    lines = [f"{'category':<20}{'minutes':>8}" + "".join(f"{w:>12}" for w in walkers)]
    for r in table.itertuples(index=False):
        row = r._asdict()
        minutes = "-" if pd.isna(row["minutes"]) else f"{row['minutes']:g}"
        lines.append(f"{row['category']:<20}{minutes:>8}"
                     + "".join(f"{100 * row[f'share_{w}']:>11.1f}%" for w in walkers))
    return "\n".join(lines)
