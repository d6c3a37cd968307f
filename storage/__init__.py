"""Redis storage: key layout, the Store, and the embedded redis-server."""

from storage.embedded import EmbeddedRedis, free_port
from storage.errors import CsError, StorageError
from storage.store import Store, connect

__all__ = ["CsError", "EmbeddedRedis", "Store", "StorageError", "connect", "free_port"]
