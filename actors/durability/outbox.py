"""The outbox: everything the CS server sends to the IM server goes through it.

It keeps each conversation's messages in order (one in flight per sender
and ``order_key``), sends different conversations concurrently, stays under
each robot's rate limit without letting a throttled robot hold up another
(actors/durability/fairness.py), and retries with back-off on network
errors and on code 250. A message the IM server rejects for good (bad signature, unknown
robot) is logged at ERROR and counted, never dropped silently.

Every message is journaled in Redis until the IM server confirms it, and the
journal is re-sent on start: delivery is at least once. A message that was
delivered but not yet confirmed in the journal when the process died is
sent again after the restart.

It is not an actor. Like the Intake, it belongs to the event loop: no method
blocks between reading and writing its state, so the actors and its own
sender greenlets call it in place. As an actor it cost every answer two
mailbox hops, the send and its result; a hop that wakes its actor costs
about as much as the Outbox's whole work on a message (benchmarks/outbox.py).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import gevent
from gevent.hub import Waiter, get_hub

from actors.clock import Clock
from actors.durability.fairness import FairSchedule, Lane
from actors.messages import Outbound

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

# Back-off after a transient failure: 0.2 s, doubling, capped at 30 s. The IM
# server's bucket refills 100 tokens a second by default, so a short first
# wait is usually enough after a code 250.
RETRY_FIRST_SECS = 0.2
RETRY_MAX_SECS = 30.0
MAX_IN_FLIGHT = 64
CONFIRM_RETRY_SECS = 1.0
CONFIRM_BATCH = 64
CONFIRM_DELAY_SECS = 0.02
# Our bucket measures sends as they leave, the IM server's as they arrive;
# jitter between the two turned 1 of 42 sends into a code 250 at exactly the
# IM server's limit (tests/test_loadtest.py), so we keep 10% under it.
RATE_LIMIT_SHARE = 0.9


class Delivery(NamedTuple):
    """What one send attempt came to.

    ``retry`` marks transient failures (network, HTTP 5xx, code 250); a
    failure without it is permanent.
    """

    ok: bool
    retry: bool = False
    detail: str = ""


Deliver = Callable[[Outbound], Delivery]


class _Queued(NamedTuple):
    message: Outbound
    token: str | None  # its outbound journal entry; None if it could not be written


class OutboxStats(NamedTuple):
    sent: int
    rejected: int
    retries: int
    backlog: int


class Outbox:
    """Owns the queues of outbound messages; one instance per CS server, used
    from the event loop's thread only."""

    def __init__(self, deliver: Deliver, clock: Clock, *,
                 rate_limit: tuple[int, float] | None = None,
                 max_in_flight: int = MAX_IN_FLIGHT, journal: Store | None = None) -> None:
        self._deliver = deliver
        self._journal = journal
        self._clock = clock
        if rate_limit is not None:
            limit, period_secs = rate_limit
            rate_limit = (max(1, int(limit * RATE_LIMIT_SHARE)), period_secs)
        self._schedule = FairSchedule(clock, self._later, self._pump, rate_limit=rate_limit)
        self._max_in_flight = max_in_flight
        # A lane's queue exists while it has messages; its head is ready, in
        # flight or backing off.
        self._queues: dict[Lane, deque[_Queued]] = {}
        self._in_flight = 0
        self._attempts: dict[Lane, int] = {}
        # Sender greenlets live as long as the Outbox: about as many as the most
        # sends ever in flight at once (a spawn per send was 1.5% of the
        # server's CPU). An idle one waits on a Waiter of its own: handing it
        # work is one callback in the hub, not a queue's put and get.
        self._idle: list[Waiter] = []
        self._senders: list[gevent.Greenlet[Any, Any]] = []
        self._unconfirmed: list[str] = []
        self._confirm_timer = False
        self._sent = self._rejected = self._retries = 0
        self._backlog = 0
        self._own_tokens = 0
        self._running = False

    def start(self) -> Outbox:
        """Re-send what the journal holds from before a restart; then take new messages."""
        self._running = True
        if self._journal is None:
            return self
        try:
            pending = self._journal.pending_outbound()
        except Exception:
            log.exception("outbound journal not read; unsent messages wait for a restart")
            return self
        for token, record in pending:
            try:
                message = Outbound.from_record(record)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                log.error("outbound journal entry %s unreadable (%s); set aside", token, exc)
                self._set_aside(token, record, str(exc))
                continue
            self._enqueue(message, token)
        if pending:
            log.info("re-sending %d messages not confirmed before the restart", len(pending))
        return self

    def _set_aside(self, token: str, record: Any, reason: str) -> None:
        if self._journal is None:
            return
        try:
            self._journal.set_aside(self._journal.keys.outbound, token, record, reason)
        except Exception:
            log.exception("outbound journal entry %s not set aside", token)

    def send(self, message: Outbound, token: str | None = None) -> bool:
        """Queue one message.

        Args:
            message: what to send.
            token: its outbound journal entry if the sender journaled it
                already; else the Outbox journals it here (in the caller's
                greenlet, bounded by the Redis time-out).

        Returns:
            False once the Outbox has stopped: the message is not queued (a
            journaled one is sent after the restart).
        """
        if not self._running:
            return False
        if token is None and self._journal is not None:
            self._own_tokens += 1
            token = f"~{time.time_ns():020d}.{self._own_tokens:06d}"
            try:
                self._journal.journal_outbound([(token, message.to_record())])
            except Exception:
                log.warning("outbound journal unreachable; %s kept in memory only",
                            message.target)
        self._enqueue(message, token)
        return True

    def _enqueue(self, message: Outbound, token: str | None) -> None:
        lane = (message.sender, message.order_key)
        queue = self._queues.get(lane)
        if queue is None:
            queue = self._queues[lane] = deque()
            self._schedule.ready(lane)
        queue.append(_Queued(message, token))
        self._backlog += 1
        self._pump()

    def stats(self) -> OutboxStats:
        return OutboxStats(self._sent, self._rejected, self._retries, self._backlog)

    def backlog(self) -> int:
        """Messages queued or in flight, not yet confirmed by the IM server."""
        return self._backlog

    def tracked_senders(self) -> int:
        """Senders the rate limiting remembers (idle ones are forgotten)."""
        return self._schedule.senders()

    def _pump(self) -> None:
        while self._in_flight < self._max_in_flight:
            lane = self._schedule.next()
            if lane is None:
                return
            queued = self._queues[lane][0]
            self._in_flight += 1
            if self._idle:
                get_hub().loop.run_callback(self._idle.pop().switch, (lane, queued))
            else:
                self._senders.append(gevent.spawn(self._send_loop, lane, queued))

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        """A timer that does nothing once the Outbox has stopped."""

        def fire() -> None:
            if self._running:
                callback()

        self._clock.call_later(delay, fire)

    def _send_loop(self, key: Lane, queued: _Queued) -> None:
        while True:
            self._attempt(key, queued)
            waiter: Waiter = Waiter()
            self._idle.append(waiter)
            key, queued = waiter.get()

    def _attempt(self, key: Lane, queued: _Queued) -> None:
        try:
            result = self._deliver(queued.message)
        except Exception as exc:  # a bug in deliver must not wedge the queue
            log.exception("delivery to %s raised", queued.message.target)
            result = Delivery(ok=False, retry=True, detail=repr(exc))
        if self._running:
            self._delivery_attempted(key, result)

    def _confirm(self, tokens: list[str]) -> bool:
        """Drop delivered messages from the journal (in a greenlet of its own)."""
        if self._journal is None:
            return True
        try:
            self._journal.confirm_outbound(tokens)
            return True
        except Exception:
            log.warning("%d deliveries not yet confirmed in the journal", len(tokens))
            return False

    def _confirms_due(self) -> None:
        self._confirm_timer = False
        self._flush_confirms()

    def _flush_confirms(self) -> None:
        tokens, self._unconfirmed = self._unconfirmed, []
        if tokens:
            gevent.spawn(self._send_confirms, tokens)

    def _send_confirms(self, tokens: list[str]) -> None:
        if not self._confirm(tokens):
            self._confirms_failed(tokens)

    def _confirms_failed(self, tokens: list[str]) -> None:
        self._unconfirmed.extend(tokens)
        self._schedule_confirms(CONFIRM_RETRY_SECS)

    def _schedule_confirms(self, delay: float) -> None:
        # Until confirmed, a delivered message would be sent again by a restart.
        if not self._confirm_timer:
            self._confirm_timer = True
            self._later(delay, self._confirms_due)

    def stop(self) -> None:
        """Stop sending; confirm what was delivered. What is queued stays journaled."""
        if not self._running:
            return
        self._running = False
        gevent.killall(self._senders, block=False)
        self._senders.clear()
        self._idle.clear()  # their greenlets are gone: work handed to them would be lost
        tokens, self._unconfirmed = self._unconfirmed, []
        if tokens and not self._confirm(tokens):
            log.warning("%d delivered messages will be sent again after the restart",
                        len(tokens))

    def _delivery_attempted(self, key: Lane, result: Delivery) -> None:
        self._in_flight -= 1
        if result.ok or not result.retry:
            token = self._queues[key][0].token
            if token is not None and self._journal is not None:
                # One round trip per CONFIRM_BATCH deliveries, not one each.
                self._unconfirmed.append(token)
                if len(self._unconfirmed) >= CONFIRM_BATCH:
                    self._flush_confirms()
                else:
                    self._schedule_confirms(CONFIRM_DELAY_SECS)
        queue = self._queues[key]
        if result.ok or not result.retry:
            message = queue.popleft().message
            self._backlog -= 1
            self._attempts.pop(key, None)
            if result.ok:
                self._sent += 1
            else:
                self._rejected += 1
                log.error("IM server rejected a message from %s to %s for good: %s",
                          message.sender, message.target, result.detail)
            if queue:
                self._schedule.ready(key)
            else:
                del self._queues[key]
        else:
            self._retries += 1
            attempt = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempt
            delay = min(RETRY_MAX_SECS, RETRY_FIRST_SECS * 2 ** (attempt - 1))
            log.warning("send to %s failed (%s); retry %d in %.1fs",
                        queue[0].message.target, result.detail, attempt, delay)
            self._later(delay, lambda: self._retry_due(key))
        self._pump()

    def _retry_due(self, key: Lane) -> None:
        self._schedule.ready(key)
        self._pump()
