"""The message boundary and supervision: one bad message, or a dead actor, stops nothing."""

import dataclasses

import gevent
import gevent.event
import pykka

from actors.call import ask, tell
from actors.directory import Directory
from actors.pool import ServicerPool
from actors.supervision import Mortal, Supervised
from conftest import make_config
from waiting import wait_until
from world import World

TIMEOUT = 5.0


def kill(handle):
    """Make the actor die the way no boundary can catch: a proxy call to a method
    it does not have fails inside Pykka itself."""
    ref = handle.ref
    ref.tell(pykka.messages.ProxyCall(attr_path=("no_such_method",), args=(), kwargs={}))
    assert wait_until(lambda: handle.ref is not ref and handle.ready, TIMEOUT)


def kill_and_hold(handle):
    """Kill the actor and hold its restart until the returned event is set."""
    gate = gevent.event.Event()
    start = handle._start

    def slow_start(on_death):
        gate.wait(TIMEOUT)
        return start(on_death)

    handle._start = slow_start
    handle.ref.tell(pykka.messages.ProxyCall(attr_path=("no_such_method",), args=(),
                                             kwargs={}))
    assert wait_until(lambda: handle.restarting, TIMEOUT)
    return gate


def test_a_told_message_that_raises_is_logged_and_the_pool_goes_on(store, caplog):
    config = make_config()
    # A text the config check would refuse, smuggled past it.
    bad = dataclasses.replace(config, texts=dataclasses.replace(
        config.texts, duty_on="On duty, {name}"))
    world = World(store, bad)
    ref = world.actors.pool.ref
    tell(world.actors.pool, ServicerPool.set_status, "alice", "on")  # raises KeyError inside
    world.settle()
    assert "failed on set_status" in caplog.text
    assert world.actors.pool.ref is ref and ref.is_alive()  # not restarted: it never died
    world.customer("c1", "human")  # the next request for a person is still served
    world.deliver.wait_for("c1", 1)
    world.settle()
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {"c1": "alice"}


def test_a_pool_killed_mid_traffic_comes_back_with_its_seats_and_queue(store):
    world = World(store, make_config(servicers=[{"id": "alice", "name": "Alice",
                                                 "capacity": 2}]))
    world.on_duty("alice")
    for customer in ("c1", "c2", "c3"):
        world.customer(customer, "human")
        world.deliver.wait_for(customer, 1)
    world.settle()
    kill(world.actors.pool)
    world.customer("c4", "human")  # traffic goes on through the new pool
    world.deliver.wait_for("c4", 1)
    world.settle()
    assert world.actors.pool.restarts == 1
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {
        "c1": "alice", "c2": "alice"}
    queue = ask(world.actors.pool, ServicerPool.queue).get(timeout=TIMEOUT)
    assert [q["customer"] for q in queue] == ["c3", "c4"]
    world.servicer("alice", "c1", "/end")  # a seat frees: the restored queue moves
    world.deliver.wait_for("c3", 3)
    world.settle()
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {
        "c2": "alice", "c3": "alice"}
    assert world.config.texts.seat_assigned.format(servicer_name="Alice") in \
        world.deliver.texts_to("c3")


def test_a_seat_released_while_the_pool_was_down_is_freed_after_its_restart(store):
    world = World(store, make_config(servicers=[{"id": "alice", "name": "Alice",
                                                 "capacity": 1}]))
    world.on_duty("alice")
    world.asks_for_person("c1")
    handle = world.actors.pool
    gate = kill_and_hold(handle)
    assert not world.actors.ready  # /readyz says 503 meanwhile
    world.servicer("alice", "c1", "/end")  # the release is lost: nobody is there
    world.customer("c1", "5")  # rated: the session closes for good
    world.deliver.wait_for("c1", 4)
    world.settle_sessions()
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=TIMEOUT) == []
    gate.set()
    assert wait_until(lambda: handle.ready, TIMEOUT)
    world.settle()
    assert world.actors.ready
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {}


def test_a_directory_killed_comes_back_with_every_open_session(store):
    world = World(store)
    world.on_duty("alice")
    world.customer("c1", "human")
    world.customer("c2", "price?")
    world.deliver.wait_for("c1", 1)
    world.deliver.wait_for("c2", 1)
    world.settle()
    kill(world.actors.directory)
    world.settle()
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=TIMEOUT) == [
        "c1", "c2"]
    world.servicer("alice", "c1", "hello from alice")
    assert "hello from alice" in world.deliver.wait_for("c1", 3)


class _Sleeper(Mortal, pykka.ThreadingActor):
    use_daemon_thread = True


def test_an_actor_stopped_on_purpose_is_not_restarted():
    handle = Supervised("sleeper", lambda on_death: _Sleeper.start(on_death=on_death))
    first = handle.ref
    first.stop()
    kill_free = first.actor_stopped.wait(TIMEOUT)
    assert kill_free and handle.restarts == 0 and handle.ref is first
    handle.stop()


def test_readyz_says_503_while_the_pool_restarts_and_metrics_count_the_restart(stack):
    from transport.http.client import JsonClient

    http = JsonClient()
    assert http.get(stack.cs.url + "/readyz").status == 200
    handle = stack.cs.actors.pool
    gate = kill_and_hold(handle)
    answer = http.get(stack.cs.url + "/readyz")
    assert answer.status == 503 and answer.body["actors"] == "restarting"
    answer = http.get(stack.cs.url + "/api/servicers")  # was a logged 500 (review)
    assert answer.status == 503 and answer.body["error"]["code"] == "unavailable"
    gate.set()
    assert wait_until(lambda: handle.ready, TIMEOUT)
    answer = http.get(stack.cs.url + "/readyz")
    assert answer.status == 200 and answer.body["actor_restarts"] == {"directory": 0, "pool": 1}
    metrics = http.get(stack.cs.url + "/metrics").raw.decode()
    assert 'cs_actor_restarts_total{actor="pool"} 1.0' in metrics
    assert 'cs_actor_restarts_total{actor="directory"} 0.0' in metrics
