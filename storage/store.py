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

from storage.batch import ScriptBatcher
from storage.keys import (
    HISTORY_MAX_ENTRIES,
    RATINGS_KEPT,
    RECENT_SESSIONS_KEPT,
    SEEN_TTL_SECS,
    Keys,
)

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


# One Packer for the process: msgpack.packb builds a new one (and its buffer)
# per call, a fifth of a small record's cost. pack() runs in C without
# yielding, so greenlets cannot interleave inside it.
_PACKER = msgpack.Packer(use_bin_type=True)


def pack(value: Any) -> bytes:
    packed: bytes = _PACKER.pack(value)
    return packed


def unpack(data: Any) -> Any:
    """Decode what redis-py returned (bytes: we never set decode_responses)."""
    return msgpack.unpackb(data, raw=False)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Accept a callback once: remember its messageId, then journal it, atomically.
_ACCEPT_INBOUND = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""

# A session's whole change in one command (measured: a MULTI of eight
# commands cost redis-py more CPU than the rest of a bot answer together).
# KEYS: session, open set, history, outbound, inbound, then one hash per counter.
_COMMIT = """
local i = 1
if ARGV[1] == 'save' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
else
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[3])
end
local keep = tonumber(ARGV[4])
i = 5
local n = tonumber(ARGV[i]); i = i + 1
if n > 0 then
  if redis.call('RPUSH', KEYS[3], unpack(ARGV, i, i + n - 1)) > keep then
    redis.call('LTRIM', KEYS[3], -keep, -1)
  end
  i = i + n
end
n = tonumber(ARGV[i]); i = i + 1
if n > 0 then redis.call('HSET', KEYS[4], unpack(ARGV, i, i + 2 * n - 1)); i = i + 2 * n end
n = tonumber(ARGV[i]); i = i + 1
if n > 0 then redis.call('HDEL', KEYS[5], unpack(ARGV, i, i + n - 1)); i = i + n end
n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do
  redis.call('HINCRBY', KEYS[5 + k], ARGV[i], ARGV[i + 1]); i = i + 2
end
return 1
"""

# Journal entries leave in batches (delivered messages, one per ~64
# deliveries); through the batcher they share round trips with the journal and
# commit calls instead of taking a pooled connection of their own.
_FORGET = "return redis.call('HDEL', KEYS[1], unpack(ARGV))"
FORGET_CHUNK = 1000  # Lua's unpack stops at ~8,000 values; a Redis outage can pile up more

READ_CHUNK = 1000


