"""The project's errors and warnings.

Every error the project raises on purpose is a :class:`GeoAppError`; the CLI prints it as one
line and exits with status 2. Warnings are raised with :func:`warnings.warn` so that a notebook
user can filter them or turn them into errors, and are also listed on results for the app::

    import warnings, geo_app as ga
    warnings.simplefilter("error", ga.DataWarning)   # stop at the first suspicious input

A warning carries a catalogue ``key`` and its ``values`` so that the app can show it in the
session's language; ``str(w)`` is the English text.

This module imports nothing heavy: ``layers`` and ``analysis`` use it too.
"""

from __future__ import annotations

import warnings


class GeoAppError(Exception):
    """Base of every error the project raises on purpose."""


class InputError(GeoAppError, ValueError):
    """An input that cannot be used; the message names the file, row and column where it can."""


class ParameterError(GeoAppError, ValueError):
    """A parameter outside its documented range."""


class OutputError(GeoAppError, OSError):
    """An output that cannot be written; the message names the path the user gave."""


class GeoAppWarning(UserWarning):
    """Base of the project's warnings: ``key`` and ``values`` for the label catalogue."""

    def __init__(self, message: str, key: str | None = None, **values):
        super().__init__(message)
        self.key = key
        self.values = values

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DataWarning(GeoAppWarning):
    """An input that may be misread (datum, duplicates, points off the network …)."""


class CoverageWarning(GeoAppWarning):
    """A result that needs a word of explanation (no facilities of a category …)."""


class EstimateWarning(GeoAppWarning):
    """A figure that is an estimate, not a count (residents from buildings or census)."""


def warn(found: list | None, message: str, kind: type[GeoAppWarning] = DataWarning, *,
         key: str | None = None, stacklevel: int = 2, **values) -> GeoAppWarning:
    """Raise ``message`` as a ``kind`` warning and append it to ``found`` (a result's list).

    ``key`` and ``values`` let the app show it from the label catalogue. Returns the warning
    object (``str()`` of it is ``message``).
    """
    w = kind(message, key, **values)
    if found is not None:
        found.append(w)
    warnings.warn(w, stacklevel=stacklevel + 1)
    return w
