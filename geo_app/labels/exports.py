"""Labels of printed maps, basemaps, legends and reports: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
}
