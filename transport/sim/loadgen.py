"""The load test: many simulated customers and servicers against a real CS server.

Layout (two cores): the CS server runs as a child process pinned to core 0,
alone; this process, pinned to core 1, holds the IM simulator and the
simulated people, who see every message the simulator delivers at the
moment it is delivered (no polling). The embedded Redis runs beside them on
core 1, as the separate service it is in production; ``--redis-core 0``
squeezes it onto the server's core instead.

Every callback goes through the simulator's copy of the IM server's
dispatcher: 5 in flight to our host, as a real deployment sees it, unless a
phase says otherwise.

Phases, each optional:
1. *ceiling* and *saturation*, with 64 and with 5 callbacks in flight,
   alternating ``--rounds`` times, then *half load* with 5 in flight: the
   throughput targets' measures (transport/sim/loadshare.py);
2. *scenario*: customers arrive, chat with the bot, some ask for a person
   and chat with simulated servicers who answer after a think time, then
   leave; every reply is timed from the send that caused it, and every
   reply that never comes is counted as lost.
Or, alone: *sessions only* (memory per session), or the *robot limit*
scenario (transport/sim/loadlimit.py).

Every phase reports lost and late apart; whenever any phase lost anything,
the servers' logs are kept and their directory named.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import random
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gevent
import gevent.pool

from storage import EmbeddedRedis, free_port
from transport.http.client import HttpError, JsonClient
from transport.http.server import start_server
from transport.sim.imsim import ImSimulator, make_imsim_app
from transport.sim.loadlimit import robot_limit_scenario
from transport.sim.loadpeople import (
    FAQ_SIZE,
    ROBOT,
    People,
    Samples,
    answer_to,
    contains,
    equals,
    faq_config,
    question,
    wire_text,
)
from transport.sim.loadplot import plot
from transport.sim.loadprocs import Child, pin, process_stats
from transport.sim.loadshare import Overdue, ShareRounds, count_late, half_load

log = logging.getLogger(__name__)

ENTER = {"type": 10001, "persistFlag": 0}
LEAVE = {"type": 10002, "persistFlag": 0}


@dataclass
class LoadOptions:
    customers: int = 200
    servicers: int = 10
    duration: float = 30.0
    rate: float = 1.0  # messages per second per customer; 0: half the saturation
    human_share: float = 0.3
    think: float = 0.5  # seconds a servicer takes to answer
    seed: int = 1
    questions: int = 3  # bot questions per customer
    human_messages: int = 3  # messages with the servicer, per customer who asks
    wait: float = 10.0  # a reply later than this is lost
    ceiling_secs: float = 3.0
    saturate_secs: float = 3.0
    rounds: int = 3  # ceiling and saturation pairs; the medians are reported
    # Long enough that one pause of the machine (a 40 ms stall) is not the p99.
    half_secs: float = 10.0
    sessions_only: bool = False
    output: str = "loadtest.json"
    plot: str = ""
    redis_url: str = ""
    im_rate_limit: int = 0  # robot sends per 10 s, at the simulator and our outbox; 0: none
    robot_limit_customers: int = 0  # >0: only the robot limit scenario, with this crowd
    redis_core: int = 1
    quiet: bool = False


class LoadTest:
    def __init__(self, options: LoadOptions) -> None:
        if options.robot_limit_customers and not options.im_rate_limit:
            options.im_rate_limit = 1000  # im-server's default http.robot.rate_limit
        self.o = options
        self.random = random.Random(options.seed)
        self.workdir = Path(tempfile.mkdtemp(prefix="wildfire-cs-load-"))
        self.admin_secret = secrets.token_hex(16)
        self.robot_secret = secrets.token_hex(16)
        self.token = secrets.token_hex(16)
        self.sim = ImSimulator(self.admin_secret, rate_limit=options.im_rate_limit or 10**9)
        self.result: dict[str, Any] = {"options": asdict(options)}
        self._scenario_cpu = 0.0
        self._backlog_peak = 0

    def say(self, line: str) -> None:
        if not self.o.quiet:
            print(line, flush=True)

    # Set-up ------------------------------------------------------------------

    def _config(self) -> Path:
        config = {
            "servicers": [{"id": f"s{i:03d}", "name": f"Servicer {i}",
                           "capacity": 1000} for i in range(self.o.servicers)],
            "faq": faq_config(),
            "customer_rate_limit": 0, "auto_pause_secs": 0, "idle_auto_secs": 3600,
            "idle_human_secs": 3600, "rating_window_secs": 1, "queue_max_length": 100000,
            "history_on_seat": 0,
        }
        path = self.workdir / "config.json"
        path.write_text(json.dumps(config))
        return path

    def _start_server(self, redis_url: str, sim_url: str) -> Child:
        port = free_port()
        server = Child(["--log-level", "WARNING", "serve", "--port", str(port),
                        "--im-url", sim_url, "--redis-url", redis_url,
                        "--redis-prefix", f"load{secrets.token_hex(3)}",
                        "--config", str(self._config()),
                        "--rate-limit", str(self.o.im_rate_limit)],
                       {"CS_ROBOT_SECRET": self.robot_secret, "CS_ADMIN_SECRET": self.admin_secret,
                        "CS_CALLBACK_TOKEN": self.token}, port, self.workdir / "server.log")
        self.sim.put_robot(ROBOT, secret=self.robot_secret,
                           callback=f"{server.url}/im/robot/{self.token}")
        return server

    # Phases ------------------------------------------------------------------

    def scenario(self, people: People, rate: float) -> dict[str, Any]:
        o = self.o
        samples = people.samples = Samples()
        gap = 1.0 / rate if rate > 0 else 0.0
        ramp = o.duration * 0.3
        asks = set(self.random.sample(range(o.customers),
                                      int(round(o.customers * o.human_share))))

        overdue: Overdue = []

        def timed_wait(customer: str, sent_at: float, accept: Callable[[str], bool]) -> bool:
            got = people.wait(customer, accept, o.wait)
            if got is None:  # late or lost: told apart after the run
                overdue.append((customer, accept))
                return False
            samples.add(sent_at, got[0])
            return True

        stop_at = time.perf_counter() + o.duration

        def customer(index: int) -> None:
            name = f"cust{index:06d}"
            people.inbox(name)
            gevent.sleep(ramp * index / max(1, o.customers))
            if not timed_wait(name, people.say(name, ENTER), contains("欢迎")):
                return
            for k in range(o.questions):
                gevent.sleep(gap)
                if time.perf_counter() > stop_at:
                    break
                asked = question((index * o.questions + k) % FAQ_SIZE)
                if not timed_wait(name, people.say(name, wire_text(asked)),
                                  equals(answer_to(asked))):
                    return
            if index in asks and time.perf_counter() < stop_at:
                gevent.sleep(gap)
                if not timed_wait(name, people.say(name, wire_text("人工")),
                                  contains("will help you")):
                    return
                for j in range(o.human_messages):
                    gevent.sleep(gap)
                    if time.perf_counter() > stop_at:
                        break
                    token = f"m:{name}:{j}"
                    people.forward_sent[token] = people.say(name, wire_text(token))
                    reply = "r" + token[1:]
                    got = people.wait(name, equals(reply), o.wait + o.think)
                    if got is None:
                        overdue.append((name, equals(reply)))
                        return
                    samples.add(people.reply_sent.pop(reply, got[0]), got[0])
            people.say(name, LEAVE, expect_reply=False)

        started = time.perf_counter()
        workers = [gevent.spawn(customer, i) for i in range(o.customers)]
        progress = gevent.spawn(self._progress, samples, started)
        gevent.joinall(workers, timeout=o.duration + 2 * o.wait + o.think)
        elapsed = time.perf_counter() - started
        progress.kill()
        unfinished = sum(1 for w in workers if not w.dead)
        gevent.killall(workers)
        late = count_late(people, overdue, o.wait)
        summary = samples.summary(elapsed)
        summary["late"] = late
        summary["lost"] += len(overdue) - late + unfinished
        summary["customers"] = o.customers
        summary["asked_for_a_person"] = len(asks)
        summary["rate_per_customer"] = round(rate, 3)
        return summary

    def sessions_only(self, people: People, server: Child) -> dict[str, Any]:
        before = process_stats(server.proc.pid)["rss_mb"]
        pending = gevent.pool.Pool(500)
        samples = people.samples = Samples()

        def open_one(index: int) -> None:
            name = f"idle{index:07d}"
            people.inbox(name)
            sent_at = people.say(name, ENTER)
            got = people.wait(name, contains("欢迎"), self.o.wait)
            if got is None:
                samples.lost += 1
            else:
                samples.add(sent_at)
                del people.inboxes[name]

        started = time.perf_counter()
        progress = gevent.spawn(self._progress, samples, started)
        for i in range(self.o.customers):
            pending.spawn(open_one, i)
        pending.join()
        progress.kill()
        elapsed = time.perf_counter() - started
        gevent.sleep(1.0)  # let the server settle its allocations
        after = process_stats(server.proc.pid)["rss_mb"]
        summary = samples.summary(elapsed)
        summary.update(sessions=self.o.customers, rss_before_mb=round(before, 1),
                       rss_after_mb=round(after, 1),
                       kb_per_session=round((after - before) * 1024 / self.o.customers, 2))
        return summary

    def _watch_backlog(self, server: Child) -> None:
        """The outbox backlog (from /readyz) at its highest, sampled 4 times a second."""
        client = JsonClient()
        try:
            while True:
                try:
                    body = client.get(server.url + "/readyz").body
                except HttpError:
                    body = None
                if isinstance(body, dict):
                    backlog = int(body.get("backlog") or 0)
                    self._backlog_peak = max(self._backlog_peak, backlog)
                gevent.sleep(0.25)
        finally:  # killed when the run ends
            client.close()

    def _progress(self, samples: Samples, started: float) -> None:
        while True:
            gevent.sleep(1.0)
            elapsed = time.perf_counter() - started
            self.say(f"  {elapsed:5.1f}s  sent {samples.sent:7d}  replies {samples.received:7d}"
                     f"  lost {samples.lost}")

    # The run -----------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        pin(os.getpid(), 1)
        # This process is the instrument: its own full collections (walking the
        # simulator's growing records) stalled every delivery for up to 175 ms
        # every ~2.5 s, and those stalls were counted as the server's latency.
        # As timeit does, the cyclic collector is off while it measures.
        gc.collect()
        gc.disable()
        clean = False
        try:
            result = self._run()
            clean = not any(n for n in result["losses"].values()) and not result.get("errors")
            return result
        finally:
            gc.enable()
            if affinity is not None:
                os.sched_setaffinity(0, affinity)
            if clean:  # the servers' logs and Redis files are only worth keeping after trouble
                shutil.rmtree(self.workdir, ignore_errors=True)
            else:
                log.warning("the servers' logs are kept in %s", self.workdir)

    def _run(self) -> dict[str, Any]:
        o = self.o
        redis = None
        redis_url = o.redis_url
        if not redis_url:
            redis = EmbeddedRedis(self.workdir / "redis", appendonly=False).start()
            pin(redis._process.pid, o.redis_core)  # type: ignore[union-attr]
            redis_url = redis.url
        sim_http = start_server(make_imsim_app(self.sim))
        server = self._start_server(redis_url, sim_http.url)
        people = People(self.sim, o.think)
        people.servicers = {f"s{i:03d}" for i in range(o.servicers)}
        backlog_watch = gevent.spawn(self._watch_backlog, server)
        try:
            for servicer in sorted(people.servicers):
                self.sim.deliver(servicer, ROBOT, wire_text("/on"))
            cpu_before = process_stats(server.proc.pid)["cpu_secs"]
            wall_before = time.perf_counter()
            if o.sessions_only:
                self.result["sessions_only"] = self.sessions_only(people, server)
            elif o.robot_limit_customers:
                self.result["robot_limit"] = robot_limit_scenario(
                    people, o.robot_limit_customers, min(o.servicers, 10),
                    o.im_rate_limit, o.wait, self.say)
            else:
                rate = o.rate
                if o.saturate_secs > 0:
                    self.result.update(ShareRounds(
                        people, server, self.workdir, self.say, ceiling_secs=o.ceiling_secs,
                        saturate_secs=o.saturate_secs, rounds=o.rounds, wait=o.wait,
                        half_secs=o.half_secs).run())
                    saturation = float(self.result["saturation_answers_per_sec"])
                    if o.half_secs > 0:  # half of what the real pattern (5 in flight) takes
                        self.result["half_load"] = half_load(
                            people, float(self.result["saturation_5_answers_per_sec"]),
                            o.half_secs, o.wait, self.say)
                    if rate <= 0:  # half the measured load, spread over the customers
                        per_customer_msgs = 2 + o.questions + o.human_share * (
                            1 + 2 * o.human_messages)
                        rate = max(0.05, 0.5 * saturation * (o.duration * 0.6)
                                   / (o.customers * per_customer_msgs) / 1.0)
                rate = rate if rate > 0 else 1.0
                self.say(f"scenario: {o.customers} customers, {rate:.2f} msg/s each, "
                         f"{o.human_share:.0%} ask for a person")
                before = process_stats(server.proc.pid)["cpu_secs"]
                self.result["scenario"] = self.scenario(people, rate)
                self._scenario_cpu = process_stats(server.proc.pid)["cpu_secs"] - before
                self.result["scenario"]["plot_points"] = len(people.samples.latencies)
            stats = process_stats(server.proc.pid)
            wall = time.perf_counter() - wall_before
            cpu = stats["cpu_secs"] - cpu_before
            self.result["server"] = {"peak_rss_mb": round(stats["peak_rss_mb"], 1),
                                     "cpu_secs": round(cpu, 2),
                                     "cpu_percent": round(100 * cpu / wall, 1),
                                     "outbox_backlog_peak": self._backlog_peak}
            scenario = self.result.get("scenario")
            if scenario and scenario["replies_received"]:
                # Cost per message over the scenario alone (the saturation phase has
                # its own CPU reading): the number to compare across sizes.
                self.result["server"]["cpu_ms_per_reply"] = round(
                    1000 * self._scenario_cpu / scenario["replies_received"], 3)
            errors = Counter({k: v for k, v in self.sim.stats.items()
                              if (k.startswith("robot_send_code_") and k != "robot_send_code_0")
                              or k.startswith("callback_http_") and k != "callback_http_200"
                              or k == "callback_failed"})
            self.result["errors"] = dict(errors)
            if o.plot and "scenario" in self.result:
                self.say(plot(people.samples, o.plot))
        finally:
            backlog_watch.kill()
            server.stop()
            sim_http.stop()
            if redis is not None:
                redis.stop()
        self.result["losses"] = losses(self.result)
        if any(self.result["losses"].values()) or self.result.get("errors"):
            self.result["logs_kept_in"] = str(self.workdir)  # the servers' logs and Redis
        Path(o.output).write_text(json.dumps(self.result, indent=2))
        return self.result


def losses(result: dict[str, Any]) -> dict[str, int]:
    """Every phase's lost count, by phase (and lost callbacks of the ceiling)."""
    found: dict[str, int] = {}
    for name in ("scenario", "sessions_only", "half_load", "half_load_bare", "robot_limit"):
        part = result.get(name)
        if isinstance(part, dict):
            found[name] = int(part.get("lost") or 0)
            if name == "robot_limit":
                found["robot_limit_shadow"] = int(part.get("shadow_lost") or 0)
    for key, value in result.items():
        if key.endswith("_lost") and isinstance(value, int):
            found[key[:-len("_lost")]] = value
    return found
