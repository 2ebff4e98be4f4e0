"""Project stores of a served app: one folder of project files per browser session or per
signed-in user, under :meth:`Settings.projects_path`; users name projects, never paths.

- ``<projects>/sessions/<token>/``: the store of a browser session without sign-in; ``token``
  is :func:`new_token` (256 random bits, URL-safe), the only way to reach it.
- ``<projects>/users/<sha-256 of the identity>/``: the store of a signed-in user (identity
  ``"oidc:<issuer>:<subject>"`` or ``"header:<value>"``), the same in every session.

A project is ``<name>.cqproj.sqlite`` (:mod:`geo_app.io.project`) with ``name`` from
:func:`project_name`. A project travels as that one file: :meth:`ProjectStore.export_bytes`
copies it consistently (SQLite's backup), :func:`read_upload` checks an uploaded one in memory,
read-only (size, SQLite header, application id and format, exactly the expected tables and
columns, integrity, every scenario readable) and :meth:`ProjectStore.import_upload` adds it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import sqlite3
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo_app.config import Settings
from geo_app.io.files import replace_atomically
from geo_app.io.project import (
    _SCHEMA,
    SUFFIX,
    ProjectFileError,
    _check,
    _connection,
    open_project,
)

NAME_MAX = 60  # characters of a project name
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43,86}")
_ODD = re.compile(r"[^\w\s\-.()（）\[\]【】·,，+&@#]")
_MAGIC = b"SQLite format 3\x00"


def new_token() -> str:
    """A fresh store id: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def valid_token(text) -> bool:
    """Whether ``text`` has the shape of a :func:`new_token` id."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None


def project_name(name) -> str:
    """``name`` as a project name: refused (ValueError) if empty, a path or over-long;
    characters outside letters, digits, spaces and ``-_.()[]·,+&@#`` become ``_``.

    >>> project_name(" 渝中区 2025 <草案> ")
    '渝中区 2025 _草案_'
    """
    if not isinstance(name, str):
        raise ValueError("a project name must be text")
    text = unicodedata.normalize("NFKC", name).strip()
    if not text:
        raise ValueError("a project needs a name")
    if "/" in text or "\\" in text or "\x00" in text or ".." in text or \
            text.startswith((".", "~")):
        raise ValueError(f"{name!r} is not a project name: names may not hold '/', '\\', "
                         "'..' or start with '.' or '~'")
    text = _ODD.sub("_", "".join(c if c.isprintable() else "_" for c in text))
    text = re.sub(r"\s+", " ", text)
    if len(text) > NAME_MAX:
        raise ValueError(f"a project name has at most {NAME_MAX} characters, got {len(text)}")
    return text


def _stamp(folder: Path) -> None:
    """Mark a store as used now (the age sweep keeps it)."""
    try:
        folder.touch(exist_ok=True)
    except OSError:
        pass


class ProjectStore:
    """One folder of projects; every method takes project names, never paths."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    @classmethod
    def for_session(cls, token: str, settings: Settings | None = None) -> ProjectStore:
        """The store of a browser session without sign-in (``token``: :func:`new_token`)."""
        if not valid_token(token):
            raise ValueError("not a project store id")
        settings = settings or Settings.from_env()
        store = cls(settings.projects_path() / "sessions" / token)
        _stamp(store.root)
        return store

    @classmethod
    def for_user(cls, identity: str, settings: Settings | None = None) -> ProjectStore:
        """The store of a signed-in user (``identity``: issuer and subject, or header value)."""
        if not isinstance(identity, str) or not identity.strip():
            raise ValueError("a signed-in user needs an identity")
        settings = settings or Settings.from_env()
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]
        return cls(settings.projects_path() / "users" / key)

    def path(self, name: str) -> Path:
        """The file of project ``name`` (inside this store, whatever the name)."""
        path = self.root / f"{project_name(name)}{SUFFIX}"
        if path.parent != self.root:  # project_name refuses separators; be sure anyway
            raise ValueError(f"{name!r} is not a project name")
        return path

    def names(self) -> list[str]:
        """The store's projects, most recently changed first."""
        files = [p for p in self.root.glob(f"*{SUFFIX}") if not p.name.startswith(".")
                 and p.is_file()]
        files.sort(key=lambda p: (-p.stat().st_mtime, p.name))
        return [p.name[: -len(SUFFIX)] for p in files]

    def create(self, name: str) -> str:
        """Make an empty project ``name`` (kept if it exists); its cleaned name."""
        clean = project_name(name)
        open_project(self.path(clean), create=True)
        _stamp(self.root)
        return clean

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.is_file():
            raise ValueError(f"no project named {name!r}")
        path.unlink()
        Path(str(path) + "-journal").unlink(missing_ok=True)

    def free_name(self, wanted: str) -> str:
        """``wanted`` (cleaned), or ``wanted (2)``, ``(3)``… if taken."""
        base = project_name(wanted)
        name, n = base, 1
        while self.path(name).exists():
            n += 1
            name = f"{base[: NAME_MAX - 6]} ({n})"
        return name

    def export_bytes(self, name: str) -> bytes:
        """Project ``name`` as the bytes of one project file (a consistent copy)."""
        with _connection(self.path(name), create=False) as con:
            mem = sqlite3.connect(":memory:")
            try:
                con.backup(mem)
                return mem.serialize()
            finally:
                mem.close()

    def import_upload(self, upload: UploadedProject, name: str | None = None) -> str:
        """Add a checked upload as a new project (``name``, default the file's, made free);
        the project's name."""
        target_name = self.free_name(name or upload.suggested_name)
        target = self.path(target_name)
        con = _open_bytes(upload.data, upload.filename)
        try:
            def build(tmp: str) -> None:
                dest = sqlite3.connect(tmp)
                try:
                    con.backup(dest)
                    dest.execute("PRAGMA journal_mode = DELETE")
                finally:
                    dest.close()

            replace_atomically(target, build, ".sqlite", overwrite=False)
        finally:
            con.close()
        open_project(target, create=False)
        _stamp(self.root)
        return target_name


