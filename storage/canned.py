"""Canned replies a team keeps: shared ones, and each servicer's own."""

from __future__ import annotations

import redis

from storage.codec import text
from storage.errors import from_redis
from storage.keys import Keys
from storage.store import Store


class CannedStore:
    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)

    @classmethod
    def of(cls, store: Store) -> CannedStore:
        return cls(store.client, store.keys.prefix)

    def _key(self, owner: str | None) -> str:
        return self.keys.canned(owner)

    @from_redis
    def replies(self, owner: str | None) -> dict[str, str]:
        """Name -> text: the shared ones (``owner`` None) or a servicer's own."""
        return {text(k): text(v) for k, v in self.client.hgetall(self._key(owner)).items()}

    @from_redis
    def put(self, owner: str | None, name: str, text: str) -> None:
        self.client.hset(self._key(owner), name, text)

    @from_redis
    def delete(self, owner: str | None, name: str) -> bool:
        return bool(self.client.hdel(self._key(owner), name))
