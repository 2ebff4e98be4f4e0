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
    "data_dir": "GEO_APP_DATA_DIR",      # the bundled tables (default: inside the package)
    "cache_dir": "GEO_APP_CACHE_DIR",    # OSM downloads, uploads
    "home_dir": "GEO_APP_HOME",          # projects, the app's launcher and offline assets
    "project_dir": "GEO_APP_PROJECT_DIR",
    "chromium": "GEO_APP_CHROMIUM",      # a Chromium-like browser for PNG/PDF
    # serving many users (README, "Serving the workbench")
    "sign_in": "GEO_APP_SIGN_IN",        # none | oidc | header
    "user_header": "GEO_APP_USER_HEADER",  # the trusted proxy's user header (sign_in=header)
    "timezone": "GEO_APP_TIMEZONE",
    "max_heavy_runs": "GEO_APP_MAX_HEAVY_RUNS",
    "run_memory_mb": "GEO_APP_RUN_MEMORY_MB",
    "upload_max_age_h": "GEO_APP_UPLOAD_MAX_AGE_H",
    "store_max_age_days": "GEO_APP_STORE_MAX_AGE_DAYS",
    "run_abandon_s": "GEO_APP_RUN_ABANDON_S",
    "max_archive_members": "GEO_APP_MAX_ARCHIVE_MEMBERS",
    "max_archive_mb": "GEO_APP_MAX_ARCHIVE_MB",
    "max_project_mb": "GEO_APP_MAX_PROJECT_MB",
}
SIGN_IN = ("none", "oidc", "header")


def _setting(default, unit: str, doc: str, lo: float | None = None, hi: float | None = None,
             lo_open: bool = False, choices: tuple[str, ...] | None = None):
    return field(default=default, metadata={"unit": unit, "doc": doc, "min": lo, "max": hi,
                                            "min_open": lo_open, "choices": choices})


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
        max_upload_mb, max_grid_cells, max_hotspot_draws, max_catchment_pairs,
        max_density_cells, far_points_km
    Serving many users (README, "Serving the workbench")
        sign_in, user_header, timezone, max_heavy_runs, run_memory_mb, run_abandon_s,
        upload_max_age_h, store_max_age_days, max_archive_members, max_archive_mb,
        max_project_mb

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
    # bounded work: hotspots, catchments and density estimate these before any work and
    # refuse beyond them, naming the cell size that fits
    max_grid_cells: int = _setting(100_000, "cells", "most cells of a hot-spot grid or of the "
                                   "residents' grid of catchments", 100, 10_000_000)
    max_hotspot_draws: float = _setting(2e9, "draws", "most Gi* work: permutations x cells x "
                                        "neighbours (about 50 million draws a second per core)",
                                        1e6, 1e12)
    max_catchment_pairs: float = _setting(2e7, "pairs", "most cells x centres of a Huff "
                                          "catchment model (8 bytes each, several copies)",
                                          1e3, 1e10)
    max_density_cells: int = _setting(16_000_000, "cells", "most raster cells of a kernel "
                                      "density surface (8 bytes each)", 1_000, 400_000_000)
    far_points_km: float = _setting(1_000.0, "km", "points farther than this from the median "
                                    "point of their layer are reported", 1.0, 20_000.0)
    data_dir: Path | None = _setting(None, "folder", "bundled tables (None: inside the package)")
    cache_dir: Path | None = _setting(None, "folder", "downloads and uploads (None: the user "
                                      "cache folder)")
    home_dir: Path | None = _setting(None, "folder", "projects and the app's files (None: the "
                                     "user data folder)")
    project_dir: Path | None = _setting(None, "folder", "project files (None: <home>/projects)")
    chromium: str | None = _setting(None, "path", "browser for PNG/PDF (None: found on PATH)")
    # serving many users: see README, "Serving the workbench"
    sign_in: str = _setting("none", "choice", "who owns projects: none (each browser session "
                            "its own store), oidc (Streamlit's st.login), header (a trusted "
                            "reverse proxy's user header)", choices=SIGN_IN)
    user_header: str | None = _setting(None, "text", "request header holding the signed-in "
                                       "user (sign_in=header), e.g. X-Remote-User")
    timezone: str = _setting("Asia/Shanghai", "text", "time zone of times the app shows")
    max_heavy_runs: int = _setting(2, "runs", "heavy runs (coverage, siting, clusters, "
                                   "catchments) at once; others wait in line", 1, 256)
    run_memory_mb: float = _setting(0.0, "MB", "memory heavy runs may reserve together "
                                    "(0: 75% of the server's memory)", 0.0, 10_000_000.0)
    run_abandon_s: float = _setting(15.0, "s", "a run whose browser session has been gone "
                                    "this long is cancelled", 0.0, 3_600.0)
    upload_max_age_h: float = _setting(24.0, "h", "session upload folders untouched this long "
                                       "are removed", 0.0, 10_000.0, lo_open=True)
    store_max_age_days: float = _setting(30.0, "days", "project stores of sessions without "
                                         "sign-in untouched this long are removed", 0.0,
                                         100_000.0, lo_open=True)
    max_archive_members: int = _setting(2_000, "files", "most files a zip upload may hold",
                                        1, 1_000_000)
    max_archive_mb: float = _setting(2_048.0, "MB", "most a zip upload may unpack to", 0.0,
                                     1_000_000.0, lo_open=True)
    max_project_mb: float = _setting(100.0, "MB", "largest project file that can be uploaded",
                                     0.0, 100_000.0, lo_open=True)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if meta.get("unit") in ("folder", "path"):
                if value is not None and f.name != "chromium":
                    object.__setattr__(self, f.name, Path(value).expanduser())
                continue
            if meta.get("unit") in ("text", "choice"):
                _check_text(f.name, value, meta.get("choices"))
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
        given = {name: _from_text(name, var, os.environ[var]) for name, var in ENV.items()
                 if os.environ.get(var)}
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


    def zone(self):
        """The :class:`zoneinfo.ZoneInfo` of :attr:`timezone` (times the app shows)."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def local_time(self, when=None):
        """``when`` (an aware datetime or ISO 8601 text; None: now) in :attr:`timezone`."""
        from datetime import datetime, timezone

        if when is None:
            when = datetime.now(timezone.utc)
        elif isinstance(when, str):
            when = datetime.fromisoformat(when)
        if when.tzinfo is None:  # the project stores UTC
            when = when.replace(tzinfo=timezone.utc)
        return when.astimezone(self.zone())


def _check_text(name: str, value, choices) -> None:
    if value is None and name == "user_header":
        return
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{name} must be a non-empty text, got {value!r}")
    if choices and value not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    if name == "timezone":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ParameterError(f"timezone: unknown time zone {value!r} (e.g. "
                                 "Asia/Shanghai)") from None
    if name == "user_header" and not all(c.isalnum() or c == "-" for c in value):
        raise ParameterError(f"user_header must be a header name (letters, digits, -), "
                             f"got {value!r}")


def _from_text(name: str, var: str, text: str):
    """An environment variable's text as the field's type (numbers for number fields)."""
    default = Settings.__dataclass_fields__[name].default
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return text
    try:
        return int(text) if isinstance(default, int) else float(text)
    except ValueError:
        raise ParameterError(f"{var} must be a number, got {text!r}") from None


def _platformdirs():
    import platformdirs

    return platformdirs


def _made(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


DEFAULT = Settings()
