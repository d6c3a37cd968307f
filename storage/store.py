"""Snapshots, chat history and the shadow map, in Redis, encoded with msgpack.

Each public method is one round trip (a pipeline where it writes several
keys), so a session's state change costs one network hop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgpack
import redis

from storage.keys import HISTORY_MAX_ENTRIES, SEEN_TTL_SECS, Keys

log = logging.getLogger(__name__)

StorageError = redis.RedisError
"""What every Store method may raise when Redis is unreachable or refuses."""

# Redis calls from actors must be bounded (STYLE: any I/O an actor does is
# bounded by a timeout); a local Redis answers in well under a millisecond.
SOCKET_TIMEOUT_SECS = 2.0
MAX_CONNECTIONS = 64


def connect(url: str) -> redis.Redis:
    """A client whose pool blocks (bounded) rather than opening unbounded sockets."""
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=SOCKET_TIMEOUT_SECS,
        socket_timeout=SOCKET_TIMEOUT_SECS, socket_connect_timeout=SOCKET_TIMEOUT_SECS)
    return redis.Redis(connection_pool=pool)


def pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def unpack(data: Any) -> Any:
    """Decode what redis-py returned (bytes: we never set decode_responses)."""
    return msgpack.unpackb(data, raw=False)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Accept a callback once: remember its messageId, then journal it, atomically.
_ACCEPT_INBOUND = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', 'm', ARGV[2])
end
return false
"""

JOURNAL_READ_CHUNK = 1000


