"""Group commit: Lua calls made together share round trips and lose nothing."""

import time

import gevent
import gevent.socket
import hiredis
import pytest
import redis

from storage import CsError, StorageError, connect
from storage.batch import ScriptBatcher
from waiting import wait_until

INCREMENT = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
def batcher(store):
    return ScriptBatcher(store.client, wait_timeout=2.0)


def test_calls_made_together_share_round_trips_and_each_gets_its_own_reply(batcher, store):
    script = batcher.register(INCREMENT)
    key = store.keys.prefix + ":counter"
    replies = [gevent.spawn(batcher.call, script, [key], [1]) for _ in range(200)]
    gevent.joinall(replies, raise_error=True)
    assert sorted(g.value for g in replies) == list(range(1, 201))
    assert batcher.calls == 200
    assert batcher.round_trips < 20
    store.client.delete(key)


def test_a_flushed_script_cache_is_reloaded_without_losing_the_call(batcher, store):
    script = batcher.register(INCREMENT)
    key = store.keys.prefix + ":counter"
    assert batcher.call(script, [key], [5]) == 5
    store.client.script_flush()
    assert batcher.call(script, [key], [5]) == 10
    store.client.delete(key)


def test_a_script_error_reaches_only_its_caller(batcher, store):
    script = batcher.register(INCREMENT)
    key = store.keys.prefix + ":counter"
    good = gevent.spawn(batcher.call, script, [key], [1])
    bad = gevent.spawn(batcher.call, script, [key], ["not a number"])
    gevent.joinall([good, bad])
    assert good.value == 1
    assert isinstance(bad.exception, StorageError)
    assert isinstance(bad.exception.__cause__, redis.ResponseError)
    store.client.delete(key)


