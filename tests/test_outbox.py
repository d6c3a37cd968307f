"""The Outbox: order per conversation, retries, permanent rejections, rate limit."""

import gevent
import pytest

from actors.durability.outbox import Delivery, Outbox
from actors.messages import Outbound, text_payload
from actors.ratelimit import LeakyBucket
from fakes import ManualClock, RecordingDeliver


def message(target, text, sender="cs_robot"):
    return Outbound(sender, target, text_payload(text), target)


def let_senders_run():
    """The sender greenlets' turn: each send and its result take one switch."""
    for _ in range(5):
        gevent.sleep(0)


@pytest.fixture
def clock():
    return ManualClock()


def test_messages_to_one_customer_keep_their_order(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock).start()
    for i in range(50):
        outbox.send(message("carol", str(i)))
        outbox.send(message("dave", str(i)))
    assert deliver.wait_for("carol", 50) == [str(i) for i in range(50)]
    assert deliver.wait_for("dave", 50) == [str(i) for i in range(50)]
    assert outbox.backlog() == 0


class SlowDeliver(RecordingDeliver):
    """Each send takes a few switches, as a network call does; notes who sent it."""

    def __init__(self):
        super().__init__()
        self.in_flight = self.most_in_flight = 0
        self.senders = set()

    def __call__(self, message):
        self.senders.add(gevent.getcurrent())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        gevent.sleep(0.001)
        self.in_flight -= 1
        return super().__call__(message)


def test_a_burst_is_sent_by_a_few_reused_senders_within_the_in_flight_bound(clock):
    deliver = SlowDeliver()
    outbox = Outbox(deliver, clock, max_in_flight=4).start()
    for i in range(25):
        for customer in ("ann", "bob", "cy", "di", "ed", "flo"):
            outbox.send(message(customer, str(i)))
    for customer in ("ann", "bob", "cy", "di", "ed", "flo"):
        assert deliver.wait_for(customer, 25) == [str(i) for i in range(25)]
    assert deliver.most_in_flight == 4
    assert len(deliver.senders) <= 5  # the bound, plus one that is just finishing
    assert outbox.backlog() == 0


def test_transient_failure_is_retried_after_backoff_in_order(clock):
    deliver = RecordingDeliver(script=[Delivery(ok=False, retry=True, detail="code 250")])
    outbox = Outbox(deliver, clock).start()
    outbox.send(message("carol", "first"))
    outbox.send(message("carol", "second"))
    let_senders_run()
    assert deliver.sent == []
    assert outbox.backlog() == 2
    clock.advance(0.2)
    assert deliver.wait_for("carol", 2) == ["first", "second"]
    stats = outbox.stats()
    assert (stats.sent, stats.retries, stats.rejected, stats.backlog) == (2, 1, 0, 0)


def test_permanent_rejection_is_counted_and_the_queue_moves_on(clock):
    deliver = RecordingDeliver(script=[Delivery(ok=False, retry=False, detail="code 244")])
    outbox = Outbox(deliver, clock).start()
    outbox.send(message("carol", "rejected"))
    outbox.send(message("carol", "next"))
    assert deliver.wait_for("carol", 1) == ["next"]
    stats = outbox.stats()
    assert (stats.sent, stats.rejected) == (1, 1)


def test_rate_limit_holds_messages_until_the_bucket_drains(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock, rate_limit=(10, 1.0)).start()
    for i in range(12):
        outbox.send(message(f"c{i}", "hi"))
    let_senders_run()
    assert len(deliver.sent) == 9  # 10% under the IM server's limit of 10
    assert outbox.backlog() == 3
    clock.advance(1.0)
    let_senders_run()
    assert len(deliver.sent) == 12


def test_leaky_bucket_allows_a_burst_then_the_rate():
    bucket = LeakyBucket(10, 10.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(10)] == [0.0] * 10
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(1.0) == 0.0
    assert bucket.take(1.0) > 0


def test_a_stopped_outbox_queues_nothing_more_and_sends_nothing(clock):
    deliver = RecordingDeliver(script=[Delivery(ok=False, retry=True, detail="code 250")])
    outbox = Outbox(deliver, clock).start()
    assert outbox.send(message("carol", "first"))
    let_senders_run()
    outbox.stop()
    assert not outbox.send(message("dave", "after the stop"))
    assert outbox.backlog() == 1  # carol's, kept in the journal for the restart
    clock.advance(1.0)  # the back-off's timer fires after the stop
    let_senders_run()
    assert (deliver.attempts, deliver.sent) == (1, [])


# Fairness between senders: each robot has its own bucket at the IM server. ------------

def sent_texts(deliver, sender=None):
    return [m.payload.searchableContent for m in deliver.sent
            if sender is None or m.sender == sender]


