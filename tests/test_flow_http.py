"""The seed's flow end to end over loopback HTTP: IM simulator, App Server, CS server."""

import json
from functools import partial

import waiting
from actors.call import ask
from actors.directory import Directory
from actors.pool import ServicerPool
from conftest import ROBOT_ID, make_config, start_stack
from transport.http.client import JsonClient

http = JsonClient()

ENTER = {"type": 10001, "persistFlag": 0}
LEAVE = {"type": 10002, "persistFlag": 0}
REQUEST_HUMAN = {"type": 10003, "persistFlag": 0}


wait_until = partial(waiting.wait_until, timeout=5.0, poll=0.02)


def texts(messages):
    return [m["payload"].get("searchableContent", "") for m in messages]


def reply_text(client, sender, text):
    """Send ``text`` to the CS Robot; the text of the one reply."""
    client.send(sender, ROBOT_ID, text)
    [reply] = client.wait_for(sender)
    return reply["payload"]["searchableContent"]


def go_on_duty(stack, servicer):
    assert "on duty" in reply_text(stack.client, servicer, "/on")


def test_customer_sees_welcome_answer_and_no_servicer_reply(stack):
    c = stack.client
    c.send("carol", ROBOT_ID, payload=ENTER)
    [welcome] = c.wait_for("carol")
    assert welcome["sender"] == ROBOT_ID
    assert "欢迎" in welcome["payload"]["searchableContent"]

    c.send("carol", ROBOT_ID, "what is the price?")
    [answer] = c.wait_for("carol")
    assert answer["payload"]["searchableContent"] == "Our plan costs 10 yuan a month."

    c.send("carol", ROBOT_ID, "转人工")
    [reply] = c.wait_for("carol")
    assert "No servicer is available" in reply["payload"]["searchableContent"]


def test_human_session_relays_both_ways_and_servicer_ends_it(stack):
    c = stack.client
    go_on_duty(stack, "alice")
    c.send("carol", ROBOT_ID, payload=ENTER)
    c.send("carol", ROBOT_ID, "hours?")
    assert len(c.wait_for("carol", 2)) == 2

    c.send("carol", ROBOT_ID, payload=REQUEST_HUMAN)
    [seated] = c.wait_for("carol")
    assert "Alice will help you" in seated["payload"]["searchableContent"]
    notice, history = c.wait_for("alice", 2)
    shadow = "carol*Shadow"
    assert notice["sender"] == shadow and "carol" in notice["payload"]["searchableContent"]
    assert "hours?" in history["payload"]["searchableContent"]
    assert stack.sim.robots[shadow]["callback"] == stack.cs.shadow_callback_url
    assert stack.sim.users[shadow]["displayName"] == "carol"

    c.send("carol", ROBOT_ID, "my order is late")
    [forwarded] = c.wait_for("alice")
    assert forwarded["sender"] == shadow
    assert forwarded["payload"]["searchableContent"] == "my order is late"

    c.send("alice", shadow, "Let me check.")
    [relayed] = c.wait_for("carol")
    assert relayed["sender"] == ROBOT_ID
    assert relayed["payload"]["searchableContent"] == "Let me check."
    assert json.loads(relayed["payload"]["extra"]) == {"cs": {
        "servicerId": "alice", "name": "Alice", "portrait": "http://img/alice.png"}}

    image = {"type": 3, "remoteMediaUrl": "http://img/receipt.jpg", "content": "thumb",
             "persistFlag": 3}
    c.send("carol", ROBOT_ID, payload=image)
    [forwarded_image] = c.wait_for("alice")
    assert forwarded_image["payload"] == image

    c.send("alice", shadow, "/end")
    end, rating_request = c.wait_for("carol", 2)
    assert "ended this conversation" in end["payload"]["searchableContent"]
    assert rating_request["payload"]["type"] == 10005
    assert rating_request["payload"]["persistFlag"] == 0
    assert json.loads(rating_request["payload"]["content"])["servicerId"] == "alice"
    [ended] = c.wait_for("alice")
    assert "ended the session" in ended["payload"]["searchableContent"]

    history = stack.cs.store.history("carol", 100)
    directions = [e["dir"] for e in history]
    assert directions.count("in") == 6  # enter, hours, request, late, image, /end
    served = [e for e in history if e.get("servicer") == "alice" and e["dir"] == "out"]
    assert [e["payload"]["searchableContent"] for e in served] == ["Let me check."]