def test_an_unreachable_redis_fails_every_waiter_with_a_storage_error():
    dead = connect("redis://127.0.0.1:1/0")
    batcher = ScriptBatcher(dead, wait_timeout=5.0)
    script = batcher.register(INCREMENT)
    calls = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(5)]
    gevent.joinall(calls)
    assert all(isinstance(c.exception, StorageError) for c in calls)
    assert all(isinstance(c.exception.__cause__, redis.ConnectionError) for c in calls)
    assert calls[0].exception.code == "storage_unavailable"
    assert isinstance(calls[0].exception, CsError) and calls[0].exception.http_status == 503


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers."""
    server = gevent.socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    # No socket time-out: only the batcher's own bound can end a wait.
    yield redis.Redis(port=server.getsockname()[1], socket_timeout=None)
    server.close()


def test_a_redis_that_never_answers_fails_every_waiter_within_the_bound(silent_redis):
    batcher = ScriptBatcher(silent_redis, wait_timeout=0.2)
    script = batcher.register(INCREMENT)
    calls = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(5)]
    with gevent.Timeout(3):
        gevent.joinall(calls)
    assert all(isinstance(c.exception, StorageError) for c in calls)
    assert all(isinstance(c.exception.__cause__, redis.TimeoutError) for c in calls)


def test_calls_in_flight_or_queued_when_the_runner_is_stopped_hear_of_it(silent_redis):
    batcher = ScriptBatcher(silent_redis, wait_timeout=60)
    script = batcher.register(INCREMENT)
    in_flight = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(3)]
    wait_for_round_trip(batcher)
    queued = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(3)]
    wait_until_waiting(batcher, 3)
    batcher._runner.kill()
    with gevent.Timeout(3):
        gevent.joinall(in_flight + queued)
    assert all(isinstance(c.exception, StorageError) for c in in_flight + queued)


def test_an_argument_redis_cannot_carry_fails_only_its_own_call(batcher, store):
    script = batcher.register(INCREMENT)
    key = store.keys.prefix + ":counter"
    good = gevent.spawn(batcher.call, script, [key], [1])
    bad = gevent.spawn(batcher.call, script, [key], [{"not": "bytes"}])
    gevent.joinall([good, bad])
    assert good.value == 1
    assert isinstance(bad.exception, StorageError)
    assert isinstance(bad.exception.__cause__, redis.DataError)
    store.client.delete(key)


def test_each_call_waits_at_most_its_own_bound_however_many_are_queued(silent_redis):
    # During a Redis stall a call queued behind thousands of others used to
    # wait for every batch ahead of it (12 round trips of 0.2 s here).
    batcher = ScriptBatcher(silent_redis, wait_timeout=0.2, max_pending=4000)
    script = batcher.register(INCREMENT)

    def timed_call():
        started = time.monotonic()
        try:
            batcher.call(script, ["k"], [1])
        except Exception as exc:
            return time.monotonic() - started, exc
        return time.monotonic() - started, None

    calls = [gevent.spawn(timed_call) for _ in range(3000)]
    with gevent.Timeout(10):
        gevent.joinall(calls, raise_error=True)
    waits = [c.value[0] for c in calls]
    assert max(waits) < 1.5, f"longest wait {max(waits):.2f}s for a 0.2s bound"
    assert all(isinstance(c.value[1], StorageError) for c in calls)
    # All were queued before the first round trip began, so all had timed out
    # when it failed: none of the rest was sent (and so none ran late).
    assert batcher.round_trips == 1


def wait_for_round_trip(batcher):
    assert wait_until(lambda: batcher.round_trips > 0, timeout=3)


def wait_until_waiting(batcher, n):
    """``n`` calls are queued behind the round trip in flight."""
    assert wait_until(lambda: batcher.waiting >= n, timeout=3)


def test_a_full_queue_fails_the_next_call_at_once(silent_redis):
    batcher = ScriptBatcher(silent_redis, wait_timeout=60, max_pending=10)
    script = batcher.register(INCREMENT)
    stuck = [gevent.spawn(batcher.call, script, ["k"], [1])]
    wait_for_round_trip(batcher)
    stuck += [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(10)]
    wait_until_waiting(batcher, 10)
    with gevent.Timeout(2):
        with pytest.raises(StorageError, match="queue"):
            batcher.call(script, ["k"], [1])
    assert not any(c.ready() for c in stuck)  # refused before any of them ended
    batcher._runner.kill()
    gevent.joinall(stuck)


def test_a_full_queue_makes_accepting_a_callback_fail_fast(store, silent_redis):
    # The intake (transport/edge/intake.py) catches StorageError from
    # accept_inbound and reports storage degraded: it must not wait first.
    from storage.batch import ScriptBatcher as Batcher
    store._batcher = Batcher(silent_redis, wait_timeout=60, max_pending=4)
    store._accept = store._batcher.register("return 1")
    stuck = [gevent.spawn(store.accept_inbound, 0, [0])]
    wait_for_round_trip(store._batcher)
    stuck += [gevent.spawn(store.accept_inbound, i, [i]) for i in range(1, 5)]
    wait_until_waiting(store._batcher, 4)
    with gevent.Timeout(2):
        with pytest.raises(StorageError):
            store.accept_inbound(99, [99])
    assert not any(c.ready() for c in stuck)
    store._batcher._runner.kill()
    gevent.joinall(stuck)


@pytest.fixture
def half_answering_redis():
    """A Redis stand-in that answers the first ANSWERED scripts of a batch, then hangs up."""
    server = gevent.socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve():
        while True:
            sock, _ = server.accept()
            gevent.spawn(answer, sock)

    def answer(sock):
        reader = hiredis.Reader()
        answered = 0
        while True:
            data = sock.recv(65536)
            if not data:
                return
            reader.feed(data)
            while (command := reader.gets()) is not False:
                if command[0].upper() != b"EVALSHA":
                    sock.sendall(b"+OK\r\n")  # the connection's own set-up
                    continue
                if answered == HalfAnswering.ANSWERED:
                    sock.close()
                    return
                answered += 1
                sock.sendall(b":%d\r\n" % answered)

    runner = gevent.spawn(serve)
    yield redis.Redis(port=server.getsockname()[1], socket_timeout=5, protocol=2)
    runner.kill()
    server.close()


class HalfAnswering:
    ANSWERED = 3


def test_a_batch_that_fails_part_way_delivers_the_replies_already_read(half_answering_redis):
    batcher = ScriptBatcher(half_answering_redis, wait_timeout=5)
    script = batcher.register(INCREMENT)
    calls = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(8)]
    with gevent.Timeout(5):
        gevent.joinall(calls)
    assert batcher.round_trips == 1
    assert [c.value for c in calls[:3]] == [1, 2, 3]
    assert all(isinstance(c.exception, StorageError) for c in calls[3:])
