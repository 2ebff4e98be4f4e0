"""The safety check of an uploaded zip (a .zip, a .kmz, an .xlsx) before anything unpacks it.

A member may not name an absolute path or climb out of the archive's folder (``..``), may not
be a link, and the whole archive may not hold more members or unpack to more bytes than the
caps (a "zip bomb"). The sizes checked are the ones the archive declares: Python's
:mod:`zipfile` never unpacks a member past its declared size (the CRC check fails first), so
the declared total bounds what a reader that goes through :mod:`zipfile` can write.

>>> check_archive("roads.zip", max_members=2_000, max_bytes=2 << 30)  # doctest: +SKIP
ArchiveSummary(members=3, unpacked_bytes=1843200)
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from layers.validate import LayerValidationError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveError(LayerValidationError):
    """A zip refused by :func:`check_archive`; ``key`` and ``values`` name the reason for the
    label catalogue (``archive_*``)."""

    def __init__(self, path: str | Path, problem: str, key: str, fix: str = "", **values):
        super().__init__(Path(path).name, [problem], fix)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class ArchiveSummary:
    members: int
    unpacked_bytes: int


def is_zip(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a zip (by content, not by name)."""
    return head[:4] in ZIP_MAGIC


def unsafe_member(name: str) -> bool:
    """Whether a member name is absolute or climbs out of the archive's folder."""
    if not name or "\x00" in name:
        return True
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


def check_archive(path: str | Path, max_members: int, max_bytes: int) -> ArchiveSummary:
    """Check the zip at ``path``: at most ``max_members`` members, at most ``max_bytes`` bytes
    unpacked (declared sizes, summed), no absolute or ``..`` member names, no links.

    Raises :class:`ArchiveError` (an ``InputError``) naming the file and the first fault.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveError(path, f"not a readable zip file ({str(exc)[:80]})",
                           "archive_unreadable") from None
    if len(infos) > max_members:
        raise ArchiveError(path, f"holds {len(infos):,} files, more than the {max_members:,} "
                                 "allowed", "archive_too_many",
                           "zip only the layers needed", n=len(infos), cap=max_members)
    for info in infos:
        if unsafe_member(info.filename):
            raise ArchiveError(path, f"member {info.filename!r} is an absolute path or leaves "
                                     "the archive's folder ('..'); refused",
                               "archive_traversal", "zip the files from their own folder",
                               member=info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(path, f"member {info.filename!r} is a link; refused",
                               "archive_link", member=info.filename)
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        packed = sum(i.compress_size for i in infos)
        raise ArchiveError(path, f"unpacks to {total / 2**20:,.0f} MB ({packed / 2**20:,.1f} MB "
                                 f"packed), more than the {max_bytes / 2**20:,.0f} MB allowed",
                           "archive_too_big", "upload a smaller extract",
                           mb=round(total / 2**20), cap=round(max_bytes / 2**20))
    return ArchiveSummary(len(infos), total)
