"""Admission control for heavy runs in one server process: a line, a memory check, cancelling.

The served app runs coverage, siting, clusters and catchments for many sessions in one Python
process. :class:`Admission` lets at most ``limit`` of them run at once; the others wait in one
first-come, first-served line and are told their place. Before a run joins the line its memory
is estimated from the sizes of its inputs; a run that could never fit (over the cap, or over
the memory the server has free plus what the running ones will give back) is refused with the
figures. A session runs one thing at a time. A waiting or running run is cancelled when its
session asks (:meth:`Admission.cancel`) or when the ``abandoned`` test given to
:meth:`Admission.enter` says the browser has gone: the run checks between its stages
(:meth:`Ticket.check`, called from the workflow's progress callback).

This is admission control inside one process, not a scheduler: several server processes each
keep their own line. Sharded coverage on a Dask cluster (``geo_app.workflows.sharding``) is the
way to spread one big run over machines.

Memory estimates (bytes; calibrated on the GENERATED city grids of ``docs/benchmarks.md``:
100k, 360k and 1M street nodes, where coverage with service areas peaked at 0.94, 1.38 and
2.42 GB of process memory, reading included; deliberately on the high side for small runs):

- coverage: ``250 MB + 900 B × street segments + 24 B × residents × categories
  + 4 kB × facilities``;
- siting: ``250 MB + 900 B × street segments + 200 B × reachable (candidate, resident)
  pairs``, the pairs ``candidates × residents × min(1, π r² / area of the residents)`` with
  ``r`` the walk of the threshold at 1.2 m/s (grid candidates counted from the area and
  the spacing, others taken as 5,000);
- clusters and hot spots: ``150 MB + 2 kB × points``;
- catchments: ``250 MB + 24 B × cells × centres + 900 B × street segments``.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from geo_app.errors import GeoAppError

MB = 1 << 20


class RunRefused(GeoAppError, RuntimeError):
    """A run the server will not start; ``key`` and ``values`` for the label catalogue."""

    def __init__(self, message: str, key: str, **values):
        super().__init__(message)
        self.key = key
        self.values = values


class NotEnoughMemory(RunRefused):
    """The run's memory estimate does not fit the server."""


class SessionBusy(RunRefused):
    """The session already has a run waiting or running."""


class RunCancelled(RunRefused):
    """The run was cancelled (its session asked, or its browser went away)."""


# --- estimates --------------------------------------------------------------------------------

def coverage_bytes(segments: int, residents: int, facilities: int, categories: int) -> int:
    """Memory (bytes) a coverage run is expected to need (see the module's notes)."""
    return int(250 * MB + 900 * segments + 24 * residents * max(categories, 1)
               + 4096 * facilities)


def siting_bytes(segments: int, candidates: int, residents: int, reach_m: float,
                 residents_km2: float) -> int:
    """Memory (bytes) of a siting run: the walk graph and the coverage pairs."""
    area_m2 = max(residents_km2, 1e-3) * 1e6
    share = min(1.0, math.pi * reach_m ** 2 / area_m2)
    pairs = candidates * residents * share
    return int(250 * MB + 900 * segments + 200 * pairs)


def bbox_km2(bounds) -> float:
    """Area (km²) of a (west, south, east, north) box in degrees."""
    west, south, east, north = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return 0.0
    lat = math.radians((south + north) / 2)
    return abs(east - west) * 111.32 * math.cos(lat) * abs(north - south) * 110.57


UNCOUNTED_CANDIDATES = 5_000  # candidates assumed when they are not counted before the run


def points_bytes(points: int) -> int:
    """Memory (bytes) of clustering or hot spots over ``points`` points."""
    return int(150 * MB + 2048 * points)


def catchment_bytes(cells: int, centres: int, segments: int = 0) -> int:
    """Memory (bytes) of a Huff catchment run (cells × centres probabilities)."""
    return int(250 * MB + 24 * cells * max(centres, 1) + 900 * segments)


def available_bytes() -> int:
    """Memory the server has free now (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def default_cap_bytes(run_memory_mb: float = 0.0) -> int:
    """The cap heavy runs share: ``run_memory_mb`` if set, else 75 % of the server's memory."""
    if run_memory_mb > 0:
        return int(run_memory_mb * MB)
    import psutil

    return int(0.75 * psutil.virtual_memory().total)


# --- the line -----------------------------------------------------------------------------------

@dataclass(eq=False)
class Ticket:
    """One run's place: waiting, then running; :meth:`check` raises once it is cancelled."""

    session: str
    estimate: int
    kind: str = ""
    number: int = 0
    state: str = "waiting"
    abandoned: Callable[[], bool] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    waited_s: float = 0.0

    def check(self) -> None:
        """Raise :class:`RunCancelled` if the run was cancelled or its session has gone."""
        if not self.cancelled.is_set() and self.abandoned is not None and self.abandoned():
            self.cancelled.set()
        if self.cancelled.is_set():
            raise RunCancelled(f"run {self.number} of session {self.session[:8]} cancelled",
                               "run_cancelled")


