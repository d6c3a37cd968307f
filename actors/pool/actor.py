"""The ServicerPool: who is on duty, how loaded, who waits, and who gets whom.

One actor owns every seat, so capacity holds however many hand-offs arrive
at once: requests are handled one at a time from its mailbox.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pykka

from actors.call import CallReceiver, tell, tell_later
from actors.clock import Clock
from actors.config import CsConfig
from actors.mailbox import GreenletActor
from actors.messages import Outbound, Seat, Servicer, text_payload
from actors.pool.allocation import choose
from actors.pool.queue import SeatQueue, Waiting

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)

POOL_SNAPSHOT_VERSION = 3
SAVE_RETRY_SECS = 1.0
TICK_SECS = 1.0  # how often waits and silent servicers are checked
STICKY_MEMORY = 100_000  # customers whose last servicer is remembered

ON, PAUSED, OFF = "on", "paused", "off"
STATUSES = (ON, PAUSED, OFF)


class ServicerPool(CallReceiver, GreenletActor):
    """Owns statuses, seats and the waiting queue."""

    use_daemon_thread = True

    def __init__(self, config: CsConfig, *, robot_id: str, outbox: Outbox,
                 store: Store | None = None, clock: Clock | None = None) -> None:
        super().__init__()
        self._config = config
        self._robot_id = robot_id
        self._outbox = outbox
        self._store = store
        self._clock = clock
        self._save_retry = False
        self._servicers = {s.id: s for s in config.servicers}
        self._status = {s.id: OFF for s in config.servicers}
        self._seats: dict[str, set[str]] = {s.id: set() for s in config.servicers}
        self._seat_of: dict[str, str] = {}  # customer id -> servicer id
        self._sessions: dict[str, pykka.ActorRef[Any]] = {}  # seated customers
        self._queue = SeatQueue()
        self._last_servicer: OrderedDict[str, str] = OrderedDict()
        self._active_at: dict[str, float] = {}
        self._rr_next = 0
        self._directory: Any = None

    # Lifecycle and persistence ------------------------------------------

    def on_start(self) -> None:
        if self._store is not None:
            try:
                snapshot = self._store.load_pool()
            except Exception:
                log.exception("pool snapshot unreadable; starting with everyone off duty")
                snapshot = None
            if snapshot:
                self._restore(snapshot)
            try:
                self._last_servicer.update(self._store.last_servicers(STICKY_MEMORY))
            except Exception:
                log.exception("last servicers not read; sticky allocation starts afresh")
        self._tick_later()

    def _tick_later(self) -> None:
        if self._clock is not None:
            tell_later(self._clock, TICK_SECS, self.actor_ref, "tick")

    def _restore(self, snapshot: dict[str, Any]) -> None:
        # Version 1 had "on_duty" (a list) and "seats" only.
        for record in snapshot.get("servicers", []):
            servicer = Servicer.from_record(record)
            self._add(servicer)
        statuses = snapshot.get("status") or {s: ON for s in snapshot.get("on_duty", [])}
        for servicer_id, status in statuses.items():
            if servicer_id in self._servicers and status in STATUSES:
                self._status[servicer_id] = status
        for customer_id, servicer_id in snapshot.get("seats", {}).items():
            if servicer_id in self._servicers:
                self._seats[servicer_id].add(customer_id)
                self._seat_of[customer_id] = servicer_id
        for customer_id, group, since in snapshot.get("queue", []):
            self._queue.join(Waiting(customer_id, group, float(since), None))
        # Version 2 kept last_servicer in the snapshot; it has its own hash since.
        self._last_servicer.update(snapshot.get("last_servicer", {}))

    def to_snapshot(self) -> dict[str, Any]:
        configured = {s.id: s for s in self._config.servicers}
        return {"version": POOL_SNAPSHOT_VERSION,
                "servicers": [list(s) for s in self._servicers.values()
                              if configured.get(s.id) != s],
                "status": dict(self._status), "seats": dict(self._seat_of),
                "queue": [[w.customer_id, w.group, w.since] for w in self._queue.entries]}

    def _save(self) -> None:
        if self._store is None:
            return
        try:
            self._store.save_pool(self.to_snapshot())
        except Exception:
            log.exception("pool snapshot not saved; retrying in %.0fs", SAVE_RETRY_SECS)
            if not self._save_retry and self._clock is not None:
                self._save_retry = True
                tell_later(self._clock, SAVE_RETRY_SECS, self.actor_ref, "save_due")

    def save_due(self) -> None:
        """Internal: retry a snapshot that storage refused (told by a timer)."""
        self._save_retry = False
        self._save()

    def attach_directory(self, directory: Any) -> None:
        """The Directory, told whenever the set of servicer ids changes."""
        self._directory = directory
        directory.servicers_changed.defer(frozenset(self._servicers))

    # Servicers ----------------------------------------------------------

    def upsert_servicer(self, servicer: Servicer) -> dict[str, Any]:
        """Add a servicer or change one (runs in the pool); status and seats stay."""
        known = servicer.id in self._servicers
        self._add(servicer)
        if not known and self._directory is not None:
            self._directory.servicers_changed.defer(frozenset(self._servicers))
        self._drain_queue()
        self._save()
        return self._describe(servicer.id)

    def _add(self, servicer: Servicer) -> None:
        self._servicers[servicer.id] = servicer
        self._status.setdefault(servicer.id, OFF)
        self._seats.setdefault(servicer.id, set())

    def set_status(self, servicer_id: str, status: str, *, quiet: bool = False) -> bool:
        """Put a servicer on duty, pause them or take them off duty (runs in the pool).

        Paused or off duty: no new customers. Off duty under the ``requeue``
        policy also hands their open sessions back to the queue.

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
        self._active_at[servicer_id] = self._now()
        log.info("servicer %s is %s", servicer_id, status)
        if not quiet:
            self._say(servicer_id, {ON: texts.duty_on, PAUSED: texts.duty_paused,
                                    OFF: texts.duty_off}[status].format(
                load=len(self._seats[servicer_id]), capacity=servicer.capacity))
        if status == OFF and self._config.off_duty_policy == "requeue":
            self._requeue_all(servicer_id)
        self._drain_queue()
        self._save()
        return True

    def servicer_active(self, servicer_id: str) -> None:
        """The servicer wrote something (told by sessions): they are there."""
        self._active_at[servicer_id] = self._now()

    # Seats ----------------------------------------------------------------

    def request_seat(self, customer_id: str, session: pykka.ActorRef[Any],
                     group: str = "") -> None:
        """Find a servicer for a customer, or queue them (runs in the pool).

        The session is told ``seat_assigned(Seat)``, ``queued(position)`` or
        ``seat_unavailable(customer_id, reason)``.
        """
        servicer_id = self._seat_of.get(customer_id)
        if servicer_id is not None:  # a restored or repeated request
            self._sessions[customer_id] = session
            tell(session, "seat_assigned", Seat(customer_id, self._servicers[servicer_id]))
            return
        if self._queue.rejoin(customer_id, session):
            self._queue.tell_positions()
            return
        picked = self._pick(customer_id, group)
        if picked is not None:
            self._seat(customer_id, picked, session)
            return
        reason = self._why_no_queue(group)
        if reason:
            tell(session, "seat_unavailable", customer_id, reason)
            return
        self._queue.join(Waiting(customer_id, group, self._now(), session))
        self._queue.tell_positions()
        self._save()

    def release_customer(self, customer_id: str) -> None:
        """The customer's session ended: free their seat or their place in the queue."""
        servicer_id = self._seat_of.pop(customer_id, None)
        self._sessions.pop(customer_id, None)
        if servicer_id is not None:
            self._seats[servicer_id].discard(customer_id)
        left = self._queue.leave(customer_id)
        if servicer_id is not None or left:
            self._drain_queue()
            self._queue.tell_positions()
            self._save()

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
                if session is not None:
                    tell(session, "transfer_failed", reason)
                return reason
            self._move(customer_id, current, to_servicer_id)
        else:
            self._requeue(customer_id, current)
        self._drain_queue()
        self._save()
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
        deadline = self._now() - self._config.queue_max_wait_secs
        expired = self._queue.expire(deadline)
        if not expired:
            return
        for waiting in expired:
            if waiting.session is not None:
                tell(waiting.session, "seat_unavailable", waiting.customer_id, "queue_timeout")
        self._queue.tell_positions()
        self._save()

    def _pause_silent(self) -> None:
        limit = self._config.auto_pause_secs
        if limit <= 0:
            return
        now = self._now()
        for servicer_id, status in list(self._status.items()):
            silent = now - self._active_at.get(servicer_id, now)
            if status == ON and self._seats[servicer_id] and silent >= limit:
                log.warning("servicer %s silent for %.0fs: paused", servicer_id, silent)
                self._say(servicer_id, self._config.texts.auto_paused.format(
                    minutes=round(limit / 60)))
                self.set_status(servicer_id, PAUSED, quiet=True)
                if self._config.off_duty_policy == "requeue":
                    self._requeue_all(servicer_id)
                    self._drain_queue()
                    self._save()

    # Internals ------------------------------------------------------------

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else 0.0

    def _pick(self, customer_id: str, group: str, exclude: str | None = None) -> str | None:
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

    def _seat(self, customer_id: str, servicer_id: str, session: pykka.ActorRef[Any] | None,
              previous: Servicer | None = None) -> None:
        if not self._seats[servicer_id]:
            self._active_at[servicer_id] = self._now()  # their silence counts from now
        self._seats[servicer_id].add(customer_id)
        self._seat_of[customer_id] = servicer_id
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
        if session is None:
            return
        self._sessions[customer_id] = session
        seat = Seat(customer_id, self._servicers[servicer_id], previous)
        if not tell(session, "seat_assigned", seat):
            self.release_customer(customer_id)
        else:
            self._save()

    def _move(self, customer_id: str, from_id: str, to_id: str) -> None:
        self._seats[from_id].discard(customer_id)
        self._seat(customer_id, to_id, self._sessions.get(customer_id),
                   previous=self._servicers[from_id])

    def _requeue(self, customer_id: str, from_id: str) -> None:
        """Back to the queue, ahead of everyone: they were already being served."""
        session = self._sessions.get(customer_id)
        picked = self._pick(customer_id, "", exclude=from_id)
        if picked is not None:
            self._move(customer_id, from_id, picked)
            return
        self._seats[from_id].discard(customer_id)
        self._seat_of.pop(customer_id, None)
        self._sessions.pop(customer_id, None)
        self._queue.join(Waiting(customer_id, "", self._now(), session), first=True)
        if session is not None:
            tell(session, "seat_revoked", self._servicers[from_id])
        self._queue.tell_positions()

    def _requeue_all(self, servicer_id: str) -> None:
        for customer_id in sorted(self._seats[servicer_id]):
            self._requeue(customer_id, servicer_id)

    def _drain_queue(self) -> None:
        def seat(waiting: Waiting) -> bool:
            picked = self._pick(waiting.customer_id, waiting.group)
            if picked is not None:
                self._seat(waiting.customer_id, picked, waiting.session)
            return picked is not None

        self._queue.drain(seat)

    def _say(self, servicer_id: str, text: str) -> None:
        self._outbox.send(Outbound(self._robot_id, servicer_id,
                                         text_payload(text), servicer_id))
