"""The ServicerPool: who is on duty, how loaded, who waits, and who gets whom.

One actor owns every seat, so capacity holds however many hand-offs arrive
at once: requests are handled one at a time from its mailbox.

Every message runs to the end before anyone hears of it: what a message
changes is recorded first, and the notices to sessions and the snapshot
go out after it (``on_receive``). A notice that finds its session gone
becomes a new message (a release), never a nested one: a release run inside
a drain of the queue once wrote back the drain's stale list, and seated one
customer twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import pykka

from actors.call import Receiver, tell, tell_later
from actors.clock import Clock
from actors.config import CsConfig
from actors.mailbox import GreenletActor
from actors.messages import (
    Outbound,
    Queued,
    Seat,
    SeatAssigned,
    SeatNotice,
    SeatRevoked,
    SeatUnavailable,
    Servicer,
    TransferFailed,
    text_payload,
)
from actors.pool.allocation import choose
from actors.pool.queue import MAX_PRIORITY, MIN_PRIORITY, SeatQueue, Waiting
from actors.pool.snapshot import PoolSnapshot, restore_pool
from actors.supervision import Mortal
from storage.errors import CsError

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)

SAVE_RETRY_SECS = 1.0
TICK_SECS = 1.0  # how often waits and silent servicers are checked
STICKY_MEMORY = 100_000  # customers whose last servicer is remembered

ON, PAUSED, OFF = "on", "paused", "off"
STATUSES = (ON, PAUSED, OFF)


class SeatRefused(CsError, ValueError):
    """A change the pool will not make (a reason a person can read)."""

    code = "capacity_below_load"
    http_status = 409


class _Notice(NamedTuple):
    customer_id: str
    session: Any  # actor ref
    notice: SeatNotice


class ServicerPool(Mortal, Receiver, GreenletActor):
    """Owns statuses, seats and the waiting queue."""

    use_daemon_thread = True

    def __init__(self, config: CsConfig, *, robot_id: str, outbox: Outbox,
                 store: Store | None = None, clock: Clock | None = None,
                 on_death: Callable[[], None] | None = None) -> None:
        super().__init__(on_death=on_death)
        self._config = config
        self._robot_id = robot_id
        self._outbox = outbox
        self._store = store
        self._clock = clock
        self._save_retry = False
        self._dirty = False
        self._notices: list[_Notice] = []
        self._servicers = {s.id: s for s in config.servicers}
        self._status = {s.id: OFF for s in config.servicers}
        self._seats: dict[str, set[str]] = {s.id: set() for s in config.servicers}
        self._seat_of: dict[str, str] = {}  # customer id -> servicer id
        self._group_of: dict[str, str] = {}  # seated customer -> the group they asked for
        self._sessions: dict[str, Any] = {}  # seated customer -> session ref
        self._queue = SeatQueue()
        self._last_servicer: OrderedDict[str, str] = OrderedDict()
        self._active_at: dict[str, float] = {}  # servicer -> monotonic time last heard
        self._rr_next = 0
        self._servicers_changed: Callable[[frozenset[str]], None] | None = None

    def describe(self) -> str:
        return "the servicer pool"

    # The message boundary ----------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        try:
            return super().on_receive(message)
        finally:
            self._flush()

    def _flush(self) -> None:
        """Tell sessions what this message decided, then save it."""
        notices, self._notices = self._notices, []
        for customer_id, session, notice in notices:
            if not tell_notice(session, notice) and isinstance(notice, SeatAssigned):
                # The session has gone (its release may be in the mailbox already):
                # free the seat as a message of its own, after this one.
                log.info("seat of %s freed: its session has stopped", customer_id)
                self._sessions.pop(customer_id, None)
                tell(self.actor_ref, ServicerPool.release_customer, customer_id)
        if self._dirty:
            self._save()

    def _notify(self, customer_id: str, session: Any, notice: SeatNotice) -> None:
        if session is not None:
            self._notices.append(_Notice(customer_id, session, notice))

    # Lifecycle and persistence ------------------------------------------

    def on_start(self) -> None:
        if self._store is not None:
            try:
                snapshot = self._store.load_pool()
            except Exception:
                log.exception("pool snapshot unreadable; starting with everyone off duty")
                snapshot = None
            if snapshot:
                self._restore(restore_pool(snapshot))
            try:
                self._last_servicer.update(self._store.last_servicers(STICKY_MEMORY))
            except Exception:
                log.exception("last servicers not read; sticky allocation starts afresh")
        self._tick_later()

    def _tick_later(self) -> None:
        if self._clock is not None:
            tell_later(self._clock, TICK_SECS, self.actor_ref, ServicerPool.tick)

    def _restore(self, snapshot: PoolSnapshot) -> None:
        for servicer in snapshot.servicers:
            self._add(servicer)
        for servicer_id, status in snapshot.status.items():
            if servicer_id in self._servicers:
                self._status[servicer_id] = status
        for customer_id, (servicer_id, group) in snapshot.seats.items():
            if servicer_id in self._servicers:
                self._seats[servicer_id].add(customer_id)
                self._seat_of[customer_id] = servicer_id
                self._group_of[customer_id] = group
        now, mono = self._now(), self._mono()
        for row in snapshot.queue:
            if row.customer_id in self._seat_of:
                continue
            # The wait's monotonic start, from its wall start: a restart resets
            # the monotonic clock, and the wall clock is all a snapshot can carry.
            waiting = Waiting(row.customer_id, row.group, row.since, None, row.priority,
                              row.avoid, since_mono=mono - max(0.0, now - row.since))
            if row.rank is None:  # before version 4: the rows' order is the arrival order
                self._queue.join(waiting)
            else:
                self._queue.restore(waiting._replace(rank=row.rank))

    def to_snapshot(self) -> dict[str, Any]:
        configured = {s.id: s for s in self._config.servicers}
        return PoolSnapshot(
            servicers=tuple(s for s in self._servicers.values() if configured.get(s.id) != s),
            status=dict(self._status),
            seats={c: (s, self._group_of.get(c, "")) for c, s in self._seat_of.items()},
            queue=tuple(self._queue.entries)).to_dict()

    def _save(self) -> None:
        self._dirty = False
        if self._store is None:
            return
        try:
            self._store.save_pool(self.to_snapshot())
        except Exception:
            log.exception("pool snapshot not saved; retrying in %.0fs", SAVE_RETRY_SECS)
            if not self._save_retry and self._clock is not None:
                self._save_retry = True
                tell_later(self._clock, SAVE_RETRY_SECS, self.actor_ref,
                           ServicerPool.save_due)

    def save_due(self) -> None:
        """Internal: retry a snapshot that storage refused (told by a timer)."""
        self._save_retry = False
        self._save()

    def watch_servicers(self, changed: Callable[[frozenset[str]], None]) -> None:
        """Call ``changed`` with every servicer id now and whenever the set changes
        (the Directory tells servicers' commands apart from customers' with it)."""
        self._servicers_changed = changed
        changed(frozenset(self._servicers))

    def reconcile(self, open_customers: frozenset[str]) -> None:
        """After a restart of the pool: free seats and places of customers whose
        session is no longer open (their release may have been lost), and ask
        every other session to attach again (told by the Directory)."""
        gone = [c for c in self._seat_of if c not in open_customers]
        gone += [w.customer_id for w in self._queue.entries if w.customer_id not in open_customers]
        for customer_id in gone:
            self.release_customer(customer_id)
        if gone:
            log.warning("pool restart: freed %d seats or places of closed sessions", len(gone))

    # Servicers ----------------------------------------------------------

    def upsert_servicer(self, servicer: Servicer) -> dict[str, Any]:
        """Add a servicer or change one (runs in the pool); status and seats stay.

        Raises:
            SeatRefused: the new capacity is below the customers they have now.
        """
        load = len(self._seats.get(servicer.id, ()))
        if servicer.capacity < load:
            raise SeatRefused(f"{servicer.id} serves {load} customers now; capacity "
                              f"{servicer.capacity} is below that")
        known = servicer.id in self._servicers
        self._add(servicer)
        if not known and self._servicers_changed is not None:
            self._servicers_changed(frozenset(self._servicers))
        self._drain_queue()
        self._dirty = True
        return self._describe(servicer.id)

    def _add(self, servicer: Servicer) -> None:
        self._servicers[servicer.id] = servicer
        self._status.setdefault(servicer.id, OFF)
        self._seats.setdefault(servicer.id, set())

    def set_status(self, servicer_id: str, status: str, quiet: bool = False) -> bool:
        """Put a servicer on duty, pause them or take them off duty (runs in the pool).

        Paused or off duty: no new customers. Under the ``requeue`` policy,
        off duty also hands their open sessions back to the queue.

        Returns:
            False if ``servicer_id`` is not a servicer (refused, and told so).
        """
        servicer = self._servicers.get(servicer_id)
        texts = self._config.texts
        if servicer is None or status not in STATUSES:
            self._say(servicer_id, texts.duty_refused)
            log.warning("status change refused for %s", servicer_id)
            return False
        self._status[servicer_id] = status
        self._active_at[servicer_id] = self._mono()
        log.info("servicer %s is %s", servicer_id, status)
        if not quiet:
            self._say(servicer_id, {ON: texts.duty_on, PAUSED: texts.duty_paused,
                                    OFF: texts.duty_off}[status].format(
                load=len(self._seats[servicer_id]), capacity=servicer.capacity))
        if status == OFF and self._config.off_duty_policy == "requeue":
            self._requeue_all(servicer_id)
        self._drain_queue()
        self._dirty = True
        return True

    def servicer_active(self, servicer_id: str) -> None:
        """The servicer wrote something (told by sessions): they are there."""
        self._active_at[servicer_id] = self._mono()

    # Seats ----------------------------------------------------------------

    def request_seat(self, customer_id: str, session: pykka.ActorRef[Any], group: str = "",
                     priority: int = 0) -> None:
        """Find a servicer for a customer, or queue them (runs in the pool).

        The session is told ``SeatAssigned``, ``Queued`` or ``SeatUnavailable``.
        """
        priority = min(MAX_PRIORITY, max(MIN_PRIORITY, priority))
        servicer_id = self._seat_of.get(customer_id)
        if servicer_id is not None:  # a restored or repeated request
            self._sessions[customer_id] = session
            self._notify(customer_id, session,
                         SeatAssigned(Seat(customer_id, self._servicers[servicer_id])))
            return
        waiting = self._queue.find(customer_id)
        if waiting is not None:  # keep their place; tell the new session of it
            self._queue.replace(waiting._replace(session=session))
            self._queue.forget_told(customer_id)
            self._drain_queue()
            self._tell_positions()
            return
        picked = self._pick(customer_id, group)
        if picked is not None:
            self._seat(customer_id, picked, session, group)
            return
        reason = self._why_no_queue(group)
        if reason:
            self._notify(customer_id, session, SeatUnavailable(reason))
            return
        self._queue.join(Waiting(customer_id, group, self._now(), session, priority,
                                 since_mono=self._mono()))
        self._tell_positions()
        self._dirty = True

    def set_priority(self, customer_id: str, priority: int) -> bool:
        """Move a waiting customer by priority (0-9). Returns: False if not waiting."""
        waiting = self._queue.find(customer_id)
        if waiting is None:
            return False
        self._queue.replace(waiting._replace(
            priority=min(MAX_PRIORITY, max(MIN_PRIORITY, priority))))
        self._tell_positions()
        self._dirty = True
        return True

    def release_customer(self, customer_id: str) -> None:
        """The customer's session ended: free their seat or their place in the queue."""
        servicer_id = self._seat_of.pop(customer_id, None)
        self._group_of.pop(customer_id, None)
        self._sessions.pop(customer_id, None)
        if servicer_id is not None:
            self._seats[servicer_id].discard(customer_id)
        left = self._queue.leave(customer_id)
        if servicer_id is not None or left is not None:
            self._drain_queue()
            self._tell_positions()
            self._dirty = True

    def transfer(self, customer_id: str, to_servicer_id: str | None) -> str | None:
        """Hand a seated customer to another servicer, or back to the queue.

        Returns:
            None when done, else why not (the session is told too).
        """
        current = self._seat_of.get(customer_id)
        session = self._sessions.get(customer_id)
        if current is None:
            return "the customer is not with a servicer"
        if to_servicer_id is not None:
            target = self._servicers.get(to_servicer_id)
            reason = None
            if target is None:
                reason = f"no servicer {to_servicer_id}"
            elif to_servicer_id == current:
                reason = "already with that servicer"
            elif self._status[to_servicer_id] != ON:
                reason = f"{target.name} is not on duty"
            elif len(self._seats[to_servicer_id]) >= target.capacity:
                reason = f"{target.name} is full"
            if reason is not None:
                self._notify(customer_id, session, TransferFailed(reason))
                return reason
            self._move(customer_id, current, to_servicer_id)
        else:
            self._requeue(customer_id, current)
        self._drain_queue()
        self._dirty = True
        return None

    # Queries --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {servicer_id: self._describe(servicer_id) for servicer_id in self._servicers}

    def servicer(self, servicer_id: str) -> dict[str, Any] | None:
        return self._describe(servicer_id) if servicer_id in self._servicers else None

    def serves_customer(self, servicer_id: str, customer_id: str) -> bool:
        """Whether the customer is, or was last, with this servicer."""
        return (self._seat_of.get(customer_id) == servicer_id
                or self._last_servicer.get(customer_id) == servicer_id)

    def queue(self) -> list[dict[str, Any]]:
        return self._queue.listing(self._now())

    def seats(self) -> dict[str, str]:
        """Customer id -> servicer id of every seat (tests and the API)."""
        return dict(self._seat_of)

    def _describe(self, servicer_id: str) -> dict[str, Any]:
        s = self._servicers[servicer_id]
        return {"id": s.id, "name": s.name, "portrait": s.portrait, "capacity": s.capacity,
                "groups": list(s.groups), "status": self._status[servicer_id],
                "on_duty": self._status[servicer_id] == ON,
                "load": len(self._seats[servicer_id]),
                "customers": sorted(self._seats[servicer_id])}

    # Timers ---------------------------------------------------------------

    def tick(self) -> None:
        """Internal: expire long waits and pause silent servicers (told by a timer)."""
        try:
            self._expire_waits()
            self._pause_silent()
        finally:
            self._tick_later()

    def _expire_waits(self) -> None:
        expired = self._queue.expire(self._mono() - self._config.queue_max_wait_secs)
        if not expired:
            return
        for waiting in expired:
            self._notify(waiting.customer_id, waiting.session, SeatUnavailable("queue_timeout"))
        self._tell_positions()
        self._dirty = True

    def _pause_silent(self) -> None:
        limit = self._config.auto_pause_secs
        if limit <= 0:
            return
        now = self._mono()
        for servicer_id, status in list(self._status.items()):
            silent = now - self._active_at.get(servicer_id, now)
            if status == ON and self._seats[servicer_id] and silent >= limit:
                log.warning("servicer %s silent for %.0fs: paused", servicer_id, silent)
                self._say(servicer_id, self._config.texts.auto_paused.format(
                    minutes=round(limit / 60)))
                self.set_status(servicer_id, PAUSED, True)
                if self._config.off_duty_policy == "requeue":
                    self._requeue_all(servicer_id)
                    self._drain_queue()

    # Internals ------------------------------------------------------------

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else 0.0

    def _mono(self) -> float:
        return self._clock.monotonic() if self._clock is not None else 0.0

    def _pick(self, customer_id: str, group: str, exclude: str = "") -> str | None:
        free = [s for s in self._servicers.values()
                if self._status[s.id] == ON and s.id != exclude and s.serves(group)
                and len(self._seats[s.id]) < s.capacity]
        picked, self._rr_next = choose(
            self._config.strategy, free, {s.id: len(self._seats[s.id]) for s in free},
            last=self._last_servicer.get(customer_id), everyone=self._servicers.keys(),
            cursor=self._rr_next)
        return picked

    def _why_no_queue(self, group: str) -> str | None:
        """Why a customer cannot wait: nobody on duty for the group, or a full queue."""
        if not any(self._status[s.id] == ON and s.serves(group)
                   for s in self._servicers.values()):
            return "no_servicer"
        if self._queue.waiting_in(group) >= self._config.queue_max_length:
            return "queue_full"
        return None

    def _seat(self, customer_id: str, servicer_id: str, session: Any, group: str,
              previous: Servicer | None = None) -> None:
        if not self._seats[servicer_id]:
            self._active_at[servicer_id] = self._mono()  # their silence counts from now
        self._seats[servicer_id].add(customer_id)
        self._seat_of[customer_id] = servicer_id
        self._group_of[customer_id] = group
        self._last_servicer[customer_id] = servicer_id
        self._last_servicer.move_to_end(customer_id)
        while len(self._last_servicer) > STICKY_MEMORY:
            self._last_servicer.popitem(last=False)
        if self._store is not None:
            # Its own hash, not the snapshot: the snapshot is written on every
            # seat change and would grow with every customer ever seated.
            try:
                self._store.remember_servicer(customer_id, servicer_id)
            except Exception:
                log.exception("last servicer of %s not saved", customer_id)
        self._dirty = True
        if session is not None:
            self._sessions[customer_id] = session
            self._notify(customer_id, session,
                         SeatAssigned(Seat(customer_id, self._servicers[servicer_id], previous)))

    def _move(self, customer_id: str, from_id: str, to_id: str) -> None:
        self._seats[from_id].discard(customer_id)
        self._seat(customer_id, to_id, self._sessions.get(customer_id),
                   self._group_of.get(customer_id, ""), previous=self._servicers[from_id])

    def _requeue(self, customer_id: str, from_id: str) -> None:
        """To another servicer of their group, or back to the queue ahead of
        everyone of their priority (they were already being served); never
        back to ``from_id``."""
        session = self._sessions.get(customer_id)
        group = self._group_of.get(customer_id, "")
        picked = self._pick(customer_id, group, exclude=from_id)
        if picked is not None:
            self._move(customer_id, from_id, picked)
            return
        self._seats[from_id].discard(customer_id)
        self._seat_of.pop(customer_id, None)
        self._group_of.pop(customer_id, None)
        self._sessions.pop(customer_id, None)
        self._queue.join(Waiting(customer_id, group, self._now(), session, avoid=from_id,
                                 since_mono=self._mono()), first=True)
        self._notify(customer_id, session, SeatRevoked(self._servicers[from_id]))
        self._tell_positions()
        self._dirty = True

    def _requeue_all(self, servicer_id: str) -> None:
        for customer_id in sorted(self._seats[servicer_id]):
            self._requeue(customer_id, servicer_id)

    def _drain_queue(self) -> None:
        def seat(waiting: Waiting) -> bool:
            picked = self._pick(waiting.customer_id, waiting.group, exclude=waiting.avoid)
            if picked is None:
                return False
            self._seat(waiting.customer_id, picked, waiting.session, waiting.group)
            return True

        before = len(self._queue.entries)
        self._queue.drain(seat)
        if len(self._queue.entries) != before:
            self._tell_positions()
            self._dirty = True

    def _tell_positions(self) -> None:
        for waiting, position in self._queue.changed_positions():
            self._notify(waiting.customer_id, waiting.session, Queued(position))

    def _say(self, servicer_id: str, text: str) -> None:
        self._outbox.send(Outbound(self._robot_id, servicer_id, text_payload(text), servicer_id))


def tell_notice(session: Any, notice: Any) -> bool:
    """Hand a typed notice to a session; False if it has stopped."""
    try:
        session.tell(notice)
        return True
    except pykka.ActorDeadError:
        return False


__all__ = ["OFF", "ON", "PAUSED", "STATUSES", "SeatRefused", "ServicerPool"]
