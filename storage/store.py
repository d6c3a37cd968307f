"""Snapshots, chat history and the shadow map, in Redis, encoded with msgpack.

Each public method is one round trip (a pipeline where it writes several
keys), so a session's state change costs one network hop. Each raises
StorageError (chained from the redis-py error) and nothing else from Redis,
so callers need not know redis-py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import redis

from storage import records
from storage.batch import ScriptBatcher
from storage.codec import PACK_ERRORS, pack, text, unpack
from storage.commit import COMMIT_SCRIPT, MAX_COMMIT_RATINGS, commit_call
from storage.errors import StorageError, from_redis
from storage.history import PAGE_SCRIPT, filter_page, in_message_order, page_args
from storage.keys import HISTORY_MAX_ENTRIES, SEEN_TTL_SECS, Keys

__all__ = ["MAX_COMMIT_RATINGS", "Store", "StorageError", "connect", "pack", "unpack"]

log = logging.getLogger(__name__)

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


# Accept a callback once: remember its messageId, then journal it, atomically.
_ACCEPT_INBOUND = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
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
        self._commit = self._batcher.register(COMMIT_SCRIPT)
        self._forget = self._batcher.register(_FORGET)
        self._page = client.register_script(PAGE_SCRIPT)
        self._set_aside = client.register_script(records.SET_ASIDE_SCRIPT)

    def batching(self) -> tuple[int, int]:
        """(round trips, script calls) of the grouped journal and commit calls."""
        return self._batcher.round_trips, self._batcher.calls

    @from_redis
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
        """Everything one session message changed, in one script call.

        The script checks every key and counter before its first write, so a
        commit that fails leaves nothing behind; each list is capped
        (storage/commit.py), and an entry that cannot be encoded is dropped,
        both logged.

        Args:
            snapshot: the session's snapshot, or None when it closed.
            history: new history entries.
            outbound: (token, record) of messages to send, journaled until confirmed.
            handled: message ids of callbacks this change dealt with.
            stats: (servicer id, counter, increment) for servicer statistics.
            ratings: ratings to keep, each with ``servicer`` and ``session`` ids.
            answer_stats: (knowledge entry id, counter) to count one more of.
            ended: summaries of sessions that ended, for the dashboard.

        Raises:
            StorageError: Redis failed or refused; nothing was written (or,
                after a time-out, all of it may have been).
            TypeError, ValueError, OverflowError: the snapshot cannot be
                encoded, or a handled id or increment is not a whole number
                (nothing was written).
        """
        call = commit_call(self.keys, customer_id, snapshot, history, outbound, handled,
                           stats, ratings, answer_stats, ended)
        self._batcher.call(self._commit, call.keys, call.args)

    @from_redis
    def load_session(self, customer_id: str) -> dict[str, Any] | None:
        data = self.client.get(self.keys.session(customer_id))
        return None if data is None else dict(unpack(data))

    @from_redis
    def open_session_ids(self) -> list[str]:
        return sorted(text(m) for m in self.client.smembers(self.keys.open_sessions))

    def load_open_sessions(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every usable open-session snapshot; a bad one is set aside and skipped.

        Raises:
            StorageError: while iterating, if Redis fails.
        """
        ids = self.open_session_ids()
        for start in range(0, len(ids), READ_CHUNK):
            chunk = ids[start:start + READ_CHUNK]
            values = self._mget([self.keys.session(c) for c in chunk])
            for customer_id, data in zip(chunk, values, strict=True):
                if data is None:
                    continue
                try:
                    snapshot = records.a_map(data)
                except records.Bad as bad:
                    self.set_aside(self.keys.session(customer_id), None, data, str(bad))
                    continue
                yield customer_id, snapshot

    @from_redis
    def _mget(self, keys: list[str]) -> list[Any]:
        return list(self.client.mget(keys))

    # Records set aside ------------------------------------------------------

    @from_redis
    def set_aside(self, key: str, field: str | None, raw_or_value: Any, reason: str) -> None:
        """Move a record that cannot be used under the ``bad`` key, and remove it.

        Restore calls this for a record that cannot be decoded or has the
        wrong outer shape; an actor calls it when its ``from_snapshot`` finds
        the fields invalid. An open session's snapshot also leaves the
        open-sessions set, so the next start does not look for it again.

        Args:
            key: where the record was (a key of ``self.keys``).
            field: its field, when ``key`` is a hash (a journal, the shadows).
            raw_or_value: the stored bytes, or the decoded value.
            reason: why it cannot be used, for whoever inspects it.
        """
        if isinstance(raw_or_value, bytes):
            raw = raw_or_value
        else:
            try:
                raw = pack(raw_or_value)
            except PACK_ERRORS:
                raw = repr(raw_or_value).encode()
        session_prefix = self.keys.session("")
        customer = key[len(session_prefix):] if field is None and key.startswith(
            session_prefix) else ""
        record = pack({"key": key, "field": field, "raw": raw,
                       "when": int(time.time() * 1000), "why": reason})
        self._set_aside(
            keys=[self.keys.bad, key, self.keys.open_sessions],
            args=[key if field is None else f"{key}\x1f{field}", record,
                  "key" if field is None else "field", field or "", customer])
        log.error("bad record %s%s set aside under %s: %s", key,
                  "" if field is None else f" field {field!r}", self.keys.bad, reason)

    @from_redis
    def bad_records(self) -> list[dict[str, Any]]:
        """Records set aside, oldest first: key, field (or None), raw bytes, when (ms), why."""
        found = []
        for name, data in self.client.hscan_iter(self.keys.bad, count=READ_CHUNK):
            try:
                found.append(records.a_map(data))
            except records.Bad as bad:  # written by us; but never fail a listing
                found.append({"key": text(name), "field": None, "raw": data, "when": 0,
                              "why": f"unreadable set-aside record: {bad}"})
        return sorted(found, key=lambda r: (int(r.get("when", 0)), str(r.get("key"))))

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
        """Accepted callbacks not yet handled, in messageId (arrival) order;
        a bad entry is set aside and skipped."""
        entries = []
        for field, data in self._journal(self.keys.inbound):
            try:
                entries.append(records.inbound_entry(field, data))
            except records.Bad as bad:
                self.set_aside(self.keys.inbound, field, data, str(bad))
        return sorted(entries, key=lambda e: e[0])

    @from_redis
    def journal_outbound(self, items: Iterable[tuple[str, Any]]) -> None:
        records_ = {token: pack(record) for token, record in items}
        if records_:
            self.client.hset(self.keys.outbound, mapping=records_)  # type: ignore[arg-type]

    def confirm_outbound(self, tokens: Iterable[str]) -> None:
        self._forget_fields(self.keys.outbound, list(tokens))

    def _forget_fields(self, key: str, fields: list[str]) -> None:
        """Drop journal entries, in chunks Lua can unpack."""
        for start in range(0, len(fields), FORGET_CHUNK):
            self._batcher.call(self._forget, [key], fields[start:start + FORGET_CHUNK])

    def pending_outbound(self) -> list[tuple[str, Any]]:
        """Messages not yet confirmed by the IM server, in token order; a bad
        entry is set aside and skipped."""
        entries = []
        for field, data in self._journal(self.keys.outbound):
            try:
                entries.append((field, records.outbound_entry(data)))
            except records.Bad as bad:
                self.set_aside(self.keys.outbound, field, data, str(bad))
        return sorted(entries, key=lambda e: e[0])

    @from_redis
    def _journal(self, key: str) -> list[tuple[str, bytes]]:
        """A hash's fields and raw values (read whole before anything is set aside)."""
        return [(text(field), data)
                for field, data in self.client.hscan_iter(key, count=READ_CHUNK)]

    @from_redis
    def journal_sizes(self) -> tuple[int, int]:
        """(inbound, outbound) entries waiting."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hlen(self.keys.inbound)
        pipe.hlen(self.keys.outbound)
        inbound, outbound = pipe.execute()
        return int(inbound), int(outbound)

    # History ------------------------------------------------------------

    @from_redis
    def history(self, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` entries, oldest first (in message order)."""
        if limit <= 0:
            return []
        key = self.keys.history(customer_id)
        return in_message_order(_entries(key, self.client.lrange(key, -limit, -1)))

    @from_redis
    def history_page(self, customer_id: str, limit: int, before_ms: int | None = None,
                     after_ms: int | None = None, newest_first: bool = True
                     ) -> list[dict[str, Any]]:
        """Up to ``limit`` entries strictly between ``after_ms`` and ``before_ms``.

        Only the page leaves Redis (storage/history.py). Oldest first, or
        newest first with ``newest_first``; with only ``before_ms`` (or
        neither) it is the page nearest the cursor (or the newest), with
        ``after_ms`` the page just after it.
        """
        if limit <= 0:
            return []
        key = self.keys.history(customer_id)
        raw = self._page(keys=[key], args=page_args(limit, before_ms, after_ms, newest_first))
        if raw == b"undecodable":
            log.warning("history %s has entries Redis cannot decode; paging it here", key)
            stored = _entries(key, self.client.lrange(key, -HISTORY_MAX_ENTRIES, -1))  # t order
            page = in_message_order(filter_page(stored, limit, before_ms, after_ms, newest_first))
        else:
            page = in_message_order(_entries(key, raw))
        return page[::-1] if newest_first else page

    @from_redis
    def first_use_of_nonce(self, nonce: str, ttl_secs: int) -> bool:
        """True the first time a nonce is seen within ``ttl_secs`` (a replay cache)."""
        return bool(self.client.set(self.keys.nonce(nonce), b"1", nx=True, ex=ttl_secs))

    # Servicer statistics and ratings ---------------------------------------

    @from_redis
    def servicer_stats(self, servicer_id: str) -> dict[str, int]:
        raw = self.client.hgetall(self.keys.stats(servicer_id))
        return {text(k): int(v) for k, v in raw.items()}

    @from_redis
    def answer_stats(self) -> dict[str, dict[str, int]]:
        """Entry id -> {counter: count} for the auto-reply's answers."""
        stats: dict[str, dict[str, int]] = {}
        for field, value in self.client.hgetall(self.keys.answers).items():
            entry_id, _, counter = text(field).rpartition(":")
            stats.setdefault(entry_id, {})[counter] = int(value)
        return stats

    @from_redis
    def recent_sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        """Summaries of the sessions that ended last, newest first."""
        return [dict(unpack(r)) for r in self.client.lrange(self.keys.recent_sessions, 0,
                                                              limit - 1)]

    @from_redis
    def ratings(self, servicer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        raw = self.client.lrange(self.keys.ratings(servicer_id), -limit, -1)
        return [dict(unpack(r)) for r in raw]

    @from_redis
    def rating(self, session_id: str) -> dict[str, Any] | None:
        data = self.client.get(self.keys.rating(session_id))
        return None if data is None else dict(unpack(data))

    # Shadows and the pool -----------------------------------------------

    @from_redis
    def save_shadow(self, shadow_id: str, customer_id: str) -> None:
        self.client.hset(self.keys.shadows, shadow_id, pack({"customer": customer_id}))

    def load_shadows(self) -> dict[str, str]:
        """Shadow id -> customer id; a bad entry is set aside and skipped."""
        shadows = {}
        for shadow_id, data in self._journal(self.keys.shadows):
            try:
                shadows[shadow_id] = records.shadow_customer(data)
            except records.Bad as bad:
                self.set_aside(self.keys.shadows, shadow_id, data, str(bad))
        return shadows

    @from_redis
    def save_pool(self, snapshot: Mapping[str, Any]) -> None:
        self.client.set(self.keys.pool, pack(dict(snapshot)))

    @from_redis
    def remember_servicer(self, customer_id: str, servicer_id: str) -> None:
        self.client.hset(self.keys.last_servicer, customer_id, servicer_id)

    @from_redis
    def last_servicers(self, limit: int) -> dict[str, str]:
        """Up to ``limit`` customers' last servicers."""
        found: dict[str, str] = {}
        for customer, servicer in self.client.hscan_iter(self.keys.last_servicer,
                                                         count=READ_CHUNK):
            found[text(customer)] = text(servicer)
            if len(found) >= limit:
                break
        return found

    @from_redis
    def load_pool(self) -> dict[str, Any] | None:
        """The pool's snapshot; None if there is none or it was bad (then set aside)."""
        data = self.client.get(self.keys.pool)
        if data is None:
            return None
        try:
            return records.a_map(data)
        except records.Bad as bad:
            self.set_aside(self.keys.pool, None, data, str(bad))
            return None

    @from_redis
    def delete_all(self) -> None:
        """Remove every key under this prefix (tests and `run.py reset`)."""
        for key in self.client.scan_iter(match=f"{self.keys.prefix}:*", count=1000):
            self.client.delete(key)


def _entries(key: str, raw: list[Any]) -> list[dict[str, Any]]:
    """History entries; one that cannot be read is logged and left out, so a
    console or a seat assignment never fails on it (it stays in the list)."""
    entries = []
    for data in raw:
        try:
            entries.append(records.a_map(data))
        except records.Bad as bad:
            log.warning("history %s: an entry left out: %s", key, bad)
    return entries
