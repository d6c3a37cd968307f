"""Telling an actor to run one of its public methods, without a Pykka proxy.

A proxy's ``method.defer(...)`` sends exactly this, but building the proxy
introspects every attribute of the actor: 0.3 ms here, which made it the
largest cost of starting or restoring a session (measured with
benchmarks/restore.py). Long-lived actors keep their proxies; sessions,
started by the thousand, are addressed with ``tell``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import pykka

if TYPE_CHECKING:
    from actors.clock import Cancellable, Clock


class Call(NamedTuple):
    method: str
    args: tuple[Any, ...]


def tell(ref: pykka.ActorRef[Any], method: str, *args: Any) -> bool:
    """Send ``method(*args)`` to the actor; False if it has stopped."""
    try:
        ref.tell(Call(method, args))
        return True
    except pykka.ActorDeadError:
        return False


class CallReceiver:
    """Mixin for actors addressed with ``tell``: runs the named public method."""

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Call) and not message.method.startswith("_"):
            return getattr(self, message.method)(*message.args)
        return super().on_receive(message)  # type: ignore[misc]


def tell_later(clock: Clock, delay_secs: float, ref: pykka.ActorRef[Any], method: str,
               *args: Any) -> Cancellable:
    """A timer is a message to the actor; one that has stopped just misses it."""

    def fire() -> None:
        tell(ref, method, *args)

    return clock.call_later(delay_secs, fire)
