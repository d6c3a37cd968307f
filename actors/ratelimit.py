"""A leaky bucket, as the WildfireChat server limits each robot's sends.

The IM server allows ``capacity`` requests per ``period_secs`` with bursts up
to ``capacity`` (DESIGN.md §4: 1000 per 10 s by default). The outbox uses the
same bucket to stay under the limit instead of collecting code 250.
"""

from __future__ import annotations


class LeakyBucket:
    """Not thread-safe: owned by one actor (or one greenlet-only simulator)."""

    __slots__ = ("capacity", "rate_per_sec", "_level", "_at")

    def __init__(self, capacity: int, period_secs: float, now: float) -> None:
        if capacity <= 0 or period_secs <= 0:
            raise ValueError("capacity and period must be positive")
        self.capacity = float(capacity)
        self.rate_per_sec = capacity / period_secs
        self._level = 0.0
        self._at = now

    def take(self, now: float) -> float:
        """Take one token: 0.0 if granted, else the seconds until one would be."""
        self._level = max(0.0, self._level - (now - self._at) * self.rate_per_sec)
        self._at = now
        if self._level + 1.0 <= self.capacity:
            self._level += 1.0
            return 0.0
        return (self._level + 1.0 - self.capacity) / self.rate_per_sec

    def drained(self, now: float) -> bool:
        """True once every token taken has leaked away: a new bucket would
        then behave exactly like this one, so this one may be forgotten."""
        return self._level - (now - self._at) * self.rate_per_sec <= 0.0


class FloodGuard:
    """One customer's own rate (``customer_rate_limit``): over it, messages are
    not handled, and the customer is told once per flood."""

    __slots__ = ("_limit", "_period_secs", "_bucket", "_told")

    def __init__(self, limit: int, period_secs: float) -> None:
        self._limit = limit
        self._period_secs = period_secs
        self._bucket: LeakyBucket | None = None
        self._told = False

    def over(self, now: float) -> tuple[bool, bool]:
        """(over the rate, tell them now) for one message at monotonic ``now``
        (never over with a limit of 0)."""
        if self._limit <= 0:
            return False, False
        if self._bucket is None:
            self._bucket = LeakyBucket(self._limit, self._period_secs, now)
        if self._bucket.take(now) == 0:
            self._told = False
            return False, False
        tell, self._told = not self._told, True
        return True, tell
