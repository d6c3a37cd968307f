"""The ServicerPool and the sessions it seats: strategies, queue, transfer, ratings."""

import json

import pytest

from actors.call import ask
from actors.directory import Directory
from actors.messages import Payload
from actors.pool import ServicerPool
from conftest import make_config
from world import REQUEST_HUMAN, World, queued_text

TWO_BIG = [{"id": "alice", "name": "Alice", "capacity": 5},
           {"id": "bob", "name": "Bob", "capacity": 5}]


def world_with(store, **overrides):
    config = make_config(**{"idle_auto_secs": 600, "idle_human_secs": 600, **overrides})
    return World(store, config)


def seat_texts(world, customer):
    return [t for t in world.deliver.texts_to(customer) if "will help you now" in t]


def served_by(world, customer):
    snapshot = world.store.load_session(customer)
    return snapshot["servicer"][0] if snapshot and snapshot["servicer"] else None


def ask_for_human(world, *customers):
    """One after the other: customers asking at the same moment reach the pool
    in any order (each new session first reads its customer's history)."""
    for customer in customers:
        world.customer(customer, "human")
        world.deliver.wait_for(customer, 1)
        world.settle()


# Strategies -----------------------------------------------------------------

def test_round_robin_takes_turns(store):
    world = world_with(store, servicers=TWO_BIG, strategy="round_robin")
    world.on_duty("alice", "bob")
    ask_for_human(world, "c1", "c2", "c3", "c4")
    assert [served_by(world, c) for c in ("c1", "c2", "c3", "c4")] == [
        "alice", "bob", "alice", "bob"]


def test_least_loaded_balances_by_share_of_capacity(store):
    world = world_with(store, servicers=[{"id": "alice", "capacity": 1},
                                         {"id": "bob", "capacity": 4}])
    world.on_duty("alice", "bob")
    ask_for_human(world, "c1", "c2", "c3")
    loads = ask(world.actors.pool, ServicerPool.status).get(timeout=2)
    assert (loads["alice"]["load"], loads["bob"]["load"]) == (1, 2)


def test_sticky_sends_a_returning_customer_back_then_falls_back(store):
    world = world_with(store, servicers=TWO_BIG, strategy="sticky")
    world.on_duty("alice", "bob")
    ask_for_human(world, "c0", "c1")  # c0 -> alice, c1 -> bob (least loaded tie-break)
    assert served_by(world, "c1") == "bob"
    world.servicer("bob", "c1", "/end")
    world.customer("c1", "6")  # an answer to the rating request ...
    world.customer("c1", "5")  # ... out of range, then valid: the session closes
    world.deliver.wait_for("c1", 5)
    world.settle()
    ask_for_human(world, "c1")  # alice and bob both have one... bob had none now
    assert served_by(world, "c1") == "bob"
    world.servicer("bob", "c1", "/end")
    world.customer("c1", "4")
    world.settle()
    assert ask(world.actors.pool, ServicerPool.set_status, "bob", "off").get(timeout=2)
    ask_for_human(world, "c1")
    assert served_by(world, "c1") == "alice"


# Queue ------------------------------------------------------------------------

def test_queue_is_first_come_first_served_and_positions_are_retold(store):
    world = world_with(store, servicers=[{"id": "alice", "name": "Alice", "capacity": 1}])
    world.on_duty("alice")
    ask_for_human(world, "c1", "c2", "c3", "c4")
    assert world.deliver.texts_to("c3") == [queued_text(world.config, 2)]
    world.customer("c1", Payload(type=10002))  # c1 leaves: c2 gets the seat
    world.deliver.wait_for("c2", 2)
    world.deliver.wait_for("c4", 2)
    world.settle()
    assert served_by(world, "c2") == "alice"
    # c1's seat lasted no time on the manual clock: the estimate says so
    assert world.deliver.texts_to("c3")[-1] == queued_text(world.config, 1, handle_secs=0)
    assert world.deliver.texts_to("c4")[-1] == queued_text(world.config, 2, handle_secs=0)
    queue = ask(world.actors.pool, ServicerPool.queue).get(timeout=2)
    assert [(q["customer"], q["position"]) for q in queue] == [("c3", 1), ("c4", 2)]


