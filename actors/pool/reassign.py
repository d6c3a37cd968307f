"""Servicers who do not answer a new customer: who is waiting for a first reply,
and who missed how many in a row.

With ``reassign_after_secs`` set, a customer whose servicer has not written
within that time goes to another servicer on duty with room (Zendesk Chat's
and Rocket.Chat's reassignment). With nobody else free, the customer stays
(``pending``), and the first servicer to free up takes them. Kept in memory:
after a restart of the pool the clocks start again from their next seat.
"""

from __future__ import annotations


class FirstReplies:
    __slots__ = ("_awaiting", "pending", "_in_a_row", "_missed_by")

    def __init__(self) -> None:
        self._awaiting: dict[str, tuple[str, float]] = {}  # customer -> (servicer, since)
        self.pending: dict[str, str] = {}  # customer -> the servicer who missed them
        self._in_a_row: dict[str, int] = {}  # servicer -> customers missed in a row
        self._missed_by: dict[str, set[str]] = {}  # customer -> every servicer who missed them

    def missed_by(self, customer_id: str) -> frozenset[str]:
        """The servicers who left this customer unanswered: never theirs again."""
        return frozenset(self._missed_by.get(customer_id, ()))

    def seated(self, customer_id: str, servicer_id: str, now: float) -> None:
        self._awaiting[customer_id] = (servicer_id, now)
        self.pending.pop(customer_id, None)

    def replied(self, customer_id: str, servicer_id: str) -> None:
        """The servicer wrote to the customer: not missed, and their run of misses ends."""
        awaiting = self._awaiting.get(customer_id)
        if awaiting is not None and awaiting[0] == servicer_id:
            del self._awaiting[customer_id]
            self._in_a_row.pop(servicer_id, None)
        if self.pending.get(customer_id) == servicer_id:
            del self.pending[customer_id]

    def forget(self, customer_id: str) -> None:
        """The customer left (or is no longer seated): nothing more to wait for."""
        self._awaiting.pop(customer_id, None)
        self.pending.pop(customer_id, None)
        self._missed_by.pop(customer_id, None)

    def overdue(self, now: float, limit_secs: float) -> list[tuple[str, str, int]]:
        """Customers not answered within ``limit_secs``: each becomes pending and
        counts as a miss. Returns (customer, servicer, misses in a row)."""
        missed = []
        for customer_id, (servicer_id, since) in list(self._awaiting.items()):
            if now - since >= limit_secs:
                del self._awaiting[customer_id]
                self.pending[customer_id] = servicer_id
                self._missed_by.setdefault(customer_id, set()).add(servicer_id)
                in_a_row = self._in_a_row[servicer_id] = self._in_a_row.get(servicer_id, 0) + 1
                missed.append((customer_id, servicer_id, in_a_row))
        return missed
