"""Where the bundled layers live (override with the GEO_APP_DATA_DIR environment variable)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Folder of the bundled compact layers (``data/gis`` in the repository)."""
    return Path(os.environ.get("GEO_APP_DATA_DIR", REPO_ROOT / "data" / "gis"))
