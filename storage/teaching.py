"""What the auto-reply learns at run time, and what it could not answer, in Redis.

The knowledge base file stays the business's; what a supervisor teaches
through the API (a variant, a new entry) is kept here and laid on top of the
file at start and at every reload. The inbox holds the questions the bot
could not place, or after which the customer asked for a person, with a
count and the servicer's answer. Keys are in storage/keys.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import redis

from storage.codec import text
from storage.errors import from_redis
from storage.keys import UNANSWERED_KEPT, Keys
from storage.store import Store, pack, unpack

# A servicer's answer is kept for a supervisor to read, not replayed; past
# this it is cut (a pasted document would otherwise sit in Redis forever).
SERVICER_ANSWER_MAX_CHARS = 2000


class Unanswered(NamedTuple):
    key: str  # the question's normal form (repeats of it count once each)
    question: str  # as the customer first wrote it
    times: int  # how often it was asked
    reason: str  # "unplaced" or "then_human", the latest
    servicer_answer: str  # "" until a servicer answered after the hand-off
    last_ms: int
    answered: str = ""  # the entry the bot answered with before a person was asked for


# Count a question the bot missed, unless the inbox is full of others.
_RECORD_UNANSWERED = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
   and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return 1
"""
MAX_UNANSWERED = 5000  # distinct questions kept in the inbox


class TeachingStore:
    """Taught lessons and the unanswered inbox; plain Redis hashes, no read-modify-write."""

    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._record = client.register_script(_RECORD_UNANSWERED)

    @classmethod
    def of(cls, store: Store) -> TeachingStore:
        return cls(store.client, store.keys.prefix)

    # Lessons ------------------------------------------------------------

    @from_redis
    def add_variant(self, entry_id: str, question: str, at_ms: int) -> None:
        # One field per (entry, question): teaching the same twice is one
        # lesson, and two supervisors teaching at once cannot lose either.
        self.client.hset(self.keys.taught_variants, pack([entry_id, question]), at_ms)

    @from_redis
    def save_entry(self, entry: dict[str, Any]) -> None:
        """``entry`` is {"id", "questions", "answer"}, validated by the caller."""
        self.client.hset(self.keys.taught_entries, entry["id"], pack(entry))

    @from_redis
    def lessons(self) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """(taught entries, taught variants as (entry id, question)), oldest variant first."""
        entries = [unpack(v) for v in self.client.hvals(self.keys.taught_entries)]
        variants = sorted(((int(at), unpack(field))
                           for field, at in self.client.hgetall(
                               self.keys.taught_variants).items()),
                          key=lambda pair: pair[0])
        return (sorted(entries, key=lambda e: str(e.get("id"))),
                [(str(v[0]), str(v[1])) for _, v in variants])

    # The inbox ----------------------------------------------------------

    @from_redis
    def record_unanswered(self, key: str, question: str, reason: str, at_ms: int,
                          times: int = 1, answered: str = "") -> bool:
        """One more of the question whose normal form is ``key``; it is shown
        as last written (the forms differ only in case, width and script).

        Returns:
            False if the inbox already holds MAX_UNANSWERED other questions: what
            customers write must not grow Redis without bound, so a new question
            then waits until a supervisor teaches or dismisses some.
        """
        return bool(self._record(keys=[self.keys.unanswered_counts, self.keys.unanswered],
                                 args=[key, times, MAX_UNANSWERED, pack(
                                     {"question": question, "reason": reason,
                                      "last_ms": at_ms, "answered": answered})]))

    @from_redis
    def record_servicer_answer(self, key: str, text: str) -> None:
        self.client.hset(self.keys.unanswered_replies, key, text[:SERVICER_ANSWER_MAX_CHARS])

    @from_redis
    def unanswered(self, limit: int = UNANSWERED_KEPT) -> list[Unanswered]:
        """The most frequent first."""
        counts = {text(k): int(v) for k, v in
                  self.client.hgetall(self.keys.unanswered_counts).items()}
        keys = sorted(counts, key=lambda k: (-counts[k], k))[:limit]
        if not keys:
            return []
        details = self.client.hmget(self.keys.unanswered, keys)
        replies = self.client.hmget(self.keys.unanswered_replies, keys)
        found = []
        for key, detail, reply in zip(keys, details, replies, strict=True):
            record = unpack(detail) if detail else {}
            found.append(Unanswered(key, str(record.get("question", key)), counts[key],
                                    str(record.get("reason", "")),
                                    text(reply) if reply else "",
                                    int(record.get("last_ms", 0)),
                                    str(record.get("answered", ""))))
        return found

    @from_redis
    def forget_unanswered(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if keys:
            with self.client.pipeline(transaction=False) as pipe:
                for name in (self.keys.unanswered_counts, self.keys.unanswered,
                             self.keys.unanswered_replies):
                    pipe.hdel(name, *keys)
                pipe.execute()

    # The bot's share ----------------------------------------------------

    @from_redis
    def count_conversation(self, with_person: bool) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.keys.conversations, "total", 1)
            if not with_person:
                pipe.hincrby(self.keys.conversations, "bot_only", 1)
            pipe.execute()

    @from_redis
    def conversations(self) -> dict[str, int]:
        return {text(k): int(v) for k, v in
                self.client.hgetall(self.keys.conversations).items()}
