"""How the pool moves customers: seat, move, hand back, drain the queue, reassign.

The ServicerPool's seat moves, composed into it: each keeps the book, the
first-reply clocks and the silence record in step, and records the notices
that the pool sends once its message is done (``Notices``). ``dirty`` says
the snapshot must be saved.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from actors.clock import Clock
from actors.config import CsConfig
from actors.messages import Queued, Seat, SeatAssigned, SeatRevoked, Servicer
from actors.pool.book import SeatBook
from actors.pool.eta import WaitEstimate, wait_words
from actors.pool.notices import Notices
from actors.pool.queue import Waiting
from actors.pool.reassign import FirstReplies
from actors.pool.silence import Silence

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)


class SeatMoves:
    def __init__(self, config: CsConfig, book: SeatBook, notices: Notices,
                 store: Store | None, clock: Clock | None) -> None:
        self._config = config
        self._book = book
        self._notices = notices
        self._store = store
        self._clock = clock
        self._replies = FirstReplies()
        self.waits = WaitEstimate()
        self._silence = Silence()
        self.dirty = False

    @property
    def replies(self) -> FirstReplies:
        return self._replies

    @property
    def silence(self) -> Silence:
        return self._silence

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else 0.0

    def _mono(self) -> float:
        return self._clock.monotonic() if self._clock is not None else 0.0

    def reassign(self, customer_id: str, silent: str) -> bool:
        """To another servicer with room, never back to ``silent``; False: it stays."""
        if self._book.seat_of.get(customer_id) != silent:
            self._replies.forget(customer_id)
            return False
        picked = self._book.pick(customer_id, self._book.group_of.get(customer_id, ""),
                                 exclude=self._replies.missed_by(customer_id) | {silent})
        if picked is None:
            return False
        self.move(customer_id, silent, picked, missed=True)
        return True

    def seat(self, customer_id: str, servicer_id: str, session: Any, group: str,
              previous: Servicer | None = None, missed: bool = False) -> None:
        if not self._book.load(servicer_id):
            self._silence.heard(servicer_id, self._mono())  # their silence counts from now
        self._book.place(customer_id, servicer_id, session, group, self._mono())
        if self._config.reassign_after_secs > 0:
            self._replies.seated(customer_id, servicer_id, self._mono())
        if self._store is not None:
            # Its own hash, not the snapshot: the snapshot is written on every
            # seat change and would grow with every customer ever seated.
            try:
                self._store.remember_servicer(customer_id, servicer_id)
            except Exception:
                log.exception("last servicer of %s not saved", customer_id)
        self.dirty = True
        self._notices.add(customer_id, session, SeatAssigned(
            Seat(customer_id, self._book.servicers[servicer_id], previous, missed,
                 self._book.tickets.get(customer_id, 0))))

    def move(self, customer_id: str, from_id: str, to_id: str, missed: bool = False) -> None:
        _, group, session = self._book.unseat(customer_id)
        self.seat(customer_id, to_id, session, group, self._book.servicers[from_id], missed)

    def requeue(self, customer_id: str, from_id: str) -> None:
        """To another servicer of their group, or back to the queue ahead of
        everyone of their priority (they were already being served); never
        back to ``from_id``."""
        book = self._book
        picked = book.pick(customer_id, book.group_of.get(customer_id, ""), exclude=from_id)
        if picked is not None:
            self.move(customer_id, from_id, picked)
            return
        _, group, session = book.unseat(customer_id)
        book.queue.join(Waiting(customer_id, group, self._now(), session, avoid=from_id,
                                since_mono=self._mono()), first=True)
        self._notices.add(customer_id, session, SeatRevoked(book.servicers[from_id]))
        self.tell_positions()
        self.dirty = True

    def requeue_all(self, servicer_id: str) -> None:
        for customer_id in sorted(self._book.seats[servicer_id]):
            self.requeue(customer_id, servicer_id)

    def drain(self) -> None:
        """Seat who waits, in order, on every seat that freed up; a customer whose
        servicer missed them goes first (they have waited longest for a reply)."""
        book = self._book
        for customer_id, silent in list(self._replies.pending.items()):
            self.reassign(customer_id, silent)

        def seat(waiting: Waiting) -> bool:
            picked = book.pick(waiting.customer_id, waiting.group, exclude=waiting.avoid)
            if picked is None:
                return False
            self.seat(waiting.customer_id, picked, waiting.session, waiting.group)
            return True

        before = len(book.queue.entries)
        book.queue.drain(seat)
        if len(book.queue.entries) != before:
            self.tell_positions()
            self.dirty = True

    def tell_positions(self) -> None:
        """Tell each waiting customer their place and estimated wait when either changed
        (the estimate is said in whole minutes: only a change of those is news)."""
        def wait_of(waiting: Waiting, position: int) -> tuple[int, int]:
            return self.waits.range_secs(position, self._book.on_duty_for(waiting.group))

        def told(waiting: Waiting, position: int) -> tuple[int, str]:
            return position, wait_words(*wait_of(waiting, position))[1]

        for waiting, position in self._book.queue.changed_positions(told):
            self._notices.add(waiting.customer_id, waiting.session,
                              Queued(position, wait_of(waiting, position),
                                     self._book.tickets.get(waiting.customer_id, 0)))
