"""Labels of walker profiles, connectors and network edits: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
}
