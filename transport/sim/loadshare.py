"""The throughput targets: our answers per second with the IM server's 5 callbacks
in flight and with 64, each beside a bare handler's measured the same way, and
the time to 200 at half load.

A real IM server posts at most 5 callbacks at once to our host (OkHttp's
dispatcher, transport/sim/imdispatch.py), so what caps a real deployment is
about 5 / (our time to answer a callback); 64 in flight shows what the
server itself takes. Every callback of every phase goes through the
simulator's dispatcher, set to 5 or 64 per host.

The *ceiling* is a bare Bottle handler on the same gevent server (``run.py
ceiling``), kept busy with the same callback body; the *saturation* is 64
closed-loop customers asking the bot as fast as answers come back. Ceiling
and saturation, 64 and 5, alternate ``rounds`` times: this machine's speed
wanders by ±15% between minutes (a shared host), and measures taken a few
seconds apart see the same machine, so the ratios within a round are the
robust figures. *Half load* then sends questions open loop at half the
median 5-in-flight saturation, and times each callback's answer.

Every phase reports answers lost (never came) and late (came after the
wait, within one more) apart.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import gevent.event

from storage import free_port
from transport.http.client import JsonClient
from transport.sim.imdispatch import CallbackDispatcher, CallResult
from transport.sim.loadpeople import (
    FAQ_SIZE,
    ROBOT,
    People,
    Samples,
    answer_to,
    equals,
    percentile,
    question,
    wire_text,
)
from transport.sim.loadprocs import Child, busy_share, cores_ticks, process_stats, tool_cores

BLASTERS = 64  # concurrent conversations in the ceiling and saturation phases
IN_FLIGHT = (64, 5)  # callbacks in flight per host: without the IM server's limit, and with it
HALF_LOAD_IN_FLIGHT = 5  # the real pattern
HALF_LOAD_CUSTOMERS = 512  # enough that a customer's previous answer is long back
_metrics_http = JsonClient()

Overdue = list[tuple[str, Callable[[str], bool]]]


def redis_round_trips(server_url: str) -> float:
    """The CS server's Redis script round trips so far, from its /metrics."""
    text = _metrics_http.get(server_url + "/metrics").raw.decode()
    found = re.search(r"^cs_redis_script_round_trips_total (\S+)$", text, re.M)
    if found is None:
        raise RuntimeError(f"{server_url}/metrics has no cs_redis_script_round_trips_total")
    return float(found.group(1))


def _suffix(in_flight: int) -> str:
    """Key names: the 64-in-flight figures keep the names they always had."""
    return "" if in_flight == 64 else f"_{in_flight}"


