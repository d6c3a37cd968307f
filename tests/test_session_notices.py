"""The notices that change whom a customer talks to say so in their ``extra``
(``{"session": ...}``), so a customer's app can follow the conversation without
reading the configurable texts (the /demo page hides "talk to a person" by it)."""

import json

from test_flow_http import ENTER, LEAVE, REQUEST_HUMAN, go_on_duty, reply_text

from conftest import ROBOT_ID, make_config, start_stack


def session_of(message):
    extra = message["payload"].get("extra")
    return json.loads(extra).get("session") if extra else None


def told(client, customer, count=1):
    messages = client.wait_for(customer, count)
    assert len(messages) == count
    return [(session_of(m), m["payload"].get("searchableContent", "")) for m in messages]


def test_a_seat_says_person_and_the_end_and_rating_request_say_ended(stack):
    c = stack.client
    go_on_duty(stack, "alice")
    c.send("carol", ROBOT_ID, payload=ENTER)
    [(welcome, _)] = told(c, "carol")
    assert welcome is None  # the bot's own words carry no notice
    c.send("carol", ROBOT_ID, payload=REQUEST_HUMAN)
    [(seated, text)] = told(c, "carol")
    assert seated == "person" and "Alice" in text

    c.send("alice", stack.settings.config.shadow_id("carol"), "/end")
    (ended, _), (rating, _) = told(c, "carol", 2)
    assert ended == rating == "ended"
    c.send("carol", ROBOT_ID, "5")
    [(thanks, text)] = told(c, "carol")
    assert thanks == "ended" and "Thank you" in text


def test_the_queue_says_waiting_and_the_seat_after_it_says_person(stack):
    c = stack.client
    go_on_duty(stack, "alice")  # capacity 1
    c.send("carol", ROBOT_ID, payload=REQUEST_HUMAN)
    assert told(c, "carol")[0][0] == "person"
    c.send("dave", ROBOT_ID, payload=REQUEST_HUMAN)
    [(queued, text)] = told(c, "dave")
    assert queued == "waiting" and "number 1" in text
    c.send("carol", ROBOT_ID, payload=LEAVE)
    [(seated, _)] = told(c, "dave")
    assert seated == "person"


def test_nobody_on_duty_says_leaving_and_a_message_left_says_waiting(stack):
    c = stack.client
    c.send("erin", ROBOT_ID, payload=REQUEST_HUMAN)
    [(offer, text)] = told(c, "erin")
    assert offer == "leaving" and "leave a message" in text
    c.send("erin", ROBOT_ID, "please call me back")
    (left, text), (queued, _) = told(c, "erin", 2)  # thanks, then the place in the queue
    assert left == queued == "waiting" and "your message waits" in text


def test_a_full_queue_sends_the_customer_back_to_the_bot(redis_url):
    stack = start_stack(redis_url, make_config(queue_max_length=0))
    try:
        c = stack.client
        go_on_duty(stack, "alice")
        c.send("carol", ROBOT_ID, payload=REQUEST_HUMAN)
        assert told(c, "carol")[0][0] == "person"
        c.send("dave", ROBOT_ID, payload=REQUEST_HUMAN)
        [(back, text)] = told(c, "dave")
        assert back == "bot" and "queue is full" in text
        assert "Our plan costs" in reply_text(c, "dave", "price?")
    finally:
        stack.stop()
