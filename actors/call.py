"""Typed messages between actors: a method reference and its arguments.

``tell(ref, ServicerPool.release_customer, customer_id)`` sends
``Tell(ServicerPool.release_customer, (customer_id,))``; the receiving actor
runs that method on itself. Because the message names the method itself,
not its name in a string, a misspelt method fails at import and a wrong
argument fails mypy (``ParamSpec`` ties ``*args`` to the method), not
production.

Every actor that takes these messages mixes in ``Receiver``: its message
boundary. A told message that raises is logged with the actor's ids and the
actor goes on (Pykka would stop it: an exception in a ``tell`` ends the
actor, without ``on_stop``); an asked one raises in the caller, through the
future, and the actor goes on too.

A proxy's ``method.defer(...)`` would send the same thing, but building a
proxy introspects every attribute of the actor (0.3 ms, which made it the
largest cost of starting a session, benchmarks/restore.py); and a proxy's
methods are ``Any`` to mypy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, NamedTuple, ParamSpec, Protocol, TypeVar

import pykka

if TYPE_CHECKING:
    from actors.clock import Cancellable, Clock

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class Address(Protocol):
    """Where a message can go: a ``pykka.ActorRef``, or a supervised actor's handle."""

    def tell(self, message: Any) -> None: ...

    def ask(self, message: Any, *, block: bool = ..., timeout: float | None = ...) -> Any: ...


class Tell(NamedTuple):
    method: Callable[..., object]
    args: tuple[Any, ...]


class Ask(NamedTuple):
    method: Callable[..., object]
    args: tuple[Any, ...]


def tell(ref: Address, method: Callable[Concatenate[Any, P], object], *args: P.args,
         **kwargs: P.kwargs) -> bool:
    """Send ``method(*args)`` to the actor; False if it has stopped.

    Keyword arguments are not carried (messages stay positional tuples).
    """
    assert not kwargs, "actor messages take positional arguments"
    try:
        ref.tell(Tell(method, args))
        return True
    except pykka.ActorDeadError:
        return False


def ask(ref: Address, method: Callable[Concatenate[Any, P], R], *args: P.args,
        **kwargs: P.kwargs) -> pykka.Future[R]:
    """Send ``method(*args)`` and return the future of its result.

    Raises:
        pykka.ActorDeadError: the actor has stopped.
    """
    assert not kwargs, "actor messages take positional arguments"
    future: pykka.Future[R] = ref.ask(Ask(method, args), block=False)
    return future


class Receiver:
    """Mixin of every actor addressed with ``tell``/``ask``: runs the method a
    message names, inside the message boundary."""

    def describe(self) -> str:
        """Who this actor is, for the log (a session names its customer)."""
        return type(self).__name__

    def on_receive(self, message: Any) -> Any:
        kind = type(message)
        if kind is Tell:
            try:
                message.method(self, *message.args)
            except Exception:
                log.exception("%s failed on %s; it goes on", self.describe(),
                              getattr(message.method, "__name__", message.method))
            return None
        if kind is Ask:
            return message.method(self, *message.args)
        return super().on_receive(message)  # type: ignore[misc]


def tell_later(clock: Clock, delay_secs: float, ref: Address,
               method: Callable[Concatenate[Any, P], object], *args: P.args,
               **kwargs: P.kwargs) -> Cancellable:
    """A timer is a message to the actor; one that has stopped just misses it."""
    assert not kwargs, "actor messages take positional arguments"
    message = Tell(method, args)

    def fire() -> None:
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            pass

    return clock.call_later(delay_secs, fire)
