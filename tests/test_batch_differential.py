"""The batcher (storage/batch.py) packs commands with hiredis and reads the
replies off a connection it owns; redis-py's own ``evalsha`` must give every
caller the same reply or the same error, for any keys and arguments,
including ones Redis cannot carry."""

import gevent
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import StorageError
from storage.batch import ScriptBatcher

SCRIPTS = [
    "return {KEYS, ARGV}",
    "return #ARGV + #KEYS",
    "return tonumber(ARGV[1])",
    "return redis.error_reply(tostring(ARGV[1]))",
    "return redis.status_reply(tostring(ARGV[1]))",
    "error('raised in Lua')",
    "return redis.call('GET', KEYS[1] or 'none')",
]

texts = st.text(max_size=12)
arguments = st.one_of(
    texts, st.binary(max_size=12), st.integers(), st.floats(),
    st.booleans(), st.none(), st.builds(bytearray, st.binary(max_size=4)),
    st.builds(memoryview, st.binary(max_size=4)),
    st.lists(st.integers(), max_size=2), st.dictionaries(texts, texts, max_size=1),
)
calls = st.lists(
    st.tuples(st.sampled_from(range(len(SCRIPTS))),
              st.lists(st.one_of(texts, st.binary(max_size=8)), max_size=2),
              st.lists(arguments, max_size=3)),
    min_size=1, max_size=8)


def outcome(run):
    try:
        return ("reply", run())
    except StorageError as exc:
        return outcome_of(exc.__cause__)
    except redis.RedisError as exc:
        return outcome_of(exc)


def outcome_of(exc):
    return ("error", type(exc).__name__, str(exc))


@pytest.fixture(scope="module")
def client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=calls)
def test_batched_calls_reply_as_redis_py_evalsha_does(client, calls):
    batcher = ScriptBatcher(client, wait_timeout=5.0)
    scripts = [batcher.register(source) for source in SCRIPTS]

    def batched(script, keys, args):
        return outcome(lambda: batcher.call(scripts[script], keys, args))

    # Spawned together, they share round trips: a bad call sits among good ones.
    together = [gevent.spawn(batched, *call) for call in calls]
    gevent.joinall(together, raise_error=True)
    one_by_one = [outcome(lambda s=s, k=k, a=a: client.evalsha(scripts[s].sha, len(k), *k, *a))
                  for s, k, a in calls]
    assert [g.value for g in together] == one_by_one
