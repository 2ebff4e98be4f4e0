"""One documented :class:`Settings` object, passed explicitly.

Every tunable figure the workflows, the CLI and the app use lives here once, with its unit, its
default and its allowed range; the environment is read in one place only,
:meth:`Settings.from_env`. Nothing in this module imports the geo stack, so the CLI can build
its parser without loading geopandas.

>>> s = Settings(walk_speed_m_s=0.8)          # an elderly walker
>>> s.walk_speed_m_s
0.8
>>> Settings(max_snap_m=-1)                   # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
geo_app.errors.ParameterError: max_snap_m must be > 0 m, got -1
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from geo_app.errors import ParameterError

APP_NAME = "geo-app"

# Environment variables, read by Settings.from_env only.
ENV = {
    "data_dir": "GEO_APP_DATA_DIR",      # folder of the bundled tables (default: inside the package)
    "cache_dir": "GEO_APP_CACHE_DIR",    # OSM downloads, uploads
    "home_dir": "GEO_APP_HOME",          # projects, the app's launcher and offline assets
    "project_dir": "GEO_APP_PROJECT_DIR",
    "chromium": "GEO_APP_CHROMIUM",      # a Chromium-like browser for PNG/PDF
}


def _setting(default, unit: str, doc: str, lo: float | None = None, hi: float | None = None,
             lo_open: bool = False):
    return field(default=default, metadata={"unit": unit, "doc": doc, "min": lo, "max": hi,
                                            "min_open": lo_open})


@dataclass(frozen=True)
class Settings:
    """Parameters and places of a run; every field has a unit, a default and a check.

    Walking
        walk_speed_m_s, steps_speed_m_s, max_snap_m, urban_minutes, rural_minutes,
        max_minutes
    Results and maps
        gap_cell_m, map_cell_m, map_aggregate_above
    Directories (``None``: the per-user default from platformdirs)
        data_dir (bundled tables), cache_dir, home_dir, project_dir
    Limits
        max_upload_mb

    Call :meth:`describe` for the table of fields with units and ranges.
    """

    walk_speed_m_s: float = _setting(1.0, "m/s", "walking speed on level streets "
                                     "(60 m/min, the life-circle standards' default)", 0.1, 3.0)
    steps_speed_m_s: float = _setting(0.5, "m/s", "horizontal speed on steps", 0.05, 3.0)
    max_snap_m: float = _setting(500.0, "m", "points farther than this from the network are "
                                 "off the network", 0.0, 10_000.0, lo_open=True)
    urban_minutes: float = _setting(15.0, "min", "threshold of categories outside the basket "
                                    "(urban life circle)", 0.0, 180.0, lo_open=True)
    rural_minutes: float = _setting(30.0, "min", "rural life-circle threshold", 0.0, 180.0,
                                    lo_open=True)
    max_minutes: float = _setting(180.0, "min", "largest walking threshold accepted", 1.0,
                                  1_440.0)
    gap_cell_m: float = _setting(200.0, "m", "side of the squares gap areas are built from",
                                 10.0, 5_000.0)
    map_cell_m: float = _setting(250.0, "m", "side of the squares residents are summed into "
                                 "on maps", 10.0, 5_000.0)
    map_aggregate_above: int = _setting(20_000, "points", "more residents than this are summed "
                                        "into squares on maps", 1, 10_000_000)
    max_upload_mb: float = _setting(200.0, "MB", "largest file the app accepts", 0.0,
                                    100_000.0, lo_open=True)
    data_dir: Path | None = _setting(None, "folder", "bundled tables (None: inside the package)")
    cache_dir: Path | None = _setting(None, "folder", "downloads and uploads (None: the user "
                                      "cache folder)")
    home_dir: Path | None = _setting(None, "folder", "projects and the app's files (None: the "
                                     "user data folder)")
    project_dir: Path | None = _setting(None, "folder", "project files (None: <home>/projects)")
    chromium: str | None = _setting(None, "path", "browser for PNG/PDF (None: found on PATH)")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if meta.get("unit") in ("folder", "path"):
                if value is not None and f.name != "chromium":
                    object.__setattr__(self, f.name, Path(value).expanduser())
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"{f.name} must be a number ({meta['unit']}), got {value!r}")
            lo, hi, unit = meta["min"], meta["max"], meta["unit"]
            if not math.isfinite(value):
                raise ParameterError(f"{f.name} must be finite, got {value}")
            if lo is not None and (value <= lo if meta["min_open"] else value < lo):
                op = ">" if meta["min_open"] else ">="
                raise ParameterError(f"{f.name} must be {op} {lo:g} {unit}, got {value:g}")
            if hi is not None and value > hi:
                raise ParameterError(f"{f.name} must be <= {hi:g} {unit}, got {value:g}")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings with the directories named by ``GEO_APP_*`` environment variables.

        This is the only place the project reads its environment; ``overrides`` win.
        """
        given = {name: os.environ[var] for name, var in ENV.items() if os.environ.get(var)}
        return cls(**{**given, **overrides})

    def replace(self, **changes) -> Settings:
        """A copy with ``changes`` (checked like the constructor)."""
        return dataclasses.replace(self, **changes)

    # --- directories ---------------------------------------------------------------------
    def cache_path(self, *parts: str) -> Path:
        """A folder under the cache directory (created)."""
        base = self.cache_dir or Path(_platformdirs().user_cache_dir(APP_NAME, appauthor=False))
        return _made(base.joinpath(*parts))

    def home_path(self, *parts: str) -> Path:
        """A folder under the user's data directory (created)."""
        base = self.home_dir or Path(_platformdirs().user_data_dir(APP_NAME, appauthor=False))
        return _made(base.joinpath(*parts))

    def projects_path(self) -> Path:
        """Folder of project files (created)."""
        return _made(self.project_dir) if self.project_dir else self.home_path("projects")

    def uploads_path(self) -> Path:
        """Folder the app stores uploads in (created)."""
        return self.cache_path("uploads")

    def osm_cache_path(self) -> Path:
        """Folder of cached OSM downloads (created)."""
        return self.cache_path("osm")

    @classmethod
    def describe(cls) -> list[dict]:
        """One row per field: name, default, unit, allowed range and what it means."""
        rows = []
        for f in dataclasses.fields(cls):
            m = f.metadata
            rng = ""
            if m.get("min") is not None or m.get("max") is not None:
                lo = "" if m["min"] is None else f"{'>' if m['min_open'] else '>='} {m['min']:g}"
                hi = "" if m["max"] is None else f"<= {m['max']:g}"
                rng = ", ".join(x for x in (lo, hi) if x)
            rows.append({"name": f.name, "default": f.default, "unit": m["unit"], "range": rng,
                         "doc": m["doc"]})
        return rows


def _platformdirs():
    import platformdirs

    return platformdirs


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


DEFAULT = Settings()
