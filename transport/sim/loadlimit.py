"""The robot rate-limit scenario: many customers at once under the CS Robot's limit.

The IM server limits each robot's sends on its own (1,000 per 10 s by
default: a burst of 1,000, then 100 a second). Every bot answer and welcome
goes out as the CS Robot, so a crowd arriving at once leaves the Outbox a
backlog that drains at the limit's pace, while each customer's messages to
their servicer go out as that customer's Shadow, on a bucket of its own.

1. A few customers are seated with servicers first (their seat notices and
   history sent before the crowd).
2. The crowd: every customer sends *enter* and a question at once; each
   waits for the welcome and the answer.
3. Once the crowd's callbacks have all been answered (the IM server's queue
   is empty, so what follows measures our Outbox and not the IM server's
   dispatcher), the seated customers write to their servicers every
   ``SHADOW_GAP_SECS`` until the crowd's last answer has arrived; each of
   those messages is timed to its arrival at the servicer.

Reported: lost and late answers, code 250 answers from the IM server, the
time the backlog took to drain, and the Shadow messages' delays (the target:
every one within 1 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent

from transport.sim.loadpeople import (
    FAQ_SIZE,
    People,
    Samples,
    answer_to,
    contains,
    equals,
    question,
    wire_text,
)
from transport.sim.loadshare import Overdue, count_late, distribution

ENTER = {"type": 10001, "persistFlag": 0}
SHADOW_GAP_SECS = 0.25
SHADOW_TARGET_SECS = 1.0
OUR_SHARE = 0.9  # the Outbox keeps 10% under the IM server's limit


def robot_limit_scenario(people: People, customers: int, seated: int, limit_per_10s: int,
                         wait: float, say: Callable[[str], None]) -> dict[str, Any]:
    sim = people.sim
    before_250 = sim.stats["robot_send_code_250"]
    # Long enough for the whole backlog at our pace, and then some.
    answer_wait = max(wait, 1.5 * 2 * customers / (OUR_SHARE * limit_per_10s / 10) + 5)
    humans = [f"seated{i:03d}" for i in range(seated)]
    for name in humans:
        people.inbox(name)
        people.say(name, ENTER)
        if people.wait(name, contains("欢迎"), wait) is None:
            raise RuntimeError(f"{name} got no welcome before the crowd")
        people.say(name, wire_text("人工"))
        if people.wait(name, contains("will help you"), wait) is None:
            raise RuntimeError(f"{name} got no seat before the crowd")

    bot = Samples()
    overdue: Overdue = []
    last_answer = 0.0
    said = 0

    def crowd_member(index: int) -> None:
        nonlocal last_answer, said
        name = f"crowd{index:05d}"
        people.inbox(name)
        asked = question(index % FAQ_SIZE)
        expected: list[Callable[[str], bool]] = [contains("欢迎"), equals(answer_to(asked))]
        sent_at = people.say(name, ENTER)
        people.say(name, wire_text(asked))
        said += 1
        bot.sent += 2
        deadline = time.perf_counter() + answer_wait

        def wanted(text: str) -> bool:
            return any(accept(text) for accept in expected)

        while expected:  # the IM server may deliver the two callbacks in either order
            got = people.wait(name, wanted, deadline - time.perf_counter())
            if got is None:
                overdue.extend((name, accept) for accept in expected)
                return
            expected.remove(next(accept for accept in expected if accept(got[1])))
            bot.add(sent_at, got[0])
            last_answer = max(last_answer, got[0])

    shadow = people.samples = Samples()
    started = time.perf_counter()
    crowd = [gevent.spawn(crowd_member, i) for i in range(customers)]
    while said < customers or sim.callbacks.waiting() or sim.callbacks.in_flight():
        gevent.sleep(0.01)
    ingested = time.perf_counter() - started
    say(f"robot limit: the crowd's {2 * customers} callbacks answered in {ingested:.1f} s;"
        " the CS Robot's backlog drains")
    shadow_delays: list[float] = []

    def write_to_servicer(name: str) -> None:
        j = 0
        while not all(g.dead for g in crowd):
            token = f"m:{name}:{j}"
            people.forward_sent[token] = people.say(name, wire_text(token), expect_reply=False)
            j += 1
            gevent.sleep(SHADOW_GAP_SECS)

    writers = [gevent.spawn(write_to_servicer, name) for name in humans]
    gevent.joinall(crowd)
    gevent.joinall(writers)
    gevent.sleep(SHADOW_TARGET_SECS + 1.0)  # the last ones' time to arrive
    shadow_delays = [latency for _, latency in shadow.latencies]
    unarrived = sum(1 for token in people.forward_sent if token.startswith("m:seated"))
    people.samples = Samples()
    late = count_late(people, overdue, wait)
    summary = bot.summary(time.perf_counter() - started)
    summary.update(
        customers=customers, lost=len(overdue) - late, late=late,
        code_250=sim.stats["robot_send_code_250"] - before_250,
        callbacks_ingested_secs=round(ingested, 2),
        backlog_drained_secs=round(last_answer - started, 2) if last_answer else None,
        shadow_messages=len(shadow_delays), shadow_lost=unarrived,
        shadow_delay_ms=distribution(shadow_delays),
        shadow_within_1s=bool(shadow_delays) and not unarrived
        and max(shadow_delays) <= SHADOW_TARGET_SECS)
    say(f"robot limit: {customers} customers, lost {summary['lost']}, late {late}, code 250 "
        f"{summary['code_250']}; backlog drained in {summary['backlog_drained_secs']} s; "
        f"{len(shadow_delays)} Shadow messages, max {summary['shadow_delay_ms']['max']} ms, "
        f"not arrived {unarrived}")
    return summary
