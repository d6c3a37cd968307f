"""Group commit: Lua calls made together share round trips and lose nothing."""

import gevent
import gevent.socket
import pytest
import redis

from storage import connect
from storage.batch import ScriptBatcher

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
    assert isinstance(bad.exception, redis.ResponseError)
    store.client.delete(key)


def test_an_unreachable_redis_fails_every_waiter_with_a_storage_error():
    dead = connect("redis://127.0.0.1:1/0")
    batcher = ScriptBatcher(dead, wait_timeout=5.0)
    script = batcher.register(INCREMENT)
    calls = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(5)]
    gevent.joinall(calls)
    assert all(isinstance(c.exception, redis.ConnectionError) for c in calls)


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
    assert all(isinstance(c.exception, redis.TimeoutError) for c in calls)


def test_calls_in_flight_or_queued_when_the_runner_is_stopped_hear_of_it(silent_redis):
    batcher = ScriptBatcher(silent_redis, wait_timeout=60)
    script = batcher.register(INCREMENT)
    in_flight = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(3)]
    with gevent.Timeout(3):
        while batcher.round_trips == 0:
            gevent.sleep(0.01)
    queued = [gevent.spawn(batcher.call, script, ["k"], [1]) for _ in range(3)]
    gevent.sleep(0)
    batcher._runner.kill()
    with gevent.Timeout(3):
        gevent.joinall(in_flight + queued)
    assert all(isinstance(c.exception, redis.ConnectionError) for c in in_flight + queued)


def test_an_argument_redis_cannot_carry_fails_only_its_own_call(batcher, store):
    script = batcher.register(INCREMENT)
    key = store.keys.prefix + ":counter"
    good = gevent.spawn(batcher.call, script, [key], [1])
    bad = gevent.spawn(batcher.call, script, [key], [{"not": "bytes"}])
    gevent.joinall([good, bad])
    assert good.value == 1
    assert isinstance(bad.exception, redis.DataError)
    store.client.delete(key)
