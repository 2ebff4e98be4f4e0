"""Where the bundled layers live.

The tables of the repository's ``data/gis`` folder are installed as the package ``cq_gis_data``
(package data of the wheel; an editable install maps it to the checkout) and found with
:mod:`importlib.resources`, never relative to this file. ``Settings.data_dir`` (the
``GEO_APP_DATA_DIR`` environment variable, read by :meth:`geo_app.config.Settings.from_env`)
names another folder of tables with the same names.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from geo_app.config import ENV, Settings
from geo_app.errors import GeoAppError

DATA_PACKAGE = "cq_gis_data"


def bundled_data_dir() -> Path:
    """Folder of the tables installed with the package (read it, never write into it).

    Raises :class:`~geo_app.errors.GeoAppError` when the package is not installed as files.
    """
    hint = (f"reinstall cq-life-circle (pip install .) or name a folder of tables with "
            f"{ENV['data_dir']}")
    try:
        folder = resources.files(DATA_PACKAGE)
    except ModuleNotFoundError:
        raise GeoAppError(f"the bundled tables (package {DATA_PACKAGE}) are not installed: "
                          f"{hint}") from None
    if not isinstance(folder, Path):  # e.g. imported from a zip file
        raise GeoAppError(f"the bundled tables ({folder}) are not a folder on disk: {hint}")
    return folder


def data_dir(settings: Settings | None = None) -> Path:
    """Folder of the bundled compact layers: ``settings.data_dir`` if set (default settings:
    :meth:`Settings.from_env`, so ``GEO_APP_DATA_DIR``), else :func:`bundled_data_dir`."""
    settings = Settings.from_env() if settings is None else settings
    return settings.data_dir or bundled_data_dir()
