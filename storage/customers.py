"""What a supervisor sets for a customer, kept across sessions: their queue priority."""

from __future__ import annotations

import redis

from storage.errors import from_redis
from storage.keys import Keys
from storage.store import Store


class CustomerStore:
    def __init__(self, client: redis.Redis, prefix: str = "cs") -> None:
        self.client = client
        self.keys = Keys(prefix)

    @classmethod
    def of(cls, store: Store) -> CustomerStore:
        return cls(store.client, store.keys.prefix)

    @from_redis
    def priority(self, customer_id: str) -> int | None:
        """The priority set for the customer (0-9), or None if none was."""
        value = self.client.hget(self.keys.priorities, customer_id)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    @from_redis
    def set_priority(self, customer_id: str, priority: int | None) -> None:
        """Set (or, with None, clear) the customer's priority for every request."""
        if priority is None:
            self.client.hdel(self.keys.priorities, customer_id)
        else:
            self.client.hset(self.keys.priorities, customer_id, priority)
