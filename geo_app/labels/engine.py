"""Labels of engine warnings, progress steps and run parameters: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
}
