"""The Outbox: order per conversation, retries, permanent rejections, rate limit."""

import pytest

from actors.messages import Outbound, text_payload
from actors.outbox import Delivery, Outbox
from actors.ratelimit import LeakyBucket
from fakes import ManualClock, RecordingDeliver, settle


def message(target, text, sender="cs_robot"):
    return Outbound(sender, target, text_payload(text), target)


@pytest.fixture
def clock():
    return ManualClock()


def test_messages_to_one_customer_keep_their_order(clock):
    deliver = RecordingDeliver()
    outbox = Outbox.start(deliver, clock).proxy()
    for i in range(50):
        outbox.send.defer(message("carol", str(i)))
        outbox.send.defer(message("dave", str(i)))
    assert deliver.wait_for("carol", 50) == [str(i) for i in range(50)]
    assert deliver.wait_for("dave", 50) == [str(i) for i in range(50)]
    assert outbox.backlog().get(timeout=2) == 0


def test_transient_failure_is_retried_after_backoff_in_order(clock):
    deliver = RecordingDeliver(script=[Delivery(ok=False, retry=True, detail="code 250")])
    outbox = Outbox.start(deliver, clock).proxy()
    outbox.send.defer(message("carol", "first"))
    outbox.send.defer(message("carol", "second"))
    settle(outbox, rounds=3)
    assert deliver.sent == []
    assert outbox.backlog().get(timeout=2) == 2
    clock.advance(0.2)
    assert deliver.wait_for("carol", 2) == ["first", "second"]
    stats = outbox.stats().get(timeout=2)
    assert (stats.sent, stats.retries, stats.rejected, stats.backlog) == (2, 1, 0, 0)


def test_permanent_rejection_is_counted_and_the_queue_moves_on(clock):
    deliver = RecordingDeliver(script=[Delivery(ok=False, retry=False, detail="code 244")])
    outbox = Outbox.start(deliver, clock).proxy()
    outbox.send.defer(message("carol", "rejected"))
    outbox.send.defer(message("carol", "next"))
    assert deliver.wait_for("carol", 1) == ["next"]
    stats = outbox.stats().get(timeout=2)
    assert (stats.sent, stats.rejected) == (1, 1)


def test_rate_limit_holds_messages_until_the_bucket_drains(clock):
    deliver = RecordingDeliver()
    outbox = Outbox.start(deliver, clock, rate_limit=(10, 1.0)).proxy()
    for i in range(12):
        outbox.send.defer(message(f"c{i}", "hi"))
    settle(outbox, rounds=3)
    assert len(deliver.sent) == 9  # 10% under the IM server's limit of 10
    assert outbox.backlog().get(timeout=2) == 3
    clock.advance(1.0)
    settle(outbox, rounds=3)
    assert len(deliver.sent) == 12


def test_leaky_bucket_allows_a_burst_then_the_rate():
    bucket = LeakyBucket(10, 10.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(10)] == [0.0] * 10
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(1.0) == 0.0
    assert bucket.take(1.0) > 0