# --- uploaded project files --------------------------------------------------------------------

@dataclass(frozen=True)
class UploadedProject:
    """An uploaded project file that passed :func:`read_upload` (still only in memory)."""

    filename: str
    data: bytes
    scenarios: pd.DataFrame  # name, kind, updated, n_sites

    @property
    def suggested_name(self) -> str:
        stem = Path(self.filename).name
        for end in (SUFFIX, ".sqlite", ".db"):
            if stem.lower().endswith(end):
                stem = stem[: -len(end)]
                break
        try:
            return project_name(stem[:NAME_MAX])
        except ValueError:
            return "imported"


def _expected_columns() -> dict[str, list[str]]:
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(_SCHEMA)
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        con.close()


EXPECTED_TABLES = _expected_columns()


def _open_bytes(data: bytes, filename: str) -> sqlite3.Connection:
    """An in-memory, query-only copy of an uploaded file, checked; ProjectFileError if not a
    project file of this app."""
    name = Path(filename).name
    if data[: len(_MAGIC)] != _MAGIC:
        raise ProjectFileError(name, "not a project file (not an SQLite database)")
    con = sqlite3.connect(":memory:")
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA cell_size_check = ON")
        con.deserialize(data)
        con.execute("PRAGMA query_only = ON")
        if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise ProjectFileError(name, "the file is damaged (SQLite integrity check failed)")
        objects = con.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
        extra = [f"{t} {n}" for t, n, _ in objects
                 if not (t == "table" and n in EXPECTED_TABLES)
                 and not (t == "index" and n.startswith("sqlite_autoindex_"))]
        missing = sorted(set(EXPECTED_TABLES) - {n for t, n, _ in objects if t == "table"})
        if extra or missing:
            raise ProjectFileError(name, "not a project file of this app (" + "; ".join(
                ([f"missing {', '.join(missing)}"] if missing else [])
                + ([f"unexpected {', '.join(extra[:5])}"] if extra else [])) + ")")
        for table, cols in EXPECTED_TABLES.items():
            got = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            if got != cols:
                raise ProjectFileError(name, f"table {table} has columns {', '.join(got)}; "
                                             f"expected {', '.join(cols)}")
        _check(con, Path(name))
    except sqlite3.Error as exc:
        con.close()
        raise ProjectFileError(name, f"damaged or not a project file: {exc}") from None
    except BaseException:
        con.close()
        raise
    return con


def read_upload(filename: str, data: bytes, max_bytes: int) -> UploadedProject:
    """Check an uploaded project file without writing it anywhere; its scenarios.

    Refused (:class:`~geo_app.io.project.ProjectFileError`, naming ``filename``) when over
    ``max_bytes``, not SQLite, not this app's project format or damaged.
    """
    name = Path(filename).name
    if len(data) > max_bytes:
        raise ProjectFileError(name, f"{len(data) / 2**20:,.1f} MB is over the "
                                     f"{max_bytes / 2**20:,.0f} MB limit of a project file")
    con = _open_bytes(data, name)
    try:
        rows = con.execute("SELECT s.name, s.kind, s.updated, s.n_sites, s.params, "
                           "s.site_columns, (SELECT count(*) FROM scenario_sites x WHERE "
                           "x.scenario_id = s.id) FROM scenarios s ORDER BY s.updated").fetchall()
        for scenario, _, _, n_sites, params, layout, found in rows:
            try:
                json.loads(params), json.loads(layout)
            except (TypeError, ValueError):
                raise ProjectFileError(name, f"scenario {scenario!r} is damaged") from None
            if found != n_sites:
                raise ProjectFileError(name, f"scenario {scenario!r} is incomplete")
    except sqlite3.Error as exc:
        raise ProjectFileError(name, f"damaged or not a project file: {exc}") from None
    finally:
        con.close()
    table = pd.DataFrame([r[:4] for r in rows], columns=["name", "kind", "updated", "n_sites"])
    return UploadedProject(name, data, table)


def sweep_stores(settings: Settings, now: float | None = None) -> int:
    """Remove session stores (never signed-in users') untouched for
    ``settings.store_max_age_days``; how many."""
    folder = settings.projects_path() / "sessions"
    if not folder.is_dir():
        return 0
    limit = (now or time.time()) - settings.store_max_age_days * 86_400
    gone = 0
    for store in folder.iterdir():
        try:
            newest = max([store.stat().st_mtime,
                          *(p.stat().st_mtime for p in store.iterdir())])
        except OSError:
            continue
        if valid_token(store.name) and newest < limit:
            shutil.rmtree(store, ignore_errors=True)
            gone += 1
    return gone
