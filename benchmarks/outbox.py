"""What one message costs the Outbox, and what a mailbox hop would add to it.

Every answer passes through the Outbox once. It is called in place, not
through a Pykka mailbox: as an actor it took two hops per message (the send,
and the delivery's result), and this prints what one such hop costs on
this machine next to the Outbox's whole cost per message.

    python benchmarks/outbox.py [--messages 30000] [--repeat 3] [--backlog 1100]

The delivery is a stand-in that yields once, as a network send does; process
CPU time is measured, so other load on the machine matters less. Every
message is sent from a turn of its own, as sessions do under load, so each
hop wakes its actor.

Then fairness under the robot rate limit (1,000 per 10 s, the IM server's
default): the CS Robot is given ``--backlog`` answers beyond its burst, and
while they drain a Shadow sends to its servicer every 50 ms; it prints how
long the backlog took and the longest any Shadow message waited (issue 21:
each within 1 s; behind one shared queue each waited for the backlog).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import pykka  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.call import CallReceiver, tell  # noqa: E402
from actors.clock import SystemClock  # noqa: E402
from actors.durability.outbox import Delivery, Outbox  # noqa: E402
from actors.messages import Outbound, text_payload  # noqa: E402

CONVERSATIONS = 64


def outbox_us_per_message(count: int) -> float:
    """CPU µs per message queued, delivered and accounted for."""
    delivered = gevent.event.Event()
    done = 0

    def deliver(_: Outbound) -> Delivery:
        nonlocal done
        gevent.sleep(0)
        done += 1
        if done == count:
            delivered.set()
        return Delivery(ok=True)

    outbox = Outbox(deliver, SystemClock()).start()
    messages = [Outbound("robot", f"c{i % CONVERSATIONS}", text_payload("hi"),
                         f"c{i % CONVERSATIONS}") for i in range(count)]
    started = time.process_time()
    for message in messages:
        outbox.send(message)
        gevent.sleep(0)  # each answer comes from a session's turn of its own
    delivered.wait()
    elapsed = time.process_time() - started
    outbox.stop()
    return 1e6 * elapsed / count


class _Counter(CallReceiver, pykka.ThreadingActor):
    use_daemon_thread = True

    def __init__(self, count: int, done: gevent.event.Event) -> None:
        super().__init__()
        self._left = count
        self._done = done

    def hit(self) -> None:
        self._left -= 1
        if not self._left:
            self._done.set()


def hop_us(count: int) -> float:
    """CPU µs for one tell and its handling by a Pykka actor (a mailbox hop)."""
    done = gevent.event.Event()
    ref = _Counter.start(count, done)
    started = time.process_time()
    for _ in range(count):
        tell(ref, "hit")
        gevent.sleep(0)
    done.wait()
    elapsed = time.process_time() - started
    ref.stop()
    return 1e6 * elapsed / count


def fairness(backlog: int) -> tuple[float, float, int]:
    """(seconds the CS Robot's backlog took, the longest a Shadow message
    waited in seconds, Shadow messages sent) under a 1,000 per 10 s limit."""
    drained = gevent.event.Event()
    shadow_waits: list[float] = []
    queued_at: dict[str, float] = {}
    robot_left = 0

    def deliver(message: Outbound) -> Delivery:
        nonlocal robot_left
        gevent.sleep(0)
        if message.sender == "cs_robot":
            robot_left -= 1
            if not robot_left:
                drained.set()
        else:
            shadow_waits.append(time.perf_counter() - queued_at[message.payload.text])
        return Delivery(ok=True)

    outbox = Outbox(deliver, SystemClock(), rate_limit=(1000, 10.0)).start()
    burst = 900  # the Outbox keeps 10% under the IM server's limit
    robot_left = burst + backlog
    started = time.perf_counter()
    for i in range(robot_left):
        outbox.send(Outbound("cs_robot", f"c{i}", text_payload("answer"), f"c{i}"))
    sent = 0
    while not drained.is_set():
        token = f"m{sent}"
        queued_at[token] = time.perf_counter()
        outbox.send(Outbound(f"s{sent % 10}*Shadow", f"servicer{sent % 10}",
                             text_payload(token), f"s{sent % 10}"))
        sent += 1
        drained.wait(0.05)
    took = time.perf_counter() - started
    outbox.stop()
    return took, max(shadow_waits, default=0.0), sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backlog", type=int, default=1100,
                        help="CS Robot answers beyond its burst (0: skip the fairness run)")
    args = parser.parse_args()
    for run in range(1, args.repeat + 1):
        print(f"run {run}: outbox {outbox_us_per_message(args.messages):.2f} µs per message; "
              f"one mailbox hop {hop_us(args.messages):.2f} µs", flush=True)
    if args.backlog:
        took, longest, sent = fairness(args.backlog)
        print(f"fairness: the CS Robot's backlog of {args.backlog} drained in {took:.1f} s; "
              f"{sent} Shadow messages meanwhile, the longest waited {1000 * longest:.1f} ms",
              flush=True)


if __name__ == "__main__":
    main()
