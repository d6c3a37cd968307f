"""Priority: asked for in the request, set per customer by a supervisor, refused clearly."""

import json

from actors.call import ask
from actors.messages import Payload
from actors.pool import ServicerPool
from conftest import make_config, start_stack
from storage.customers import CustomerStore
from transport.http.client import JsonClient
from world import World

TIMEOUT = 5.0


def request(priority):
    return Payload(type=10003, content=json.dumps({"priority": priority}), persistFlag=0)


def busy_world(store):
    world = World(store, make_config(servicers=[{"id": "alice", "name": "Alice",
                                                 "capacity": 1}]))
    world.on_duty("alice")
    world.asks_for_person("c0")
    return world


def queue(world):
    return [(q["customer"], q["priority"])
            for q in ask(world.actors.pool, ServicerPool.queue).get(timeout=TIMEOUT)]


def test_a_priority_out_of_range_gets_a_clear_reply_and_the_default(store):
    world = busy_world(store)
    world.customer("c1", request(42))
    texts = world.deliver.wait_for("c1", 2)
    world.settle()
    assert texts[0] == world.config.texts.bad_priority
    assert queue(world) == [("c1", 0)]


def test_a_priority_set_for_the_customer_applies_to_their_requests(store):
    world = busy_world(store)
    CustomerStore.of(store).set_priority("vip", 7)
    world.customer("c1", "human")
    world.customer("vip", "human")  # asks later, without a priority: their own is used
    world.deliver.wait_for("vip", 1)
    world.settle()
    assert queue(world) == [("vip", 7), ("c1", 0)]


def test_a_supervisor_sets_a_customers_priority_and_moves_them_now(redis_url):
    stack = start_stack(redis_url, api_token="boss-token-0123456789")
    try:
        http = JsonClient()
        auth = {"Authorization": "Bearer boss-token-0123456789"}
        stack.client.send("alice", "cs_robot", "/on")
        for customer in ("c0", "c1", "c2"):
            stack.client.send(customer, "cs_robot", "human")
            stack.client.wait_for(customer)
        url = stack.cs.url + "/api/customers/c2/priority"
        answer = http.request("PUT", url, json.dumps({"priority": 5}).encode(), auth)
        assert answer.status == 200 and answer.body["waiting"] is True
        listing = http.get(stack.cs.url + "/api/queue", auth).body["queue"]
        assert [(q["customer"], q["priority"]) for q in listing] == [("c2", 5), ("c1", 0)]
        assert CustomerStore.of(stack.cs.store).priority("c2") == 5
        bad = http.request("PUT", url, json.dumps({"priority": "high"}).encode(), auth)
        assert bad.status == 400 and bad.body["error"]["code"] == "bad_priority"
    finally:
        stack.stop()
        stack.cs.store.delete_all()
