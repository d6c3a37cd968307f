"""Calls made on a Redis before a server runs: is it there, and a demo's reset.

Kept apart from the Store, which is the running server's; these run once, at
start-up, from ``run.py``.
"""

from __future__ import annotations

import redis

from storage.codec import text
from storage.keys import Keys

CHECK_TIMEOUT_SECS = 3.0


class RedisUnreachable(RuntimeError):
    """Redis did not answer a PING; the message names the URL and why."""


def check_reachable(url: str) -> None:
    """Raise RedisUnreachable unless ``url`` answers a PING within a few seconds.

    Checked before anything else starts, so that a wrong ``--redis-url`` is one
    line at start-up rather than a traceback from the first session restored.
    """
    try:
        client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECS,
                                      socket_connect_timeout=CHECK_TIMEOUT_SECS)
    except ValueError as exc:  # not a redis:// URL
        raise RedisUnreachable(f"bad Redis URL {url!r}: {exc}") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RedisUnreachable(f"Redis at {url} does not answer: {exc}") from None
    finally:
        client.close()


def forget_live_state(url: str, prefix: str) -> int:
    """Delete what a restarted server would restore: open sessions, the pool
    (who is on duty, who serves whom), the Shadow map and both journals.

    History, ratings, statistics and recent sessions stay. ``run.py demo
    --keep-data`` uses it: its IM simulator starts empty each run, so a
    restored session's Shadow would be unknown there (code 253) and a
    restored seat would route a customer to the last run's servicer.

    Returns:
        how many keys were deleted.
    """
    keys = Keys(prefix)
    client = redis.Redis.from_url(url)
    try:
        customers = [text(c) for c in client.smembers(keys.open_sessions)]
        doomed = [keys.open_sessions, keys.pool, keys.shadows, keys.inbound, keys.outbound,
                  *(keys.session(c) for c in customers)]
        return int(client.delete(*doomed))
    finally:
        client.close()
