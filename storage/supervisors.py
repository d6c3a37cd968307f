"""Supervisors added through the API (beside the configuration's)."""

from __future__ import annotations

import redis

from storage.codec import text
from storage.errors import from_redis
from storage.keys import Keys
from storage.store import Store


class SupervisorStore:
    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)

    @classmethod
    def of(cls, store: Store) -> SupervisorStore:
        return cls(store.client, store.keys.prefix)

    @from_redis
    def ids(self) -> frozenset[str]:
        return frozenset(text(m) for m in self.client.smembers(self.keys.supervisors))

    @from_redis
    def add(self, user_id: str) -> None:
        self.client.sadd(self.keys.supervisors, user_id)

    @from_redis
    def remove(self, user_id: str) -> bool:
        return bool(self.client.srem(self.keys.supervisors, user_id))
