"""What one message costs the Outbox, and what a mailbox hop would add to it.

Every answer passes through the Outbox once. It is called in place, not
through a Pykka mailbox: as an actor it took two hops per message (the send,
and the delivery's result), and this prints what one such hop costs on
this machine next to the Outbox's whole cost per message.

    python benchmarks/outbox.py [--messages 30000] [--repeat 3]

The delivery is a stand-in that yields once, as a network send does; process
CPU time is measured, so other load on the machine matters less. Every
message is sent from a turn of its own, as sessions do under load, so each
hop wakes its actor.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for run in range(1, args.repeat + 1):
        print(f"run {run}: outbox {outbox_us_per_message(args.messages):.2f} µs per message; "
              f"one mailbox hop {hop_us(args.messages):.2f} µs", flush=True)


if __name__ == "__main__":
    main()