class Store:
    """The one place that knows how wildfire-cs state sits in Redis."""

    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._batcher = ScriptBatcher(client, wait_timeout=2 * SOCKET_TIMEOUT_SECS)
        self._accept = self._batcher.register(_ACCEPT_INBOUND)
        self._commit_alone = self._batcher.register(_COMMIT)
        self._forget = self._batcher.register(_FORGET)
        self._commit = client.register_script(_COMMIT)  # inside a transaction

    def batching(self) -> tuple[int, int]:
        """(round trips, script calls) of the grouped journal and commit calls."""
        return self._batcher.round_trips, self._batcher.calls

    def ping(self) -> bool:
        return bool(self.client.ping())

    # Sessions -----------------------------------------------------------

    def commit(self, customer_id: str, snapshot: Mapping[str, Any] | None,
               history: Iterable[Mapping[str, Any]] = (),
               outbound: Iterable[tuple[str, Any]] = (), handled: Iterable[int] = (),
               stats: Iterable[tuple[str, str, int]] = (),
               ratings: Iterable[Mapping[str, Any]] = (),
               answer_stats: Iterable[tuple[str, str]] = (),
               ended: Iterable[Mapping[str, Any]] = ()) -> None:
        """Everything one session message changed, in one transaction.

        Args:
            snapshot: the session's snapshot, or None when it closed.
            history: new history entries.
            outbound: (token, record) of messages to send, journaled until confirmed.
            handled: message ids of callbacks this change dealt with.
            stats: (servicer id, counter, increment) for servicer statistics.
            ratings: ratings to keep, each with ``servicer`` and ``session`` ids.
            answer_stats: (knowledge entry id, counter) to count one more of.
            ended: summaries of sessions that ended, for the dashboard.
        """
        counters = [(self.keys.stats(servicer_id), counter, increment)
                    for servicer_id, counter, increment in stats]
        counters += [(self.keys.answers, f"{entry_id}:{counter}", 1)
                     for entry_id, counter in answer_stats]
        entries = [pack(dict(e)) for e in history]
        records = [(token, pack(record)) for token, record in outbound]
        done = [str(m) for m in handled]
        args: list[Any] = ["save" if snapshot is not None else "close",
                           pack(dict(snapshot)) if snapshot is not None else b"",
                           customer_id, HISTORY_MAX_ENTRIES, len(entries), *entries,
                           len(records), *(x for pair in records for x in pair),
                           len(done), *done, len(counters)]
        for _, field, increment in counters:
            args += [field, increment]
        keys = [self.keys.session(customer_id), self.keys.open_sessions,
                self.keys.history(customer_id), self.keys.outbound, self.keys.inbound,
                *(key for key, _, _ in counters)]
        ratings, ended = list(ratings), list(ended)
        if not ratings and not ended:
            self._batcher.call(self._commit_alone, keys, args)
            return
        # Once per session at most: worth a transaction of its own.
        pipe = self.client.pipeline(transaction=True)
        self._commit(keys=keys, args=args, client=pipe)
        for summary in ended:
            pipe.lpush(self.keys.recent_sessions, pack(dict(summary)))
            pipe.ltrim(self.keys.recent_sessions, 0, RECENT_SESSIONS_KEPT - 1)
        for rating in ratings:
            packed = pack(dict(rating))
            pipe.set(self.keys.rating(str(rating["session"])), packed)
            pipe.rpush(self.keys.ratings(str(rating["servicer"])), packed)
            pipe.ltrim(self.keys.ratings(str(rating["servicer"])), -RATINGS_KEPT, -1)
        pipe.execute()

    def load_session(self, customer_id: str) -> dict[str, Any] | None:
        data = self.client.get(self.keys.session(customer_id))
        return None if data is None else dict(unpack(data))

    def open_session_ids(self) -> list[str]:
        return sorted(_text(m) for m in self.client.smembers(self.keys.open_sessions))

    def load_open_sessions(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every readable open-session snapshot; unreadable ones are logged and skipped."""
        ids = self.open_session_ids()
        for start in range(0, len(ids), READ_CHUNK):
            chunk = ids[start:start + READ_CHUNK]
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

    def accept_inbound(self, message_id: int, record: Any) -> bool:
        """Journal a callback unless its messageId was seen recently.

        Returns:
            False for a repeat (nothing was written).
        """
        result = self._batcher.call(self._accept, [self.keys.seen(message_id), self.keys.inbound],
                                    [SEEN_TTL_SECS, str(message_id), pack(record)])
        return bool(result)

    def forget_inbound(self, message_ids: Iterable[int]) -> None:
        self._forget_fields(self.keys.inbound, [str(m) for m in message_ids])

    def pending_inbound(self) -> list[tuple[int, Any]]:
        """Accepted callbacks not yet handled, in messageId (arrival) order."""
        entries = self._read_journal(self.keys.inbound)
        return sorted(((int(k), v) for k, v in entries), key=lambda e: e[0])

    def journal_outbound(self, items: Iterable[tuple[str, Any]]) -> None:
        records = {token: pack(record) for token, record in items}
        if records:
            self.client.hset(self.keys.outbound, mapping=records)  # type: ignore[arg-type]

    def confirm_outbound(self, tokens: Iterable[str]) -> None:
        self._forget_fields(self.keys.outbound, list(tokens))

    def _forget_fields(self, key: str, fields: list[str]) -> None:
        """Drop journal entries, in chunks Lua can unpack."""
        for start in range(0, len(fields), FORGET_CHUNK):
            self._batcher.call(self._forget, [key], fields[start:start + FORGET_CHUNK])

    def pending_outbound(self) -> list[tuple[str, Any]]:
        """Messages not yet confirmed by the IM server, in token order."""
        return sorted(self._read_journal(self.keys.outbound), key=lambda e: e[0])

    def _read_journal(self, key: str) -> list[tuple[str, Any]]:
        entries = []
        for field, data in self.client.hscan_iter(key, count=READ_CHUNK):
            try:
                entries.append((_text(field), unpack(data)))
            except (ValueError, TypeError, msgpack.UnpackException):
                log.exception("unreadable journal entry %r in %s; skipped", field, key)
        return entries

    def journal_sizes(self) -> tuple[int, int]:
        """(inbound, outbound) entries waiting."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hlen(self.keys.inbound)
        pipe.hlen(self.keys.outbound)
        inbound, outbound = pipe.execute()
        return int(inbound), int(outbound)

    # History ------------------------------------------------------------

    def history(self, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` entries, oldest first."""
        if limit <= 0:
            return []
        raw = self.client.lrange(self.keys.history(customer_id), -limit, -1)
        return [dict(unpack(r)) for r in raw]

    def history_page(self, customer_id: str, limit: int, before_ms: int | None = None,
                     after_ms: int | None = None, newest_first: bool = True
                     ) -> list[dict[str, Any]]:
        """Up to ``limit`` entries strictly between ``after_ms`` and ``before_ms``.

        The list is capped at HISTORY_MAX_ENTRIES, so reading it whole is bounded.
        """
        entries = self.history(customer_id, HISTORY_MAX_ENTRIES)
        picked = [e for e in entries
                  if (before_ms is None or int(e.get("t", 0)) < before_ms)
                  and (after_ms is None or int(e.get("t", 0)) > after_ms)]
        if newest_first:
            return picked[::-1][:limit]
        if before_ms is not None and after_ms is None:
            return picked[-limit:]  # the page just before the cursor
        return picked[:limit]

    def first_use_of_nonce(self, nonce: str, ttl_secs: int) -> bool:
        """True the first time a nonce is seen within ``ttl_secs`` (a replay cache)."""
        return bool(self.client.set(self.keys.nonce(nonce), b"1", nx=True, ex=ttl_secs))

    # Servicer statistics and ratings ---------------------------------------

    def servicer_stats(self, servicer_id: str) -> dict[str, int]:
        raw = self.client.hgetall(self.keys.stats(servicer_id))
        return {_text(k): int(v) for k, v in raw.items()}

    def answer_stats(self) -> dict[str, dict[str, int]]:
        """Entry id -> {counter: count} for the auto-reply's answers."""
        stats: dict[str, dict[str, int]] = {}
        for field, value in self.client.hgetall(self.keys.answers).items():
            entry_id, _, counter = _text(field).rpartition(":")
            stats.setdefault(entry_id, {})[counter] = int(value)
        return stats

    def recent_sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        """Summaries of the sessions that ended last, newest first."""
        return [dict(unpack(r)) for r in self.client.lrange(self.keys.recent_sessions, 0,
                                                              limit - 1)]

    def ratings(self, servicer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        raw = self.client.lrange(self.keys.ratings(servicer_id), -limit, -1)
        return [dict(unpack(r)) for r in raw]

    def rating(self, session_id: str) -> dict[str, Any] | None:
        data = self.client.get(self.keys.rating(session_id))
        return None if data is None else dict(unpack(data))

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

    def remember_servicer(self, customer_id: str, servicer_id: str) -> None:
        self.client.hset(self.keys.last_servicer, customer_id, servicer_id)

    def last_servicers(self, limit: int) -> dict[str, str]:
        """Up to ``limit`` customers' last servicers."""
        found: dict[str, str] = {}
        for customer, servicer in self.client.hscan_iter(self.keys.last_servicer,
                                                         count=READ_CHUNK):
            found[_text(customer)] = _text(servicer)
            if len(found) >= limit:
                break
        return found

    def load_pool(self) -> dict[str, Any] | None:
        data = self.client.get(self.keys.pool)
        return None if data is None else dict(unpack(data))

    def set_aside(self, key: str, field: str | None, value: Any, reason: str) -> None:
        """Move a record that cannot be read out of the way, for inspection."""
        record = pack({"key": key, "field": field, "value": value, "reason": reason})
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(f"{self.keys.prefix}:bad", f"{key}|{field or ''}", record)
        if field is None:
            pipe.delete(key)
            if key.startswith(f"{self.keys.prefix}:session:"):
                pipe.srem(self.keys.open_sessions, key.rsplit(":", 1)[1])
        else:
            pipe.hdel(key, field)
        pipe.execute()

    def delete_all(self) -> None:
        """Remove every key under this prefix (tests and `run.py reset`)."""
        for key in self.client.scan_iter(match=f"{self.keys.prefix}:*", count=1000):
            self.client.delete(key)
