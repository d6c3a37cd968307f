"""The project's exception tree, rooted here because storage is the lowest layer.

Every layer above may import from ``storage`` (arrows go transport -> actors
-> storage), so the root class lives where all of them can reach it without
an import running backwards. Like Zulip's ``JsonableError`` and redis-py's
``RedisError``, each error carries a stable ``code`` (for JSON answers and
logs) and the HTTP status the edge answers with.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import redis


class CsError(Exception):
    """Root of every error wildfire-cs raises on purpose."""

    code: str = "internal_error"
    http_status: int = 500


class StorageError(CsError):
    """Redis is unreachable, too slow, or refused a command.

    Always raised ``from`` the redis-py error (or the batcher's own reason),
    so a log shows what Redis said; callers need not import redis.
    """

    code = "storage_unavailable"
    http_status = 503


P = ParamSpec("P")
R = TypeVar("R")


def from_redis(method: Callable[P, R]) -> Callable[P, R]:
    """Raise StorageError from whatever redis-py raised (for Store methods)."""

    @functools.wraps(method)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            raise StorageError(f"{method.__name__}: {exc}") from exc

    return translated