class Admission:
    """At most ``limit`` runs at once, in arrival order, within ``cap_bytes`` of memory.

    ``available`` (default: psutil) gives the free memory in bytes; the tests pass their own.
    Thread-safe: every session's script thread calls :meth:`enter` and :meth:`leave`.
    """

    def __init__(self, limit: int, cap_bytes: int, *,
                 available: Callable[[], int] = available_bytes):
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit, self.cap, self._available = int(limit), int(cap_bytes), available
        self._cond = threading.Condition()
        self._line: deque[Ticket] = deque()
        self._running: list[Ticket] = []
        self._sessions: dict[str, Ticket] = {}
        self._numbers = itertools.count(1)
        self.reserved = 0
        self.peak_reserved = 0
        self.peak_running = 0
        self.started: list[int] = []  # ticket numbers in the order they started

    # what a page shows
    def place(self, ticket: Ticket) -> int:
        """1 for the next to start, 0 once running (or gone)."""
        with self._cond:
            return self._line.index(ticket) + 1 if ticket in self._line else 0

    def snapshot(self) -> dict:
        with self._cond:
            return {"running": len(self._running), "waiting": len(self._line),
                    "reserved_mb": self.reserved / MB, "cap_mb": self.cap / MB,
                    "peak_reserved_mb": self.peak_reserved / MB,
                    "peak_running": self.peak_running}

    def _refuse_memory(self, estimate: int) -> None:
        free = self._available() + self.reserved  # running runs give theirs back
        room = min(self.cap, free)
        if estimate > room:
            raise NotEnoughMemory(
                f"the run needs about {estimate / MB:,.0f} MB; the server can give heavy runs "
                f"{room / MB:,.0f} MB (cap {self.cap / MB:,.0f} MB, free {free / MB:,.0f} MB)",
                "run_no_memory", need_mb=round(estimate / MB), room_mb=round(room / MB))

    def _admit(self, ticket: Ticket) -> bool:
        """Start ``ticket`` if it heads the line and a slot and its memory are free."""
        if not self._line or self._line[0] is not ticket or len(self._running) >= self.limit:
            return False
        if self._running and self.reserved + ticket.estimate > self.cap:
            return False
        self._line.popleft()
        self._running.append(ticket)
        ticket.state = "running"
        self.reserved += ticket.estimate
        self.peak_reserved = max(self.peak_reserved, self.reserved)
        self.peak_running = max(self.peak_running, len(self._running))
        self.started.append(ticket.number)
        self._cond.notify_all()
        return True

    def enter(self, session: str, estimate: int, *, kind: str = "",
              on_wait: Callable[[int], None] | None = None,
              abandoned: Callable[[], bool] | None = None, poll_s: float = 0.5) -> Ticket:
        """Wait for a slot; the running :class:`Ticket` (call :meth:`leave` when done).

        ``estimate``: bytes the run is expected to need. ``on_wait(place)`` is called (from
        this thread, outside the lock) each time the place in line changes; ``abandoned()``
        is polled every ``poll_s`` seconds. Raises :class:`SessionBusy`,
        :class:`NotEnoughMemory` or :class:`RunCancelled`.
        """
        started = time.monotonic()
        with self._cond:
            if session in self._sessions:
                raise SessionBusy(f"session {session[:8]} already has a run", "run_busy")
            self._refuse_memory(estimate)
            ticket = Ticket(session, int(estimate), kind, next(self._numbers),
                            abandoned=abandoned)
            self._sessions[session] = ticket
            self._line.append(ticket)
        try:
            shown = None
            while True:
                with self._cond:
                    if self._admit(ticket):
                        ticket.waited_s = time.monotonic() - started
                        return ticket
                    place = self._line.index(ticket) + 1
                if place != shown and on_wait is not None:
                    on_wait(place)
                shown = place
                ticket.check()
                with self._cond:
                    if self._admit(ticket):
                        ticket.waited_s = time.monotonic() - started
                        return ticket
                    self._cond.wait(poll_s)
        except BaseException:
            self._drop(ticket)
            raise

    def leave(self, ticket: Ticket) -> None:
        """The run is over (done, failed or cancelled): free its slot and memory."""
        self._drop(ticket)

    def _drop(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._running:
                self._running.remove(ticket)
                self.reserved -= ticket.estimate
            elif ticket in self._line:
                self._line.remove(ticket)
            if self._sessions.get(ticket.session) is ticket:
                del self._sessions[ticket.session]
            ticket.state = "done"
            self._cond.notify_all()

    def cancel(self, session: str) -> bool:
        """Cancel the session's waiting or running run; whether it had one."""
        with self._cond:
            ticket = self._sessions.get(session)
            if ticket is None:
                return False
            ticket.cancelled.set()
            self._cond.notify_all()
            return True

    @contextmanager
    def slot(self, session: str, estimate: int, **options) -> Iterator[Ticket]:
        """:meth:`enter` … :meth:`leave` around a block."""
        ticket = self.enter(session, estimate, **options)
        try:
            yield ticket
        finally:
            self.leave(ticket)


_SHARED: dict[tuple[int, int], Admission] = {}
_SHARED_LOCK = threading.Lock()


def shared(limit: int, cap_bytes: int) -> Admission:
    """The process-wide :class:`Admission` for these settings (one per server process)."""
    with _SHARED_LOCK:
        key = (int(limit), int(cap_bytes))
        if key not in _SHARED:
            _SHARED[key] = Admission(limit, cap_bytes)
        return _SHARED[key]
