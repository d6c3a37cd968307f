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
