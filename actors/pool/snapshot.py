"""The pool's snapshot: what it holds, and reading one back without trusting it.

Version 4 carries each seat's group and each waiting customer's priority,
the servicer to avoid and their rank. Older versions are read and migrated
(each migration is marked below). A row that cannot be read is logged and
skipped, never allowed to stop the pool from starting.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from actors.config import MAX_CAPACITY
from actors.messages import Servicer
from actors.pool.queue import MAX_PRIORITY, MIN_PRIORITY, Waiting

log = logging.getLogger(__name__)

POOL_SNAPSHOT_VERSION = 4
STATUSES = ("on", "paused", "off")


class QueueRow(NamedTuple):
    customer_id: str
    group: str
    since: float
    priority: int = 0
    avoid: str = ""
    rank: int | None = None  # None before version 4: rank by the row's place
    message: bool = False


class PoolSnapshot(NamedTuple):
    servicers: tuple[Servicer, ...]  # those added or changed through the API
    status: dict[str, str]
    seats: dict[str, tuple[str, str]]  # customer -> (servicer, group)
    queue: tuple[Waiting, ...] | tuple[QueueRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": POOL_SNAPSHOT_VERSION,
                "servicers": [list(s) for s in self.servicers],
                "status": dict(self.status),
                "seats": {c: s for c, (s, _) in self.seats.items()},
                "seat_groups": {c: g for c, (_, g) in self.seats.items() if g},
                "queue": [[w.customer_id, w.group, w.since, w.priority, w.avoid, w.rank,
                           w.message] for w in self.queue]}


def restore_pool(data: Mapping[str, Any]) -> PoolSnapshot:
    """Read a stored snapshot; every unreadable part is logged and left out."""
    servicers = []
    for record in _list(data.get("servicers")):
        try:
            servicers.append(_servicer(record))
        except (TypeError, ValueError, OverflowError) as exc:
            log.error("pool snapshot: servicer %r unreadable (%s); skipped", record, exc)
    # Version 1 had "on_duty" (a list) instead of "status".
    statuses = data.get("status")
    if not isinstance(statuses, dict):
        statuses = {s: "on" for s in _list(data.get("on_duty")) if isinstance(s, str)}
    status = {k: v for k, v in statuses.items() if isinstance(k, str) and v in STATUSES}
    groups = _map(data.get("seat_groups"))
    seats: dict[str, tuple[str, str]] = {}
    raw_seats = _map(data.get("seats"))
    for customer_id, servicer_id in raw_seats.items():
        if isinstance(customer_id, str) and isinstance(servicer_id, str):
            group = groups.get(customer_id, "")  # before version 4: no group kept
            seats[customer_id] = (servicer_id, group if isinstance(group, str) else "")
        else:
            log.error("pool snapshot: seat %r -> %r unreadable; skipped", customer_id,
                      servicer_id)
    queue = []
    for row in _list(data.get("queue")):
        try:
            queue.append(_queue_row(row))
        except (TypeError, ValueError, OverflowError) as exc:
            log.error("pool snapshot: queue row %r unreadable (%s); skipped", row, exc)
    # Version 2 kept last_servicer in the snapshot; it has its own hash since
    # (storage keeps reading it there).
    return PoolSnapshot(tuple(servicers), status, seats, tuple(queue))


def _map(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _servicer(record: Any) -> Servicer:
    if not isinstance(record, list) or len(record) < 4:
        raise ValueError("expected [id, name, portrait, capacity, groups?]")
    capacity = record[3]
    if isinstance(capacity, bool) or not isinstance(capacity, int) \
            or not 1 <= capacity <= MAX_CAPACITY:
        raise ValueError(f"capacity must be a whole number 1..{MAX_CAPACITY}")
    servicer = Servicer.from_record(record)
    if not servicer.id:
        raise ValueError("empty id")
    return servicer


def _queue_row(row: Any) -> QueueRow:
    """[customer, group, since] (versions 1-3), then priority, avoid and rank (4)."""
    if not isinstance(row, list) or len(row) < 3:
        raise ValueError("expected [customer, group, since, priority?, avoid?]")
    customer_id, group, since, *rest = row
    if not isinstance(customer_id, str) or not customer_id or not isinstance(group, str):
        raise ValueError("customer and group must be strings")
    if isinstance(since, bool) or not isinstance(since, (int, float)) \
            or not math.isfinite(since):
        raise ValueError("since must be a number")
    priority = rest[0] if rest else 0
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ValueError("priority must be a whole number")
    avoid = rest[1] if len(rest) > 1 else ""
    if not isinstance(avoid, str):
        raise ValueError("avoid must be a servicer id")
    rank = rest[2] if len(rest) > 2 else None
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int)):
        raise ValueError("rank must be a whole number")
    message = rest[3] if len(rest) > 3 else False  # a message left (version 4 rows may lack it)
    return QueueRow(customer_id, group, float(since),
                    min(MAX_PRIORITY, max(MIN_PRIORITY, priority)), avoid, rank,
                    message is True)
