"""Where engines come from: one per knowledge base alive, built off the event loop.

An engine (engine.py) depends on nothing but the knowledge base and the
configured ways of asking for a person, and never changes once built. So a
second AutoReply of the same knowledge base shares the first one's engine
while that one lives, instead of building its own for a few hundred ms (the
test suite's stacks built ~690 engines, ~540 of them again: 75 s of building
against 41 s since). Nothing keeps an engine alive but its users: the
references here are weak.

A build for a running server (a reload, a lesson) happens on a thread of the
hub's pool: on the event loop every customer's callback would wait for it.
The thread holds the GIL only by turns, so the loop goes on answering.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar, cast

from gevent import get_hub

from actors.autoreply.knowledge import Knowledge

T = TypeVar("T")


class Engines(Generic[T]):
    """The engines ``build`` made that are still in use, by what each was
    built from."""

    def __init__(self, build: Callable[[Knowledge, tuple[str, ...]], T]) -> None:
        self._build = build
        self._alive: weakref.WeakValueDictionary[tuple[Knowledge, frozenset[str]], T] = \
            weakref.WeakValueDictionary()

    def of(self, knowledge: Knowledge, human_words: Iterable[str], on_pool: bool = False) -> T:
        """The engine alive for this knowledge base, else a new one (built on
        a thread of the hub's pool when ``on_pool``)."""
        words = tuple(human_words)
        try:
            key = (knowledge, frozenset(words))
            engine = self._alive.get(key)
        except TypeError:  # unhashable: a Knowledge built by hand with lists in it
            return self._built(knowledge, words, on_pool)
        if engine is None:
            engine = self._alive[key] = self._built(knowledge, words, on_pool)
        return engine

    def _built(self, knowledge: Knowledge, words: tuple[str, ...], on_pool: bool) -> T:
        if on_pool:
            return cast(T, get_hub().threadpool.apply(self._build, (knowledge, words)))
        return self._build(knowledge, words)
