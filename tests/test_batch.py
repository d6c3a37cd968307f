"""Group commit: Lua calls made together share round trips and lose nothing."""

import gevent
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
