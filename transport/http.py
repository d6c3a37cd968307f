"""One HTTP client for every outbound JSON call, with bounded time-outs."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import urllib3

CONNECT_TIMEOUT_SECS = 2.0
READ_TIMEOUT_SECS = 5.0


class JsonResponse(NamedTuple):
    status: int
    body: Any  # parsed JSON, or None if the body was not JSON


class HttpError(Exception):
    """The request did not get an HTTP answer (connection refused, time-out)."""


class JsonClient:
    """A pooled client; under gevent each request yields to other greenlets."""

    def __init__(self, maxsize: int = 64, read_timeout: float = READ_TIMEOUT_SECS) -> None:
        self._pool = urllib3.PoolManager(
            maxsize=maxsize, block=True, retries=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECS, read=read_timeout))

    def post(self, url: str, body: Any, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> JsonResponse:
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return self._request("POST", url, data, all_headers)

    def get(self, url: str, headers: dict[str, str] | None = None) -> JsonResponse:
        return self._request("GET", url, None, headers or {})

    def _request(self, method: str, url: str, data: bytes | None,
                 headers: dict[str, str]) -> JsonResponse:
        try:
            response = self._pool.request(method, url, body=data, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise HttpError(f"{method} {url}: {exc.__class__.__name__}") from None
        try:
            parsed = json.loads(response.data) if response.data else None
        except ValueError:
            parsed = None
        return JsonResponse(response.status, parsed)

    def close(self) -> None:
        self._pool.clear()
