"""Which conversation the Outbox sends next: one ready queue per sender, the
senders served round-robin, each sender held back by its own rate limit.

The IM server limits each robot on its own (DESIGN.md §4): the CS Robot and
every Shadow have a bucket of their own. With one queue for everybody, the
head message decided for all: while the CS Robot waited for its bucket, a
Shadow's message to a servicer waited behind it (seen: with 60 bot answers
queued under a 40-per-10 s limit, a customer's message to their servicer
had not arrived after 6 s). Here a sender whose bucket is empty leaves the
ring until its wait is over, and the others go on.

A *lane* is one conversation as the IM server sees it: one sender's messages
under one ``order_key``. Messages of different senders go to different
people, in different chats, so no one can see their relative order; keeping
them in one queue would let a throttled robot hold up another's.

Within a sender, lanes are served in the order they became ready, and a
lane goes to the back after each message: customers are answered in arrival
order and a talkative one cannot starve the rest.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from actors.ratelimit import LeakyBucket

if TYPE_CHECKING:
    from actors.clock import Clock

Lane = tuple[str, str]  # (sender, order_key)
Later = Callable[[float, Callable[[], None]], None]

_IDLE, _RING, _HELD = 0, 1, 2


class _Sender:
    __slots__ = ("ready", "bucket", "state")

    def __init__(self, bucket: LeakyBucket | None) -> None:
        self.ready: deque[Lane] = deque()
        self.bucket = bucket
        # _RING: in the ring; _HELD: out of it until its bucket's timer fires;
        # _IDLE: nothing ready.
        self.state = _IDLE


class FairSchedule:
    """Ready lanes per sender and the round-robin ring of senders.

    Not thread-safe: used by the Outbox from the event loop's thread only.
    """

    def __init__(self, clock: Clock, later: Later, on_release: Callable[[], None], *,
                 rate_limit: tuple[int, float] | None = None) -> None:
        """
        Args:
            clock: its ``monotonic()`` drives the buckets (never wall time).
            later: runs a callback after a delay (the Outbox's timer).
            on_release: called when a held sender may send again.
            rate_limit: (sends, per seconds) for each sender; None: no limit.
        """
        self._clock = clock
        self._later = later
        self._on_release = on_release
        self._rate_limit = rate_limit
        self._senders: dict[str, _Sender] = {}
        self._ring: deque[str] = deque()
        # A bucket must outlive its sender's last send until it has drained,
        # or a new one would allow a second burst within the IM server's
        # period. Every Shadow ever used has one, so drained ones are dropped
        # in a sweep once a period: O(senders) per period.
        self._sweep_secs = rate_limit[1] if rate_limit else 0.0
        self._swept_at = clock.monotonic()

    def ready(self, lane: Lane) -> None:
        """The head message of ``lane`` may go once its sender's turn comes."""
        name = lane[0]
        sender = self._senders.get(name)
        if sender is None:
            sender = self._senders[name] = _Sender(self._new_bucket())
        sender.ready.append(lane)
        if sender.state == _IDLE:
            sender.state = _RING
            self._ring.append(name)

    def next(self) -> Lane | None:
        """The lane to send from now (its sender's token is taken), or None.

        A sender over its limit leaves the ring; ``on_release`` is called
        when its wait is over.
        """
        now = self._clock.monotonic()
        if self._rate_limit is not None and now - self._swept_at >= self._sweep_secs:
            self._sweep(now)
        while self._ring:
            name = self._ring.popleft()
            sender = self._senders[name]
            wait = sender.bucket.take(now) if sender.bucket is not None else 0.0
            if wait > 0:
                sender.state = _HELD
                self._later(wait, functools.partial(self._release, name))
                continue
            lane = sender.ready.popleft()
            if sender.ready:
                self._ring.append(name)
            else:
                sender.state = _IDLE
                if sender.bucket is None:  # nothing to remember about it
                    del self._senders[name]
            return lane
        return None

    def senders(self) -> int:
        """Senders tracked: with ready lanes, held, or with a bucket not yet drained."""
        return len(self._senders)

    def _release(self, name: str) -> None:
        sender = self._senders.get(name)
        if sender is None or sender.state != _HELD:
            return
        if sender.ready:
            sender.state = _RING
            self._ring.append(name)
        else:
            sender.state = _IDLE
        self._on_release()

    def _new_bucket(self) -> LeakyBucket | None:
        if self._rate_limit is None:
            return None
        limit, period_secs = self._rate_limit
        return LeakyBucket(limit, period_secs, now=self._clock.monotonic())

    def _sweep(self, now: float) -> None:
        self._swept_at = now
        idle = [name for name, sender in self._senders.items()
                if sender.state == _IDLE and (sender.bucket is None or sender.bucket.drained(now))]
        for name in idle:
            del self._senders[name]
