"""The App Server's request signatures: an HMAC over the request, with a replay cache."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage import Store

HMAC_WINDOW_SECS = 300
HEADER_TIMESTAMP = "X-CS-Timestamp"
HEADER_NONCE = "X-CS-Nonce"
HEADER_SIGNATURE = "X-CS-Signature"


def hmac_signature(key: str, method: str, path: str, timestamp: str, nonce: str,
                   body: bytes) -> str:
    body_hash = hashlib.sha256(body).hexdigest()
    message = "\n".join([method.upper(), path, timestamp, nonce, body_hash])
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def hmac_headers(key: str, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(12)
    return {HEADER_TIMESTAMP: timestamp, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: hmac_signature(key, method, path, timestamp, nonce, body)}


class Nonces(Protocol):
    def first_use(self, nonce: str, now: float) -> bool: ...


class RedisNonces:
    """The replay cache in Redis: shared by every App Server process, kept across restarts."""

    def __init__(self, store: Store, window_secs: int = HMAC_WINDOW_SECS) -> None:
        self._store = store
        self._ttl = 2 * window_secs

    def first_use(self, nonce: str, now: float) -> bool:
        return self._store.first_use_of_nonce(nonce, self._ttl)


class NonceCache:
    """Nonces seen within the signature window, in memory (one process, no Redis)."""

    def __init__(self, window_secs: int = HMAC_WINDOW_SECS, max_entries: int = 100_000) -> None:
        self._window = window_secs
        self._max = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_use(self, nonce: str, now: float) -> bool:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= 2 * self._window and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def verify_hmac(key: str, method: str, path: str, headers: Mapping[str, str], body: bytes,
                nonces: Nonces, now: float | None = None) -> str | None:
    """None if the request is authentic and fresh, else the reason it is not."""
    now = time.time() if now is None else now
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    if not (timestamp and nonce and signature):
        return "missing signature headers"
    if len(nonce) > 64 or not nonce.isalnum():
        return "bad nonce"
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return "bad timestamp"
    if age > HMAC_WINDOW_SECS:
        return "timestamp outside the allowed window"
    expected = hmac_signature(key, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    if not nonces.first_use(nonce, now):
        return "nonce already used"
    return None