def test_queue_keeps_groups_apart(store):
    world = world_with(store, servicers=[
        {"id": "alice", "capacity": 1, "groups": ["sales"]},
        {"id": "bob", "capacity": 1, "groups": ["tech"]}])
    world.on_duty("alice", "bob")

    def request(customer, group):
        content = json.dumps({"group": group})
        world.customer(customer, Payload(type=10003, content=content, persistFlag=0))
        world.deliver.wait_for(customer, 1)
        world.settle()

    for customer, group in [("s0", "sales"), ("t0", "tech"), ("s1", "sales"),
                            ("t1", "tech"), ("s2", "sales")]:
        request(customer, group)
    queue = ask(world.actors.pool, ServicerPool.queue).get(timeout=2)
    assert [(q["customer"], q["position"]) for q in queue] == [
        ("s1", 1), ("t1", 1), ("s2", 2)]
    world.servicer("bob", "t0", "/end")
    world.deliver.wait_for("t1", 2)
    world.settle()
    assert served_by(world, "t1") == "bob"
    assert served_by(world, "s1") is None


def test_full_queue_and_long_wait_get_clear_messages(store):
    world = world_with(store, servicers=[{"id": "alice", "capacity": 1}],
                       queue_max_length=1, queue_max_wait_secs=30)
    world.on_duty("alice")
    ask_for_human(world, "c1", "c2", "c3")
    texts = world.config.texts
    assert world.deliver.texts_to("c3") == [texts.queue_full]
    world.clock.advance(31)
    assert world.deliver.wait_for("c2", 2)[1] == texts.queue_timeout
    world.settle()
    assert ask(world.actors.pool, ServicerPool.queue).get(timeout=2) == []
    assert world.session("c2").state().get(timeout=2)["mode"] == "auto"


def test_a_queued_customer_waits_by_the_queue_rule_not_the_idle_rule(store):
    world = world_with(store, servicers=[{"id": "alice", "capacity": 1}],
                       idle_auto_secs=20, queue_max_wait_secs=600)
    world.on_duty("alice")
    ask_for_human(world, "c1", "c2")
    for _ in range(3):  # past the bot's idle time, well inside the queue's wait
        world.clock.advance(15)
        world.servicer("alice", "c1", "still here")  # keeps c1 (human) busy
        world.settle()
    assert [q["customer"] for q in ask(world.actors.pool, ServicerPool.queue).get(
        timeout=2)] == ["c2"]
    world.clock.advance(556)  # the wait began at 0; 601 now
    world.settle()
    texts = world.deliver.wait_for("c2", 2)
    assert texts[1] == world.config.texts.queue_timeout
    assert world.config.texts.idle_end not in texts
    assert ask(world.actors.pool, ServicerPool.queue).get(timeout=2) == []


def test_hundreds_of_simultaneous_hand_offs_never_exceed_capacity(store):
    servicers = [{"id": f"s{i}", "capacity": 5} for i in range(4)]
    world = world_with(store, servicers=servicers, queue_max_length=1000)
    world.on_duty(*[s["id"] for s in servicers])
    customers = [f"c{i:03d}" for i in range(300)]
    for customer in customers:
        world.customer(customer, REQUEST_HUMAN)
    for customer in customers:
        world.deliver.wait_for(customer, 1, timeout=10)
    world.settle()
    status = ask(world.actors.pool, ServicerPool.status).get(timeout=2)
    assert all(s["load"] == 5 for s in status.values())
    seated = [c for c in customers if seat_texts(world, c)]
    assert len(seated) == 20
    assert len(ask(world.actors.pool, ServicerPool.queue).get(timeout=2)) == 280


# Going off duty, pausing --------------------------------------------------------

