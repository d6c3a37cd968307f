"""The customers waiting for a seat: first come, first served within each group.

Owned by the ServicerPool (it runs in the pool's actor). A customer's
position counts only those ahead of them in the same group, and each
waiting session is told its position whenever it changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pykka

from actors.call import tell


class Waiting(NamedTuple):
    customer_id: str
    group: str
    since: float
    session: pykka.ActorRef[Any] | None  # None until a restored session re-asks


class SeatQueue:
    """The waiting list, in order, and the position each customer was last told."""

    def __init__(self) -> None:
        self.entries: list[Waiting] = []
        self._told: dict[str, int] = {}

    def join(self, waiting: Waiting, *, first: bool = False) -> None:
        """At the end; ``first``: ahead of everyone (they were already being served)."""
        if first:
            self.entries.insert(0, waiting)
        else:
            self.entries.append(waiting)

    def rejoin(self, customer_id: str, session: pykka.ActorRef[Any]) -> bool:
        """A waiting customer asked again (a restored session): keep their place.

        Returns:
            False if they were not waiting.
        """
        for i, waiting in enumerate(self.entries):
            if waiting.customer_id == customer_id:
                self.entries[i] = waiting._replace(session=session)
                self._told.pop(customer_id, None)  # tell the new session its place
                return True
        return False

    def leave(self, customer_id: str) -> bool:
        """Returns: whether they were waiting."""
        before = len(self.entries)
        self.entries = [w for w in self.entries if w.customer_id != customer_id]
        self._told.pop(customer_id, None)
        return len(self.entries) != before

    def drain(self, seat: Callable[[Waiting], bool]) -> None:
        """Offer a seat to each waiting customer with a session, in order;
        ``seat`` says whether it seated them. Then tell the rest their places."""
        still_waiting = []
        for waiting in self.entries:  # ``seat`` may call leave(): this list stays
            if waiting.session is None or not seat(waiting):
                still_waiting.append(waiting)
            else:
                self._told.pop(waiting.customer_id, None)
        if len(still_waiting) != len(self.entries):
            self.entries = still_waiting
            self.tell_positions()

    def expire(self, deadline: float) -> list[Waiting]:
        """Take out and return everyone waiting since ``deadline`` or before."""
        expired = [w for w in self.entries if w.since <= deadline]
        if expired:
            self.entries = [w for w in self.entries if w.since > deadline]
            for waiting in expired:
                self._told.pop(waiting.customer_id, None)
        return expired

    def waiting_in(self, group: str) -> int:
        return sum(1 for w in self.entries if w.group == group)

    def positions(self) -> Iterator[tuple[Waiting, int]]:
        """Each entry with its place in its group's line (from 1), in one pass."""
        ahead: Counter[str] = Counter()
        for waiting in self.entries:
            ahead[waiting.group] += 1
            yield waiting, ahead[waiting.group]

    def tell_positions(self) -> None:
        """Tell each waiting session its place, when it changed."""
        for waiting, position in self.positions():
            if waiting.session is not None and self._told.get(waiting.customer_id) != position:
                self._told[waiting.customer_id] = position
                tell(waiting.session, "queued", position)

    def listing(self, now: float) -> list[dict[str, Any]]:
        return [{"customer": w.customer_id, "group": w.group, "position": position,
                 "waited_secs": round(now - w.since, 1)} for w, position in self.positions()]
