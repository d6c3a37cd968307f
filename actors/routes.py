"""Who serves which customer, as the Directory tells its readers.

The Directory owns the routes (customer -> session, Shadow -> customer, the
servicers' ids). The HTTP intake reads them on every callback to tell an
open session directly (a hop through the Directory was 3% of a bot answer's
CPU), so it keeps a ``RouteTable`` of its own, changed only by the
immutable updates the Directory publishes, in order, from inside its own
message: a session enters the table before it is told the message that
started it, with no switch in between, so anything the intake tells it
directly comes after that message.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class SessionOpened(NamedTuple):
    customer_id: str
    session: Any  # actor ref


class SessionGone(NamedTuple):
    customer_id: str
    session: Any


class ShadowBound(NamedTuple):
    shadow_id: str
    customer_id: str


class ServicersChanged(NamedTuple):
    ids: frozenset[str]


class RoutesReset(NamedTuple):
    """Everything at once: a new reader, or a restarted Directory."""

    sessions: tuple[tuple[str, Any], ...]
    shadows: tuple[tuple[str, str], ...]
    servicers: frozenset[str]


RouteUpdate = SessionOpened | SessionGone | ShadowBound | ServicersChanged | RoutesReset


class RouteTable:
    """A reader's copy of the routes; only ``apply`` changes it."""

    __slots__ = ("sessions", "shadows", "servicers")

    def __init__(self) -> None:
        self.sessions: dict[str, Any] = {}
        self.shadows: dict[str, str] = {}
        self.servicers: frozenset[str] = frozenset()

    def apply(self, update: RouteUpdate) -> None:
        if type(update) is SessionOpened:
            self.sessions[update.customer_id] = update.session
        elif type(update) is SessionGone:
            if self.sessions.get(update.customer_id) is update.session:
                del self.sessions[update.customer_id]
        elif type(update) is ShadowBound:
            self.shadows[update.shadow_id] = update.customer_id
        elif type(update) is ServicersChanged:
            self.servicers = update.ids
        elif type(update) is RoutesReset:
            self.sessions = dict(update.sessions)
            self.shadows = dict(update.shadows)
            self.servicers = update.servicers
