"""Actors whose mailbox belongs to the gevent loop.

Pykka's ThreadingActor gives each actor a ``queue.Queue``; under gevent's
monkey-patching that runs on gevent's locks, built for many producers and
consumers with time-outs. An actor has one consumer, its own loop, which
waits without a time-out. This mailbox is a list and one ``Waiter``.

It is kept for memory: an idle session takes 3.0 KB less, 18.2 KB instead
of 21.2, which keeps sessions under issue 20's 20 KB (``python run.py
loadtest --sessions-only --customers 20000``, kb_per_session). Waking a
session costs less too, but only ~8 µs per answer, under 5% of it
(``benchmarks/pipeline.py``, side by side: +4.6 to +12.3 µs without it).

It plugs in through Pykka's ``_create_actor_inbox`` and the three inbox
methods Pykka's actor loop calls (``put``, ``get``, ``empty``); setup.cfg
pins the Pykka version that was checked. tests/test_mailbox_differential.py
compares it with Pykka's own inbox on generated puts, gets and readers.

Everything here runs in the event loop's one thread (gevent): ``put`` and
``get`` never run at the same time.
"""
from __future__ import annotations

from typing import Any

import pykka
from gevent import monkey
from gevent.hub import Waiter, get_hub


class Mailbox:
    """One actor's messages, in order; its loop is the only reader."""

    __slots__ = ("_messages", "_reader")

    def __init__(self) -> None:
        # A list, not a deque: nearly always empty, and an empty deque is
        # 600 bytes; a mailbox is short enough for pop(0).
        self._messages: list[Any] = []
        self._reader: Waiter[Any] | None = None  # the loop, while it waits

    def put(self, envelope: Any, /) -> None:
        self._messages.append(envelope)
        reader, self._reader = self._reader, None
        if reader is not None:
            # A Waiter is resumed from the hub. If the loop was killed while
            # waiting, the resumption finds nobody and is dropped.
            get_hub().loop.run_callback(reader.switch, None)

    def get(self) -> Any:
        while not self._messages:
            reader = self._reader = Waiter()
            reader.get()
        return self._messages.pop(0)

    def empty(self) -> bool:
        return not self._messages

    def __len__(self) -> int:
        return len(self._messages)


class GreenletActor(pykka.ThreadingActor):
    """A ThreadingActor (a greenlet under gevent) with a ``Mailbox``."""

    @staticmethod
    def _create_actor_inbox() -> Mailbox:
        # Without the patch each actor would be an OS thread, and a Waiter
        # cannot be shared between threads: fail at once, not with a hang.
        if not monkey.is_module_patched("threading"):
            raise RuntimeError("actors run as greenlets: call gevent.monkey.patch_all() "
                               "before starting one (run.py does)")
        return Mailbox()
