"""The customers waiting for a seat: by priority, then first come, first served, within each group.

Owned by the ServicerPool (it runs in the pool's actor). A customer's
position counts only those ahead of them in the same group, and each
waiting session is told its position whenever it changes (through the
pool's notices, never directly from here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from typing import Any, NamedTuple

MIN_PRIORITY, MAX_PRIORITY = 0, 9


class Waiting(NamedTuple):
    customer_id: str
    group: str
    since: float  # wall time the wait began (shown, and kept in the snapshot)
    session: Any  # an actor ref; None until a restored session asks again
    priority: int = 0  # 0-9, higher first
    avoid: str = ""  # a servicer not to seat them with (the one who handed them back)
    rank: int = 0  # arrival order within a priority; lower first
    since_mono: float = 0.0  # monotonic time the wait began: the wait rule's clock
    message: bool = False  # a message left while nobody was on duty: waits longer


class SeatQueue:
    """The waiting list, in order, and the position each customer was last told."""

    def __init__(self) -> None:
        self.entries: list[Waiting] = []
        self._told: dict[str, Hashable] = {}
        self._next_rank = 0

    def join(self, waiting: Waiting, *, first: bool = False) -> Waiting:
        """In place by priority, after everyone of that priority; ``first``: ahead
        of everyone of its priority (they were already being served).

        Returns:
            the entry as queued (with its rank).
        """
        if first:
            rank = min((w.rank for w in self.entries), default=0) - 1
        else:
            rank = max(self._next_rank, max((w.rank for w in self.entries), default=-1) + 1)
            self._next_rank = rank + 1
        waiting = waiting._replace(rank=rank)
        self.entries.append(waiting)
        self.entries.sort(key=_order)
        return waiting

    def restore(self, waiting: Waiting) -> None:
        """Put back an entry read from a snapshot, with the rank it had."""
        self._next_rank = max(self._next_rank, waiting.rank + 1)
        self.entries.append(waiting)
        self.entries.sort(key=_order)

    def find(self, customer_id: str) -> Waiting | None:
        for waiting in self.entries:
            if waiting.customer_id == customer_id:
                return waiting
        return None

    def replace(self, waiting: Waiting) -> None:
        """Put ``waiting`` where the entry for the same customer is, re-sorted
        (a new session ref, or a new priority)."""
        self.entries = [waiting if w.customer_id == waiting.customer_id else w
                        for w in self.entries]
        self.entries.sort(key=_order)

    def forget_told(self, customer_id: str) -> None:
        """Tell this customer their place again, even if unchanged (a new session)."""
        self._told.pop(customer_id, None)

    def leave(self, customer_id: str) -> Waiting | None:
        """Take the customer out. Returns: their entry, if they were waiting."""
        found = self.find(customer_id)
        if found is not None:
            self.entries = [w for w in self.entries if w.customer_id != customer_id]
            self._told.pop(customer_id, None)
        return found

    def drain(self, seat: Callable[[Waiting], bool]) -> None:
        """Offer a seat to each waiting customer with a session, in order;
        ``seat`` says whether it seated them (it must not change the queue)."""
        still_waiting = []
        for waiting in self.entries:
            if waiting.session is None or not seat(waiting):
                still_waiting.append(waiting)
            else:
                self._told.pop(waiting.customer_id, None)
        self.entries = still_waiting

    def expire(self, deadline_mono: float, message_deadline_mono: float) -> list[Waiting]:
        """Take out and return everyone waiting since ``deadline_mono`` or before (a
        left message: ``message_deadline_mono``)."""
        def late(w: Waiting) -> bool:
            return w.since_mono <= (message_deadline_mono if w.message else deadline_mono)

        expired = [w for w in self.entries if late(w)]
        if expired:
            self.entries = [w for w in self.entries if not late(w)]
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

    def changed_positions(self, told: Callable[[Waiting, int], Hashable] = lambda w, p: p
                          ) -> list[tuple[Waiting, int]]:
        """Entries with a session whose place, or whatever ``told`` makes of it (the
        place and the estimated wait), changed since they were last told; each is
        marked as told."""
        changed = []
        for waiting, position in self.positions():
            said = told(waiting, position)
            if waiting.session is not None and self._told.get(waiting.customer_id) != said:
                self._told[waiting.customer_id] = said
                changed.append((waiting, position))
        return changed

    def listing(self, now: float) -> list[dict[str, Any]]:
        return [{"customer": w.customer_id, "group": w.group, "priority": w.priority,
                 "position": position, "waited_secs": round(now - w.since, 1),
                 "message": w.message}
                for w, position in self.positions()]


def _order(waiting: Waiting) -> tuple[int, int]:
    return (-waiting.priority, waiting.rank)