class Store:
    """The one place that knows how wildfire-cs state sits in Redis."""

    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._accept = client.register_script(_ACCEPT_INBOUND)

    def ping(self) -> bool:
        return bool(self.client.ping())

    # Sessions -----------------------------------------------------------

    def save_session(self, customer_id: str, snapshot: Mapping[str, Any],
                     history: Iterable[Mapping[str, Any]] = ()) -> None:
        self.commit(customer_id, snapshot, history)

    def close_session(self, customer_id: str,
                      history: Iterable[Mapping[str, Any]] = ()) -> None:
        self.commit(customer_id, None, history)

    def commit(self, customer_id: str, snapshot: Mapping[str, Any] | None,
               history: Iterable[Mapping[str, Any]] = (),
               outbound: Iterable[Any] = (), handled: Iterable[str] = ()) -> list[str]:
        """Everything one session message changed, in one transaction.

        Args:
            snapshot: the session's snapshot, or None when it closed.
            history: new history entries.
            outbound: records of messages to send; journaled until confirmed.
            handled: inbound journal ids this change has dealt with.

        Returns:
            the outbound journal ids, in the order of ``outbound``.
        """
        pipe = self.client.pipeline(transaction=True)
        if snapshot is None:
            pipe.delete(self.keys.session(customer_id))
            pipe.srem(self.keys.open_sessions, customer_id)
        else:
            pipe.set(self.keys.session(customer_id), pack(dict(snapshot)))
            pipe.sadd(self.keys.open_sessions, customer_id)
        self._push_history(pipe, customer_id, history)
        first = len(pipe.command_stack)
        records = list(outbound)
        for record in records:
            pipe.xadd(self.keys.outbound, {"m": pack(record)})
        handled_ids = list(handled)
        if handled_ids:
            pipe.xdel(self.keys.inbound, *handled_ids)
        results = pipe.execute()
        return [_text(r) for r in results[first:first + len(records)]]

    def load_session(self, customer_id: str) -> dict[str, Any] | None:
        data = self.client.get(self.keys.session(customer_id))
        return None if data is None else dict(unpack(data))

    def open_session_ids(self) -> list[str]:
        return sorted(_text(m) for m in self.client.smembers(self.keys.open_sessions))

    def load_open_sessions(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every readable open-session snapshot; unreadable ones are logged and skipped."""
        ids = self.open_session_ids()
        for start in range(0, len(ids), JOURNAL_READ_CHUNK):
            chunk = ids[start:start + JOURNAL_READ_CHUNK]
            values = self.client.mget([self.keys.session(c) for c in chunk])
            for customer_id, data in zip(chunk, values, strict=True):
                if data is None:
                    continue
                try:
                    yield customer_id, dict(unpack(data))
                except (ValueError, TypeError, msgpack.UnpackException):
                    log.exception("unreadable session snapshot %s; skipped",
                                  self.keys.session(customer_id))

    # Journals: inbound callbacks and outbound messages ----------------------

    def accept_inbound(self, message_id: int, record: Any) -> str | None:
        """Journal a callback unless its messageId was seen recently.

        Returns:
            the journal id, or None for a repeat.
        """
        result = self._accept(keys=[self.keys.seen(message_id), self.keys.inbound],
                              args=[SEEN_TTL_SECS, pack(record)])
        return None if result is None else _text(result)

    def journal_outbound(self, records: Iterable[Any]) -> list[str]:
        pipe = self.client.pipeline(transaction=False)
        for record in records:
            pipe.xadd(self.keys.outbound, {"m": pack(record)})
        return [_text(r) for r in pipe.execute()]

    def confirm_outbound(self, journal_ids: Iterable[str]) -> None:
        ids = list(journal_ids)
        if ids:
            self.client.xdel(self.keys.outbound, *ids)

    def forget_inbound(self, journal_ids: Iterable[str]) -> None:
        ids = list(journal_ids)
        if ids:
            self.client.xdel(self.keys.inbound, *ids)

    def pending_inbound(self) -> Iterator[tuple[str, Any]]:
        """Accepted callbacks not yet handled, oldest first."""
        return self._read_journal(self.keys.inbound)

    def pending_outbound(self) -> Iterator[tuple[str, Any]]:
        """Messages not yet confirmed by the IM server, oldest first."""
        return self._read_journal(self.keys.outbound)

    def _read_journal(self, key: str) -> Iterator[tuple[str, Any]]:
        start = "-"
        while True:
            entries: list[Any] = self.client.xrange(key, min=start,
                                                    count=JOURNAL_READ_CHUNK) or []
            for entry_id, fields in entries:
                try:
                    yield _text(entry_id), unpack(fields[b"m"])
                except (KeyError, ValueError, TypeError, msgpack.UnpackException):
                    log.exception("unreadable journal entry %s in %s; skipped",
                                  entry_id, key)
            if len(entries) < JOURNAL_READ_CHUNK:
                return
            start = "(" + _text(entries[-1][0])

    def journal_sizes(self) -> tuple[int, int]:
        """(inbound, outbound) entries waiting."""
        pipe = self.client.pipeline(transaction=False)
        pipe.xlen(self.keys.inbound)
        pipe.xlen(self.keys.outbound)
        inbound, outbound = pipe.execute()
        return int(inbound), int(outbound)

    # History ------------------------------------------------------------

    def append_history(self, customer_id: str,
                       entries: Iterable[Mapping[str, Any]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        if self._push_history(pipe, customer_id, entries):
            pipe.execute()

    def _push_history(self, pipe: Any, customer_id: str,
                      entries: Iterable[Mapping[str, Any]]) -> bool:
        packed = [pack(dict(e)) for e in entries]
        if not packed:
            return False
        key = self.keys.history(customer_id)
        pipe.rpush(key, *packed)
        pipe.ltrim(key, -HISTORY_MAX_ENTRIES, -1)
        return True

    def history(self, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` entries, oldest first."""
        if limit <= 0:
            return []
        raw = self.client.lrange(self.keys.history(customer_id), -limit, -1)
        return [dict(unpack(r)) for r in raw]

    # Shadows and the pool -----------------------------------------------

    def save_shadow(self, shadow_id: str, customer_id: str) -> None:
        self.client.hset(self.keys.shadows, shadow_id, pack({"customer": customer_id}))

    def load_shadows(self) -> dict[str, str]:
        """Shadow id -> customer id."""
        shadows = {}
        for shadow_id, data in self.client.hgetall(self.keys.shadows).items():
            try:
                shadows[_text(shadow_id)] = str(unpack(data)["customer"])
            except (ValueError, TypeError, KeyError, msgpack.UnpackException):
                log.exception("unreadable shadow entry %r; skipped", shadow_id)
        return shadows

    def save_pool(self, snapshot: Mapping[str, Any]) -> None:
        self.client.set(self.keys.pool, pack(dict(snapshot)))

    def load_pool(self) -> dict[str, Any] | None:
        data = self.client.get(self.keys.pool)
        return None if data is None else dict(unpack(data))

    def delete_all(self) -> None:
        """Remove every key under this prefix (tests and `run.py reset`)."""
        for key in self.client.scan_iter(match=f"{self.keys.prefix}:*", count=1000):
            self.client.delete(key)
