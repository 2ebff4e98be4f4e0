"""Walkers and connectors as plain values: who walks how fast where, and what each kind of
connector costs (read from ``data/gis/walker_profiles.csv`` / ``connectors.csv`` by
:mod:`layers.connectors`; the rules that use them are :func:`analysis.graph.profile_segments`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class WalkerProfile:
    """How one kind of walker moves (speeds in m/s over the horizontal length).

    ``stairs_up_m_s``/``stairs_down_m_s``: on stairs, climbing and going down (None: cannot
    use stairs); ``step_free_only``: only step-free connectors (no steps, no escalators);
    ``max_grade``: ways steeper than this rise/run are impassable (None: no limit).
    """

    name: str
    flat_m_s: float
    stairs_up_m_s: float | None = None
    stairs_down_m_s: float | None = None
    step_free_only: bool = False
    max_grade: float | None = None

    def __post_init__(self):
        for what, value in (("flat_m_s", self.flat_m_s), ("stairs_up_m_s", self.stairs_up_m_s),
                            ("stairs_down_m_s", self.stairs_down_m_s),
                            ("max_grade", self.max_grade)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"profile {self.name!r}: {what} must be a positive number, "
                                 f"got {value}")
        if (self.stairs_up_m_s is None) != (self.stairs_down_m_s is None):
            raise ValueError(f"profile {self.name!r}: give both stairs speeds or neither")

    @property
    def uses_stairs(self) -> bool:
        return self.stairs_up_m_s is not None and not self.step_free_only


@dataclass(frozen=True)
class Connector:
    """What one kind of segment costs: ``speed_m_s`` over its horizontal length (None: the
    walker's own speed, with slopes), ``wait_s`` per use (spread over its way; an elevator
    node's wait is paid when passing the node), ``step_free`` (usable by step-free walkers)
    ``slope`` (walked kinds: the rise along it slows walkers and counts for a profile's
    ``max_grade``; not for lifts) and, for steps, ``tread_m`` (horizontal run per step,
    used with ``step_count``)."""

    kind: str
    speed_m_s: float | None = None
    wait_s: float = 0.0
    step_free: bool = True
    tread_m: float | None = None
    slope: bool = True


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def profiles_from_table(table: pd.DataFrame) -> dict[str, WalkerProfile]:
    """Profiles by name from a checked profile table
    (:func:`layers.connectors.load_walker_profiles`)."""
    return {str(r["profile"]): WalkerProfile(
        name=str(r["profile"]), flat_m_s=float(r["flat_m_s"]),
        stairs_up_m_s=_number(r["stairs_up_m_s"]), stairs_down_m_s=_number(r["stairs_down_m_s"]),
        step_free_only=r["step_free_only"] == "yes", max_grade=_number(r["max_grade"]))
        for _, r in table.iterrows()}


def connectors_from_table(table: pd.DataFrame) -> dict[str, Connector]:
    """Connectors by kind from a checked connector table
    (:func:`layers.connectors.load_connectors`)."""
    return {str(r["kind"]): Connector(
        kind=str(r["kind"]), speed_m_s=_number(r["speed_m_s"]), wait_s=float(r["wait_s"]),
        step_free=r["step_free"] == "yes", tread_m=_number(r["tread_m"]),
        slope=r["slope"] == "yes")
        for _, r in table.iterrows()}


def check_kinds(kinds, connectors: Mapping[str, Connector]) -> None:
    """ValueError naming the segment kinds the connector table has no row for."""
    missing = sorted(set(kinds) - set(connectors))
    if missing:
        raise ValueError(f"no connector row for segment kind(s) {', '.join(missing)}")


def signal_waits(net, connectors: Mapping[str, Connector], wait_u, wait_v):
    """End waits (s) of each segment with signalled crossing nodes added: a node tagged
    ``highway=traffic_signals`` or ``crossing=traffic_signals`` (``net.signal``) costs half
    the ``crossing_signals`` connector's wait at each end of a segment through it (so
    passing it costs the whole wait, starting or ending there half), except on segments of
    kind ``crossing_signals``, whose way already pays that wait. ``wait_u``/``wait_v``:
    the waits so far (None: none); returns them (None when there is no wait at all)."""
    import numpy as np

    signal = getattr(net, "signal", None)
    if signal is None or not np.any(signal) or "crossing_signals" not in connectors:
        return wait_u, wait_v
    at = np.zeros(net.n_nodes, bool)
    at[:len(signal)] = signal  # split and edit nodes (appended) are never signals
    own = np.asarray(net.kinds, dtype=object)[net.kind] == "crossing_signals"
    half = connectors["crossing_signals"].wait_s / 2
    add_u = np.where(at[net.u] & ~own, half, 0.0)
    add_v = np.where(at[net.v] & ~own, half, 0.0)
    return (add_u if wait_u is None else wait_u + add_u,
            add_v if wait_v is None else wait_v + add_v)
