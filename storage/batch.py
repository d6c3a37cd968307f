"""Group commit: Lua calls from many greenlets share one Redis round trip.

Every bot answer costs two EVALSHA calls (journal the callback, commit the
session), and one call each was a third of the CS server's CPU under
``run.py loadtest`` (py-spy): redis-py's per-command machinery, a poll
of the socket before each command, and a send and a receive per call.
Calls made while a round trip is in flight wait for it and then go
together in one pipeline; a lone call goes at once, so an idle server
answers as fast as before.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import gevent
import redis
from gevent.event import AsyncResult
from redis.exceptions import NoScriptError

log = logging.getLogger(__name__)

MAX_BATCH = 256  # calls per round trip; bounds one pipeline's buffers


class Script(NamedTuple):
    sha: str
    source: str


class _Call(NamedTuple):
    script: Script
    keys: list[str]
    args: list[Any]
    result: AsyncResult


class ScriptBatcher:
    """Runs Lua scripts for any greenlet, grouping those that arrive together."""

    def __init__(self, client: redis.Redis, wait_timeout: float) -> None:
        self._client = client
        self._wait_timeout = wait_timeout
        self._pending: list[_Call] = []
        self._runner: gevent.Greenlet[Any, Any] | None = None
        self.round_trips = 0
        self.calls = 0

    def register(self, source: str) -> Script:
        return Script(self._client.register_script(source).sha, source)

    def call(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run ``script`` and return its reply; raise what Redis raised.

        Raises:
            redis.TimeoutError: no reply within the wait bound (the script may
                still run: the same ambiguity as a socket time-out).
        """
        result = AsyncResult()
        self._pending.append(_Call(script, keys, args, result))
        if self._runner is None:
            self._runner = gevent.spawn(self._drain)
        try:
            return result.get(timeout=self._wait_timeout)
        except gevent.Timeout:
            raise redis.TimeoutError("no reply from Redis in time") from None

    def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                self._run(batch)
        finally:
            self._runner = None

    def _run(self, batch: list[_Call]) -> None:
        self.round_trips += 1
        self.calls += len(batch)
        try:
            replies = self._execute(batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:  # Redis restarted or its script cache was flushed
                for source in {batch[i].script.source for i in missing}:
                    self._client.script_load(source)
                for i, reply in zip(missing, self._execute([batch[i] for i in missing]),
                                    strict=True):
                    replies[i] = reply
        except Exception as exc:  # every waiter must hear of it
            if not isinstance(exc, redis.RedisError):  # a bug, not Redis
                log.exception("script batch failed")
            for call in batch:
                call.result.set_exception(exc)
            return
        for call, reply in zip(batch, replies, strict=True):
            if isinstance(reply, Exception):
                call.result.set_exception(reply)
            else:
                call.result.set(reply)

    def _execute(self, batch: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for call in batch:
            pipe.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args)
        return pipe.execute(raise_on_error=False)
