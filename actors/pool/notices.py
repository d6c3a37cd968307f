"""What a pool message decided to tell sessions, held until the message is done.

Telling a session while the pool is half-way through a change let a dead
session's release run inside the change (issue 19: a customer seated
twice); so notices wait here and go out after the message.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from actors.call import hand
from actors.messages import SeatAssigned, SeatNotice


class _Notice(NamedTuple):
    customer_id: str
    session: Any  # actor ref
    notice: SeatNotice


class Notices:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[_Notice] = []

    def add(self, customer_id: str, session: Any, notice: SeatNotice) -> None:
        if session is not None:
            self._pending.append(_Notice(customer_id, session, notice))

    def send(self) -> list[tuple[str, Any]]:
        """Tell every session its notices, in order.

        Returns:
            (customer, session) of each seat notice that found its session gone.
        """
        pending, self._pending = self._pending, []
        gone = []
        for customer_id, session, notice in pending:
            if not hand(session, notice) and isinstance(notice, SeatAssigned):
                gone.append((customer_id, session))
        return gone
