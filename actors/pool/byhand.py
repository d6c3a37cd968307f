"""Seats given by a person's decision: a servicer takes the next waiting customer, or a
supervisor places a waiting customer with a servicer.

The pool seats by itself only when a servicer on duty has room, so a queue
exists only when everyone eligible is full, paused or off. A person who
chooses to take one more is the exception: these seats may go past the
servicer's capacity (their load then shows it, and nobody is seated with
them automatically until they are below it again). Everything else an
ordinary seat keeps holds: one seat per customer, the group rule, and the
same notices (the customer told who serves them, the servicer told through
the Shadow), since the seat itself is made by ``SeatMoves.seat``.

Who may take: a servicer on duty or paused (pressing "take next" says they
are at their desk; they stay paused, so nobody else is sent to them), never
one off duty. Runs in the ServicerPool's actor, one message at a time, so
two servicers taking at once never get the same customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.messages import Servicer
from actors.pool.book import OFF, SeatBook
from actors.pool.queue import Waiting
from storage.errors import CsError

if TYPE_CHECKING:
    from actors.pool.moves import SeatMoves


class HandRefused(CsError):
    """Why a seat asked for by hand was not given (a reason a person can read)."""

    def __init__(self, code: str, http_status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class HandSeats:
    """The pool's seats by hand, over its book and seat moves."""

    def __init__(self, book: SeatBook, moves: SeatMoves) -> None:
        self._book = book
        self._moves = moves

    def take_next(self, servicer_id: str, now_mono: float) -> str:
        """Seat the first waiting customer, in the queue's order, whom the servicer may
        serve (their group, not one they handed back) with them. Returns: the customer.

        Raises:
            HandRefused: 404 ``no_servicer``, 409 ``servicer_off``, 404 ``queue_empty``.
        """
        servicer = self._taker(servicer_id)
        for waiting in self._book.queue.entries:
            # Without a session (restored, not asked again yet) there is nobody to
            # tell; the pool's own drain passes them over too.
            if (waiting.session is not None and servicer.serves(waiting.group)
                    and waiting.avoid != servicer_id):
                self._seat(waiting, servicer_id, now_mono)
                return waiting.customer_id
        raise HandRefused("queue_empty", 404, "nobody in the queue is waiting for you")

    def assign(self, customer_id: str, servicer_id: str, now_mono: float) -> None:
        """Seat a waiting customer with the servicer a supervisor chose (even one who
        handed them back: a supervisor's decision overrides that rule).

        Raises:
            HandRefused: 404 ``no_servicer``, 409 ``servicer_off``, 404 ``not_waiting``,
                409 ``not_in_group``, 409 ``not_ready``.
        """
        servicer = self._taker(servicer_id)
        waiting = self._book.queue.find(customer_id)
        if waiting is None:
            raise HandRefused("not_waiting", 404, f"{customer_id} is not in the queue")
        if not servicer.serves(waiting.group):
            raise HandRefused("not_in_group", 409,
                              f"{servicer.name} does not serve the group {waiting.group}")
        if waiting.session is None:
            raise HandRefused("not_ready", 409, f"{customer_id}'s session is being "
                              "restored; try again in a moment")
        self._seat(waiting, servicer_id, now_mono)

    def _taker(self, servicer_id: str) -> Servicer:
        servicer = self._book.servicers.get(servicer_id)
        if servicer is None:
            raise HandRefused("no_servicer", 404, f"no servicer {servicer_id}")
        if self._book.status[servicer_id] == OFF:
            raise HandRefused("servicer_off", 409, f"{servicer.name} is off duty: go on "
                              "duty (or pause) to take a customer")
        return servicer

    def _seat(self, waiting: Waiting, servicer_id: str, now_mono: float) -> None:
        self._book.queue.leave(waiting.customer_id)
        self._moves.silence.heard(servicer_id, now_mono)  # they are at their desk
        self._moves.seat(waiting.customer_id, servicer_id, waiting.session, waiting.group)
        self._moves.tell_positions()  # everyone behind moved up
