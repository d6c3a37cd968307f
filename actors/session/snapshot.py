"""A session's snapshot: its fields, and reading a stored one without trusting it.

``SessionSnapshot.from_dict`` checks every field and migrates older
versions (each migration is marked); a snapshot that cannot be read raises
``SnapshotError``, and the Directory sets it aside instead of starting the
session, so one bad record never stops the others from starting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from actors.messages import Servicer, ShadowInfo
from storage.errors import CsError

SNAPSHOT_VERSION = 3
MODES = ("auto", "requesting", "queued", "human", "rating", "closed", "leaving")
RECENT_IDS_KEPT = 64


class SnapshotError(CsError, ValueError):
    """A stored session snapshot that cannot be read (the message says which field)."""

    code = "bad_snapshot"


class SessionSnapshot(NamedTuple):
    customer: str
    mode: str = "auto"
    group: str = ""
    priority: int = 0
    shadow: ShadowInfo | None = None
    servicer: Servicer | None = None
    last_servicer: Servicer | None = None
    served_by: tuple[str, ...] = ()
    seated_at: float = 0.0  # wall time (snapshots carry no monotonic time)
    replied: bool = False
    deadline: float = 0.0  # wall time of the idle deadline
    recent: tuple[int, ...] = ()
    seq: int = 0
    opened: str = ""
    last_t: int = -1  # time (ms) of its newest history entry; -1: read it from storage
    left_message: bool = False
    ticket: int = 0
    monitors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"version": SNAPSHOT_VERSION, "customer": self.customer, "mode": self.mode,
                "group": self.group, "priority": self.priority,
                "shadow": list(self.shadow) if self.shadow else None,
                "servicer": list(self.servicer) if self.servicer else None,
                "last_servicer": list(self.last_servicer) if self.last_servicer else None,
                "served_by": list(self.served_by), "seated_at": self.seated_at,
                "replied": self.replied, "deadline": self.deadline,
                "recent": list(self.recent), "seq": self.seq, "opened": self.opened,
                "last_t": self.last_t, "left_message": self.left_message,
                "ticket": self.ticket, "monitors": list(self.monitors)}

    @classmethod
    def from_dict(cls, data: Any, customer_id: str) -> SessionSnapshot:
        """Raises: SnapshotError naming the first field that cannot be read."""
        if not isinstance(data, Mapping):
            raise SnapshotError("not a map")
        version = data.get("version", 1)
        if not isinstance(version, int) or version > SNAPSHOT_VERSION:
            raise SnapshotError(f"unknown version {version!r}")
        mode = data.get("mode", "auto")
        if mode not in MODES:
            raise SnapshotError(f"mode {mode!r}")
        # Version 1 had no group, last_servicer, served_by, seated_at or replied;
        # version 2 no priority or last_t: each defaults (last_t is then read
        # from the stored history).
        return cls(
            customer=customer_id, mode=mode, group=_text(data, "group"),
            priority=_whole(data, "priority"),
            shadow=_shadow(data.get("shadow")),
            servicer=_servicer(data.get("servicer"), "servicer"),
            last_servicer=_servicer(data.get("last_servicer"), "last_servicer"),
            served_by=tuple(_strings(data, "served_by")),
            seated_at=_number(data, "seated_at"), replied=bool(data.get("replied", False)),
            deadline=_number(data, "deadline"),
            recent=tuple(_ids(data))[-RECENT_IDS_KEPT:], seq=_whole(data, "seq"),
            opened=_text(data, "opened"),
            last_t=_whole(data, "last_t") if "last_t" in data else -1,
            left_message=data.get("left_message") is True, ticket=_whole(data, "ticket"),
            monitors=tuple(_strings(data, "monitors")))


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise SnapshotError(f"{key} is not text")
    return value


def _whole(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SnapshotError(f"{key} is not a whole number")
    return value


def _number(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise SnapshotError(f"{key} is not a finite number")
    return float(value)


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SnapshotError(f"{key} is not a list of ids")
    return value


def _ids(data: Mapping[str, Any]) -> list[int]:
    value = data.get("recent", [])
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise SnapshotError("recent is not a list of message ids")
    return value


def _shadow(value: Any) -> ShadowInfo | None:
    if not value:
        return None
    if not isinstance(value, list) or len(value) != 3 or not all(
            isinstance(v, str) for v in value) or not value[0]:
        raise SnapshotError("shadow is not [id, name, portrait]")
    return ShadowInfo(*value)


def _servicer(value: Any, key: str) -> Servicer | None:
    if not value:
        return None
    if not isinstance(value, list) or len(value) < 4:
        raise SnapshotError(f"{key} is not [id, name, portrait, capacity, groups?]")
    try:
        servicer = Servicer.from_record(value)
    except (TypeError, ValueError):
        raise SnapshotError(f"{key} is not [id, name, portrait, capacity, groups?]") from None
    if not servicer.id:
        raise SnapshotError(f"{key} has no id")
    return servicer
