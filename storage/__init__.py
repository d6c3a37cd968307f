"""Redis storage: key layout, the Store, and the embedded redis-server."""

from storage.embedded import EmbeddedRedis, free_port
from storage.store import StorageError, Store, connect

__all__ = ["EmbeddedRedis", "Store", "StorageError", "connect", "free_port"]
