"""Request signatures: WildfireChat's SHA-1 scheme and our App Server HMAC."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


def wildfire_sign(nonce: str, secret: str, timestamp: str) -> str:
    """The IM server's ``sign`` header: hex SHA-1 of ``nonce|secret|timestamp``."""
    return hashlib.sha1(f"{nonce}|{secret}|{timestamp}".encode()).hexdigest()


# Every bot answer is signed: one getrandom call per nonce was 1% of the CS
# server's CPU, so nonces are cut from one read of the OS's random source.
NONCES_PER_READ = 512
_nonces: list[str] = []


def fresh_nonce() -> str:
    """16 hex digits from the OS's cryptographic random source."""
    if not _nonces:
        digits = os.urandom(8 * NONCES_PER_READ).hex()
        _nonces.extend(digits[i:i + 16] for i in range(0, len(digits), 16))
    return _nonces.pop()


def wildfire_headers(secret: str, robot_id: str | None = None) -> dict[str, str]:
    """Fresh ``nonce``/``timestamp``/``sign`` (and ``rid`` for robot calls) headers."""
    nonce = fresh_nonce()
    timestamp = str(int(time.time() * 1000))
    headers = {"nonce": nonce, "timestamp": timestamp,
               "sign": wildfire_sign(nonce, secret, timestamp)}
    if robot_id is not None:
        headers["rid"] = robot_id
    return headers


def shadow_secret(robot_secret: str, shadow_id: str) -> str:
    """A Shadow's robot secret, derived so that no secret has to be stored.

    Whoever holds the CS Robot's secret can send as any of its Shadows, which
    is exactly the CS server's authority and nobody else's.
    """
    digest = hmac.new(robot_secret.encode(), f"shadow:{shadow_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
