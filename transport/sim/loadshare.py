"""The throughput target: our answers per second as a share of a bare handler's,
and the latency at half that load.

The *ceiling* is a bare Bottle handler on the same gevent server (``run.py
ceiling``), loaded with the same callback body by as many senders as the
saturation has customers; the *saturation* is that many closed-loop
customers asking the bot as fast as answers come back. The two alternate
``rounds`` times: this machine's speed wanders by ±15% between minutes (a
shared host), and a pair measured a few seconds apart sees the same machine.
*Half load* then sends questions open loop at half the median saturation.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent

from storage import free_port
from transport.http.client import JsonClient
from transport.sim.loadpeople import (
    FAQ_SIZE,
    ROBOT,
    People,
    Samples,
    answer_to,
    equals,
    question,
    wire_text,
)
from transport.sim.loadprocs import Child, process_stats

BLASTERS = 64  # concurrent conversations in the ceiling and saturation phases
HALF_LOAD_CUSTOMERS = 512  # enough that a customer's previous answer is long back


class ShareRounds:
    """Measures ceiling and saturation pairs against a running CS server."""

    def __init__(self, people: People, server: Child, workdir: Path,
                 say: Callable[[str], None], *, ceiling_secs: float, saturate_secs: float,
                 rounds: int, wait: float) -> None:
        self._people = people
        self._server = server
        self._workdir = workdir
        self._say = say
        self._ceiling_secs = ceiling_secs
        self._saturate_secs = saturate_secs
        self._rounds = max(1, rounds)
        self._wait = wait

    def run(self) -> dict[str, Any]:
        """Every round, then the median of each measure; the share is the median
        of the rounds' shares (a round without a ceiling has none)."""
        bare = self._start_ceiling() if self._ceiling_secs > 0 else None
        rounds: list[dict[str, Any]] = []
        try:
            for number in range(1, self._rounds + 1):
                rounds.append(self._round(bare, number))
        finally:
            if bare is not None:
                bare.stop()
        result: dict[str, Any] = {"rounds": rounds}
        for name in dict.fromkeys(name for r in rounds for name in r):
            values = [r[name] for r in rounds if r.get(name) is not None]
            result[name] = statistics.median(values) if values else None
        return result

    def _round(self, bare: Child | None, number: int) -> dict[str, Any]:
        measured: dict[str, Any] = {}
        if bare is not None:
            rate, busy = self._ceiling(bare)
            measured["ceiling_callbacks_per_sec"] = round(rate, 1)
            measured["ceiling_server_cpu_percent"] = round(100 * busy, 1)
        rate, busy = self._saturate()
        measured["saturation_answers_per_sec"] = round(rate, 1)
        measured["saturation_server_cpu_percent"] = round(100 * busy, 1)
        # Steadier than the rate when the machine's speed wanders.
        measured["saturation_server_cpu_us_per_answer"] = us_per_answer(busy, rate)
        if bare is not None and rate:
            measured["share_of_ceiling"] = round(
                rate / measured["ceiling_callbacks_per_sec"], 3)
            self._say(f"round {number}: {measured['share_of_ceiling']:.3f} of the ceiling")
        return measured

    def _start_ceiling(self) -> Child:
        port = free_port()
        return Child(["ceiling", "--port", str(port)], {}, port, self._workdir / "ceiling.log")

    def _ceiling(self, bare: Child) -> tuple[float, float]:
        """(callbacks per second, the bare server's CPU share) for one round."""
        body = json.dumps({"messageId": 1, "sender": "c", "conv": {"type": 0, "target": ROBOT},
                           "payload": wire_text(question(1))}).encode()
        client = JsonClient(maxsize=BLASTERS)
        done = 0
        deadline = time.perf_counter() + self._ceiling_secs

        def blast(_: int) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                client.post(f"{bare.url}/im/robot/t", None, raw=body)
                done += 1

        elapsed, busy = _concurrently(blast, watched=bare.proc.pid)
        client.close()
        rate = done / elapsed
        # Below ~95% the generator, not the bare server, set the pace.
        self._say(f"ceiling: bare Bottle handler {rate:.0f} callbacks/s; its CPU {busy:.0%}")
        return rate, busy

    def _saturate(self) -> tuple[float, float]:
        """(bot answers per second, the CS server's CPU share) for one round."""
        people, server = self._people, self._server
        answered = 0
        deadline = time.perf_counter() + self._saturate_secs

        def customer(index: int) -> None:
            nonlocal answered
            name = f"sat{index}"
            people.inbox(name)
            i = 0
            while time.perf_counter() < deadline:
                asked = question(i % FAQ_SIZE)
                people.say(name, wire_text(asked))
                if people.wait(name, equals(answer_to(asked)), self._wait):
                    answered += 1
                i += 1

        elapsed, busy = _concurrently(customer, watched=server.proc.pid)
        rate = answered / elapsed
        people.samples = Samples()
        self._say(f"saturation: {rate:.0f} bot answers/s end to end; server CPU {busy:.0%}"
                  f" ({us_per_answer(busy, rate)} µs per answer)")
        return rate, busy


def _concurrently(worker: Callable[[int], None], watched: int) -> tuple[float, float]:
    """Run ``BLASTERS`` workers (each given its index) to the end.

    Returns:
        (seconds taken, the share of a core process ``watched`` used meanwhile).
    """
    cpu_before = process_stats(watched)["cpu_secs"]
    started = time.perf_counter()
    gevent.joinall([gevent.spawn(worker, i) for i in range(BLASTERS)])
    elapsed = time.perf_counter() - started
    return elapsed, (process_stats(watched)["cpu_secs"] - cpu_before) / elapsed


def half_load(people: People, saturation: float, secs: float, wait: float,
              say: Callable[[str], None]) -> dict[str, Any]:
    """Bot questions sent at a steady half of the measured saturation (open
    loop: a send does not wait for earlier answers), each answer timed."""
    rate = saturation / 2
    total = int(rate * secs)
    samples = people.samples = Samples()
    names = [f"half{i}" for i in range(HALF_LOAD_CUSTOMERS)]
    for name in names:
        people.inbox(name)

    def ask(i: int) -> None:
        name, asked = names[i % len(names)], question(i % FAQ_SIZE)
        sent_at = people.say(name, wire_text(asked))
        got = people.wait(name, equals(answer_to(asked)), wait)
        if got is None:
            samples.lost += 1
        else:
            samples.add(sent_at, got[0])

    started = time.perf_counter()
    askers = []
    for i in range(total):
        gevent.sleep(max(0.0, started + i / rate - time.perf_counter()))
        askers.append(gevent.spawn(ask, i))
    gevent.joinall(askers)
    summary = samples.summary(time.perf_counter() - started)
    summary["target_per_sec"] = round(rate, 1)
    people.samples = Samples()
    latency = summary["latency_ms"]
    say(f"half load: {summary['replies_per_sec']:.0f} answers/s, p50 {latency['p50']} "
        f"ms, p99 {latency['p99']} ms, lost {summary['lost']}")
    return summary


def us_per_answer(busy: float, rate: float) -> float | None:
    """Server CPU microseconds per answer."""
    return round(1e6 * busy / rate, 1) if rate else None
