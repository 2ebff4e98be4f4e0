"""Project files: the planner's saved scenarios (parameters, sites, result tables) on disk.

A project file is one SQLite database (suffix ``.cqproj.sqlite``), marked with
``PRAGMA application_id`` and a ``meta`` table holding the format version:

- ``meta(key, value)``: ``format_version``, ``app_version``, ``created``, ``updated``.
- ``scenarios(id PK, name UNIQUE, kind, created, updated, params, notes, site_columns,
  n_sites)``: ``params`` is a JSON object; ``site_columns`` a JSON list of
  ``[column, dtype]`` for the sites' attribute columns; ``n_sites`` the number of rows in
  ``scenario_sites``.
- ``scenario_sites(scenario_id, seq, name, lon, lat, attrs)``: one point per row, WGS-84
  degrees (EPSG:4326) in ``lon``/``lat``; ``attrs`` a JSON object of the other columns.
- ``scenario_tables(scenario_id, seq, name, data)``: a small table as JSON
  ``{"columns": [...], "dtypes": [...], "data": [[column values], ...]}``.

JSON is written by Python's ``json`` module (``NaN`` and ``Infinity`` allowed); times are
ISO 8601 UTC strings. Every change is one SQLite transaction with the default rollback
journal: a killed or crashed writer leaves a journal that the next reader rolls back,
so readers see the last complete save. Keep the ``-journal`` file next to the database
if you copy a project while the app is writing it. A new file is built aside and linked
into place, so it never appears half made.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_app.config import Settings
from geo_app.io.files import replace_atomically
from geo_app.io.scenario_edits import TABLE as NETWORK_TABLE
from geo_app.io.scenario_edits import network_from_json, network_json
from layers.validate import LayerValidationError

log = logging.getLogger(__name__)

SUFFIX = ".cqproj.sqlite"
FORMAT_VERSION = 1
APPLICATION_ID = 0x43514C43  # "CQLC"
BUSY_TIMEOUT_S = 30.0  # how long a save waits for another session's save
_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, params TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '', site_columns TEXT NOT NULL, n_sites INTEGER NOT NULL);
CREATE TABLE scenario_sites (
    scenario_id INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT, lon REAL NOT NULL,
    lat REAL NOT NULL, attrs TEXT, PRIMARY KEY (scenario_id, seq)) WITHOUT ROWID;
CREATE TABLE scenario_tables (
    scenario_id INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (scenario_id, seq));
"""


class ProjectFileError(LayerValidationError):
    """A project file that is missing, not a project file, too new, damaged or busy."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(str(path), [problem])


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": pd.Series([], dtype=object)},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


@dataclass
class Scenario:
    """One saved scenario.

    ``params``: JSON values (str, number, bool, None, list, dict with str keys; tuples come
    back as lists). ``sites``: points with at least ``name`` (EPSG:4326 degrees; other CRSs
    are converted on save; no CRS is read as WGS-84). ``tables``: small frames; their index
    is not kept. ``created``/``updated``: ISO 8601 UTC, set by :func:`save_scenario`.
    ``profile``: the walker profile the scenario was run for (None: the plain walk graph);
    ``edits``: its network edits (lines in EPSG:4326 with ``kind``, ``status``/``open``,
    ``direction``, ``incline``, ``step_count``; a ``NetworkEdits`` is accepted on save), saved
    as GeoJSON (:mod:`geo_app.io.scenario_edits`) and restored as that frame; None: none.
    """

    name: str
    kind: str = "siting"
    params: dict = field(default_factory=dict)
    sites: gpd.GeoDataFrame = field(default_factory=_empty_sites)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: str = ""
    created: str | None = None
    updated: str | None = None
    profile: str | None = None
    edits: gpd.GeoDataFrame | None = None


def default_project_path(settings: Settings | None = None) -> Path:
    """``default.cqproj.sqlite`` in :meth:`Settings.projects_path` (``$GEO_APP_PROJECT_DIR``, else
    ``projects`` in the per-user data folder; created). ``settings``: default
    :meth:`Settings.from_env`."""
    settings = Settings.from_env() if settings is None else settings
    return settings.projects_path() / f"default{SUFFIX}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cq-life-circle")
    except PackageNotFoundError:
        return "unknown"


def _create(path: Path) -> None:
    """Build an empty project beside ``path`` and link it into place unless one appeared
    meanwhile (another session's project is kept)."""
    def build(tmp: str) -> None:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.executescript(_SCHEMA)
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            stamp = _now()
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("format_version", str(FORMAT_VERSION)), ("app_version", _app_version()),
                ("created", stamp), ("updated", stamp)])
        finally:
            con.close()

    replace_atomically(path, build, ".sqlite", overwrite=False)


