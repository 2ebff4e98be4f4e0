"""The one way the project writes a file: complete or not at all.

A file is written under a fresh hidden name beside its target, flushed to disk, given the
permissions a new file gets (``0666`` less the umask, so colleagues can read a shared export)
and renamed over the target; a failure or an interruption removes the temporary file and
leaves any earlier file untouched. Only regular files (or new paths) are ever replaced: a
device, a folder or a socket named as output is refused.

Imports nothing heavy, so ``layers`` uses it too.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from geo_app.errors import OutputError


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (other threads, such
    as Streamlit sessions, may be creating files meanwhile)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)  # briefly the strictest mask, never a looser one
    os.umask(mask)
    return mask


def check_output_path(path: str | Path) -> Path:
    """``path`` as a :class:`Path` if it is a regular file or does not exist yet.

    Raises :class:`~geo_app.errors.OutputError` for a folder, device, pipe or socket.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputError(f"{path}: is {kind}; give the path of a file to write")
    return path


def _is_write_error(exc: Exception) -> bool:
    """Whether a writer failed for the file's sake (disk full, permissions, GDAL/SQLite write
    errors) rather than for a bug."""
    if isinstance(exc, OSError):
        return True
    name = type(exc).__name__
    return name in ("DataSourceError", "DataLayerError", "FieldError", "GeometryError",
                    "CRSError", "RasterioIOError", "OperationalError", "DatabaseError",
                    "ArrowIOError") or "commit transaction" in str(exc)


def check_output(path: str | Path, suffixes: tuple[str, ...]) -> Path:
    """Check an output path before any work: its extension is one of ``suffixes`` (which
    decide the format), it names a regular file or a new one, and its folder (or the nearest
    existing parent) can be written. Raises :class:`~geo_app.errors.OutputError`."""
    path = Path(path)
    if not path.name.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise OutputError(f"{path}: the extension decides the format; use "
                          f"{' or '.join(suffixes)}")
    check_output_path(path)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{path}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".geo-app-probe.", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: the folder {folder} cannot be written "
                          f"({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
    return path


def replace_atomically(path: str | Path, write: Callable[[str], None], suffix: str = "", *,
                       overwrite: bool = True) -> Path:
    """Run ``write(tmp)`` on a fresh name next to ``path`` (ending ``suffix``, e.g. ".gpkg" for
    writers that check it), then rename it over ``path``.

    ``write`` creates the file itself (GDAL, SQLite and rasterio writers do). The file is
    fsynced before the rename and the folder after it. With ``overwrite=False`` a file that
    exists at ``path`` by then (say, made by another process meanwhile) is kept and the new
    one dropped. Returns ``path``.
    """
    path = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_unless_exists(tmp, path)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        made_nothing = isinstance(exc, FileNotFoundError) and exc.filename == tmp
        if isinstance(exc, OutputError) or made_nothing or not _is_write_error(exc):
            raise
        reason = str(exc).replace(tmp, str(path)) or type(exc).__name__
        raise OutputError(f"{path}: could not be written ({reason}); nothing was changed "
                          "there") from exc
    except BaseException:  # interrupted (Ctrl+C, SIGTERM): leave nothing behind
        Path(tmp).unlink(missing_ok=True)
        raise
    Path(tmp).unlink(missing_ok=True)  # the second name of a linked file
    _fsync_dir(path.parent)
    return path


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically; returns ``path``."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def write(tmp: str) -> None:
        with open(tmp, "xb") as fh:
            fh.write(payload)

    return replace_atomically(path, write)


def _link_unless_exists(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless that exists (no window where both could win)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system
        if not path.exists():
            os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


OUTPUT_KINDS = {".gpkg": "GeoPackage", ".parquet": "GeoParquet"}


def output_kind(path: str | Path) -> str:
    """"gpkg" or "parquet" for an output path: a ``.gpkg`` file, a ``.parquet`` file, or a
    folder (an existing one, or a path ending in ``/``) that receives one GeoParquet file per
    layer. Anything else raises :class:`~geo_app.errors.OutputError`."""
    text = str(path)
    p = Path(path)
    if text.endswith(("/", "\\")) or p.is_dir():
        return "parquet"
    suffix = p.suffix.lower()
    if suffix not in OUTPUT_KINDS:
        raise OutputError(f"{path}: the extension decides the format; use .gpkg (GeoPackage), "
                          ".parquet (GeoParquet) or a folder ending in / (one GeoParquet file "
                          "per layer)")
    return suffix.lstrip(".")
