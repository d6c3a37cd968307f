"""The ServicerPool: who is on duty, how loaded, who waits, and who gets whom.

One actor owns every seat (its ``SeatBook``), so capacity holds however
many hand-offs arrive at once: requests are handled one at a time from its
mailbox.

Every message runs to the end before anyone hears of it: what a message
changes is recorded first, and the notices to sessions and the snapshot
go out after it (``on_receive``). A notice that finds its session gone
becomes a new message (a release), never a nested one: a release run inside
a drain of the queue once wrote back the drain's stale list, and seated one
customer twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pykka

from actors.call import Receiver, tell, tell_later
from actors.clock import Clock
from actors.config import CsConfig
from actors.mailbox import GreenletActor
from actors.messages import (
    Outbound,
    Seat,
    SeatAssigned,
    SeatNotice,
    SeatUnavailable,
    Servicer,
    TransferFailed,
    text_payload,
)
from actors.pool.book import OFF, ON, PAUSED, STATUSES, SeatBook, SeatRefused
from actors.pool.byhand import HandRefused, HandSeats
from actors.pool.moves import SeatMoves
from actors.pool.notices import Notices
from actors.pool.queue import MAX_PRIORITY, MIN_PRIORITY, Waiting
from actors.supervision import Mortal

if TYPE_CHECKING:
    from actors.durability.outbox import Outbox
    from storage import Store

log = logging.getLogger(__name__)

SAVE_RETRY_SECS = 1.0
TICK_SECS = 1.0  # how often waits and silent servicers are checked


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
        self._book = SeatBook(config)
        self._save_retry = False
        self._dirty = False
        self._notices = Notices()
        self._moves = SeatMoves(config, self._book, self._notices, store, clock)
        self._by_hand = HandSeats(self._book, self._moves)
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
        for customer_id, session in self._notices.send():
            # The session has gone (its release may be in the mailbox already):
            # free the seat as a message of its own, after this one, unless a
            # new session of the customer's has taken the seat by then.
            log.info("seat of %s freed: its session has stopped", customer_id)
            tell(self.actor_ref, ServicerPool.release_customer, customer_id, session)
        if self._dirty or self._moves.dirty:
            self._save()

    def _notify(self, customer_id: str, session: Any, notice: SeatNotice) -> None:
        self._notices.add(customer_id, session, notice)

    # Lifecycle and persistence ------------------------------------------

    def on_start(self) -> None:
        if self._store is not None:
            self._book.read(self._store, self._now(), self._mono())
        self._tick_later()

    def _tick_later(self) -> None:
        if self._clock is not None:
            tell_later(self._clock, TICK_SECS, self.actor_ref, ServicerPool.tick)

    def to_snapshot(self) -> dict[str, Any]:
        return self._book.snapshot()

    def _save(self) -> None:
        self._dirty = self._moves.dirty = False
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
        changed(frozenset(self._book.servicers))

    def reconcile(self, open_customers: frozenset[str]) -> None:
        """Free seats and places of customers whose session is no longer open
        (their release may have been lost while this pool was down)."""
        gone = self._book.customers_not_in(open_customers)
        for customer_id in gone:
            self.release_customer(customer_id)
        if gone:
            log.warning("freed %d seats or places of closed sessions", len(gone))

    # Servicers ----------------------------------------------------------

    def upsert_servicer(self, servicer: Servicer) -> dict[str, Any]:
        """Add a servicer or change one (runs in the pool); status and seats stay.

        Raises:
            SeatRefused: the new capacity is below the customers they have now.
        """
        if self._book.add(servicer, check_load=True) and self._servicers_changed is not None:
            self._servicers_changed(frozenset(self._book.servicers))
        self._moves.drain()
        self._dirty = True
        return self._book.describe(servicer.id)

    def set_status(self, servicer_id: str, status: str, quiet: bool = False) -> bool:
        """Put a servicer on duty, pause them or take them off duty (runs in the pool).

        Paused or off duty: no new customers. Under the ``requeue`` policy,
        off duty also hands their open sessions back to the queue.

        Returns:
            False if ``servicer_id`` is not a servicer (refused, and told so).
        """
        servicer = self._book.servicers.get(servicer_id)
        texts = self._config.texts
        if servicer is None or status not in STATUSES:
            self._say(servicer_id, texts.duty_refused)
            log.warning("status change refused for %s", servicer_id)
            return False
        self._book.status[servicer_id] = status
        self._moves.silence.heard(servicer_id, self._mono())
        log.info("servicer %s is %s", servicer_id, status)
        if not quiet:
            self._say(servicer_id, {ON: texts.duty_on, PAUSED: texts.duty_paused,
                                    OFF: texts.duty_off}[status].format(
                load=self._book.load(servicer_id), capacity=servicer.capacity))
        if status == OFF and self._config.off_duty_policy == "requeue":
            self._moves.requeue_all(servicer_id)
        self._moves.drain()
        self._moves.tell_positions()  # fewer or more on duty: the estimates changed
        self._dirty = True
        return True

    def servicer_active(self, servicer_id: str, customer_id: str = "") -> None:
        """The servicer wrote to a customer (told by sessions): they are there."""
        self._moves.silence.heard(servicer_id, self._mono())
        if customer_id:
            self._moves.replies.replied(customer_id, servicer_id)

    # Seats ----------------------------------------------------------------

    def request_seat(self, customer_id: str, session: pykka.ActorRef[Any], group: str = "",
                     priority: int = 0, message: bool = False, ticket: int = 0) -> None:
        """Find a servicer for a customer, or queue them (runs in the pool).

        The session is told ``SeatAssigned``, ``Queued`` or ``SeatUnavailable``.
        ``message``: the customer left a message while nobody was on duty; it
        waits in the queue (``message_max_wait_secs``) for the first servicer.
        """
        book = self._book
        priority = min(MAX_PRIORITY, max(MIN_PRIORITY, priority))
        book.tickets[customer_id] = ticket
        servicer_id = book.seat_of.get(customer_id)
        if servicer_id is not None:  # a restored or repeated request
            book.sessions[customer_id] = session
            self._notify(customer_id, session, SeatAssigned(
                Seat(customer_id, book.servicers[servicer_id], ticket=ticket)))
            return
        waiting = book.queue.find(customer_id)
        if waiting is not None:  # keep their place; tell the new session of it
            book.queue.replace(waiting._replace(session=session))
            book.queue.forget_told(customer_id)
            self._moves.drain()
            self._moves.tell_positions()
            return
        picked = book.pick(customer_id, group)
        if picked is not None:
            self._moves.seat(customer_id, picked, session, group)
            return
        reason = book.why_no_queue(group)
        if reason and not (message and reason == "no_servicer"):
            self._notify(customer_id, session, SeatUnavailable(reason, ticket))
            book.tickets.pop(customer_id, None)
            return
        book.queue.join(Waiting(customer_id, group, self._now(), session, priority,
                                since_mono=self._mono(), message=message))
        self._moves.tell_positions()
        self._dirty = True

    def take_next(self, servicer_id: str) -> str:
        """The servicer takes the first customer waiting for them, even past their
        capacity (runs in the pool; ``actors/pool/byhand.py``). Returns: who.

        Raises:
            HandRefused: why not (``queue_empty``, ``servicer_off``, ...).
        """
        return self._by_hand.take_next(servicer_id, self._mono())

    def assign_waiting(self, customer_id: str, servicer_id: str) -> None:
        """A supervisor seats a waiting customer with a servicer, even a full one
        (runs in the pool). Raises: HandRefused, why not."""
        self._by_hand.assign(customer_id, servicer_id, self._mono())

    def set_priority(self, customer_id: str, priority: int) -> bool:
        """Move a waiting customer by priority (0-9). Returns: False if not waiting."""
        waiting = self._book.queue.find(customer_id)
        if waiting is None:
            return False
        self._book.queue.replace(waiting._replace(
            priority=min(MAX_PRIORITY, max(MIN_PRIORITY, priority))))
        self._moves.tell_positions()
        self._dirty = True
        return True

    def release_customer(self, customer_id: str, session: Any = None) -> None:
        """The customer's session ended: free their seat or their place in the queue.

        Args:
            session: the session that ended; a release from a session other than
                the one the pool holds for the customer (an old one, whose release
                arrives after the customer's next session asked) changes nothing.
        """
        if session is not None and not self._book.held_by(customer_id, session):
            log.info("release of %s from an older session ignored", customer_id)
            return
        seated_at = self._book.seated_at.get(customer_id)
        servicer_id, _, _ = self._book.unseat(customer_id)
        self._book.tickets.pop(customer_id, None)
        self._moves.replies.forget(customer_id)
        if seated_at is not None:
            self._moves.waits.handled(self._mono() - seated_at)
        left = self._book.queue.leave(customer_id)
        if servicer_id is not None or left is not None:
            self._moves.drain()
            self._moves.tell_positions()
            self._dirty = True

    def transfer(self, customer_id: str, to_servicer_id: str | None) -> str | None:
        """Hand a seated customer to another servicer, or back to the queue.

        Returns:
            None when done, else why not (the session is told too).
        """
        book = self._book
        current = book.seat_of.get(customer_id)
        session = book.sessions.get(customer_id)
        if current is None:
            return "the customer is not with a servicer"
        if to_servicer_id is not None:
            reason = book.why_not_move(customer_id, to_servicer_id)
            if reason is not None:
                self._notify(customer_id, session, TransferFailed(reason))
                return reason
            self._moves.move(customer_id, current, to_servicer_id)
        else:
            self._moves.requeue(customer_id, current)
        self._moves.drain()
        self._dirty = True
        return None

    # Queries --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {servicer_id: self._book.describe(servicer_id)
                for servicer_id in self._book.servicers}

    def servicer(self, servicer_id: str) -> dict[str, Any] | None:
        return self._book.describe(servicer_id) if servicer_id in self._book.servicers else None

    def serves_customer(self, servicer_id: str, customer_id: str) -> bool:
        """Whether the customer is, or was last, with this servicer."""
        return self._book.serves(servicer_id, customer_id)

    def queue(self) -> list[dict[str, Any]]:
        """The waiting customers, each with the range of their estimated wait (s)."""
        listing = self._book.queue.listing(self._now())
        for entry in listing:
            entry["estimated_wait_secs"] = list(self._moves.waits.range_secs(
                entry["position"], self._book.on_duty_for(entry["group"])))
        return listing

    def seats(self) -> dict[str, str]:
        """Customer id -> servicer id of every seat (tests and the API)."""
        return dict(self._book.seat_of)

    # Timers ---------------------------------------------------------------

    def tick(self) -> None:
        """Internal: expire long waits and pause silent servicers (told by a timer)."""
        try:
            self._expire_waits()
            self._pause_silent()
            self._reassign_unanswered()
        finally:
            self._tick_later()

    def _expire_waits(self) -> None:
        now = self._mono()
        expired = self._book.queue.expire(now - self._config.queue_max_wait_secs,
                                          now - self._config.message_max_wait_secs)
        if not expired:
            return
        for waiting in expired:
            self._notify(waiting.customer_id, waiting.session, SeatUnavailable(
                "queue_timeout", self._book.tickets.pop(waiting.customer_id, 0)))
        self._moves.tell_positions()
        self._dirty = True

    def _pause_silent(self) -> None:
        limit = self._config.auto_pause_secs
        if limit <= 0:
            return
        serving = [s for s, status in self._book.status.items()
                   if status == ON and self._book.load(s)]
        for servicer_id, silent in self._moves.silence.longer_than(limit, serving, self._mono()):
            log.warning("servicer %s silent for %.0fs: paused", servicer_id, silent)
            self._say(servicer_id, self._config.texts.auto_paused.format(
                minutes=round(limit / 60)))
            self.set_status(servicer_id, PAUSED, True)
            if self._config.off_duty_policy == "requeue":
                self._moves.requeue_all(servicer_id)
                self._moves.drain()

    def _reassign_unanswered(self) -> None:
        limit = self._config.reassign_after_secs
        if limit <= 0:
            return
        for customer_id, silent, in_a_row in self._moves.replies.overdue(self._mono(), limit):
            log.warning("servicer %s did not answer %s in %.0fs (%d in a row)", silent,
                        customer_id, limit, in_a_row)
            self._moves.reassign(customer_id, silent)
            most = self._config.pause_after_missed
            if most and in_a_row >= most and self._book.status.get(silent) == ON:
                self._say(silent, self._config.texts.missed_paused.format(missed=in_a_row))
                self.set_status(silent, PAUSED, True)

    # Internals ------------------------------------------------------------

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else 0.0

    def _mono(self) -> float:
        return self._clock.monotonic() if self._clock is not None else 0.0

    def _say(self, servicer_id: str, text: str) -> None:
        self._outbox.send(Outbound(self._robot_id, servicer_id, text_payload(text), servicer_id))


__all__ = ["OFF", "ON", "PAUSED", "STATUSES", "HandRefused", "SeatRefused", "ServicerPool"]
