"""One HTTP client for every outbound JSON call, with bounded time-outs.

Plain ``http://`` goes through our lean keep-alive client (transport/http/http1.py:
the robot API is called once per answer). ``https://`` goes through
geventhttpclient (maintained; Locust's client), which replaced urllib3: its
http.client e-mail header parser was a quarter of the CS server's CPU
(measured with cProfile under ``run.py loadtest``).
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import gevent
from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed

from storage import CsError
from transport.http import jsoncodec
from transport.http.http1 import Http1Error, Http1Pool

CONNECT_TIMEOUT_SECS = 2.0
READ_TIMEOUT_SECS = 5.0


class JsonResponse(NamedTuple):
    status: int
    body: Any  # parsed JSON, or None if the body was not JSON
    raw: bytes = b""


class HttpError(CsError):
    code = "upstream_unreachable"
    http_status = 502

    """The request did not get an HTTP answer (connection refused, time-out)."""


class JsonClient:
    """A pool of keep-alive connections per host; each request yields under gevent."""

    def __init__(self, maxsize: int = 64, read_timeout: float = READ_TIMEOUT_SECS) -> None:
        self._maxsize = maxsize
        self._read_timeout = read_timeout
        self._clients: dict[tuple[str, int, bool], HTTPClient] = {}
        self._pools: dict[tuple[str, int], Http1Pool] = {}

    def post(self, url: str, body: Any, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> JsonResponse:
        data = raw if raw is not None else jsoncodec.dumps(body)
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return self.request("POST", url, data, all_headers)

    def get(self, url: str, headers: dict[str, str] | None = None) -> JsonResponse:
        return self.request("GET", url, None, headers or {})

    def request(self, method: str, url: str, data: bytes | None,
                headers: dict[str, str]) -> JsonResponse:
        try:
            parts = _split(url)  # a bad port is a ValueError
        except ValueError:
            raise HttpError(f"{method} {url}: bad URL") from None
        try:
            if parts.scheme == "http":
                status, content = self._pool(parts.host, parts.port or 80).request(
                    method, parts.target, data or b"", headers)
            else:
                client = self._client(parts.scheme, parts.host, parts.port)
                response = client.request(method, parts.target, body=data or b"",
                                          headers=headers)
                content = response.read()
                status = int(response.status_code)
        except (OSError, socket.timeout, gevent.Timeout, HTTPConnectionClosed, ValueError,
                Http1Error) as exc:
            raise HttpError(f"{method} {parts.scheme}://{parts.netloc}{parts.path}: "
                            f"{exc.__class__.__name__}") from None
        try:
            parsed = jsoncodec.loads(content) if content else None
        except ValueError:
            parsed = None
        return JsonResponse(status, parsed, content)

    def _pool(self, host: str, port: int) -> Http1Pool:
        pool = self._pools.get((host, port))
        if pool is None:
            pool = self._pools[(host, port)] = Http1Pool(
                host, port, self._maxsize, CONNECT_TIMEOUT_SECS, self._read_timeout)
        return pool

    def _client(self, scheme: str, host: str, port: int | None) -> HTTPClient:
        ssl = scheme == "https"
        key = (host, port or (443 if ssl else 80), ssl)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = HTTPClient(
                key[0], key[1], ssl=ssl, concurrency=self._maxsize,
                connection_timeout=CONNECT_TIMEOUT_SECS, network_timeout=self._read_timeout)
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


class _Url(NamedTuple):
    scheme: str
    host: str
    port: int | None
    netloc: str
    path: str
    target: str  # path and query, as the request line carries them


@functools.lru_cache(maxsize=256)
def _split(url: str) -> _Url:
    """A server calls the same few URLs all day: each is split once."""
    parts = urlsplit(url)
    return _Url(parts.scheme, parts.hostname or "", parts.port, parts.netloc, parts.path,
                (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


class NotReady(Exception):
    """A server did not answer its health check: its process ended, or time ran out."""

    def __init__(self, url: str, exited: bool) -> None:
        super().__init__(f"{url} {'exited during start-up' if exited else 'did not come up'}")
        self.exited = exited


def wait_healthy(url: str, exited: Callable[[], bool], timeout_secs: float,
                 poll_secs: float = 0.05) -> None:
    """Return once ``url/healthz`` answers 200. A child process starting up
    gives no other sign of readiness, so this polls.

    Raises:
        NotReady: ``exited()`` turned true, or ``timeout_secs`` passed.
    """
    client = JsonClient()
    deadline = time.monotonic() + timeout_secs
    try:
        while True:
            try:
                if client.get(url + "/healthz").status == 200:
                    return
            except HttpError:
                pass
            if exited():
                raise NotReady(url, exited=True)
            if time.monotonic() > deadline:
                raise NotReady(url, exited=False)
            gevent.sleep(poll_secs)
    finally:
        client.close()  # its keep-alive connection would hold a server slot