def test_every_outbound_request_carried_a_valid_signature(stack):
    c = stack.client
    go_on_duty(stack, "alice")
    c.send("dave", ROBOT_ID, payload=ENTER)
    c.send("dave", ROBOT_ID, "人工")
    c.wait_for("dave", 2)
    c.wait_for("alice", 1)
    stats = c.stats()
    sent = stats["robot_send_code_0"]
    assert sent >= 4
    assert {k for k in stats if k.startswith("robot_send_code_")} == {"robot_send_code_0"}
    assert "admin_bad_sign" not in stats


def test_servicer_off_duty_gets_no_new_customers(stack):
    c = stack.client
    go_on_duty(stack, "bob")
    assert "off duty" in reply_text(c, "bob", "下班")
    assert "No servicer is available" in reply_text(c, "erin", "human")


def test_unknown_user_cannot_go_on_duty(stack):
    assert "Only registered servicers" in reply_text(stack.client, "mallory", "/on")
    status = ask(stack.cs.actors.pool, ServicerPool.status).get(timeout=2)
    assert status["alice"]["on_duty"] is False


def test_a_customer_with_an_open_session_still_reaches_the_pool_with_a_command(stack):
    # Messages from a customer with a session skip the Directory; commands must not.
    assert "10 yuan" in reply_text(stack.client, "carol", "price")
    assert "Only registered servicers" in reply_text(stack.client, "carol", "/on")


def test_a_burst_from_a_new_customer_is_handled_in_the_order_sent(stack):
    # The first message opens the session through the Directory; later ones may
    # go to the session directly, and must not overtake it.
    # The IM server posts up to 5 callbacks at once, so they may arrive out of the
    # order sent (issue 21); one at a time, arrival order is send order, and our
    # own order is what this test is about.
    stack.sim.callbacks.max_per_host = 1
    c = stack.client
    questions = ["price", "refund", "price again", "how do I get a refund", "thanks"]
    for text in questions:
        c.send("dora", ROBOT_ID, text)
    assert len(c.wait_for("dora", count=len(questions))) == len(questions)
    history = http.get(stack.cs.url + "/api/customers/dora/history?limit=50&order=oldest")
    said = [e["payload"]["searchableContent"] for e in history.body["messages"]
            if e["dir"] == "in"]
    assert said == questions


def test_a_servicers_burst_reaches_the_customer_in_the_order_sent(stack):
    # A servicer's messages to a Shadow also skip the Directory once it is bound.
    # The IM server posts up to 5 callbacks at once, so they may arrive out of the
    # order sent (issue 21); one at a time, arrival order is send order, and our
    # own order is what this test is about.
    stack.sim.callbacks.max_per_host = 1
    c = stack.client
    go_on_duty(stack, "alice")
    c.send("carol", ROBOT_ID, "human")
    c.wait_for("carol")
    c.wait_for("alice", 2)  # the notice and the history so far
    replies = [f"step {i}" for i in range(8)]
    for text in replies:
        c.send("alice", "carol*Shadow", text)
    relayed = c.wait_for("carol", count=len(replies))
    assert [m["payload"]["searchableContent"] for m in relayed] == replies


def test_customer_leaving_frees_the_seat_and_tells_the_servicer(stack):
    c = stack.client
    go_on_duty(stack, "alice")  # capacity 1
    c.send("carol", ROBOT_ID, "human")
    c.wait_for("carol")
    c.wait_for("alice", 2)  # the seat notice, then the recent history
    c.send("carol", ROBOT_ID, payload=LEAVE)
    [left] = c.wait_for("alice")
    assert "customer left" in left["payload"]["searchableContent"]
    c.send("frank", ROBOT_ID, "human")
    [seated] = c.wait_for("frank")
    assert "Alice will help you" in seated["payload"]["searchableContent"]


