"""How long a restart takes to restore N open sessions from Redis.

    python benchmarks/restore.py --sessions 10000

Seeds N session snapshots (half in human mode) into a fresh embedded Redis,
then times ``start_actors`` restoring them (read, decode, one actor each)
and reports the process's memory growth per restored session.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.config import config_from_dict  # noqa: E402
from actors.durability.outbox import Delivery  # noqa: E402
from actors.messages import ShadowInfo  # noqa: E402
from actors.system import start_actors  # noqa: E402
from storage import EmbeddedRedis, Store, connect  # noqa: E402
from storage.store import pack  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(store: Store, count: int) -> None:
    now = time.time()
    pipe = store.client.pipeline(transaction=False)
    for i in range(count):
        customer = f"customer{i:06d}"
        human = i % 2 == 0
        snapshot = {"version": 1, "customer": customer, "mode": "human" if human else "auto",
                    "shadow": [f"{customer}*Shadow", customer, ""] if human else None,
                    "servicer": ["s1", "S1", "", 100000] if human else None,
                    "deadline": now + 3600, "recent": list(range(i, i + 8)), "seq": 3,
                    "opened": f"{int(now * 1000):013d}.abcdef12"}
        pipe.set(store.keys.session(customer), pack(snapshot))
        pipe.sadd(store.keys.open_sessions, customer)
        if len(pipe.command_stack) >= 2000:
            pipe.execute()
    pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()

    redis = EmbeddedRedis(tempfile.mkdtemp(prefix="restore-bench-"), appendonly=False).start()
    try:
        store = Store(connect(redis.url), prefix="bench")
        seed(store, args.sessions)
        config = config_from_dict({"servicers": [{"id": "s1", "capacity": 100000}]})
        before = rss_mb()
        started = time.perf_counter()
        actors = start_actors(config, robot_id="cs_robot", store=store,
                              deliver=lambda m: Delivery(ok=True),
                              ensure_shadow=lambda c: ShadowInfo(f"{c}*Shadow", c, ""))
        restored = actors.directory.session_count().get(timeout=60)
        elapsed = time.perf_counter() - started
        grown = rss_mb() - before
        result = {"sessions": args.sessions, "restored": restored,
                  "seconds": round(elapsed, 3),
                  "sessions_per_second": round(restored / elapsed),
                  "rss_growth_mb": round(grown, 1),
                  "kb_per_session": round(grown * 1024 / max(restored, 1), 1)}
        print(json.dumps(result))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        actors.stop()
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
