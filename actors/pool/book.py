"""The pool's ledger of seats: servicers and their status, who sits with whom, who waits.

Plain data owned by the ServicerPool actor (one owner, no locks), with the
bookkeeping that keeps its maps in step and the choice of a free servicer.
It tells nobody anything: the actor decides what to say, and when.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from actors.config import CsConfig
from actors.messages import Servicer
from actors.pool.allocation import choose
from actors.pool.queue import SeatQueue, Waiting
from actors.pool.snapshot import PoolSnapshot, restore_pool
from storage.errors import CsError

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

ON, PAUSED, OFF = "on", "paused", "off"
STATUSES = (ON, PAUSED, OFF)
STICKY_MEMORY = 100_000  # customers whose last servicer is remembered


class SeatRefused(CsError, ValueError):
    """A change the pool will not make (a reason a person can read)."""

    code = "capacity_below_load"
    http_status = 409


class SeatBook:
    def __init__(self, config: CsConfig) -> None:
        self.config = config
        self.servicers = {s.id: s for s in config.servicers}
        self.status = {s.id: OFF for s in config.servicers}
        self.seats: dict[str, set[str]] = {s.id: set() for s in config.servicers}
        self.seat_of: dict[str, str] = {}  # customer id -> servicer id
        self.group_of: dict[str, str] = {}  # seated customer -> the group they asked for
        self.sessions: dict[str, Any] = {}  # seated customer -> session ref
        self.seated_at: dict[str, float] = {}  # seated customer -> monotonic time of the seat
        # customer -> the number of the session's request a seat or place answers:
        # a session ignores an answer to a request it has since replaced.
        self.tickets: dict[str, int] = {}
        self.queue = SeatQueue()
        self.last_servicer: OrderedDict[str, str] = OrderedDict()
        self._rr_next = 0

    def add(self, servicer: Servicer, check_load: bool = False) -> bool:
        """Add or change a servicer; status and seats stay. Returns: whether it is new.

        Raises:
            SeatRefused: with ``check_load``, the capacity is lowered below the
                customers they have now (one over it by hand may still be renamed).
        """
        load = self.load(servicer.id)
        known = self.servicers.get(servicer.id)
        if (check_load and servicer.capacity < load
                and (known is None or servicer.capacity < known.capacity)):
            raise SeatRefused(f"{servicer.id} serves {load} customers now; capacity "
                              f"{servicer.capacity} is below that")
        self.servicers[servicer.id] = servicer
        self.status.setdefault(servicer.id, OFF)
        self.seats.setdefault(servicer.id, set())
        return known is None

    def load(self, servicer_id: str) -> int:
        return len(self.seats.get(servicer_id, ()))

    def describe(self, servicer_id: str) -> dict[str, Any]:
        s = self.servicers[servicer_id]
        return {"id": s.id, "name": s.name, "portrait": s.portrait, "capacity": s.capacity,
                "groups": list(s.groups), "status": self.status[servicer_id],
                "on_duty": self.status[servicer_id] == ON,
                "load": len(self.seats[servicer_id]),
                "customers": sorted(self.seats[servicer_id])}

    def pick(self, customer_id: str, group: str,
             exclude: str | Collection[str] = "") -> str | None:
        """A servicer on duty, of the group, with room (never one of ``exclude``), by
        strategy."""
        avoid = {exclude} if isinstance(exclude, str) else exclude
        free = [s for s in self.servicers.values()
                if self.status[s.id] == ON and s.id not in avoid and s.serves(group)
                and len(self.seats[s.id]) < s.capacity]
        picked, self._rr_next = choose(
            self.config.strategy, free, {s.id: len(self.seats[s.id]) for s in free},
            last=self.last_servicer.get(customer_id), everyone=self.servicers.keys(),
            cursor=self._rr_next)
        return picked

    def why_not_move(self, customer_id: str, to_servicer_id: str) -> str | None:
        """Why a seated customer cannot move to that servicer, or None."""
        target = self.servicers.get(to_servicer_id)
        if target is None:
            return f"no servicer {to_servicer_id}"
        if self.seat_of.get(customer_id) == to_servicer_id:
            return "already with that servicer"
        if self.status[to_servicer_id] != ON:
            return f"{target.name} is not on duty"
        if self.load(to_servicer_id) >= target.capacity:
            return f"{target.name} is full"
        return None

    def serves(self, servicer_id: str, customer_id: str) -> bool:
        """Whether the customer is, or was last, with this servicer."""
        return (self.seat_of.get(customer_id) == servicer_id
                or self.last_servicer.get(customer_id) == servicer_id)

    def on_duty_for(self, group: str) -> int:
        """How many servicers on duty serve the group."""
        return sum(1 for s in self.servicers.values()
                   if self.status[s.id] == ON and s.serves(group))

    def why_no_queue(self, group: str) -> str | None:
        """Why a customer cannot wait: nobody on duty for the group, or a full queue."""
        if not any(self.status[s.id] == ON and s.serves(group)
                   for s in self.servicers.values()):
            return "no_servicer"
        if self.queue.waiting_in(group) >= self.config.queue_max_length:
            return "queue_full"
        return None

    def place(self, customer_id: str, servicer_id: str, session: Any, group: str,
              at: float = 0.0) -> None:
        """Seat the customer with the servicer (they must be seated nowhere else)
        at monotonic time ``at``."""
        self.seats[servicer_id].add(customer_id)
        self.seated_at[customer_id] = at
        self.seat_of[customer_id] = servicer_id
        self.group_of[customer_id] = group
        if session is not None:
            self.sessions[customer_id] = session
        self.last_servicer[customer_id] = servicer_id
        self.last_servicer.move_to_end(customer_id)
        while len(self.last_servicer) > STICKY_MEMORY:
            self.last_servicer.popitem(last=False)

    def unseat(self, customer_id: str) -> tuple[str | None, str, Any]:
        """Free the customer's seat. Returns: (servicer id or None, group, session)."""
        servicer_id = self.seat_of.pop(customer_id, None)
        if servicer_id is not None:
            self.seats[servicer_id].discard(customer_id)
        self.seated_at.pop(customer_id, None)
        return (servicer_id, self.group_of.pop(customer_id, ""),
                self.sessions.pop(customer_id, None))

    def held_by(self, customer_id: str, session: Any) -> bool:
        """Whether ``session`` is the one the book holds for the customer's seat or
        place (or none is known, as after a restore)."""
        if customer_id in self.seat_of:
            held = self.sessions.get(customer_id)
        else:
            waiting = self.queue.find(customer_id)
            held = waiting.session if waiting is not None else None
        return held is None or held.actor_urn == session.actor_urn

    def customers_not_in(self, open_customers: frozenset[str]) -> list[str]:
        """Seated or waiting customers who have no open session."""
        gone = [c for c in self.seat_of if c not in open_customers]
        return gone + [w.customer_id for w in self.queue.entries
                       if w.customer_id not in open_customers]

    def read(self, store: Store, now: float, mono: float) -> None:
        """Read the stored snapshot and sticky memory; what cannot be read is logged
        and left out (everyone off duty, sticky allocation afresh)."""
        try:
            snapshot = store.load_pool()
        except Exception:
            log.exception("pool snapshot unreadable; starting with everyone off duty")
            snapshot = None
        if snapshot:
            try:
                self.restore(restore_pool(snapshot), now, mono)
            except Exception as exc:  # never stop the pool from starting
                log.exception("pool snapshot unusable; set aside, starting with everyone "
                              "off duty")
                self._set_aside(store, snapshot, repr(exc))
        try:
            self.last_servicer.update(store.last_servicers(STICKY_MEMORY))
        except Exception:
            log.exception("last servicers not read; sticky allocation starts afresh")

    @staticmethod
    def _set_aside(store: Store, snapshot: Any, reason: str) -> None:
        try:
            store.set_aside(store.keys.pool, None, snapshot, reason)
        except Exception:
            log.exception("pool snapshot not set aside")

    def restore(self, snapshot: PoolSnapshot, now: float, mono: float) -> None:
        """Seats, statuses and the queue from a snapshot (``now``/``mono``: the
        wall and monotonic clocks now, to carry each wait's start over)."""
        for servicer in snapshot.servicers:
            self.add(servicer)
        for servicer_id, status in snapshot.status.items():
            if servicer_id in self.servicers:
                self.status[servicer_id] = status
        for customer_id, (servicer_id, group) in snapshot.seats.items():
            if servicer_id in self.servicers:
                self.place(customer_id, servicer_id, None, group)
        for row in snapshot.queue:
            if row.customer_id in self.seat_of or self.queue.find(row.customer_id):
                continue  # seated, or a second row of one customer: one place each
            # The wait's monotonic start, from its wall start: a restart resets
            # the monotonic clock, and the wall clock is all a snapshot can carry.
            waiting = Waiting(row.customer_id, row.group, row.since, None, row.priority,
                              row.avoid, since_mono=mono - max(0.0, now - row.since),
                              message=row.message)
            if row.rank is None:  # before version 4: the rows' order is the arrival order
                self.queue.join(waiting)
            else:
                self.queue.restore(waiting._replace(rank=row.rank))

    def snapshot(self) -> dict[str, Any]:
        configured = {s.id: s for s in self.config.servicers}
        return PoolSnapshot(
            servicers=tuple(s for s in self.servicers.values() if configured.get(s.id) != s),
            status=dict(self.status),
            seats={c: (s, self.group_of.get(c, "")) for c, s in self.seat_of.items()},
            queue=tuple(self.queue.entries)).to_dict()
