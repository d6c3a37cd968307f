"""A session's idle timer: one pending timer message at most, moved only earlier.

Moving a deadline later keeps the timer: when it fires, the session sees the
deadline has not passed and arms it again. So a busy conversation costs one
timer per idle period, not one per message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.call import Address, tell_later
from actors.clock import Cancellable, Clock


class IdleTimer:
    __slots__ = ("_clock", "_actor", "_timer", "_at")

    def __init__(self, clock: Clock, actor: Address) -> None:
        self._clock = clock
        self._actor = actor
        self._timer: Cancellable | None = None
        self._at = 0.0  # monotonic time the pending timer fires

    def arm(self, deadline_mono: float, fire: Callable[[Any], object]) -> None:
        """Tell the actor ``fire`` at ``deadline_mono``, unless a timer is pending."""
        if self._timer is None:
            self._at = deadline_mono
            self._timer = tell_later(self._clock, deadline_mono - self._clock.monotonic(),
                                     self._actor, fire)

    def move_earlier(self, deadline_mono: float) -> None:
        """Drop a pending timer that would fire after ``deadline_mono``."""
        if self._timer is not None and self._at > deadline_mono:
            self._timer.cancel()
            self._timer = None

    def fired(self) -> None:
        self._timer = None

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
