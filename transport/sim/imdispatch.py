"""How the IM server posts robot callbacks: OkHttp's default dispatcher.

im-server posts every callback with one ``new OkHttpClient()`` and
``enqueue(...)`` (broker/.../HttpUtils.java), so OkHttp's defaults decide
the pace: one FIFO of waiting calls for the whole server; a call starts when
fewer than 64 calls run in all and fewer than 5 run to its host (calls to a
full host are skipped, not blocking those behind them); 10 s connect, read
and write time-outs; no retry by the application, whatever the answer. Only
OkHttp's ``retryOnConnectionFailure`` may send a POST again: on a pooled
connection found dead (the Http1Pool below does the same), or after the
request went out and the connection failed before the answer, in which case
the receiver sees it twice. The ``repeat`` fault plays that second case.

So a CS server behind a real IM server has at most 5 callbacks in flight;
two messages of one customer may arrive in either order; the rate it can be
pushed is about 5 / (time to answer a callback).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

import gevent

from transport.http.http1 import Http1Error, Http1Pool

MAX_REQUESTS = 64  # OkHttp Dispatcher.maxRequests
MAX_REQUESTS_PER_HOST = 5  # OkHttp Dispatcher.maxRequestsPerHost
TIMEOUT_SECS = 10.0  # OkHttp's default connect, read and write time-outs

Done = Callable[["CallResult"], None]


class CallResult(NamedTuple):
    """One callback's fate. ``status`` 0: no HTTP answer (refused, timed out)."""

    status: int
    queued_secs: float  # from enqueue to the start of the POST
    answer_secs: float  # from the start of the POST to its answer: the time to 200
    posts: int  # 2 when the repeat fault sent it twice


class _Call(NamedTuple):
    seq: int
    host: str
    url: str
    body: bytes
    done: Done | None
    queued_at: float


class CallbackDispatcher:
    """The IM server's callback queue; greenlet-only, so no locks.

    ``max_per_host`` and ``max_requests`` may be changed between phases of a
    load test (64 per host measures what our server takes without the IM
    server's limit).
    """

    def __init__(self, *, max_requests: int = MAX_REQUESTS,
                 max_per_host: int = MAX_REQUESTS_PER_HOST,
                 timeout_secs: float = TIMEOUT_SECS) -> None:
        self.max_requests = max_requests
        self.max_per_host = max_per_host
        self._timeout = timeout_secs
        # One FIFO, kept as a queue per host with a global sequence number:
        # the oldest call whose host has room is the one OkHttp's scan of its
        # single queue would start, without rescanning thousands of waiting
        # calls for a full host after every answer.
        self._waiting: dict[str, deque[_Call]] = {}
        self._seq = 0
        self._running = 0
        self._running_per_host: Counter[str] = Counter()
        self._pools: dict[tuple[str, int], Http1Pool] = {}
        self.most_per_host: Counter[str] = Counter()  # the most ever in flight to each host
        self.repeat = 0  # fault: the next ``repeat`` calls are each POSTed twice
        self.posted = 0
        self.failed = 0

    def enqueue(self, url: str, body: bytes, done: Done | None = None) -> None:
        """Queue one POST of ``body`` (JSON) to ``url``; ``done`` hears its result."""
        host = urlsplit(url).hostname or ""  # OkHttp counts by host name, not port
        self._seq += 1
        call = _Call(self._seq, host, url, body, done, time.perf_counter())
        self._waiting.setdefault(host, deque()).append(call)
        self._promote()

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def in_flight(self) -> int:
        return self._running

    def _promote(self) -> None:
        while self._running < self.max_requests:
            best: deque[_Call] | None = None
            for host, queue in self._waiting.items():
                if self._running_per_host[host] < self.max_per_host and (
                        best is None or queue[0].seq < best[0].seq):
                    best = queue
            if best is None:
                return
            call = best.popleft()
            if not best:
                del self._waiting[call.host]
            self._running += 1
            self._running_per_host[call.host] += 1
            self.most_per_host[call.host] = max(self.most_per_host[call.host],
                                                self._running_per_host[call.host])
            gevent.spawn(self._execute, call)

    def _execute(self, call: _Call) -> None:
        started = time.perf_counter()
        posts = 1
        try:
            status = self._post(call.url, call.body)
            if self.repeat > 0:
                self.repeat -= 1
                posts = 2
                status = self._post(call.url, call.body)
        finally:
            self._running -= 1
            self._running_per_host[call.host] -= 1
        try:
            if call.done is not None:
                call.done(CallResult(status, started - call.queued_at,
                                     time.perf_counter() - started, posts))
        finally:  # a watcher's error must not stall the queue
            self._promote()

    def _post(self, url: str, body: bytes) -> int:
        parts = urlsplit(url)
        key = (parts.hostname or "", parts.port or 80)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = Http1Pool(key[0], key[1], MAX_REQUESTS,
                                                self._timeout, self._timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.posted += 1
        try:
            return pool.request("POST", path, body,
                                {"Content-Type": "application/json; charset=utf-8"}).status
        except (Http1Error, ValueError):
            self.failed += 1
            return 0

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
