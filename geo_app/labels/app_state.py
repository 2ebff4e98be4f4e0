"""Labels of state, landing panel, progress and language of the workbench: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
}
