"""Keeping a long-lived actor alive: restart it from its snapshot when it dies.

Every told message already runs inside a boundary that logs and goes on
(actors/call.py), so an actor dies only of something that boundary cannot
catch: a failure in a Pykka hook or in Pykka's own handling of a message
(a proxy call to a method that does not exist). Then every request for a
person would wait for ever while the server looked healthy. A
``Supervised`` handle hears of the death (the actor's ``on_failure``,
``Mortal``), starts a new actor, which restores itself from storage in
``on_start``, and tells ``on_restart``, so that others can bring the new
actor up to date. Everyone addresses the actor through the handle, so they
reach the new one. An actor stopped on purpose is not restarted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import gevent
import gevent.event
import pykka

log = logging.getLogger(__name__)

A = TypeVar("A", bound=pykka.Actor)

RESTART_BACKOFF_SECS = (0.1, 0.5, 2.0, 5.0)  # between failed attempts to start again


class Mortal:
    """Mixin of a supervised actor: tells its supervisor when it dies of a failure."""

    def __init__(self, *args: Any, on_death: Callable[[], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_death = on_death

    def on_failure(self, *exc_info: Any) -> None:
        if self._on_death is not None:
            self._on_death()


class Supervised(Generic[A]):
    """A handle that forwards messages to the current actor of one role.

    ``start(on_death)`` starts the actor and must hand ``on_death`` to it
    (``Mortal`` calls it when the actor dies of a failure).
    """

    def __init__(self, name: str,
                 start: Callable[[Callable[[], None]], pykka.ActorRef[A]]) -> None:
        self.name = name
        self._start = start
        # Called in order with the new actor's ref after a restart.
        self.on_restart: list[Callable[[pykka.ActorRef[A]], None]] = []
        self._died = gevent.event.Event()
        self.ref: pykka.ActorRef[A] = start(self._died.set)
        self.restarts = 0
        self.restarting = False
        self._stopping = False
        self._watcher = gevent.spawn(self._watch)

    @property
    def ready(self) -> bool:
        return not self.restarting and self.ref.is_alive()

    def tell(self, message: Any) -> None:
        """Raises pykka.ActorDeadError while the actor is down (a restart is under way)."""
        self.ref.tell(message)

    def ask(self, message: Any, *, block: bool = True, timeout: float | None = None) -> Any:
        return self.ref.ask(message, block=block, timeout=timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the actor for good (no restart)."""
        self._stopping = True
        try:
            self.ref.stop(block=True, timeout=timeout)
        except pykka.ActorDeadError:
            pass
        except pykka.Timeout:
            log.warning("%s did not stop in time", self.name)
        self._watcher.kill(block=False)

    def _watch(self) -> None:
        while True:
            self._died.wait()
            self._died.clear()
            if self._stopping:
                return
            self.restarting = True
            self.restarts += 1
            log.error("%s stopped unexpectedly; restarting it from its snapshot (restart %d)",
                      self.name, self.restarts)
            attempt = 0
            while not self._stopping:
                try:
                    self.ref = self._start(self._died.set)
                    break
                except Exception:
                    delay = RESTART_BACKOFF_SECS[min(attempt, len(RESTART_BACKOFF_SECS) - 1)]
                    log.exception("%s did not start; trying again in %.1fs", self.name, delay)
                    attempt += 1
                    gevent.sleep(delay)
            if self._stopping:
                return
            for listener in self.on_restart:
                try:
                    listener(self.ref)
                except Exception:
                    log.exception("%s restarted, but bringing others up to date failed",
                                  self.name)
            self.restarting = False
            log.warning("%s is back", self.name)
