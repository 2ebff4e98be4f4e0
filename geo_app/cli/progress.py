"""One progress bar per command (tqdm on stderr; silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(what: str) -> Iterator[Callable[[float, str], None]]:
    """Yield ``say(fraction, step)``: the bar moves to ``fraction`` (0–1) showing ``step``."""
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0  # no monitor thread: a LocalCluster may then fork its workers

    bar = Bar(total=100, desc=what, file=sys.stderr, disable=None, leave=False,
              bar_format="{desc}: {percentage:3.0f}%|{bar:30}| {elapsed}")
    shown = 0

    def say(fraction: float, step: str) -> None:
        nonlocal shown
        bar.set_description_str(f"{what}: {step}", refresh=False)
        target = int(round(100 * min(max(fraction, 0.0), 1.0)))
        bar.update(max(0, target - shown))
        shown = max(shown, target)

    try:
        yield say
    finally:
        bar.close()


def scaled(say: Callable[[float, str], None], start: float, end: float):
    """``say`` for a part of the work that fills the bar from ``start`` to ``end``."""
    return lambda f, step: say(start + (end - start) * f, step)
