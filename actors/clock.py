"""Time for actors: the current time and a way to be called back later.

Injected so that tests can run idle timeouts in milliseconds, or drive them
by hand, instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Callable
from typing import Protocol

import gevent
import gevent.event

log = logging.getLogger(__name__)


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch: for stored timestamps only, never for a
        deadline or a rate (the wall clock may step back or forward)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never goes back: for
        deadlines, timers and rate limits."""

    def call_later(self, delay_secs: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback`` after ``delay_secs``; it must not block (it tells an
        actor, or moves the Outbox on)."""


class _Timer:
    __slots__ = ("due", "callback")

    def __init__(self, due: float, callback: Callable[[], None] | None) -> None:
        self.due = due
        self.callback = callback

    def cancel(self) -> None:
        self.callback = None


class SystemClock:
    """Wall-clock time; every timer on one heap served by one greenlet.

    A greenlet per timer cost 1.2 KB each (measured: 10,000 ``spawn_later``),
    and every session holds one for its idle time-out; a heap entry is a
    tenth of that. Callbacks only tell actors, so running them in turn from
    one greenlet is cheap.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._wake = gevent.event.Event()
        self._runner: gevent.Greenlet | None = None

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay_secs: float, callback: Callable[[], None]) -> Cancellable:
        timer = _Timer(time.monotonic() + max(0.0, delay_secs), callback)
        first = not self._heap or timer.due < self._heap[0][0]
        heapq.heappush(self._heap, (timer.due, next(self._order), timer))
        if self._runner is None or self._runner.dead:
            self._runner = gevent.spawn(self._run)
        elif first:
            self._wake.set()
        return timer

    def _run(self) -> None:
        while self._heap:
            due = self._heap[0][0]
            delay = due - time.monotonic()
            if delay > 0:
                self._wake.clear()
                self._wake.wait(delay)
                continue
            _, _, timer = heapq.heappop(self._heap)
            callback, timer.callback = timer.callback, None
            if callback is not None:
                try:
                    callback()
                except Exception:  # a timer must not stop the others
                    log.exception("timer callback failed")
