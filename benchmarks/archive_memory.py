"""Redis memory per archived session (storage/archive.py): commit N ended sessions of
5,000 customers through Store.commit, as sessions do, and compare used_memory.

    .venv/bin/python benchmarks/archive_memory.py 20000
"""

import secrets
import sys
import tempfile
from pathlib import Path

from storage import EmbeddedRedis, Store, connect

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
server = EmbeddedRedis(Path(tempfile.mkdtemp()), appendonly=False).start()
try:
    store = Store(connect(server.url), prefix=f"m-{secrets.token_hex(3)}")
    before = store.client.info("memory")["used_memory"]
    for n in range(N):
        customer = f"customer{n % 5000:05d}"
        closed = 1_700_000_000_000 + n * 1000
        session = f"{customer}:{closed - 600_000:013d}.{secrets.token_hex(4)}"
        store.commit(customer, None, ended=[{
            "customer": customer, "session": session, "servicers": ["alice"],
            "reason": "rated", "stars": 1 + n % 5, "closed": closed}])
    after = store.client.info("memory")["used_memory"]
    recent = store.client.memory_usage(store.keys.recent_sessions)
    k = store.keys
    sets = sum(store.client.memory_usage(key, samples=0) for key in (
        k.ended_sessions, k.rated_sessions, k.satisfied_sessions))
    print(f"archive sorted sets: {sets / N:.0f} bytes per session")
    print(f"{N} sessions: {(after - before) / N:.0f} bytes each in Redis, all keys "
          f"(the 100-entry recent list is {recent} bytes of that)")
finally:
    server.stop()
