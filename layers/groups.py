"""Population groups a demand file may carry beside the total: the elderly (60+) and young
children (0–6), the "一老一小" the plans single out. Coverage and indicators are reported for
each group present, beside the total."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

#: group column → the headers it goes by (compared without case, spaces or width forms)
GROUPS: dict[str, tuple[str, ...]] = {
    "pop_60plus": ("pop_60plus", "pop60plus", "pop_60", "pop60", "60+", "age_60plus",
                   "60岁以上", "60岁及以上", "60岁以上人口", "60岁及以上人口", "老年人口",
                   "老年人", "老年人口数", "elderly", "elderly_population"),
    "pop_0_6": ("pop_0_6", "pop0_6", "pop_0_6y", "0-6", "0-6岁", "0~6岁", "0至6岁",
                "0-6岁人口", "0-6岁儿童", "儿童", "儿童人口", "学龄前儿童", "children",
                "children_0_6"),
}
GROUP_NAMES = {"pop_60plus": ("60岁以上", "aged 60+"), "pop_0_6": ("0–6岁", "aged 0–6")}


def _key(text: object) -> str:
    key = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s\u200b\ufeff]+", "", key)


def find_group_columns(columns) -> dict[str, str]:
    """``{group: column}`` for the groups whose header is among ``columns`` (the group's own
    name first, then its aliases in order)."""
    by_key = {}
    for c in columns:
        by_key.setdefault(_key(c), c)
    out = {}
    for group, names in GROUPS.items():
        hit = next((by_key[_key(n)] for n in names if _key(n) in by_key), None)
        if hit is not None:
            out[group] = hit
    return out


def group_values(frame: pd.DataFrame, population: pd.Series
                 ) -> tuple[dict[str, np.ndarray], dict[object, str]]:
    """The group columns of ``frame`` as floats, and the rows that fail (row label → why):
    a group must be a number ≥ 0 and not more than the row's ``population``."""
    values, bad = {}, {}
    pop = pd.to_numeric(population, errors="coerce").to_numpy(float)
    for group, column in find_group_columns(frame.columns).items():
        v = pd.to_numeric(frame[column].astype("string").str.strip(), errors="coerce")
        arr = v.to_numpy(float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            wrong = ~np.isfinite(arr) | (arr < 0) | (arr > pop * (1 + 1e-9) + 1e-9)
        for label, raw, ok_pop in zip(frame.index[wrong], frame[column][wrong], pop[wrong]):
            bad.setdefault(label, f"column '{column}': expected a number ≥ 0 and at most the "
                                  f"population ({ok_pop:g}), got {raw!r}")
        values[group] = arr
    return values, bad