def test_idle_session_ends_with_notice(redis_url):
    stack = start_stack(redis_url, make_config(idle_auto_secs=0.3, idle_human_secs=0.3,
                                               rating_window_secs=0.3))
    try:
        c = stack.client
        go_on_duty(stack, "alice")
        c.send("gina", ROBOT_ID, "human")
        c.wait_for("gina")
        c.wait_for("alice", 2)  # the seat notice, then the recent history
        end, rating_request = c.wait_for("gina", 2, timeout=5)
        assert "idle" in end["payload"]["searchableContent"]
        assert rating_request["payload"]["type"] == 10005
        [notice] = c.wait_for("alice", timeout=5)
        assert "idle" in notice["payload"]["searchableContent"]
        # the rating window (0.3 s here, like the idle time) closes the session too
        assert wait_until(lambda: stack.cs.store.open_session_ids() == [])
        assert ask(stack.cs.actors.directory, Directory.open_sessions).get(timeout=2) == []
    finally:
        stack.stop()


def test_trusted_mode_creates_shadows_without_the_app_server(redis_url):
    stack = start_stack(redis_url, trusted=True)
    try:
        stack.appserver_http.stop()
        go_on_duty(stack, "alice")
        stack.client.send("hank", ROBOT_ID, "human")
        [seated] = stack.client.wait_for("hank")
        assert "Alice" in seated["payload"]["searchableContent"]
        assert "hank*Shadow" in stack.sim.robots
    finally:
        stack.cs.stop()
        stack.sim_http.stop()


def test_a_customer_whose_id_is_not_ascii_gets_a_shadow_and_a_person(stack):
    # The Shadow's id goes into the robot API's "rid" header, where only
    # Latin-1 can travel (and the IM server reads it as such): it is escaped.
    c = stack.client
    go_on_duty(stack, "alice")
    c.send("王小明", ROBOT_ID, payload=REQUEST_HUMAN)
    [seated] = c.wait_for("王小明")
    assert "Alice will help you" in seated["payload"]["searchableContent"]
    [notice] = c.wait_for("alice")
    shadow = notice["sender"]
    assert shadow.isascii() and shadow.endswith("*Shadow")
    assert stack.sim.users[shadow]["displayName"] == "王小明"
    c.send("alice", shadow, "您好")
    [relayed] = c.wait_for("王小明")
    assert relayed["payload"]["searchableContent"] == "您好"


def test_shadow_ids_are_ascii_and_lead_back_to_their_customer():
    config = make_config()
    for customer in ("carol", "王小明", "a%b", "x y+z@example.com", "émile", "🙂"):
        shadow = config.shadow_id(customer)
        assert shadow.isascii() and "\n" not in shadow
        assert config.is_shadow_id(shadow)
        assert config.customer_of_shadow(shadow) == customer
    assert config.shadow_id("carol") == "carol*Shadow"  # plain ids as before
    # A Shadow made before the escaping, for a customer whose id holds "%41",
    # still leads to that customer, not to "aAb".
    assert config.customer_of_shadow("a%41b*Shadow") == "a%41b"
    assert config.shadow_id("x y+z@example.com") == "x y+z@example.com*Shadow"


def test_a_robot_id_beyond_ascii_is_refused_at_once_not_retried_for_ever():
    from actors.messages import Outbound, text_payload
    from transport.wildfire.api import RobotApi

    api = RobotApi("http://127.0.0.1:9", lambda robot: "secret")  # nothing listens there
    delivery = api.deliver(Outbound("王*Shadow", "alice", text_payload("hi"), "王"))
    assert (delivery.ok, delivery.retry) == (False, False)
    assert "ASCII" in delivery.detail
    # An ASCII sender is tried, and an unreachable IM server is worth a retry.
    assert api.deliver(Outbound("cs_robot", "alice", text_payload("hi"), "x")).retry


def test_a_customer_with_a_long_id_beyond_ascii_still_hears_their_servicer(stack):
    # Escaped, each Chinese character takes nine: a 15-character id made a
    # 142-character Shadow, which the callback refused as the conv.target of
    # the servicer's reply (ids over 128 were taken for malformed).
    c, customer = stack.client, "王小明的客服账号" * 2
    go_on_duty(stack, "alice")
    c.send(customer, ROBOT_ID, payload=REQUEST_HUMAN)
    [seated] = c.wait_for(customer)
    assert "Alice will help you" in seated["payload"]["searchableContent"]
    [notice] = c.wait_for("alice")
    assert len(notice["sender"]) > 128
    c.send("alice", notice["sender"], "您好")
    [relayed] = c.wait_for(customer)
    assert relayed["payload"]["searchableContent"] == "您好"
