"""The archive of ended sessions: by time range, by customer, and satisfaction over a range.

A session's commit writes it (storage/commit.py, with the recent-sessions
list it always wrote): its summary into a sorted set scored by its end and
onto the customer's capped list, and its id into two sorted sets of rated
and satisfied (4-5 star) sessions, so that the satisfaction over any range
is two ``ZCOUNT``s, O(log n), however many sessions the range holds.
Summaries are read back with the rating's comment (``{p}:rating:{session}``)
and the session's start, read from its id.
"""

from __future__ import annotations

import re
from typing import Any

import redis

from storage import records
from storage.errors import from_redis
from storage.keys import Keys
from storage.store import Store

# A session id is "<customer>:<13-digit ms it opened>.<random>" (actors/session/state.py).
_OPENED = re.compile(r":(\d{13})\.[0-9a-f]*$")
SATISFIED_STARS = 4  # a rating of 4 or 5 counts as satisfied


def started_ms(session_id: str) -> int | None:
    """When the session opened, from its id; None for an id without it."""
    match = _OPENED.search(session_id)
    return int(match.group(1)) if match else None


def share(part: int, whole: int) -> float | None:
    """``part / whole`` to three places, or None (shown "–") when ``whole`` is 0."""
    return round(part / whole, 3) if whole else None


class SessionArchive:
    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)

    @classmethod
    def of(cls, store: Store) -> SessionArchive:
        return cls(store.client, store.keys.prefix)

    @from_redis
    def ended_between(self, from_ms: int, to_ms: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` sessions that ended in [from_ms, to_ms], newest first."""
        raw = self.client.zrevrangebyscore(self.keys.ended_sessions, to_ms, from_ms,
                                           start=0, num=limit)
        return self._summaries(raw)

    @from_redis
    def customer_sessions(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        """The customer's last ``limit`` ended sessions, newest first."""
        raw = self.client.lrange(self.keys.customer_sessions(customer_id), 0, limit - 1)
        return self._summaries(raw)

    @from_redis
    def ended_count(self, from_ms: int, to_ms: int) -> int:
        return int(self.client.zcount(self.keys.ended_sessions, from_ms, to_ms))

    @from_redis
    def satisfaction(self, from_ms: int, to_ms: int) -> dict[str, Any]:
        """Rated sessions that ended in the range, those rated 4-5 stars, and their share."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zcount(self.keys.rated_sessions, from_ms, to_ms)
        pipe.zcount(self.keys.satisfied_sessions, from_ms, to_ms)
        rated, satisfied = (int(n) for n in pipe.execute())
        return {"rated": rated, "satisfied": satisfied, "share": share(satisfied, rated)}

    def _summaries(self, raw: list[Any]) -> list[dict[str, Any]]:
        summaries = []
        for data in raw:
            try:
                summaries.append(records.a_map(data))
            except records.Bad:  # written by us; a listing never fails on one
                continue
        rated = [s for s in summaries if s.get("stars")]
        comments = self.client.mget([self.keys.rating(str(s.get("session"))) for s in rated]) \
            if rated else []
        by_session = {}
        for summary, data in zip(rated, comments, strict=True):
            try:
                by_session[summary.get("session")] = str(
                    records.a_map(data).get("comment") or "") if data else ""
            except records.Bad:
                continue
        return [{**s, "started": started_ms(str(s.get("session", ""))),
                 "with_person": bool(s.get("servicers")),
                 "comment": by_session.get(s.get("session"), "")} for s in summaries]