class ShareRounds:
    """Measures ceiling and saturation, with 64 and 5 in flight, against a running CS server."""

    def __init__(self, people: People, server: Child, workdir: Path,
                 say: Callable[[str], None], *, ceiling_secs: float, saturate_secs: float,
                 rounds: int, wait: float, half_secs: float = 0.0) -> None:
        self._people = people
        self._server = server
        self._workdir = workdir
        self._say = say
        self._ceiling_secs = ceiling_secs
        self._saturate_secs = saturate_secs
        self._rounds = max(1, rounds)
        self._wait = wait
        self._half_secs = half_secs

    def run(self) -> dict[str, Any]:
        """Every round, then the median of each measure (lost and late: the sums)."""
        bare = self._start_ceiling() if self._ceiling_secs > 0 else None
        rounds: list[dict[str, Any]] = []
        bare_half: dict[str, Any] | None = None
        try:
            for number in range(1, self._rounds + 1):
                rounds.append(self._round(bare, number))
            five = [r["saturation_5_answers_per_sec"] for r in rounds
                    if r.get("saturation_5_answers_per_sec")]
            if bare is not None and self._half_secs > 0 and five:
                bare_half = self._bare_half_load(bare, statistics.median(five) / 2)
        finally:
            if bare is not None:
                bare.stop()
            self._people.sim.callbacks.max_per_host = HALF_LOAD_IN_FLIGHT
        result: dict[str, Any] = {"rounds": rounds}
        if bare_half is not None:
            result["half_load_bare"] = bare_half
        for name in dict.fromkeys(name for r in rounds for name in r):
            values = [r[name] for r in rounds if r.get(name) is not None]
            if name.endswith(("_lost", "_late")):
                result[name] = sum(values)
            else:
                result[name] = statistics.median(values) if values else None
        return result

    def _round(self, bare: Child | None, number: int) -> dict[str, Any]:
        measured: dict[str, Any] = {}
        for in_flight in IN_FLIGHT:
            s = _suffix(in_flight)
            if bare is not None:
                rate, busy, failed = self._ceiling(bare, in_flight)
                measured[f"ceiling{s}_callbacks_per_sec"] = round(rate, 1)
                measured[f"ceiling{s}_server_cpu_percent"] = round(100 * busy, 1)
                measured[f"ceiling{s}_lost"] = failed
            rate, busy, lost, late, to_200, trips, tool = self._saturate(in_flight)
            measured[f"saturation{s}_answers_per_sec"] = round(rate, 1)
            measured[f"saturation{s}_server_cpu_percent"] = round(100 * busy, 1)
            # Steadier than the rate when the machine's speed wanders.
            measured[f"saturation{s}_server_cpu_us_per_answer"] = us_per_answer(busy, rate)
            measured[f"saturation{s}_redis_round_trips_per_answer"] = trips
            # The load tool's cores (the simulator, the customers, and the
            # embedded Redis by default): near 100%, the rate is the tool's
            # as much as the server's. None unless the tool is pinned apart
            # from the server (loadprocs.tool_cores).
            measured[f"saturation{s}_tool_cores_percent"] = tool
            measured[f"saturation{s}_lost"] = lost
            measured[f"saturation{s}_late"] = late
            # What caps the rate with 5 in flight: about 5 / (time to 200).
            measured[f"saturation{s}_time_to_200_p50_ms"] = to_200["p50"]
            measured[f"saturation{s}_time_to_200_p99_ms"] = to_200["p99"]
            if bare is not None and rate:
                measured[f"share_of_ceiling{s}"] = round(
                    rate / measured[f"ceiling{s}_callbacks_per_sec"], 3)
        if measured["saturation_answers_per_sec"]:
            measured["five_vs_64"] = round(measured["saturation_5_answers_per_sec"]
                                           / measured["saturation_answers_per_sec"], 3)
        if bare is not None and measured["ceiling_callbacks_per_sec"]:
            measured["bare_five_vs_64"] = round(measured["ceiling_5_callbacks_per_sec"]
                                                / measured["ceiling_callbacks_per_sec"], 3)
        self._say(f"round {number}: share of the ceiling {measured.get('share_of_ceiling')}"
                  f" (64 in flight); answers with 5 in flight / with 64: "
                  f"{measured.get('five_vs_64')}")
        return measured

    def _start_ceiling(self) -> Child:
        port = free_port()
        return Child(["ceiling", "--port", str(port)], {}, port, self._workdir / "ceiling.log")

    def _ceiling(self, bare: Child, in_flight: int) -> tuple[float, float, int]:
        """(callbacks per second, the bare server's CPU share, callbacks failed), with
        ``BLASTERS`` callbacks always queued at a dispatcher like the simulator's."""
        body = json.dumps({"messageId": 1, "sender": "c", "conv": {"type": 0, "target": ROBOT},
                           "payload": wire_text(question(1))}).encode()
        url = f"{bare.url}/im/robot/t"
        dispatcher = CallbackDispatcher(max_per_host=in_flight)
        finished = gevent.event.Event()
        done = failed = 0
        outstanding = BLASTERS
        deadline = time.perf_counter() + self._ceiling_secs

        def again(result: CallResult) -> None:
            nonlocal done, failed, outstanding
            if result.status == 200:
                done += 1
            else:
                failed += 1
            if time.perf_counter() < deadline:
                dispatcher.enqueue(url, body, again)
            else:
                outstanding -= 1
                if not outstanding:
                    finished.set()

        cpu_before = process_stats(bare.proc.pid)["cpu_secs"]
        started = time.perf_counter()
        for _ in range(BLASTERS):
            dispatcher.enqueue(url, body, again)
        finished.wait()
        elapsed = time.perf_counter() - started
        busy = (process_stats(bare.proc.pid)["cpu_secs"] - cpu_before) / elapsed
        dispatcher.close()
        rate = done / elapsed
        # Below ~95% CPU the generator, not the bare server, set the pace.
        self._say(f"ceiling, {in_flight} in flight: bare Bottle handler {rate:.0f} callbacks/s;"
                  f" its CPU {busy:.0%}")
        return rate, busy, failed

    def _bare_half_load(self, bare: Child, rate: float) -> dict[str, Any]:
        """The bare handler's time to 200 at the rate our half load will run, open
        loop through 5 in flight: the floor the machine and the generator set."""
        body = json.dumps({"messageId": 1, "sender": "c", "conv": {"type": 0, "target": ROBOT},
                           "payload": wire_text(question(1))}).encode()
        url = f"{bare.url}/im/robot/t"
        dispatcher = CallbackDispatcher(max_per_host=HALF_LOAD_IN_FLIGHT)
        answer_secs: list[float] = []
        failed = 0
        total = int(rate * self._half_secs)
        finished = gevent.event.Event()

        def timed(result: CallResult) -> None:
            nonlocal failed
            if result.status == 200:
                answer_secs.append(result.answer_secs)
            else:
                failed += 1
            if len(answer_secs) + failed == total:
                finished.set()

        started = time.perf_counter()
        for i in range(total):
            gevent.sleep(max(0.0, started + i / rate - time.perf_counter()))
            dispatcher.enqueue(url, body, timed)
        finished.wait(self._wait)
        dispatcher.close()
        to_200 = distribution(answer_secs)
        self._say(f"half load, bare handler: {total} callbacks at {rate:.0f}/s; time to 200 "
                  f"p50 {to_200['p50']} ms, p99 {to_200['p99']} ms, max {to_200['max']} ms")
        return {"target_per_sec": round(rate, 1), "callbacks": total,
                "lost": total - len(answer_secs), "time_to_200_ms": to_200}

    def _saturate(self, in_flight: int
                  ) -> tuple[float, float, int, int, dict[str, Any], float, float | None]:
        """(bot answers per second, the CS server's CPU share, lost, late, time to 200,
        Redis round trips per answer, how busy the load tool's cores were in %)
        for one phase."""
        people, server = self._people, self._server
        people.sim.callbacks.max_per_host = in_flight
        answer_secs: list[float] = []

        def timed(result: CallResult) -> None:
            if result.status == 200:
                answer_secs.append(result.answer_secs)

        answered = 0
        overdue: Overdue = []
        deadline = time.perf_counter() + self._saturate_secs
        phase = f"sat{in_flight}x{time.perf_counter_ns() % 10**9}"

        def customer(index: int) -> None:
            nonlocal answered
            name = f"{phase}_{index}"
            people.inbox(name)
            i = 0
            while time.perf_counter() < deadline:
                asked = question(i % FAQ_SIZE)
                accept = equals(answer_to(asked))
                people.say(name, wire_text(asked))
                if people.wait(name, accept, self._wait):
                    answered += 1
                else:
                    overdue.append((name, accept))
                    return
                i += 1

        previous, people.sim.on_callback = people.sim.on_callback, timed
        try:
            cpu_before = process_stats(server.proc.pid)["cpu_secs"]
            trips_before = redis_round_trips(server.url)
            cores = tool_cores(server.proc.pid)
            tool_before = cores_ticks(cores)
            started = time.perf_counter()
            gevent.joinall([gevent.spawn(customer, i) for i in range(BLASTERS)])
            elapsed = time.perf_counter() - started
            busy = (process_stats(server.proc.pid)["cpu_secs"] - cpu_before) / elapsed
            tool = busy_share(tool_before, cores_ticks(cores))
            # Round trips of the journal, commit and confirm scripts (grouped:
            # storage/batch.py), sessions opened included.
            trips = (redis_round_trips(server.url) - trips_before) / max(1, answered)
        finally:
            people.sim.on_callback = previous
        rate = answered / elapsed
        late = count_late(people, overdue, self._wait)
        people.samples = Samples()
        to_200 = distribution(answer_secs)
        self._say(f"saturation, {in_flight} in flight: {rate:.0f} bot answers/s end to end;"
                  f" server CPU {busy:.0%} ({us_per_answer(busy, rate)} µs per answer);"
                  f" time to 200 p50 {to_200['p50']} ms; lost {len(overdue) - late}, late {late}"
                  + (f"; the load tool's cores {tool:.0%} busy" if tool is not None else ""))
        return (rate, busy, len(overdue) - late, late, to_200, round(trips, 3),
                None if tool is None else round(100 * tool, 1))


