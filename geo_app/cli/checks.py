"""Range checks of numeric options, done by argparse before any work (no geo imports)."""

from __future__ import annotations

import argparse
import math


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False, integer: bool = False, unit: str = ""):
    """An argparse ``type`` accepting a finite number within [lo, hi] (open ends as asked)."""
    def parse(text: str):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            left = "" if lo is None else f"{'more than' if lo_open else 'at least'} {lo:g}"
            right = "" if hi is None else f"{'less than' if hi_open else 'at most'} {hi:g}"
            span = " and ".join(x for x in (left, right) if x)
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {span}"
                                             + (f" {unit}" if unit else ""))
        return value

    parse.__name__ = "integer" if integer else "number"
    return parse


def from_settings(name: str):
    """The check of a :class:`~geo_app.config.Settings` field (its unit and range)."""
    import dataclasses

    from geo_app.config import Settings

    meta = next(f.metadata for f in dataclasses.fields(Settings) if f.name == name)
    return number(meta["min"], meta["max"], lo_open=meta["min_open"], unit=meta["unit"])


MINUTES = number(0, 180, lo_open=True, unit="minutes")
POSITIVE_M = number(0, lo_open=True, unit="m")
