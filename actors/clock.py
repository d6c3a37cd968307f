"""Time for actors: the current time and a way to be called back later.

Injected so that tests can run idle timeouts in milliseconds, or drive them
by hand, instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import gevent


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""

    def call_later(self, delay_secs: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback`` (which should only tell an actor) after ``delay_secs``."""


class _GreenletTimer:
    def __init__(self, greenlet: gevent.Greenlet) -> None:
        self._greenlet = greenlet

    def cancel(self) -> None:
        self._greenlet.kill(block=False)


class SystemClock:
    """Wall-clock time; timers are gevent greenlets (cheap: ~1 KB each)."""

    def now(self) -> float:
        return time.time()

    def call_later(self, delay_secs: float, callback: Callable[[], None]) -> Cancellable:
        return _GreenletTimer(gevent.spawn_later(max(0.0, delay_secs), callback))
