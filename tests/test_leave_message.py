"""Leaving a message when nobody is on duty, or outside business hours."""

from actors.call import ask
from actors.directory import Directory
from actors.pool import ServicerPool
from conftest import make_config
from world import LEAVE, World

TIMEOUT = 5.0


def queue(world):
    return [(q["customer"], q["message"])
            for q in ask(world.actors.pool, ServicerPool.queue).get(timeout=TIMEOUT)]


def leave_a_message(world, customer, words):
    world.customer(customer, "human")
    [offer] = world.deliver.wait_for(customer, 1)
    assert offer.endswith(world.config.texts.leave_message_offer)
    world.customer(customer, words)
    assert world.deliver.wait_for(customer, 2)[1] == world.config.texts.message_left
    world.settle()


def test_a_message_left_with_nobody_on_duty_reaches_the_first_servicer(store):
    world = World(store)
    leave_a_message(world, "c1", "我想退货，订单 123")
    assert queue(world) == [("c1", True)]
    world.customer("c1", LEAVE)  # the customer closes the chat: the message still waits
    world.settle()
    assert ask(world.actors.directory, Directory.open_sessions).get(timeout=TIMEOUT) == ["c1"]
    world.on_duty("alice")
    world.settle()
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {"c1": "alice"}
    briefing = "\n".join(world.deliver.texts_to("alice"))
    assert "我想退货，订单 123" in briefing  # the seat notice and the history with the words
    assert "Alice will help you now" in world.deliver.texts_to("c1")[-1]


def test_outside_business_hours_the_customer_is_told_when_and_may_leave_a_message(store):
    # The manual clock reads Monday 1970-01-12 13:46 UTC: closed until 14:00.
    hours = {"timezone": "UTC", "weekly": {"mon": ["14:00-18:00"]}}
    world = World(store, make_config(business_hours=hours))
    world.on_duty("alice")  # on duty early: a message left goes to her at once
    world.customer("c1", "human")
    [offer] = world.deliver.wait_for("c1", 1)
    assert "today at 14:00 (UTC)" in offer and "今天 14:00 (UTC)" in offer
    world.customer("c1", "please call me back")
    world.settle()
    assert ask(world.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {"c1": "alice"}


def test_a_message_nobody_takes_in_time_expires_with_a_notice(store):
    world = World(store, make_config(message_max_wait_secs=3600, idle_auto_secs=60))
    leave_a_message(world, "c1", "hello?")
    world.clock.advance(600)  # past the queue's and the bot's own times: still waiting
    world.settle()
    assert queue(world) == [("c1", True)]
    world.clock.advance(3001)
    world.settle()
    assert world.deliver.texts_to("c1")[-1] == world.config.texts.message_expired
    assert queue(world) == []


def test_a_message_left_survives_a_restart(store):
    first = World(store)
    leave_a_message(first, "c1", "are you there")
    first.actors.stop()
    second = World(store)
    second.settle()
    assert queue(second) == [("c1", True)]
    second.on_duty("alice")
    second.settle()
    assert ask(second.actors.pool, ServicerPool.seats).get(timeout=TIMEOUT) == {"c1": "alice"}
