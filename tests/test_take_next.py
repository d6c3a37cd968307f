"""Seats by a person's decision (issue 23): a servicer takes the next waiting customer,
a supervisor places a waiting customer with a servicer; past capacity, never twice."""

import json

import pytest
from test_pool import served_by, world_with

from actors.call import ask
from actors.messages import Payload, Servicer
from actors.pool import ServicerPool
from actors.pool.actor import SeatRefused
from actors.pool.byhand import HandRefused

ONE_EACH = [{"id": "alice", "name": "Alice", "capacity": 1},
            {"id": "bob", "name": "Bob", "capacity": 1, "groups": ["tech"]}]


def request(world, customer, group="", priority=0):
    content = json.dumps({"group": group, "priority": priority})
    world.customer(customer, Payload(type=10003, content=content, persistFlag=0))
    world.deliver.wait_for(customer, 1)
    world.settle()


def pool_call(world, method, *args):
    return ask(world.actors.pool, method, *args).get(timeout=2)


def queued(world):
    return [q["customer"] for q in pool_call(world, ServicerPool.queue)]


def refusal(world, method, *args):
    with pytest.raises(HandRefused) as caught:
        pool_call(world, method, *args)
    return caught.value.code, caught.value.http_status


def seat_notices(world, servicer):
    """What the servicer was told of each new customer, from that customer's Shadow."""
    notices = [(m.sender, m.payload.searchableContent) for m in world.deliver.to(servicer)]
    return [(sender, text) for sender, text in notices if "已接入" in text]


def test_a_servicer_takes_the_head_of_the_queue_past_capacity_with_the_usual_notices(store):
    world = world_with(store, servicers=ONE_EACH)
    world.on_duty("alice")
    for customer in ("c1", "c2", "c3"):
        request(world, customer)
    assert served_by(world, "c1") == "alice" and queued(world) == ["c2", "c3"]

    assert pool_call(world, ServicerPool.take_next, "alice") == "c2"
    world.deliver.wait_for("c2", 2)
    world.deliver.wait_for("c3", 2)
    world.settle()
    assert served_by(world, "c2") == "alice"
    assert queued(world) == ["c3"]
    alice = pool_call(world, ServicerPool.servicer, "alice")
    assert (alice["load"], alice["capacity"]) == (2, 1)
    texts = world.config.texts
    assert world.deliver.texts_to("c2")[-1] == texts.seat_assigned.format(servicer_name="Alice")
    assert [sender for sender, _ in seat_notices(world, "alice")] == ["c1*Shadow", "c2*Shadow"]
    assert "number 1 in the queue" in world.deliver.texts_to("c3")[-1]  # moved up, retold

    # Over capacity only by hand: c1 leaving brings alice to 1 of 1, not a seat for c3.
    world.customer("c1", Payload(type=10002, persistFlag=0))
    world.settle()
    assert queued(world) == ["c3"]
    assert pool_call(world, ServicerPool.servicer, "alice")["load"] == 1


def test_take_next_follows_priority_then_arrival_within_the_groups_the_servicer_serves(store):
    world = world_with(store, servicers=ONE_EACH)
    world.on_duty("alice", "bob")
    request(world, "a0")  # alice
    request(world, "t0", "tech")  # bob
    request(world, "s1", "sales")
    request(world, "t1", "tech")
    request(world, "t2", "tech", priority=5)
    assert queued(world) == ["t2", "s1", "t1"]
    assert pool_call(world, ServicerPool.take_next, "bob") == "t2"
    assert pool_call(world, ServicerPool.take_next, "bob") == "t1"  # s1 is not bob's group
    assert refusal(world, ServicerPool.take_next, "bob") == ("queue_empty", 404)
    assert queued(world) == ["s1"]


def test_a_paused_servicer_may_take_and_stays_paused_an_off_one_may_not(store):
    world = world_with(store, servicers=ONE_EACH)
    world.on_duty("alice")
    request(world, "c1")
    request(world, "c2")
    request(world, "c3")
    assert pool_call(world, ServicerPool.set_status, "alice", "paused")
    assert pool_call(world, ServicerPool.take_next, "alice") == "c2"
    assert pool_call(world, ServicerPool.servicer, "alice")["status"] == "paused"
    assert pool_call(world, ServicerPool.set_status, "alice", "off")
    assert refusal(world, ServicerPool.take_next, "alice") == ("servicer_off", 409)
    assert refusal(world, ServicerPool.take_next, "nobody") == ("no_servicer", 404)
    assert queued(world) == ["c3"]


def test_a_supervisor_places_a_waiting_customer_with_a_servicer_of_their_group(store):
    world = world_with(store, servicers=ONE_EACH)
    world.on_duty("alice", "bob")
    request(world, "c1")
    request(world, "t0", "tech")
    request(world, "t1", "tech")
    request(world, "s1", "sales")
    assert refusal(world, ServicerPool.assign_waiting, "s1", "bob") == ("not_in_group", 409)
    assert refusal(world, ServicerPool.assign_waiting, "c1", "bob") == ("not_waiting", 404)
    assert refusal(world, ServicerPool.assign_waiting, "s1", "zed") == ("no_servicer", 404)
    assert pool_call(world, ServicerPool.set_status, "bob", "off")
    assert refusal(world, ServicerPool.assign_waiting, "t1", "bob") == ("servicer_off", 409)
    assert queued(world) == ["t1", "s1"]

    pool_call(world, ServicerPool.assign_waiting, "s1", "alice")
    world.deliver.wait_for("s1", 2)
    world.settle()
    assert served_by(world, "s1") == "alice"
    assert queued(world) == ["t1"]
    assert [s for s, _ in seat_notices(world, "alice")] == ["c1*Shadow", "s1*Shadow"]


def test_a_servicer_over_capacity_by_hand_can_still_be_renamed_but_not_cut_further(store):
    world = world_with(store, servicers=ONE_EACH)
    world.on_duty("alice")
    for customer in ("c1", "c2", "c3"):
        request(world, customer)
    pool_call(world, ServicerPool.take_next, "alice")
    pool_call(world, ServicerPool.take_next, "alice")  # 3 customers, capacity 1
    renamed = pool_call(world, ServicerPool.upsert_servicer, Servicer("alice", "Alicia", "", 1))
    assert (renamed["name"], renamed["load"], renamed["capacity"]) == ("Alicia", 3, 1)
    raised = pool_call(world, ServicerPool.upsert_servicer, Servicer("alice", "Alicia", "", 2))
    assert raised["capacity"] == 2
    with pytest.raises(SeatRefused):  # lowering it below the load is still refused
        pool_call(world, ServicerPool.upsert_servicer, Servicer("alice", "Alicia", "", 1))
