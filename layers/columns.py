"""Which of a user's columns holds longitude, latitude, name, category, population, ...

One alias table, ``data/gis/column_aliases.csv`` (role, alias, rank, note), lists the Chinese
and English headers each role goes by. Headers match an alias when they are equal after
:func:`header_key` (case, spaces, full-width/half-width forms and a trailing unit in
brackets ignored: ``"人口（人）"`` matches ``人口``). When several columns match a role, the
one with the best (lowest) rank wins; a tie is an ambiguity the user settles with
``columns={role: column}`` (CLI ``--<role>-column``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache

import pandas as pd

from layers.resources import bundled_data_dir, data_dir

ALIAS_FILE = "column_aliases.csv"
# roles in the order they are resolved; the first four locate the points
GEOMETRY_ROLES = ("lon", "lat", "location", "wkt")
ATTRIBUTE_ROLES = ("name", "category", "population", "capacity", "id")
ROLES = GEOMETRY_ROLES + ATTRIBUTE_ROLES
NUMERIC_ROLES = ("population", "capacity")
MAX_LISTED = 30  # columns spelled out in a message
_UNIT = re.compile(r"[(\[][^()\[\]]*[)\]]$")


class ColumnChoiceError(ValueError):
    """The columns of a file do not settle a role; ``problems`` holds one line per fault."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def header_key(text: object) -> str:
    """A header as compared with the aliases: NFKC (full-width → half-width), case-folded,
    without spaces, zero-width characters or a trailing bracketed unit."""
    key = unicodedata.normalize("NFKC", str(text)).casefold()
    key = re.sub(r"[\s\u200b\ufeff]+", "", key)
    stripped = _UNIT.sub("", key)
    return stripped or key


def option(role: str) -> str:
    """The CLI option that names the column of ``role``."""
    return f"--{role}-column"


def columns_text(columns: Iterable[object]) -> str:
    """Column names for a message: at most :data:`MAX_LISTED`, each at most 40 characters."""
    names = [str(c) for c in columns if str(c) != "geometry"]
    shown = [n if len(n) <= 40 else n[:39] + "…" for n in names[:MAX_LISTED]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" (and {more} more)" if more > 0 else "") if names else "(none)"


@lru_cache(maxsize=4)
def _aliases(folder: str) -> dict[str, dict[str, int]]:
    table = pd.read_csv(f"{folder}/{ALIAS_FILE}", dtype=str, keep_default_na=False,
                        encoding="utf-8")
    unknown = sorted(set(table["role"]) - set(ROLES))
    if unknown:
        raise ValueError(f"{folder}/{ALIAS_FILE}: unknown role(s) {', '.join(unknown)}; "
                         f"expected one of {', '.join(ROLES)}")
    out: dict[str, dict[str, int]] = {role: {} for role in ROLES}
    for role, alias, rank in zip(table["role"], table["alias"], table["rank"]):
        out[role].setdefault(header_key(alias), int(rank or 1))
    for role in ROLES:  # the canonical name is always an alias of its role
        out[role].setdefault(header_key(role), 1)
    return out


def aliases() -> dict[str, dict[str, int]]:
    """``{role: {header key: rank}}`` from the alias table of the data folder (the bundled
    one when a ``GEO_APP_DATA_DIR`` folder has none)."""
    folder = data_dir()
    if not (folder / ALIAS_FILE).is_file():
        folder = bundled_data_dir()
    return _aliases(str(folder))


def candidates(frame_columns: Iterable[object], role: str) -> list[tuple[int, str]]:
    """``(rank, column)`` of every column whose header is an alias of ``role``, best first."""
    table = aliases()[role]
    found = [(table[header_key(c)], str(c)) for c in frame_columns
             if header_key(c) in table]
    return sorted(found, key=lambda t: t[0])


def _named(frame_columns: list[str], role: str, wanted: str) -> str:
    if wanted in frame_columns:
        return wanted
    loose = [c for c in frame_columns if header_key(c) == header_key(wanted)]
    if len(loose) == 1:
        return loose[0]
    raise ColumnChoiceError([f"no column '{wanted}' for {role} ({option(role)}); "
                             f"found {columns_text(frame_columns)}"])


def resolve_columns(frame_columns: Iterable[object], columns: Mapping[str, str] | None = None,
                    roles: Iterable[str] = ROLES, *, required: Collection[str] = (),
                    ambiguous: str = "raise") -> dict[str, str]:
    """``{role: column}`` for the ``roles`` found among ``frame_columns``.

    ``columns`` names the user's column for some roles (``{"lon": "东经"}``); a named column
    that is missing is an error listing the columns found. Other roles are matched through
    the alias table; a column named exactly like the role wins. A role matched by two
    columns of the same rank is an error naming both and the option that picks one
    (``ambiguous="skip"``: such roles are left out instead, unless ``required``). A role in
    ``required`` that matches nothing is an error. Raises :class:`ColumnChoiceError`.
    """
    frame_columns = [str(c) for c in frame_columns]
    roles = list(roles)
    columns = {k: v for k, v in (columns or {}).items() if v is not None and v != ""}
    problems: list[str] = []
    bad_roles = sorted(set(columns) - set(ROLES))
    if bad_roles:
        raise ColumnChoiceError([f"unknown column role(s) {', '.join(bad_roles)}; "
                                 f"expected {', '.join(ROLES)}"])
    found: dict[str, str] = {}
    for role, wanted in columns.items():
        try:
            found[role] = _named(frame_columns, role, str(wanted))
        except ColumnChoiceError as exc:
            problems.extend(exc.problems)
    taken = {}
    for role, col in found.items():
        if col in taken:
            problems.append(f"column '{col}' is named for both {taken[col]} and {role}")
        taken.setdefault(col, role)
    for role in roles:
        if role in found or role in columns:
            continue
        if role in frame_columns and role not in taken:
            found[role] = role
            continue
        matches = [(rank, c) for rank, c in candidates(frame_columns, role) if c not in taken]
        if not matches:
            if role in required:
                problems.append(f"no {role} column: expected a column named "
                                f"{' or '.join(repr(a) for a in _examples(role))} or "
                                f"{option(role)}; found {columns_text(frame_columns)}")
            continue
        best = [c for rank, c in matches if rank == matches[0][0]]
        if len(best) > 1:
            if ambiguous == "raise" or role in required:
                problems.append(f"columns {', '.join(repr(c) for c in best)} could each be the "
                                f"{role}: pick one with {option(role)}")
            continue
        found[role] = best[0]
    if problems:
        raise ColumnChoiceError(problems)
    return {role: found[role] for role in ROLES if role in found}


def _examples(role: str) -> list[str]:
    return {"lon": ["lon", "经度", "x"], "lat": ["lat", "纬度", "y"],
            "name": ["name", "名称"], "category": ["category", "类别", "类型"],
            "population": ["population", "人口"], "capacity": ["capacity", "容量", "床位"],
            "id": ["id", "编号"], "location": ["location"], "wkt": ["wkt", "geometry"]}[role]