def test_off_duty_keeps_open_sessions_by_default(store):
    world = world_with(store, servicers=TWO_BIG)
    world.on_duty("alice")
    ask_for_human(world, "c1")
    assert ask(world.actors.pool, ServicerPool.set_status, "alice", "off").get(timeout=2)
    world.servicer("alice", "c1", "still helping")
    assert world.deliver.wait_for("c1", 2)[1] == "still helping"
    world.on_duty("bob")
    ask_for_human(world, "c2")
    assert served_by(world, "c2") == "bob"


def test_off_duty_with_requeue_policy_moves_customers(store):
    world = world_with(store, off_duty_policy="requeue", servicers=[
        {"id": "alice", "name": "Alice", "capacity": 2},
        {"id": "bob", "name": "Bob", "capacity": 1}])
    world.on_duty("alice")
    ask_for_human(world, "c1", "c2")
    world.on_duty("bob")
    assert ask(world.actors.pool, ServicerPool.set_status, "alice", "off").get(timeout=2)
    world.settle()
    moved = [c for c in ("c1", "c2") if served_by(world, c) == "bob"]
    waiting = [q["customer"] for q in ask(world.actors.pool, ServicerPool.queue).get(timeout=2)]
    assert len(moved) == 1 and len(waiting) == 1 and set(moved + waiting) == {"c1", "c2"}
    assert world.deliver.texts_to(moved[0])[-1] == world.config.texts.transferred.format(
        servicer_name="Bob")
    assert world.deliver.texts_to(waiting[0])[-1] == queued_text(world.config, 1, servicers=1)


def test_silent_servicer_is_paused_but_an_active_one_is_not(store):
    world = world_with(store, servicers=TWO_BIG, auto_pause_secs=60)
    world.on_duty("alice", "bob")
    ask_for_human(world, "c1", "c2")  # one each
    world.clock.advance(40)
    world.servicer("bob", "c2", "hello")
    world.settle()
    world.clock.advance(25)
    world.settle()
    status = ask(world.actors.pool, ServicerPool.status).get(timeout=2)
    assert status["alice"]["status"] == "paused"
    assert status["bob"]["status"] == "on"
    assert "paused after 1 minutes" in world.deliver.texts_to("alice")[-1]


def test_paused_servicer_gets_no_new_customers(store):
    world = world_with(store, servicers=TWO_BIG)
    world.on_duty("alice", "bob")
    world.customer("alice", "/pause")
    world.deliver.wait_for("alice", 2)
    ask_for_human(world, "c1", "c2")
    assert {served_by(world, "c1"), served_by(world, "c2")} == {"bob"}


# Transfer --------------------------------------------------------------------------

def test_transfer_moves_the_customer_with_history(store):
    world = world_with(store, servicers=TWO_BIG)
    world.on_duty("alice", "bob")
    world.customer("c1", "hours?")
    ask_for_human(world, "c1")
    assert served_by(world, "c1") == "alice"
    world.servicer("alice", "c1", "/transfer bob")
    world.deliver.wait_for("c1", 3)
    world.settle()
    assert served_by(world, "c1") == "bob"
    texts = world.config.texts
    assert world.deliver.texts_to("c1")[-1] == texts.transferred.format(servicer_name="Bob")
    assert world.deliver.texts_to("alice")[-1] == texts.servicer_transferred_away.format(
        servicer_name="Bob")
    notice, history = world.deliver.texts_to("bob")[-2:]
    assert "Transferred from Alice" in notice and "hours?" in history
    world.servicer("alice", "c1", "me again")
    world.servicer("bob", "c1", "Bob here")
    world.deliver.wait_for("c1", 4)
    world.settle()
    assert world.deliver.texts_to("c1")[-1] == "Bob here"
    assert world.deliver.texts_to("alice")[-1] == texts.servicer_not_yours


