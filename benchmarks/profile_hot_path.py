"""Profile the CS server's hot path: bot questions answered end to end, in one process.

    python benchmarks/profile_hot_path.py --questions 3000

The IM simulator, the CS server and the embedded Redis (a child process)
run here; cProfile sees every greenlet of this process, so the numbers mix
the simulator's share in; the report lists our own modules first.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import gevent  # noqa: E402

from conftest import ROBOT_ID, make_config, start_stack  # noqa: E402
from storage import EmbeddedRedis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--conversations", type=int, default=32)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    redis = EmbeddedRedis(tempfile.mkdtemp(), appendonly=False).start()
    stack = start_stack(redis.url, make_config(customer_rate_limit=0))
    answered = 0
    per = args.questions // args.conversations

    def customer(i: int) -> None:
        nonlocal answered
        name = f"c{i}"
        for _ in range(per):
            before = len(stack.sim.inboxes.get(name, []))
            stack.sim.deliver(name, ROBOT_ID, {"type": 1, "searchableContent": "price"})
            while len(stack.sim.inboxes.get(name, [])) == before:
                gevent.sleep(0.0005)
            answered += 1

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    gevent.joinall([gevent.spawn(customer, i) for i in range(args.conversations)])
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{answered} answers in {elapsed:.2f}s: {answered / elapsed:.0f}/s (profiled)")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(args.top)
    stack.stop()
    redis.stop()


if __name__ == "__main__":
    main()
