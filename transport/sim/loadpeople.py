"""The load test's simulated people, and what they measure.

Customers and servicers see every message the IM simulator delivers at the
moment it is delivered (no polling); every reply is timed from the send
that caused it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event

from transport.sim.imsim import ImSimulator

ROBOT = "cs_robot"
FAQ_SIZE = 200  # a realistic knowledge base; each question has an answer
MAX_UNCLAIMED = 64  # messages kept per simulated user until a waiter claims one


@dataclass
class Samples:
    """Latencies (seconds) with the time they were taken, and the counts."""

    started: float = field(default_factory=time.perf_counter)
    latencies: list[tuple[float, float]] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    lost: int = 0

    def add(self, sent_at: float, arrived_at: float | None = None) -> None:
        """A reply to a message sent at ``sent_at`` arrived (now, unless said)."""
        arrived = time.perf_counter() if arrived_at is None else arrived_at
        self.latencies.append((arrived - self.started, arrived - sent_at))
        self.received += 1

    def summary(self, elapsed: float) -> dict[str, Any]:
        values = sorted(latency for _, latency in self.latencies)

        def pct(p: float) -> float | None:
            return round(percentile(values, p) * 1000, 2) if values else None

        return {"messages_sent": self.sent, "replies_received": self.received,
                "lost": self.lost, "late": 0, "seconds": round(elapsed, 2),
                "replies_per_sec": round(self.received / elapsed, 1) if elapsed else None,
                "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99),
                               "max": round(values[-1] * 1000, 2) if values else None}}


def percentile(ordered: list[float], p: float) -> float:
    """The value at fraction ``p`` of a sorted, non-empty list (nearest rank below)."""
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


class Mailbox:
    """What the IM simulator delivered to one user, until a waiter claims it.

    A customer may have several questions in flight (always, on a busy host):
    each waiter takes only the message it accepts and leaves the rest for the
    others. (A queue whose waiter dropped what it did not accept lost another
    waiter's answer: issue 21's "half load ... lost 62".)"""

    def __init__(self) -> None:
        self._items: list[tuple[float, dict[str, Any]]] = []
        self._arrival = gevent.event.Event()

    def put(self, item: tuple[float, dict[str, Any]]) -> None:
        self._items.append(item)
        # What nobody waits for (a seat notice, a welcome) would pile up over a
        # long run and be scanned by every claim: the oldest goes.
        del self._items[:-MAX_UNCLAIMED]
        arrival, self._arrival = self._arrival, gevent.event.Event()
        arrival.set()  # wakes everyone waiting for the next arrival

    def take(self, accept: Callable[[str], bool], timeout: float
             ) -> tuple[float, dict[str, Any]] | None:
        """The first message ``accept`` takes (removed), waiting up to ``timeout``."""
        deadline = time.perf_counter() + timeout
        while True:
            arrival = self._arrival  # before looking: nothing slips between
            for i, (arrived, message) in enumerate(self._items):
                if accept(message["payload"].get("searchableContent", "")):
                    del self._items[i]
                    return arrived, message
            remaining = deadline - time.perf_counter()
            if remaining <= 0 or not arrival.wait(remaining):
                return None


class People:
    """Simulated customers and servicers: they see deliveries as they happen."""

    def __init__(self, sim: ImSimulator, think: float) -> None:
        self.sim = sim
        self.think = think
        self.inboxes: dict[str, Mailbox] = {}
        self.servicers: set[str] = set()
        self.forward_sent: dict[str, float] = {}  # token -> when the customer sent it
        self.reply_sent: dict[str, float] = {}  # token -> when the servicer answered
        self.samples = Samples()
        sim.on_deliver = self._observe

    def inbox(self, user: str) -> Mailbox:
        box = self.inboxes.get(user)
        if box is None:
            box = self.inboxes[user] = Mailbox()
        return box

    def _observe(self, message: dict[str, Any]) -> None:
        target = message["conv"]["target"]
        text = message["payload"].get("searchableContent", "")
        if target in self.servicers:
            if text.startswith("m:"):
                sent_at = self.forward_sent.pop(text, None)
                if sent_at is not None:
                    self.samples.add(sent_at)
                gevent.spawn(self._answer, target, message["sender"], "r" + text[1:])
            return
        if target in self.inboxes:
            self.inboxes[target].put((time.perf_counter(), message))

    def _answer(self, servicer: str, shadow: str, token: str) -> None:
        gevent.sleep(self.think)
        self.reply_sent[token] = time.perf_counter()
        self.samples.sent += 1
        self.sim.deliver(servicer, shadow, {"type": 1, "searchableContent": token,
                                            "persistFlag": 3})

    def say(self, customer: str, payload: dict[str, Any], expect_reply: bool = True) -> float:
        if expect_reply:
            self.samples.sent += 1
        sent_at = time.perf_counter()
        self.sim.deliver(customer, ROBOT, payload)
        return sent_at

    def wait(self, customer: str, accept: Callable[[str], bool], timeout: float
             ) -> tuple[float, str] | None:
        """The first message to the customer that ``accept``s, or None (lost)."""
        taken = self.inbox(customer).take(accept, timeout)
        return None if taken is None else (taken[0], taken[1]["payload"]["searchableContent"])


def equals(expected: str) -> Callable[[str], bool]:
    return lambda text: text == expected


def contains(part: str) -> Callable[[str], bool]:
    return lambda text: part in text


def question(index: int) -> str:
    """A keyword of its own for each FAQ entry: letters, so n-grams differ."""
    letters = ""
    index += 26 ** 3  # at least four letters
    while index:
        index, digit = divmod(index, 26)
        letters += "bcdfghjklmnpqrstvwxzaeiouy"[digit]
    return "q" + letters


def answer_to(question: str) -> str:
    return "a" + question[1:]


def faq_config() -> list[dict[str, Any]]:
    """The load test's knowledge base as the config file's ``faq`` list; the
    benchmarks time the auto-reply on the same one."""
    return [{"keywords": [question(i)], "answer": answer_to(question(i))}
            for i in range(FAQ_SIZE)]


def wire_text(t: str) -> dict[str, Any]:
    """A text message as the robot API carries it."""
    return {"type": 1, "searchableContent": t, "persistFlag": 3}
