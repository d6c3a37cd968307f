"""Immutable values that travel between actors and across the HTTP edge.

Pykka futures and mailboxes do not copy what they carry, so everything here
is frozen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any, NamedTuple

TEXT = 1
"""WildfireChat content type of a plain text message."""


@dataclass(frozen=True)
class Payload:
    """A WildfireChat message payload, field for field as on the wire.

    Unknown content (images, files, voice) is relayed by copying this whole
    value, so every wire field is kept even if we never read it.
    """

    type: int
    searchableContent: str = ""
    content: str = ""
    base64edData: str = ""
    mediaType: int = 0
    remoteMediaUrl: str = ""
    persistFlag: int = 1
    expireDuration: int = 0
    mentionedType: int = 0
    mentionedTarget: tuple[str, ...] = ()
    extra: str = ""
    pushContent: str = ""
    pushData: str = ""

    @property
    def text(self) -> str:
        return self.searchableContent if self.type == TEXT else ""

    def to_wire(self) -> dict[str, Any]:
        """The JSON object the robot API takes, without empty optional fields.

        A customer's payload goes to the wire twice (inbound journal, history)
        and an answer's three times (history, outbound journal, robot API), so
        it is built once and shared: callers serialize it and must not change
        it (a copy for each was 1% of the server's CPU under load, py-spy).
        """
        wire: dict[str, Any] | None = self.__dict__.get("_wire")
        if wire is None:
            # The instance's own dict holds every field: read it, not 13 getattrs.
            wire = {name: value for name, value in self.__dict__.items()
                    if value not in _EMPTY}
            wire["type"] = self.type
            wire.setdefault("persistFlag", self.persistFlag)
            if "mentionedTarget" in wire:
                wire["mentionedTarget"] = list(wire["mentionedTarget"])
            object.__setattr__(self, "_wire", wire)  # a cache, not a field
        return wire

    def with_extra(self, extra: dict[str, Any]) -> Payload:
        """A copy whose ``extra`` JSON object also holds ``extra``'s keys.

        A non-JSON ``extra`` from the sender is kept under ``"extra"``.
        """
        merged: dict[str, Any] = {}
        if self.extra:
            try:
                original = json.loads(self.extra)
            except ValueError:
                original = self.extra
            if isinstance(original, dict):
                merged.update(original)
            else:
                merged["extra"] = original
        merged.update(extra)
        return replace(self, extra=json.dumps(merged, ensure_ascii=False))

    @classmethod
    def from_wire(cls, record: dict[str, Any]) -> Payload:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in known}
        if "mentionedTarget" in values:
            values["mentionedTarget"] = tuple(values["mentionedTarget"] or ())
        return cls(**values)


_EMPTY = ("", 0, ())  # an optional field with one of these values is left off the wire


def text_payload(text: str, persist_flag: int = 1) -> Payload:
    return Payload(TEXT, searchableContent=text, persistFlag=persist_flag)


class Inbound(NamedTuple):
    """One message the IM server called back with.

    It sits in the inbound journal under its ``message_id`` until the actor
    that handles it says so in its own commit.
    """

    message_id: int
    sender: str
    target: str
    payload: Payload
    timestamp_ms: int

    def to_record(self) -> list[Any]:
        return [self.message_id, self.sender, self.target, self.payload.to_wire(),
                self.timestamp_ms]

    @classmethod
    def from_record(cls, record: list[Any]) -> Inbound:
        message_id, sender, target, payload, timestamp_ms = record
        return cls(int(message_id), str(sender), str(target), Payload.from_wire(payload),
                   int(timestamp_ms))


class Outbound(NamedTuple):
    """One message to send through the robot API.

    ``order_key`` groups messages that must arrive in order (one customer's
    conversation); different keys may be sent concurrently.
    """

    sender: str
    target: str
    payload: Payload
    order_key: str

    def to_record(self) -> list[Any]:
        return [self.sender, self.target, self.payload.to_wire(), self.order_key]

    @classmethod
    def from_record(cls, record: list[Any]) -> Outbound:
        sender, target, payload, order_key = record
        return cls(str(sender), str(target), Payload.from_wire(payload), str(order_key))


class Servicer(NamedTuple):
    """A servicer: who they are, how many sessions they take, which groups they serve.

    No groups means any group.
    """

    id: str
    name: str
    portrait: str = ""
    capacity: int = 5
    groups: tuple[str, ...] = ()

    def serves(self, group: str) -> bool:
        return not group or not self.groups or group in self.groups

    def relay_info(self) -> dict[str, str]:
        """What a relayed message's ``extra`` carries of its servicer."""
        return {"servicerId": self.id, "name": self.name, "portrait": self.portrait}

    @classmethod
    def from_record(cls, record: list[Any]) -> Servicer:
        id_, name, portrait, capacity, *rest = record
        return cls(str(id_), str(name), str(portrait), int(capacity),
                   tuple(rest[0]) if rest else ())


class Seat(NamedTuple):
    """The pool's answer to a seat request: who serves the customer.

    ``previous`` is set when the seat moved from another servicer (a
    transfer, or a servicer going off duty under the requeue policy);
    ``missed`` when it moved because that servicer did not answer in time.
    """

    customer_id: str
    servicer: Servicer
    previous: Servicer | None = None
    missed: bool = False
    ticket: int = 0  # the session's request this answers (0: not known, as after a restore)


class ShadowInfo(NamedTuple):
    """A Shadow robot that stands in for a customer in the servicer's chat."""

    shadow_id: str
    customer_name: str
    customer_portrait: str


class BotAnswer(NamedTuple):
    """What an external bot said: an answer, or that a person should take over."""

    answer: str = ""
    handoff: bool = False


# What the ServicerPool tells a session about its seat (one dispatcher in the
# session; the pool knows nothing of the session's class).

class SeatAssigned(NamedTuple):
    """The customer has this seat (``seat.previous``: moved from that servicer)."""

    seat: Seat


class Queued(NamedTuple):
    """No seat yet: the customer's place in the queue of their group, and how
    long the wait may be (seconds, a range)."""

    position: int
    wait_secs: tuple[int, int] = (0, 0)
    ticket: int = 0


class SeatUnavailable(NamedTuple):
    """No seat and no queue: ``no_servicer``, ``queue_full`` or ``queue_timeout``."""

    reason: str
    ticket: int = 0


class SeatRevoked(NamedTuple):
    """The servicer went off duty or paused under the requeue policy; the queue follows."""

    servicer: Servicer


class TransferFailed(NamedTuple):
    reason: str


class PoolRestarted(NamedTuple):
    """The pool was restarted from its snapshot: ask again for the seat or place."""


# What the HTTP intake and the Directory hand a session.

class Monitor(NamedTuple):
    """A supervisor starts (or, ``watch`` False, stops) watching this conversation."""

    supervisor: str
    watch: bool = True


class CustomerMessage(NamedTuple):
    """A message the customer sent to the CS Robot."""

    message: Inbound


class ServicerMessage(NamedTuple):
    """A message a servicer sent to the customer's Shadow."""

    message: Inbound


SeatNotice = SeatAssigned | Queued | SeatUnavailable | SeatRevoked | TransferFailed
