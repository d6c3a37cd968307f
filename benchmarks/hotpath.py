"""What the in-process steps of one bot answer cost: the auto-reply, the
callback parser and building the answer's payload.

    python benchmarks/hotpath.py [--repeat 7]

Each figure is the best of ``--repeat`` timings of a tight loop, on the load
test's 200-entry FAQ and its callback body. To compare two versions, run it
in a checkout of each (``git worktree add /tmp/old <commit>``).
"""

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.autoreply.engine import AutoReply  # noqa: E402
from actors.autoreply.knowledge import knowledge_from_config  # noqa: E402
from actors.config import config_from_dict  # noqa: E402
from actors.messages import text_payload  # noqa: E402
from transport.sim.loadpeople import FAQ_SIZE, ROBOT, faq_config, question, wire_text  # noqa: E402
from transport.wildfire.callbacks import parse_callback  # noqa: E402

LOOPS = 40_000


def best_us(step: Callable[[int], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(LOOPS):
            step(i)
        best = min(best, (time.perf_counter() - started) / LOOPS)
    return 1e6 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    config = config_from_dict({"faq": faq_config()})
    autoreply = AutoReply(knowledge_from_config(config), config.human_words)
    questions = [question(i) for i in range(FAQ_SIZE)]
    body = {"messageId": 1234567, "sender": "sat12", "conv": {"type": 0, "target": ROBOT},
            "payload": wire_text(questions[0]), "timestamp": 1764000000000}
    reply = best_us(lambda i: autoreply.reply(questions[i % FAQ_SIZE]), args.repeat)
    parse = best_us(lambda i: parse_callback(body), args.repeat)
    payload = best_us(lambda i: text_payload("an answer"), args.repeat)
    print(f"auto-reply {reply:.2f} µs per question; parse_callback {parse:.2f} µs; "
          f"text_payload {payload:.2f} µs")


if __name__ == "__main__":
    main()
