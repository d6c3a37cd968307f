"""Group commit: Lua calls from many greenlets share one Redis round trip.

Every bot answer costs two EVALSHA calls (journal the callback, commit the
session), and one call each was a third of the CS server's CPU under
``run.py loadtest`` (py-spy): redis-py's per-command machinery, a poll
of the socket before each command, and a send and a receive per call.
Calls made while a round trip is in flight wait for it and then go
together in one write; a lone call goes at once, so an idle server
answers as fast as before.

The batcher owns one connection and packs the commands itself (hiredis),
reading redis-py's internals: the pool's ``connection_class`` and
``connection_kwargs``, ``Connection.send_packed_command``,
``read_response``, ``pack_command`` and ``disconnect``; setup.cfg pins the
redis and hiredis versions this was checked against. Sending each batch
through redis-py's public pipeline instead (``pipeline(transaction=False)``,
``evalsha`` per call, ``execute(raise_on_error=False)``) cost 40-55 µs more
per answer, about a fifth of the server's CPU (``benchmarks/pipeline.py
--answers 10000 --repeat 3``, side by side, 4 rounds: 220/213/216/195 µs
here against 276/260/255/236 µs). tests/test_batch_differential.py checks
that every call gets what redis-py's own ``evalsha`` gives, for any
arguments.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import gevent
import hiredis
import redis
from gevent.hub import Waiter, get_hub
from redis.exceptions import NoScriptError

from storage.errors import StorageError

log = logging.getLogger(__name__)

MAX_BATCH = 256  # calls per round trip; bounds one write's size
# Calls waiting for a round trip. A healthy local Redis clears a full batch in
# about a millisecond, so 16 batches queued means Redis is not keeping up;
# queuing more only makes every caller wait longer, and the intake must learn
# at once that storage is degraded (it accepts callbacks in memory then).
MAX_PENDING = 16 * MAX_BATCH


class Script(NamedTuple):
    sha: str
    source: str


class _Call(NamedTuple):
    script: Script
    keys: list[str]
    args: list[Any]
    waiter: Waiter  # resumed once, with the reply or the exception
    deadline: float  # monotonic; a call still queued then is never sent


class _Late(Exception):
    """A round trip outlived the wait bound (raised inside the runner only)."""


_TIMED_OUT = object()  # what a caller's own timer resumes it with
_UNREAD = object()  # a reply not read (yet)


class ScriptBatcher:
    """Runs Lua scripts for any greenlet, grouping those that arrive together."""

    def __init__(self, client: redis.Redis, wait_timeout: float,
                 max_pending: int = MAX_PENDING) -> None:
        self._client = client
        self._wait_timeout = wait_timeout
        self._max_pending = max_pending
        self._connection: Any = None
        self._pending: list[_Call] = []
        self._runner: gevent.Greenlet[Any, Any] | None = None
        self.round_trips = 0
        self.calls = 0

    @property
    def waiting(self) -> int:
        """Calls queued behind the round trip in flight (at most ``max_pending``)."""
        return len(self._pending)

    def register(self, source: str) -> Script:
        return Script(self._client.register_script(source).sha, source)

    def call(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run ``script`` and return its reply.

        Each call waits at most ``wait_timeout`` from when it was made,
        however many calls are ahead of it; one still queued at its deadline
        is never sent.

        Raises:
            StorageError: from the redis error, a time-out (the script may
                still have run if it was sent: the same ambiguity as a socket
                time-out), or a full queue (at once, without waiting).
        """
        if self.waiting >= self._max_pending:
            raise StorageError(f"storage queue full ({self.waiting} calls waiting)")
        # A bare Waiter, not an AsyncResult: each call has one waiter and is
        # answered once, so the AsyncResult's link machinery is pure cost (two
        # calls per bot answer; benchmarks/pipeline.py). A reply or failure
        # that comes after the timer resumed the caller is only stored in the
        # Waiter (its greenlet is cleared when get() returns) and dropped.
        waiter = Waiter()
        self._pending.append(_Call(script, keys, args, waiter,
                                   time.monotonic() + self._wait_timeout))
        if self._runner is None:
            self._runner = gevent.spawn(self._drain)
        timer = get_hub().loop.timer(self._wait_timeout)
        timer.start(waiter.switch, _TIMED_OUT)
        try:
            reply = waiter.get()
        except redis.RedisError as exc:
            raise StorageError(str(exc)) from exc
        finally:
            timer.close()
        if reply is _TIMED_OUT:
            raise StorageError(f"no reply from Redis within {self._wait_timeout}s") \
                from redis.TimeoutError("no reply from Redis in time")
        return reply

    def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                now = time.monotonic()
                # Their callers have been answered by their own timers.
                batch = [call for call in batch if call.deadline > now]
                if batch:
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
        replies: list[Any] = [_UNREAD] * len(batch)
        failure: BaseException | None = None
        try:
            with gevent.Timeout(self._wait_timeout, _Late):
                self._execute(batch, range(len(batch)), replies)
                missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
                if missing:  # Redis restarted or its script cache was flushed
                    for source in {batch[i].script.source for i in missing}:
                        self._client.script_load(source)
                    for i in missing:
                        replies[i] = _UNREAD
                    self._execute(batch, missing, replies)
        except BaseException as exc:  # every waiter must hear of it
            failure = exc
        # Replies read before a failure are delivered: their scripts ran.
        run_callback = get_hub().loop.run_callback
        # Without a failure every reply is read, bar a kill: no error made per batch.
        unread = _failure(failure) if failure is not None else None
        for call, reply in zip(batch, replies, strict=True):
            if reply is _UNREAD:
                unread = unread or _stopped()
                _fail(call, unread)
            elif isinstance(reply, Exception):
                _fail(call, reply)
            else:
                run_callback(call.waiter.switch, reply)
        if failure is not None and not isinstance(failure, Exception):
            raise failure

    def _execute(self, batch: list[_Call], which: Sequence[int], replies: list[Any]) -> None:
        """One write, then one reply per call, each stored in ``replies`` as it
        is read (a script's error is its reply, and so is an argument Redis
        cannot carry)."""
        if self._connection is None:
            pool = self._client.connection_pool
            self._connection = pool.connection_class(**pool.connection_kwargs)
        connection = self._connection
        packed: list[bytes] = []
        sent: list[int] = []
        for i in which:
            call = batch[i]
            command = ("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args)
            try:
                packed.append(hiredis.pack_command(command))
            except TypeError:
                # hiredis takes only str, int, float and bytes; redis-py's own
                # packer also takes bytearray and memoryview, and refuses the
                # rest with its DataError, as a client call would.
                try:
                    packed.append(b"".join(connection.pack_command(*command)))
                except redis.DataError as exc:
                    replies[i] = exc
                    continue
            sent.append(i)
        if not sent:
            return
        try:
            connection.send_packed_command([b"".join(packed)], check_health=False)
            for i in sent:
                try:
                    replies[i] = connection.read_response()
                except redis.ResponseError as exc:
                    replies[i] = exc
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
