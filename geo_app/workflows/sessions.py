"""What keeps the sessions of a served app apart on disk: upload folders and their sweep.

Each browser session stores its uploads in ``<uploads>/sessions/<key>/`` (``key``: a random
id the session keeps; :meth:`Settings.uploads_path`). Streamlit says nothing when a session
ends, so folders are removed by a sweep (:func:`sweep_uploads`) run when sessions start:
a folder untouched for ``Settings.upload_max_age_h`` goes, and so does one whose session is
over (not open in this server process) once it has been idle ``grace_s`` seconds (at the
first sweep of a process, any folder untouched since the process started: no session of an
earlier run of the server comes back). A session that
replaces another in the same browser (a reload keeps the project store) removes the old
session's folder at once (:func:`replace_session`). Zip uploads are checked with
:func:`layers.archives.check_archive` before anything reads them (:func:`check_upload`).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from geo_app.config import Settings

_KEY = re.compile(r"[A-Za-z0-9_-]{16,86}")
GRACE_S = 600.0  # a closed session's folder is kept this long after its last use


def valid_key(key) -> bool:
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def uploads_root(settings: Settings) -> Path:
    folder = settings.uploads_path() / "sessions"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def upload_dir(key: str, settings: Settings) -> Path:
    """The upload folder of session ``key`` (created, private, marked as used now)."""
    if not valid_key(key):
        raise ValueError("not a session key")
    folder = uploads_root(settings) / key
    folder.mkdir(exist_ok=True, mode=0o700)
    folder.touch()
    return folder


def touch(key: str, settings: Settings) -> None:
    """Mark the session's folder as used (an open session's uploads are never swept)."""
    folder = uploads_root(settings) / key
    if valid_key(key) and folder.is_dir():
        folder.touch()


def _last_use(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for p in folder.rglob("*"):
        try:
            times.append(p.stat().st_mtime)
        except OSError:
            pass
    return max(times)


def sweep_uploads(settings: Settings, is_open: Callable[[str], bool], *,
                  grace_s: float = GRACE_S, now: float | None = None) -> list[str]:
    """Remove upload folders untouched for ``settings.upload_max_age_h`` hours, and those of
    sessions ``is_open(key)`` says are over once idle ``grace_s`` s; the keys removed."""
    now = time.time() if now is None else now
    gone = []
    for folder in uploads_root(settings).iterdir():
        if not folder.is_dir() or not valid_key(folder.name):
            continue
        try:
            idle = now - _last_use(folder)
        except OSError:
            continue
        if idle > settings.upload_max_age_h * 3600 or (idle >= grace_s
                                                       and not is_open(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder.name)
    return gone


def replace_session(store: Path, key: str, settings: Settings,
                    is_open: Callable[[str], bool]) -> str | None:
    """Record ``key`` as the session using project store ``store``; remove the upload folder
    of the session it replaces (a reload of the same browser tab) unless that one is still
    open. Returns the replaced key."""
    mark = store / ".session"
    try:
        old = mark.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        old = None
    if old == key:
        return None
    mark.write_text(key, encoding="ascii")
    if valid_key(old) and not is_open(old):
        shutil.rmtree(uploads_root(settings) / old, ignore_errors=True)
        return old
    return None


def check_upload(path: str | Path, settings: Settings) -> None:
    """Refuse a zip upload (a .zip, .kmz, .xlsx …, by content) that is unsafe to unpack:
    :class:`layers.archives.ArchiveError` naming the file and the reason."""
    from layers.archives import check_archive, is_zip

    with open(path, "rb") as fh:
        head = fh.read(4)
    if is_zip(head):
        check_archive(path, settings.max_archive_members,
                      int(settings.max_archive_mb * 2**20))
