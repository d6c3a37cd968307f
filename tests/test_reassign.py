"""Reassignment: a newly seated customer whose servicer does not answer goes to another."""

from actors.call import ask
from actors.pool import ServicerPool
from conftest import make_config
from world import World

TIMEOUT = 5.0
PEOPLE = [{"id": "alice", "name": "Alice", "capacity": 2},
          {"id": "bob", "name": "Bob", "capacity": 1}]


def world_with(store, **overrides):
    config = make_config(**{"servicers": PEOPLE, "reassign_after_secs": 60,
                            "idle_human_secs": 900, "idle_auto_secs": 900,
                            "auto_pause_secs": 0, **overrides})
    return World(store, config)


def seats(world):
    return ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT)


def seat_with_alice(world, customer):
    world.customer(customer, "human")
    world.deliver.wait_for(customer, 1)
    world.settle()
    assert seats(world)[customer] == "alice"


def test_a_customer_alice_leaves_unanswered_goes_to_bob_and_everyone_is_told(store):
    world = world_with(store)
    world.on_duty("alice")
    seat_with_alice(world, "c1")
    world.on_duty("bob")
    world.clock.advance(59)
    world.settle()
    assert seats(world) == {"c1": "alice"}  # not yet
    world.clock.advance(2)
    world.settle()
    assert seats(world) == {"c1": "bob"}
    texts = world.config.texts
    assert world.deliver.texts_to("c1")[-1] == texts.transferred.format(servicer_name="Bob")
    assert texts.servicer_reassigned_away.format(servicer_name="Bob") in \
        world.deliver.texts_to("alice")
    to_bob = world.deliver.texts_to("bob")
    assert any(t.startswith("Alice 转来的客户") for t in to_bob)  # the notice, then history
    assert store.servicer_stats("alice").get("missed") == 1
    world.clock.advance(61)  # bob does not answer either: nobody else to go to
    world.settle()
    assert seats(world) == {"c1": "bob"}  # never back to the silent alice


def test_a_servicer_who_answers_in_time_keeps_the_customer(store):
    world = world_with(store)
    world.on_duty("alice", "bob")
    seat_with_alice(world, "c1")
    world.clock.advance(30)
    world.servicer("alice", "c1", "hello, how can I help?")
    world.settle()
    world.clock.advance(61)
    world.settle()
    assert seats(world) == {"c1": "alice"}
    assert store.servicer_stats("alice").get("missed") is None


def test_with_nobody_else_free_the_customer_stays_until_someone_frees_up(store):
    world = world_with(store)
    world.on_duty("alice", "bob")
    world.customer("b1", "human")  # least loaded: alice 0/2, bob 0/1 -> alice
    world.deliver.wait_for("b1", 1)
    world.settle()
    world.customer("b2", "human")  # alice 1/2 = 0.5, bob 0 -> bob, now full
    world.deliver.wait_for("b2", 1)
    world.settle()
    world.servicer("alice", "b1", "hi")  # alice answered b1; bob answers b2
    world.servicer("bob", "b2", "hi")
    seat_with_alice(world, "c1")
    world.clock.advance(61)
    world.settle()
    assert seats(world) == {"b1": "alice", "b2": "bob", "c1": "alice"}  # bob is full
    world.servicer("bob", "b2", "/end")  # bob frees up: he takes c1 first
    world.deliver.wait_for("c1", 2)
    world.settle()
    assert seats(world)["c1"] == "bob"


def test_a_servicer_who_misses_too_many_in_a_row_is_paused(store):
    world = world_with(store, pause_after_missed=2)
    world.on_duty("alice")
    seat_with_alice(world, "c1")
    seat_with_alice(world, "c2")
    world.clock.advance(61)
    world.settle()
    status = ask(world.actors.pool, ServicerPool.status).get(timeout=TIMEOUT)
    assert status["alice"]["status"] == "paused"
    assert world.config.texts.missed_paused.format(missed=2) in world.deliver.texts_to("alice")


def test_the_queue_notice_estimates_the_wait_from_recent_seats_and_servicers_on_duty(store):
    from world import queued_text

    world = world_with(store, reassign_after_secs=0)
    world.on_duty("bob")  # capacity 1
    world.asks_for_person("c1")
    world.customer("c2", "human")
    assert world.deliver.wait_for("c2", 1) == [queued_text(world.config, 1)]  # 300 s default
    world.clock.advance(120)  # bob spends two minutes with c1
    world.servicer("bob", "c1", "/end")
    world.customer("c3", "human")
    world.asks_for_person("c4")
    # c2 got the seat; c3 waits first, c4 second, each by bob's 120 s with c1
    assert world.deliver.texts_to("c3")[-1] == queued_text(world.config, 1, handle_secs=120)
    assert world.deliver.texts_to("c4")[-1] == queued_text(world.config, 2, handle_secs=120)
    assert "expected wait: 2-6 minutes" in world.deliver.texts_to("c4")[-1]
    listing = ask(world.actors.pool, ServicerPool.queue).get(timeout=TIMEOUT)
    assert [q["estimated_wait_secs"] for q in listing] == [[60, 180], [120, 360]]


def test_an_estimate_is_retold_when_it_changes_though_the_place_does_not(store):
    from world import queued_text

    world = World(store, make_config(servicers=[
        {"id": "alice", "name": "Alice", "capacity": 1},
        {"id": "bob", "name": "Bob", "capacity": 1}], auto_pause_secs=0))
    world.on_duty("alice", "bob")
    for customer in ("c0", "c9"):  # alice and bob full
        world.customer(customer, "human")
        world.deliver.wait_for(customer, 1)
        world.settle()
    assert ask(world.actors.pool, ServicerPool.set_status, "bob", "paused").get(
        timeout=TIMEOUT)
    world.customer("c1", "human")
    assert world.deliver.wait_for("c1", 1) == [queued_text(world.config, 1, servicers=1)]
    world.on_duty("bob")  # still full, but two serve the queue now: half the wait
    world.settle()
    assert world.deliver.texts_to("c1") == [queued_text(world.config, 1, servicers=1),
                                            queued_text(world.config, 1, servicers=2)]
