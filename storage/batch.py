"""Group commit: Lua calls from many greenlets share one Redis round trip.

Every bot answer costs two EVALSHA calls (journal the callback, commit the
session), and one call each was a third of the CS server's CPU under
``run.py loadtest`` (py-spy): redis-py's per-command machinery, a poll
of the socket before each command, and a send and a receive per call.
Calls made while a round trip is in flight wait for it and then go
together in one write; a lone call goes at once, so an idle server
answers as fast as before.

The batcher owns one connection and packs the commands itself (hiredis):
redis-py's pipeline spent more Python per command than the Lua they ran.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import gevent
import hiredis
import redis
from gevent.hub import Waiter, get_hub
from redis.exceptions import NoScriptError

log = logging.getLogger(__name__)

MAX_BATCH = 256  # calls per round trip; bounds one write's size


class Script(NamedTuple):
    sha: str
    source: str


class _Call(NamedTuple):
    script: Script
    keys: list[str]
    args: list[Any]
    waiter: Waiter  # resumed once, with the reply or the exception


class _Late(Exception):
    """A round trip outlived the wait bound (raised inside the runner only)."""


class ScriptBatcher:
    """Runs Lua scripts for any greenlet, grouping those that arrive together."""

    def __init__(self, client: redis.Redis, wait_timeout: float) -> None:
        self._client = client
        self._wait_timeout = wait_timeout
        self._connection: Any = None
        self._pending: list[_Call] = []
        self._runner: gevent.Greenlet[Any, Any] | None = None
        self.round_trips = 0
        self.calls = 0

    def register(self, source: str) -> Script:
        return Script(self._client.register_script(source).sha, source)

    def call(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run ``script`` and return its reply; raise what Redis raised.

        The wait is bounded: the runner gives each round trip ``wait_timeout``
        and answers every call it took, whatever happens.

        Raises:
            redis.TimeoutError: no reply within the bound (the script may
                still run: the same ambiguity as a socket time-out).
        """
        # A bare Waiter, not an AsyncResult: each call has one waiter and is
        # answered once, so the AsyncResult's link machinery is pure cost (two
        # calls per bot answer; benchmarks/pipeline.py).
        waiter = Waiter()
        self._pending.append(_Call(script, keys, args, waiter))
        if self._runner is None:
            self._runner = gevent.spawn(self._drain)
        return waiter.get()

    def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                self._run(batch)
        finally:
            self._runner = None
            if self._pending:  # killed (shut-down): nobody may wait for ever
                stopped = _stopped()
                for call in self._pending:
                    _fail(call, stopped)
                self._pending.clear()

    def _run(self, batch: list[_Call]) -> None:
        self.round_trips += 1
        self.calls += len(batch)
        try:
            with gevent.Timeout(self._wait_timeout, _Late):
                replies = self._execute(batch)
                missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
                if missing:  # Redis restarted or its script cache was flushed
                    for source in {batch[i].script.source for i in missing}:
                        self._client.script_load(source)
                    for i, reply in zip(missing, self._execute([batch[i] for i in missing]),
                                        strict=True):
                        replies[i] = reply
        except BaseException as exc:  # every waiter must hear of it
            failure = _failure(exc)
            for call in batch:
                _fail(call, failure)
            if not isinstance(exc, Exception):
                raise
            return
        run_callback = get_hub().loop.run_callback
        for call, reply in zip(batch, replies, strict=True):
            if isinstance(reply, Exception):
                _fail(call, reply)
            else:
                run_callback(call.waiter.switch, reply)

    def _execute(self, batch: list[_Call]) -> list[Any]:
        """One write, then one reply per call (a script's error is its reply,
        and so is an argument Redis cannot carry)."""
        if self._connection is None:
            pool = self._client.connection_pool
            self._connection = pool.connection_class(**pool.connection_kwargs)
        connection = self._connection
        replies: list[Any] = [None] * len(batch)
        packed: list[bytes] = []
        sent: list[int] = []
        for i, call in enumerate(batch):
            try:
                packed.append(hiredis.pack_command(
                    ("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args)))
                sent.append(i)
            except TypeError as exc:
                replies[i] = redis.DataError(str(exc))
        if not sent:
            return replies
        try:
            connection.send_packed_command([b"".join(packed)], check_health=False)
            for i in sent:
                try:
                    replies[i] = connection.read_response()
                except redis.ResponseError as exc:
                    replies[i] = exc
            return replies
        except BaseException:
            connection.disconnect()  # replies may be half read: start clean
            raise


def _fail(call: _Call, exc: Exception) -> None:
    """Resume the caller with ``exc`` (a Waiter is resumed from the hub)."""
    get_hub().loop.run_callback(call.waiter.throw, exc)


def _failure(exc: BaseException) -> Exception:
    if isinstance(exc, _Late):
        return redis.TimeoutError("no reply from Redis in time")
    if isinstance(exc, redis.RedisError):
        return exc
    if isinstance(exc, Exception):
        log.error("script batch failed", exc_info=exc)  # a bug, not Redis
        return exc
    return _stopped()


def _stopped() -> redis.ConnectionError:
    return redis.ConnectionError("the storage batcher stopped")
