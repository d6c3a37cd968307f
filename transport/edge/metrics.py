"""``GET /metrics`` in the Prometheus text format (prometheus-client).

Counters and histograms are updated on the request path (transport/tallies.py:
plain integers, no locks); the state of the
actors (sessions by mode, queue, servicer load, outbox backlog) is asked for
when Prometheus scrapes, with a short time-out. Each app has its own
registry, so several servers can live in one test process.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import bottle
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from actors.call import ask
from actors.directory import Directory
from actors.durability.outbox import Delivery
from actors.messages import Outbound
from actors.pool import ServicerPool
from actors.system import CsActors
from storage import CsError, Store
from transport.edge.intake import Intake
from transport.edge.tallies import Tally, TallyCollector, Timings

log = logging.getLogger(__name__)

SCRAPE_ASK_SECS = 1.0
# Callback handling is sub-millisecond; delivery to the IM server a few ms.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

F = TypeVar("F", bound=Callable[..., Any])


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.callbacks = Tally("cs_callbacks", "IM callbacks by route and result",
                               ["route", "result"])
        self.callback_seconds = Timings("cs_callback_seconds", "Time to answer a callback",
                                        ["route"], FAST_BUCKETS)
        self.deliveries = Tally("cs_deliveries", "Sends to the IM robot API by outcome",
                                ["outcome"])
        self.delivery_seconds = Timings("cs_delivery_seconds", "Time of one robot API call",
                                        [], FAST_BUCKETS)
        self.registry.register(TallyCollector(self.callbacks, self.callback_seconds,
                                              self.deliveries, self.delivery_seconds))

        # Accepted callbacks per minute over the last hour, for the dashboard.
        self._minutes: deque[list[int]] = deque(maxlen=60)

    def count_minute(self) -> None:
        minute = int(time.time() // 60)
        if not self._minutes or self._minutes[-1][0] != minute:
            self._minutes.append([minute, 0])
        self._minutes[-1][1] += 1

    def traffic(self) -> list[list[int]]:
        """[[minute (epoch // 60), callbacks accepted], ...] for the last hour."""
        horizon = int(time.time() // 60) - 60
        return [list(m) for m in self._minutes if m[0] > horizon]

    def watch(self, actors: CsActors, intake: Intake, store: Store) -> None:
        self.registry.register(_StateCollector(actors, intake, store))

    def timed_callback(self, route: str) -> Callable[[F], F]:
        """Count and time a callback handler by its outcome."""

        seconds = self.callback_seconds.series(route)
        count = functools.partial(self.callbacks.add, route)

        def decorate(handler: F) -> F:
            @functools.wraps(handler)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                result = "error"
                try:
                    answer = handler(*args, **kwargs)
                    result = "duplicate" if answer.get("duplicate") else "accepted"
                    if result == "accepted":
                        self.count_minute()
                    return answer
                except CsError as exc:
                    result = f"refused_{exc.http_status}"
                    raise
                finally:
                    count(result)
                    seconds.observe(time.perf_counter() - started)

            return wrapper  # type: ignore[return-value]

        return decorate

    def timed_delivery(self, deliver: Callable[[Outbound], Delivery]
                       ) -> Callable[[Outbound], Delivery]:
        seconds = self.delivery_seconds.series()
        count = self.deliveries.add

        def timed(message: Outbound) -> Delivery:
            started = time.perf_counter()
            result = deliver(message)
            seconds.observe(time.perf_counter() - started)
            count("sent" if result.ok else ("retry" if result.retry else "rejected"))
            return result

        return timed

    def render(self) -> bytes:
        bottle.response.content_type = CONTENT_TYPE_LATEST
        return bytes(generate_latest(self.registry))


def sessions_by_mode(open_sessions: int, servicers: Iterable[dict[str, Any]],
                     queued: int) -> dict[str, int]:
    """Open sessions split by mode: seated ones are with a person, the rest with the bot
    (those being rated or asking for a seat count as the bot's)."""
    human = sum(s["load"] for s in servicers)
    return {"human": human, "queued": queued, "auto": max(0, open_sessions - human - queued)}


class _StateCollector(Collector):
    def __init__(self, actors: CsActors, intake: Intake, store: Store) -> None:
        self._actors = actors
        self._intake = intake
        self._store = store

    def collect(self) -> Iterator[Metric]:
        try:
            open_sessions = ask(self._actors.directory, Directory.session_count).get(
                timeout=SCRAPE_ASK_SECS)
            servicers = ask(self._actors.pool, ServicerPool.status).get(timeout=SCRAPE_ASK_SECS)
            queue = ask(self._actors.pool, ServicerPool.queue).get(timeout=SCRAPE_ASK_SECS)
            outbox = self._actors.outbox.stats()
        except Exception:
            log.warning("metrics: actors did not answer in time", exc_info=True)
            return
        restarts = CounterMetricFamily("cs_actor_restarts", "Long-lived actors restarted "
                                       "after they died", labels=["actor"])
        for actor, count in self._actors.restarts().items():
            restarts.add_metric([actor], count)
        yield restarts
        modes = GaugeMetricFamily("cs_sessions_open", "Open sessions by mode", labels=["mode"])
        for mode, count in sessions_by_mode(open_sessions, servicers.values(),
                                            len(queue)).items():
            modes.add_metric([mode], count)
        yield modes
        yield GaugeMetricFamily("cs_queue_length", "Customers waiting", value=len(queue))
        yield GaugeMetricFamily("cs_queue_longest_wait_seconds", "Longest current wait",
                                value=max((q["waited_secs"] for q in queue), default=0))
        load = GaugeMetricFamily("cs_servicer_load", "Open sessions per servicer",
                                 labels=["servicer", "status"])
        for servicer in servicers.values():
            load.add_metric([servicer["id"], servicer["status"]], servicer["load"])
        yield load
        yield GaugeMetricFamily("cs_outbox_backlog", "Messages not yet confirmed by the IM "
                                "server", value=outbox.backlog)
        yield GaugeMetricFamily("cs_messages_out", "Messages the IM server accepted",
                                value=outbox.sent)
        yield GaugeMetricFamily("cs_redis_errors", "Callbacks accepted while Redis failed",
                                value=self._intake.unjournaled)
        round_trips, scripts = self._store.batching()
        yield CounterMetricFamily("cs_redis_script_round_trips", "Round trips that ran the "
                                  "journal and commit scripts", value=round_trips)
        yield CounterMetricFamily("cs_redis_scripts", "Journal and commit scripts run "
                                  "(over round trips: how well calls were grouped)",
                                  value=scripts)
