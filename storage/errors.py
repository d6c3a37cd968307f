"""The project's exception tree, rooted here because storage is the lowest layer.

Every layer above may import from ``storage`` (arrows go transport -> actors
-> storage), so the root class lives where all of them can reach it without
an import running backwards. Like Zulip's ``JsonableError`` and redis-py's
``RedisError``, each error carries a stable ``code`` (for JSON answers and
logs) and the HTTP status the edge answers with.
"""

from __future__ import annotations


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