def count_late(people: People, overdue: Overdue, wait: float) -> int:
    """How many overdue replies arrived after all, within one more wait."""
    if not overdue:
        return 0
    gevent.sleep(wait)
    return sum(people.inbox(customer).take(accept, 0.0) is not None
               for customer, accept in overdue)


def half_load(people: People, saturation: float, secs: float, wait: float,
              say: Callable[[str], None]) -> dict[str, Any]:
    """Bot questions sent at a steady half of the measured saturation (open
    loop: a send does not wait for earlier answers) through the IM server's
    5 in flight; each answer timed, and each callback's time to 200."""
    rate = saturation / 2
    total = int(rate * secs)
    samples = people.samples = Samples()
    sim = people.sim
    sim.callbacks.max_per_host = HALF_LOAD_IN_FLIGHT
    answer_secs: list[float] = []
    queued_secs: list[float] = []
    failed = 0

    def timed(result: CallResult) -> None:
        nonlocal failed
        if result.status == 200:
            answer_secs.append(result.answer_secs)
            queued_secs.append(result.queued_secs)
        else:
            failed += 1

    names = [f"half{i}" for i in range(HALF_LOAD_CUSTOMERS)]
    for name in names:
        people.inbox(name)
    overdue: Overdue = []

    def ask(i: int) -> None:
        name, asked = names[i % len(names)], question(i % FAQ_SIZE)
        accept = equals(answer_to(asked))
        sent_at = people.say(name, wire_text(asked))
        got = people.wait(name, accept, wait)
        if got is None:
            overdue.append((name, accept))
        else:
            samples.add(sent_at, got[0])

    previous, sim.on_callback = sim.on_callback, timed
    try:
        started = time.perf_counter()
        askers = []
        for i in range(total):
            gevent.sleep(max(0.0, started + i / rate - time.perf_counter()))
            askers.append(gevent.spawn(ask, i))
        gevent.joinall(askers)
        elapsed = time.perf_counter() - started
    finally:
        sim.on_callback = previous
    late = count_late(people, overdue, wait)
    samples.lost = len(overdue) - late
    summary = samples.summary(elapsed)
    summary["late"] = late
    summary["callbacks_failed"] = failed
    summary["target_per_sec"] = round(rate, 1)
    summary["in_flight"] = HALF_LOAD_IN_FLIGHT
    summary["time_to_200_ms"] = distribution(answer_secs)
    summary["callback_queued_ms"] = distribution(queued_secs)
    people.samples = Samples()
    latency, to_200 = summary["latency_ms"], summary["time_to_200_ms"]
    say(f"half load: {summary['replies_per_sec']:.0f} answers/s, answer p50 {latency['p50']} "
        f"ms, p99 {latency['p99']} ms; time to 200 p50 {to_200['p50']} ms, p99 "
        f"{to_200['p99']} ms, max {to_200['max']} ms; lost {summary['lost']}, late {late}")
    return summary


def distribution(secs: list[float]) -> dict[str, float | None]:
    """p50, p99 and max, in milliseconds."""
    values = sorted(secs)
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {"p50": round(percentile(values, 0.50) * 1000, 2),
            "p99": round(percentile(values, 0.99) * 1000, 2),
            "max": round(values[-1] * 1000, 2)}


def us_per_answer(busy: float, rate: float) -> float | None:
    """Server CPU microseconds per answer."""
    return round(1e6 * busy / rate, 1) if rate else None