def _check(con: sqlite3.Connection, path: Path) -> None:
    (app_id,) = con.execute("PRAGMA application_id").fetchone()
    if app_id != APPLICATION_ID:
        raise ProjectFileError(path, "an SQLite database, but not a project file of this app")
    row = con.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        raise ProjectFileError(path, "the project file has no format version") from None
    if version > FORMAT_VERSION:
        raise ProjectFileError(path, f"written by a newer version of the app (format {version}; "
                                     f"this one reads up to {FORMAT_VERSION}): update the app")


@contextmanager
def _connection(path: str | Path, *, create: bool) -> Iterator[sqlite3.Connection]:
    """A checked connection in autocommit mode; SQLite errors become ProjectFileError."""
    path = Path(path).expanduser()
    if not path.exists():
        if not create:
            raise ProjectFileError(path, "no such project file")
        _create(path)
    if path.is_dir():
        raise ProjectFileError(path, "a folder, not a project file")
    with open(path, "rb") as fh:
        head = fh.read(len(_MAGIC))
    if not head:
        raise ProjectFileError(path, "an empty file, not a project file")
    if head != _MAGIC:
        raise ProjectFileError(path, "not a project file (not an SQLite database)")
    try:
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise ProjectFileError(path, f"cannot open: {exc}") from None
    try:
        con.execute("PRAGMA synchronous = FULL")
        _check(con, path)
        yield con
    except sqlite3.OperationalError as exc:
        busy = "locked" in str(exc) or "busy" in str(exc)
        raise ProjectFileError(path, "another session kept the file busy; try again" if busy
                               else f"cannot read or write: {exc}") from None
    except sqlite3.Error as exc:
        raise ProjectFileError(path, f"damaged or not a project file: {exc}") from None
    finally:
        con.close()


