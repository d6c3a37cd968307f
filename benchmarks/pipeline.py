"""What a bot answer costs the CS server between the HTTP layers: the intake
(journal, tell), the session (auto-reply, commit to Redis) and the Outbox.
(benchmarks/httpparts.py measures the HTTP layers' hand-rolled parts.)

    python benchmarks/pipeline.py [--answers 20000] [--repeat 5] [--customers 64]

64 customers (``--customers``; im-server has 5 callbacks in flight) ask the
load test's 200-entry FAQ in a closed loop against real actors and the
embedded Redis; the IM server is a stand-in that yields once
per send, as a network call does. It prints the process's CPU µs per answer
(Redis, a child process, is not counted) and the Redis round trips per answer
for each repeat, and their medians.

The host's speed wanders by more than a small change saves, so compare two
versions at the same time, each pinned (with its Redis) to a core of its
own, and swap the cores on the next try::

    git worktree add /tmp/old <commit>
    taskset -c 0 python benchmarks/pipeline.py & \\
        taskset -c 1 python /tmp/old/benchmarks/pipeline.py; wait
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from itertools import count  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import run  # noqa: E402
from actors.config import config_from_dict  # noqa: E402
from actors.durability.outbox import Delivery  # noqa: E402
from actors.messages import Outbound, ShadowInfo  # noqa: E402
from actors.system import start_actors  # noqa: E402
from storage import EmbeddedRedis, Store, connect  # noqa: E402
from transport.edge.intake import Intake  # noqa: E402
from transport.sim.loadpeople import FAQ_SIZE, ROBOT, faq_config, question, wire_text  # noqa: E402
from transport.wildfire.callbacks import parse_callback  # noqa: E402

CUSTOMERS = 64
ANSWER_WAIT_SECS = 5.0


class Customers:
    """Closed-loop askers: each waits for the answer to its question before the next."""

    def __init__(self, customers: int) -> None:
        self.customers = customers
        self.intake: Intake | None = None  # set once the actors run
        self._answered: dict[str, gevent.event.Event] = {}
        self._ids = count(1)
        self.lost = 0

    def deliver(self, message: Outbound) -> Delivery:
        """The IM server's stand-in: one yield, then the customer has the answer."""
        gevent.sleep(0)
        answered = self._answered.get(message.target)
        if answered is not None:
            answered.set()
        return Delivery(ok=True)

    def ask(self, customer: str, text: str) -> None:
        answered = self._answered[customer] = gevent.event.Event()
        body = {"messageId": next(self._ids), "sender": customer,
                "conv": {"type": 0, "target": ROBOT, "line": 0}, "payload": wire_text(text),
                "timestamp": int(time.time() * 1000)}
        assert self.intake is not None
        self.intake.accept(parse_callback(body), for_robot=True)
        if not answered.wait(ANSWER_WAIT_SECS):
            self.lost += 1

    def run(self, answers: int) -> float:
        """CPU µs per answer for ``answers`` questions from all customers at once."""
        each = max(1, answers // self.customers)
        started = time.process_time()
        gevent.joinall([gevent.spawn(self._conversation, i, each)
                        for i in range(self.customers)])
        return 1e6 * (time.process_time() - started) / (each * self.customers)

    def _conversation(self, index: int, questions: int) -> None:
        for k in range(questions):
            self.ask(f"c{index}", question((index + k) % FAQ_SIZE))


def no_shadow(customer_id: str) -> ShadowInfo:
    raise RuntimeError("the benchmark's customers ask the bot only")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--customers", type=int, default=CUSTOMERS,
                        help="closed-loop askers, so questions in flight at once")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cs-pipeline-"))
    redis = EmbeddedRedis(workdir, appendonly=False).start()
    config = config_from_dict({"faq": faq_config(), "customer_rate_limit": 0,
                               "idle_auto_secs": 3600})
    customers = Customers(args.customers)
    store = Store(connect(redis.url), prefix="pipeline")
    actors = start_actors(config, robot_id=ROBOT, store=store, deliver=customers.deliver,
                          ensure_shadow=no_shadow)
    try:
        customers.intake = Intake(store, actors.directory)
        run.settle_gc()
        customers.run(args.customers * 3)  # open the sessions: welcome texts, first answers
        costs, trips = [], []
        for _ in range(args.repeat):
            before = store.batching()[0]
            costs.append(customers.run(args.answers))
            answers = max(1, args.answers // args.customers) * args.customers
            trips.append((store.batching()[0] - before) / answers)
            print(f"{costs[-1]:.1f} µs of CPU per answer, {trips[-1]:.2f} Redis round trips",
                  flush=True)
        print(f"median {statistics.median(costs):.1f} µs per answer, "
              f"{statistics.median(trips):.2f} round trips; lost {customers.lost}")
    finally:
        actors.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
