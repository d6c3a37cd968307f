"""The actors' mailbox: order, wake-ups, and Pykka's semantics on top of it."""

import subprocess
import sys
from pathlib import Path

import gevent
import pykka
import pytest

from actors.mailbox import GreenletActor, Mailbox


def test_a_waiting_reader_gets_every_message_in_order():
    mailbox = Mailbox()
    reader = gevent.spawn(lambda: [mailbox.get() for _ in range(3)])
    gevent.sleep(0)  # the reader now waits on an empty mailbox
    for n in (1, 2, 3):
        mailbox.put(n)
    assert reader.get(timeout=2) == [1, 2, 3]
    assert mailbox.empty()


def test_a_message_put_while_the_reader_is_gone_waits_for_the_next_reader():
    mailbox = Mailbox()
    reader = gevent.spawn(mailbox.get)
    gevent.sleep(0)
    reader.kill()
    mailbox.put("kept")
    gevent.sleep(0)  # the dead reader's wake-up runs and finds nobody
    assert len(mailbox) == 1
    assert gevent.spawn(mailbox.get).get(timeout=2) == "kept"


class Echo(GreenletActor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def on_receive(self, message):
        if message == "slow":
            gevent.sleep(0.05)
        self.seen.append(message)
        return list(self.seen)


def test_an_actor_answers_tells_and_asks_in_the_order_sent():
    ref = Echo.start()
    try:
        for n in range(5):
            ref.tell(n)
        assert ref.ask(5, timeout=2) == [0, 1, 2, 3, 4, 5]
    finally:
        ref.stop()


def test_asks_queued_behind_a_stop_fail_instead_of_hanging():
    ref = Echo.start()
    ref.tell("slow")
    stopping = ref.stop(block=False)
    late = ref.ask(1, block=False)  # queued behind the stop
    stopping.get(timeout=2)
    with pytest.raises(pykka.ActorDeadError):
        late.get(timeout=2)


def test_starting_an_actor_without_gevent_patched_fails_with_a_clear_error():
    unpatched = subprocess.run(
        [sys.executable, "-c", "from actors.mailbox import GreenletActor; GreenletActor.start()"],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=30)
    assert unpatched.returncode != 0
    assert "call gevent.monkey.patch_all()" in unpatched.stderr