@contextmanager
def _transaction(con: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[None]:
    con.execute(f"BEGIN {mode}")
    try:
        yield
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def open_project(path: str | Path, create: bool = True) -> Path:
    """Check (creating if allowed and missing) the project file at ``path``; its path."""
    with _connection(path, create=create):
        pass
    return Path(path).expanduser()


# --- JSON encoding -------------------------------------------------------------------------

def _plain(value, where: str):
    """``value`` as plain JSON values, or a ValueError naming ``where``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and isinstance(value.item(), (bool, int, float, str)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ValueError(f"{where}: key {bad[0]!r} is not a string")
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    raise ValueError(f"{where}: a {type(value).__name__} is not a JSON value (use str, number, "
                     "bool, None, list or dict)")


def _params_json(params: dict) -> str:
    if not isinstance(params, dict):
        raise ValueError(f"scenario parameters must be a dict, got {type(params).__name__}")
    return json.dumps(_plain(params, "parameters"), ensure_ascii=False)


def _column_values(s: pd.Series, where: str) -> list:
    """A column as JSON values: missing → None, times → ISO text."""
    if s.dtype.kind in "mM" or isinstance(s.dtype, (pd.PeriodDtype, pd.IntervalDtype)):
        if s.dtype.kind != "M":
            raise ValueError(f"{where}: dtype {s.dtype} cannot be saved")
        return [None if pd.isna(v) else v.isoformat() for v in s]
    vals = s.astype(object).where(s.notna(), None).tolist()
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf"):
        vals = [_plain(v, f"{where}, row {i}") for i, v in enumerate(vals)]
    return vals


def _restore(vals: list, dtype: str) -> pd.Series:
    s = pd.Series(vals, dtype=object)
    if dtype == "object":
        return s
    if dtype.startswith("datetime64"):
        return pd.to_datetime(s).astype(dtype)
    return s.astype(dtype)


def _columns(df: pd.DataFrame, what: str) -> list[str]:
    cols = list(df.columns)
    bad = [c for c in cols if not isinstance(c, str)]
    if bad:
        raise ValueError(f"{what}: column name {bad[0]!r} is not a string")
    if len(set(cols)) != len(cols):
        raise ValueError(f"{what}: repeated column names")
    return cols


def _table_json(df: pd.DataFrame, name: str) -> str:
    what = f"table {name!r}"
    if isinstance(df, gpd.GeoDataFrame) or not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what}: tables must be plain DataFrames (points go in the sites)")
    cols = _columns(df, what)
    data = [_column_values(df[c], f"{what}, column {c!r}") for c in cols]
    return json.dumps({"columns": cols, "dtypes": [str(df[c].dtype) for c in cols],
                       "data": data}, ensure_ascii=False)


def _table_from_json(text: str) -> pd.DataFrame:
    d = json.loads(text)
    return pd.DataFrame({c: _restore(v, t) for c, t, v in zip(d["columns"], d["dtypes"],
                                                              d["data"])},
                        columns=d["columns"])


# --- saving and loading --------------------------------------------------------------------

def _site_rows(sites: gpd.GeoDataFrame, scenario: str) -> tuple[list, list]:
    """(``[column, dtype]`` list, rows of (seq, name, lon, lat, attrs))."""
    what = f"scenario {scenario!r}: sites"
    if not isinstance(sites, gpd.GeoDataFrame):
        raise ValueError(f"{what} must be a GeoDataFrame of points")
    if "name" not in sites.columns:
        raise ValueError(f"{what} lack a 'name' column")
    if sites.crs is not None and not sites.crs.equals("EPSG:4326"):
        sites = sites.to_crs(4326)
    geom = sites.geometry.to_numpy()
    bad = np.flatnonzero((shapely.get_type_id(geom) != 0) | shapely.is_empty(geom))
    if len(bad):
        raise ValueError(f"{what}: row {bad[0]} is not a point")
    lon, lat = shapely.get_x(geom), shapely.get_y(geom)
    if not (np.all(np.abs(lon) <= 180) and np.all(np.abs(lat) <= 90)):
        raise ValueError(f"{what}: coordinates outside WGS-84 degrees")
    cols = [c for c in _columns(sites, what) if c != sites.geometry.name]
    layout = [[c, str(sites[c].dtype)] for c in cols]
    names = [v if v is None else str(v) for v in
             sites["name"].astype(object).where(sites["name"].notna(), None).tolist()]
    extra = [c for c in cols if c != "name"]
    values = [_column_values(sites[c], f"{what}, column {c!r}") for c in extra]
    attrs = ([json.dumps(dict(zip(extra, row)), ensure_ascii=False) for row in zip(*values)]
             if extra else [None] * len(sites))
    return layout, list(zip(range(len(sites)), names, lon.tolist(), lat.tolist(), attrs))


def save_scenario(path: str | Path, scenario: Scenario) -> Scenario:
    """Save ``scenario`` in the project at ``path`` (created if missing) in one transaction.

    A scenario of the same name is replaced (keeping its ``created`` time). Returns the
    scenario with ``created`` and ``updated`` set. Raises ``ValueError`` for values that
    cannot be saved and :class:`ProjectFileError` for file problems.
    """
    name = scenario.name.strip() if isinstance(scenario.name, str) else ""
    if not name:
        raise ValueError("a scenario needs a name")
    if not isinstance(scenario.kind, str) or not scenario.kind.strip():
        raise ValueError(f"scenario {name!r}: kind must be a non-empty string")
    params = _params_json(scenario.params)
    layout, rows = _site_rows(scenario.sites, name)
    tables = [(i, str(t), _table_json(df, str(t)))
              for i, (t, df) in enumerate(scenario.tables.items()) if str(t) != NETWORK_TABLE]
    network = network_json(scenario.profile, scenario.edits)
    if network is not None:  # the profile and edits: a reserved table
        tables.append((len(tables), NETWORK_TABLE, network))
    with _connection(path, create=True) as con, _transaction(con):
        old = con.execute("SELECT created FROM scenarios WHERE name = ?", (name,)).fetchone()
        (latest,) = con.execute("SELECT max(updated) FROM scenarios").fetchone()
        stamp = _now()
        if latest is not None and stamp <= latest:  # keep the save order under a coarse clock
            stamp = (datetime.fromisoformat(latest) + timedelta(microseconds=1)).isoformat(
                timespec="microseconds")
        created = old[0] if old else stamp
        _delete(con, name)
        sid = con.execute(
            "INSERT INTO scenarios (name, kind, created, updated, params, notes, site_columns, "
            "n_sites) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, scenario.kind, created, stamp, params, str(scenario.notes or ""),
             json.dumps(layout), len(rows))).lastrowid
        con.executemany("INSERT INTO scenario_sites VALUES (?, ?, ?, ?, ?, ?)",
                        ((sid, *r) for r in rows))
        con.executemany("INSERT INTO scenario_tables VALUES (?, ?, ?, ?)",
                        ((sid, *t) for t in tables))
        con.execute("UPDATE meta SET value = ? WHERE key = 'updated'", (stamp,))
    return replace(scenario, name=name, created=created, updated=stamp)


def _delete(con: sqlite3.Connection, name: str) -> bool:
    row = con.execute("SELECT id FROM scenarios WHERE name = ?", (name,)).fetchone()
    if row is None:
        return False
    for table in ("scenario_sites", "scenario_tables"):
        con.execute(f"DELETE FROM {table} WHERE scenario_id = ?", row)
    con.execute("DELETE FROM scenarios WHERE id = ?", row)
    return True


def list_scenarios(path: str | Path) -> pd.DataFrame:
    """Saved scenarios, oldest save first: name, kind, created, updated, n_sites, notes.

    A project file that does not exist yet lists nothing.
    """
    cols = ["name", "kind", "created", "updated", "n_sites", "notes"]
    if not Path(path).expanduser().exists():
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    with _connection(path, create=False) as con:
        rows = con.execute(f"SELECT {', '.join(cols)} FROM scenarios "
                           "ORDER BY updated, name").fetchall()
    return pd.DataFrame(rows, columns=cols).astype({"n_sites": "int64"})


def load_scenario(path: str | Path, name: str) -> Scenario:
    """The scenario saved under ``name``; ValueError if there is none."""
    with _connection(path, create=False) as con, _transaction(con, "DEFERRED"):
        head = con.execute("SELECT id, kind, created, updated, params, notes, site_columns, "
                           "n_sites FROM scenarios WHERE name = ?", (name,)).fetchone()
        if head is None:
            raise ValueError(f"{path}: no scenario named {name!r}")
        sites = con.execute("SELECT name, lon, lat, attrs FROM scenario_sites "
                            "WHERE scenario_id = ? ORDER BY seq", head[:1]).fetchall()
        tables = con.execute("SELECT name, data FROM scenario_tables WHERE scenario_id = ? "
                             "ORDER BY seq", head[:1]).fetchall()
    _, kind, created, updated, params, notes, layout, n_sites = head
    if len(sites) != n_sites:
        raise ProjectFileError(path, f"scenario {name!r} is incomplete: {len(sites)} of "
                                     f"{n_sites} sites")
    try:
        profile, edits = next((network_from_json(d) for t, d in tables if t == NETWORK_TABLE),
                              (None, None))
        return Scenario(name, kind, json.loads(params), _sites_frame(sites, json.loads(layout)),
                        {t: _table_from_json(d) for t, d in tables if t != NETWORK_TABLE},
                        notes, created, updated, profile, edits)
    except (ValueError, TypeError, KeyError) as exc:
        raise ProjectFileError(path, f"scenario {name!r} is damaged: {exc}") from None


def _sites_frame(rows: list, layout: list) -> gpd.GeoDataFrame:
    names, lon, lat, attrs = zip(*rows) if rows else ((), (), (), ())
    parsed = [json.loads(a) if a else {} for a in attrs]
    data = {c: _restore(list(names) if c == "name" else [p.get(c) for p in parsed], t)
            for c, t in layout}
    geom = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    return gpd.GeoDataFrame(data, columns=[c for c, _ in layout], geometry=geom, crs=4326)


def delete_scenario(path: str | Path, name: str) -> None:
    """Remove the scenario ``name``; ValueError if there is none."""
    with _connection(path, create=False) as con, _transaction(con):
        if not _delete(con, name):
            raise ValueError(f"{path}: no scenario named {name!r}")


def rename_scenario(path: str | Path, old: str, new: str) -> None:
    """Rename a scenario (its save times and place in the list stay); ValueError if ``old``
    is missing or ``new`` is taken."""
    new = new.strip() if isinstance(new, str) else ""
    if not new:
        raise ValueError("a scenario needs a name")
    if new == old:
        return
    with _connection(path, create=False) as con, _transaction(con):
        if con.execute("SELECT 1 FROM scenarios WHERE name = ?", (new,)).fetchone():
            raise ValueError(f"{path}: a scenario named {new!r} exists already")
        if not con.execute("UPDATE scenarios SET name = ? WHERE name = ?", (new, old)).rowcount:
            raise ValueError(f"{path}: no scenario named {old!r}")