def test_transfer_to_an_unavailable_servicer_is_refused(store):
    world = world_with(store, servicers=TWO_BIG)
    world.on_duty("alice")
    ask_for_human(world, "c1")
    world.servicer("alice", "c1", "/transfer bob")
    world.settle()
    assert world.deliver.texts_to("alice")[-1] == world.config.texts.transfer_failed.format(
        reason="Bob is not on duty")
    assert served_by(world, "c1") == "alice"


# Ratings and statistics --------------------------------------------------------------

def test_rating_after_the_session_is_stored_with_statistics(store):
    world = world_with(store, servicers=TWO_BIG)
    world.on_duty("alice")
    ask_for_human(world, "c1")
    world.clock.advance(12)
    world.servicer("alice", "c1", "Hi!")
    world.servicer("alice", "c1", "/end")
    world.deliver.wait_for("c1", 4)
    request = world.deliver.to("c1")[3].payload
    assert request.type == 10005 and request.persistFlag == 0
    session_id = json.loads(request.content)["sessionId"]
    world.customer("c1", "9")
    world.customer("c1", Payload(type=10004, content=json.dumps(
        {"stars": 4, "comment": "quick"})))
    texts = world.deliver.wait_for("c1", 6)
    assert texts[4:] == [world.config.texts.rating_invalid, world.config.texts.rating_thanks]
    world.settle()
    rating = store.rating(session_id)
    assert (rating["stars"], rating["comment"], rating["servicer"]) == (4, "quick", "alice")
    assert store.servicer_stats("alice") == {
        "sessions": 1, "replies": 1, "first_responses": 1, "first_response_ms": 12000,
        "rated": 1, "stars": 4}
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=2) == []


def test_a_question_instead_of_a_rating_is_answered(store):
    world = world_with(store, servicers=TWO_BIG)
    world.on_duty("alice")
    ask_for_human(world, "c1")
    world.servicer("alice", "c1", "/end")
    world.customer("c1", "what about the price?")
    assert world.deliver.wait_for("c1", 4)[3] == "Our plan costs 10 yuan a month."
    assert store.servicer_stats("alice").get("rated") is None


@pytest.mark.parametrize("open_minute, expect_offline", [(0, True), (13 * 60, False)])
def test_business_hours(store, open_minute, expect_offline):
    # The manual clock reads 1970-01-12 13:46 UTC.
    hours = {"utc_offset": "+00:00", "open": f"{open_minute // 60:02d}:{open_minute % 60:02d}",
             "close": "13:00" if expect_offline else "18:00"}
    world = world_with(store, servicers=TWO_BIG, business_hours=hours)
    world.on_duty("alice")
    ask_for_human(world, "c1")
    text = world.deliver.texts_to("c1")[0]
    if expect_offline:  # Monday 13:46: next open at 00:00 on Tuesday
        assert text == world.config.texts.offline.format(
            hours="00:00-13:00 (UTC+00:00)", next_open_zh="明天 00:00 (UTC+00:00)",
            next_open_en="tomorrow at 00:00 (UTC+00:00)") + "\n" + \
            world.config.texts.leave_message_offer
    else:
        assert "will help you now" in text


def test_sticky_memory_survives_a_restart_outside_the_pool_snapshot(store):
    world = world_with(store, servicers=TWO_BIG, strategy="sticky")
    world.on_duty("alice", "bob")
    ask_for_human(world, "c0", "c1")  # c0 -> alice, c1 -> bob
    assert served_by(world, "c1") == "bob"
    assert "last_servicer" not in store.load_pool()
    for servicer, customer in (("alice", "c0"), ("bob", "c1")):
        world.servicer(servicer, customer, "/end")
        world.customer(customer, "5")
    world.settle()
    world.actors.stop()

    again = world_with(store, servicers=TWO_BIG, strategy="sticky")
    again.on_duty("alice", "bob")
    ask_for_human(again, "x", "y")  # x -> alice, y -> bob
    again.servicer("alice", "x", "/end")
    again.settle()
    ask_for_human(again, "c1")  # least loaded would be alice now
    assert served_by(again, "c1") == "bob"
