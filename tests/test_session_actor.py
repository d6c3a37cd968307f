"""SessionActor, ServicerPool and Directory, driven by messages, against a real Redis."""

import json

import pytest

from actors.call import ask
from actors.directory import Directory
from actors.pool import ServicerPool
from world import ENTER, LEAVE, REQUEST_HUMAN, ROBOT, World, queued_text


@pytest.fixture
def world(store):
    return World(store)


def test_enter_is_answered_with_the_welcome(world):
    world.customer("carol", ENTER)
    [welcome] = world.deliver.wait_for("carol", 1)
    assert welcome == world.config.texts.welcome
    assert world.deliver.to("carol")[0].sender == ROBOT


def test_faq_answers_and_unknown_questions_get_the_fallback(world):
    world.customer("carol", "How much is the PRICE?")
    world.customer("carol", "asdf qwerty")
    assert world.deliver.wait_for("carol", 2) == [
        "Our plan costs 10 yuan a month.", world.config.texts.fallback]


def test_request_human_with_nobody_on_duty_gets_a_clear_reply_and_may_leave_a_message(world):
    world.customer("carol", REQUEST_HUMAN)
    texts = world.config.texts
    assert world.deliver.wait_for("carol", 1) == [
        f"{texts.no_servicer}\n{texts.leave_message_offer}"]
    assert world.session("carol").state().get(timeout=2)["mode"] == "leaving"


def test_pool_allocates_least_loaded_and_never_over_capacity(world):
    world.on_duty("alice", "bob")  # capacities 1 and 2
    for customer in ("c1", "c2", "c3", "c4"):
        world.customer(customer, "human")
        world.deliver.wait_for(customer, 1)
    status = ask(world.actors.pool, ServicerPool.status).get(timeout=2)
    assert status["alice"]["load"] == 1 and status["bob"]["load"] == 2
    assert world.deliver.texts_to("c4") == [queued_text(world.config, 1, servicers=2)]


def test_seat_switches_to_human_and_snapshot_records_it(world):
    world.on_duty("alice")
    world.customer("carol", "hours?")
    world.customer("carol", "转人工")
    texts = world.deliver.wait_for("carol", 2)
    assert texts[1] == "客服 Alice 为您服务。Alice will help you now."
    notice, history = world.deliver.wait_for("alice", 3)[1:]  # [0] is the duty reply
    assert "carol" in notice
    assert "客户: hours?" in history and "机器人: We are open 9:00-18:00." in history
    world.settle()  # the Directory saves the Shadow's binding when the session tells it
    snapshot = world.store.load_session("carol")
    assert snapshot["mode"] == "human"
    assert snapshot["servicer"][0] == "alice"
    assert snapshot["shadow"][0] == "carol*Shadow"
    assert world.store.load_shadows() == {"carol*Shadow": "carol"}


def test_servicer_reply_is_relayed_with_servicer_in_extra(world):
    world.on_duty("bob")
    world.customer("carol", "human")
    world.deliver.wait_for("carol", 1)
    world.servicer("bob", "carol", "Hi, Bob here")
    relayed = world.deliver.wait_for("carol", 2)[1]
    assert relayed == "Hi, Bob here"
    message = world.deliver.to("carol")[1]
    assert message.sender == ROBOT
    assert json.loads(message.payload.extra) == {
        "cs": {"servicerId": "bob", "name": "Bob", "portrait": "http://img/bob.png"}}


def test_message_from_another_servicer_to_the_shadow_is_ignored(world):
    world.on_duty("alice", "bob")
    world.customer("carol", "human")
    world.deliver.wait_for("carol", 1)
    seated_with = world.store.load_session("carol")["servicer"][0]
    intruder = "bob" if seated_with == "alice" else "alice"
    world.servicer(intruder, "carol", "I am not yours")
    world.settle()
    assert "I am not yours" not in world.deliver.texts_to("carol")


@pytest.mark.parametrize("messages", [
    [(42, "price"), (42, "price"), (43, "hours")],
    # Ids may arrive out of order: an older id is new once, a repeat after.
    [(50, "price"), (44, "hours"), (50, "price"), (44, "hours")],
], ids=["in_order", "out_of_order"])
def test_duplicate_message_ids_are_handled_once(world, messages):
    for message_id, text in messages:
        world.customer("carol", text, message_id=message_id)
    texts = world.deliver.wait_for("carol", 2)
    world.settle()
    assert world.deliver.texts_to("carol") == texts
    assert len(texts) == 2