def test_a_throttled_robot_never_delays_another_robots_messages(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock, rate_limit=(10, 1.0)).start()
    for i in range(15):
        outbox.send(message(f"c{i}", f"a{i}", sender="robot_a"))
    let_senders_run()
    assert len(sent_texts(deliver, "robot_a")) == 9  # its burst; six wait for its bucket
    for i in range(5):
        outbox.send(message(f"s{i}", f"b{i}", sender="robot_b"))
    let_senders_run()  # no time passes: B's go on B's own tokens
    assert sent_texts(deliver, "robot_b") == [f"b{i}" for i in range(5)]
    assert len(sent_texts(deliver, "robot_a")) == 9


def test_a_shadow_message_is_not_held_behind_the_cs_robots_backlog_for_the_same_customer(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock, rate_limit=(10, 1.0)).start()
    for i in range(9):
        outbox.send(message(f"c{i}", "burst"))
    outbox.send(Outbound("cs_robot", "carol", text_payload("a servicer will help you"), "carol"))
    outbox.send(Outbound("carol*Shadow", "alice", text_payload("carol: hello"), "carol"))
    let_senders_run()
    assert deliver.texts_to("alice") == ["carol: hello"]
    assert deliver.texts_to("carol") == []  # the CS Robot's bucket is empty
    clock.advance(0.2)
    let_senders_run()
    assert deliver.texts_to("carol") == ["a servicer will help you"]


def drain(clock, deliver, total, step=0.01, limit_secs=60.0):
    """Advance time in steps until ``total`` messages went; their send times."""
    sent_at = {}
    started = clock.monotonic()
    while len(deliver.sent) < total and clock.monotonic() - started < limit_secs:
        let_senders_run()
        for m in deliver.sent:
            sent_at.setdefault(id(m), (clock.monotonic(), m))
        clock.advance(step)
    let_senders_run()
    for m in deliver.sent:
        sent_at.setdefault(id(m), (clock.monotonic(), m))
    return sorted(sent_at.values(), key=lambda pair: pair[0])


def test_under_a_throttled_robot_customers_go_in_arrival_order_each_in_order(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock, rate_limit=(10, 1.0)).start()  # 9 a second for us
    start = clock.monotonic()
    for i in range(20):  # a talkative customer first
        outbox.send(message("c0", str(i)))
    for k in range(1, 6):  # then five more, one answer each
        outbox.send(message(f"c{k}", "0"))
    timeline = drain(clock, deliver, 25)
    assert len(timeline) == 25
    assert deliver.texts_to("c0") == [str(i) for i in range(20)]
    first_six = [m.target for _, m in timeline[:6]]
    assert first_six == ["c0", "c1", "c2", "c3", "c4", "c5"]  # one each, in arrival order
    for place, (at, _) in enumerate(timeline):
        # Each waits no longer than its place in the backlog over the rate, plus a second.
        assert at - start <= max(0, place + 1 - 9) / 9 + 1.0


def test_a_late_customer_is_not_starved_by_an_earlier_backlog(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock, rate_limit=(10, 1.0)).start()
    for i in range(30):
        outbox.send(message("c0", str(i)))
    for _ in range(20):  # one conversation: one message at a time, no time passing
        let_senders_run()
    assert len(deliver.sent) == 9
    outbox.send(message("late", "hello"))
    timeline = drain(clock, deliver, 11)
    assert "late" in [m.target for _, m in timeline[9:11]]  # within two sends, not after 21


def test_idle_buckets_are_forgotten_and_busy_ones_kept(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock, rate_limit=(10, 1.0)).start()
    for i in range(50):
        outbox.send(Outbound(f"c{i}*Shadow", "alice", text_payload(str(i)), f"c{i}"))
    let_senders_run()
    assert len(deliver.sent) == 50
    assert outbox.tracked_senders() == 50
    clock.advance(0.9)
    for i in range(9):  # a burst that takes a second to leak away
        outbox.send(message(f"z{i}", "z", sender="busy_robot"))
    let_senders_run()
    clock.advance(0.1)  # a sweep is due: the Shadows' one token each has leaked away
    outbox.send(message("y", "y", sender="other_robot"))
    let_senders_run()
    assert outbox.tracked_senders() == 2  # busy_robot and other_robot
    outbox.send(message("z9", "one more", sender="busy_robot"))
    let_senders_run()
    assert deliver.texts_to("z9") == []  # its bucket was kept, so no second burst
    clock.advance(0.2)
    let_senders_run()
    assert deliver.texts_to("z9") == ["one more"]


def test_without_a_rate_limit_no_sender_is_remembered(clock):
    deliver = RecordingDeliver()
    outbox = Outbox(deliver, clock).start()
    for i in range(20):
        outbox.send(Outbound(f"c{i}*Shadow", "alice", text_payload(str(i)), f"c{i}"))
    assert deliver.wait_for("alice", 20)
    assert outbox.tracked_senders() == 0