def test_idle_auto_session_closes_with_notice(world):
    world.customer("carol", ENTER)
    world.deliver.wait_for("carol", 1)
    world.clock.advance(59)
    world.settle()
    assert world.store.open_session_ids() == ["carol"]
    world.clock.advance(2)
    texts = world.deliver.wait_for("carol", 2)
    assert texts[1] == world.config.texts.idle_end
    world.settle()
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=2) == []
    assert world.store.open_session_ids() == []


def test_activity_moves_the_idle_deadline(world):
    world.customer("carol", ENTER)
    world.deliver.wait_for("carol", 1)
    world.clock.advance(50)
    world.customer("carol", "price")
    world.deliver.wait_for("carol", 2)
    world.clock.advance(20)  # the first timer fires at 60 s: stale, re-armed
    world.settle()
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=2) == ["carol"]
    world.clock.advance(45)
    assert world.deliver.wait_for("carol", 3)[2] == world.config.texts.idle_end


def test_human_idle_timeout_frees_the_seat_and_tells_both(world):
    world.on_duty("alice")
    world.customer("carol", "human")
    world.deliver.wait_for("carol", 1)
    world.clock.advance(121)
    assert world.deliver.wait_for("carol", 2)[1] == world.config.texts.idle_end
    # duty reply, seat notice, history, then the end notice
    assert world.deliver.wait_for("alice", 4)[3] == world.config.texts.servicer_idle_end
    world.settle()
    assert ask(world.actors.pool, ServicerPool.status).get(timeout=2)["alice"]["load"] == 0


def test_leave_closes_and_the_next_message_opens_a_new_session(world):
    world.customer("carol", ENTER)
    world.customer("carol", LEAVE)
    world.customer("carol", "price")
    texts = world.deliver.wait_for("carol", 2)
    assert texts == [world.config.texts.welcome, "Our plan costs 10 yuan a month."]
    world.settle()
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=2) == ["carol"]


def test_shadow_failure_releases_the_seat_and_says_so(store):
    world = World(store, shadow_fail=True)
    world.on_duty("alice")
    world.customer("carol", "human")
    assert world.deliver.wait_for("carol", 1) == [world.config.texts.shadow_failed]
    world.settle()
    assert ask(world.actors.pool, ServicerPool.status).get(timeout=2)["alice"]["load"] == 0
    assert world.session("carol").state().get(timeout=2)["mode"] == "auto"


def test_servicer_end_command_closes_and_frees_the_seat(world):
    world.on_duty("alice")
    world.customer("carol", "human")
    world.deliver.wait_for("carol", 1)
    world.servicer("alice", "carol", "/end")
    assert world.deliver.wait_for("carol", 2)[1] == world.config.texts.servicer_end
    world.settle()
    assert ask(world.actors.pool, ServicerPool.status).get(timeout=2)["alice"]["load"] == 0
    world.servicer("alice", "carol", "hello?")
    texts = world.deliver.wait_for("alice", 5)  # duty, seat, history, ended, over
    assert texts[3:] == [world.config.texts.servicer_ended,
                         world.config.texts.servicer_session_over]


def test_open_sessions_are_restored_from_storage(store):
    first = World(store)
    first.on_duty("alice")
    first.asks_for_person("carol")
    first.actors.stop()

    second = World(store)
    assert ask(second.actors.directory, Directory.open_sessions).get(timeout=2) == ["carol"]
    second.servicer("alice", "carol", "back again")
    assert second.deliver.wait_for("carol", 1) == ["back again"]
    assert ask(second.actors.pool, ServicerPool.status).get(timeout=2)["alice"]["load"] == 1


def test_a_restored_session_still_knows_the_ids_it_handled(store):
    first = World(store)
    first.customer("carol", "price", message_id=70)
    first.customer("carol", "hours", message_id=60)
    first.deliver.wait_for("carol", 2)
    first.settle()
    first.actors.stop()

    second = World(store)
    for message_id in (70, 60):
        second.customer("carol", "price", message_id=message_id)
    second.customer("carol", "hours", message_id=80)
    assert len(second.deliver.wait_for("carol", 1)) == 1
    second.settle()
    assert len(second.deliver.texts_to("carol")) == 1
