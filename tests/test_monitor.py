"""A supervisor watches a live conversation from a plain IM client, whispers, takes over."""

import pytest

from conftest import DEMO_CONFIG, ROBOT_ID, make_config, start_stack


@pytest.fixture
def stack(redis_url):
    servicers = [*DEMO_CONFIG["servicers"], {"id": "boss", "name": "Boss", "capacity": 3}]
    stack = start_stack(redis_url, make_config(servicers=servicers, supervisors=["boss"]))
    stack.client.put_user("boss", "Boss")
    yield stack
    stack.stop()
    stack.cs.store.delete_all()


def text_of(message):
    return message["payload"]["searchableContent"]


def carol_with_alice(stack):
    c = stack.client
    c.send("alice", ROBOT_ID, "/on")
    c.wait_for("alice")
    c.send("carol", ROBOT_ID, "price?")
    c.wait_for("carol")
    c.send("carol", ROBOT_ID, "human")
    c.wait_for("carol")
    c.wait_for("alice", 2)


def test_a_supervisor_watches_both_sides_and_whispers_to_the_servicer_only(stack):
    c = stack.client
    carol_with_alice(stack)
    c.send("boss", ROBOT_ID, "/monitor carol")
    started, history = c.wait_for("boss", 2)
    assert started["sender"] == "carol*Shadow" and "carol" in text_of(started)
    assert "price?" in text_of(history)  # the recent history first
    c.send("carol", ROBOT_ID, "where is my parcel")
    c.send("alice", "carol*Shadow", "on its way")
    copies = [text_of(m) for m in c.wait_for("boss", 2)]
    assert copies == ["[客户 / customer] where is my parcel",
                      "[客服 / servicer Alice] on its way"]
    c.wait_for("alice")  # carol's message
    c.wait_for("carol")  # alice's reply
    c.send("boss", "carol*Shadow", "offer a coupon")
    [whisper] = c.wait_for("alice")
    assert text_of(whisper) == "[主管 boss 悄悄话 / whisper] offer a coupon"
    c.send("alice", "carol*Shadow", "here is a coupon")  # comes after the whisper
    assert [text_of(m) for m in c.wait_for("carol")] == ["here is a coupon"]  # no whisper
    c.wait_for("boss")  # the copy of alice's message
    c.send("boss", ROBOT_ID, "/unmonitor carol")
    assert "Stopped watching carol" in text_of(c.wait_for("boss")[0])
    c.send("carol", ROBOT_ID, "thanks")
    c.wait_for("alice")
    c.send("boss", ROBOT_ID, "/monitor")  # the list comes after any copy would have
    assert [text_of(m) for m in c.wait_for("boss")] == [
        stack.cs.settings.config.texts.monitor_list.format(customers="carol")]


def test_takeover_moves_the_customer_to_the_supervisor(stack):
    c = stack.client
    carol_with_alice(stack)
    c.send("boss", ROBOT_ID, "/on")
    c.wait_for("boss")
    c.send("boss", ROBOT_ID, "/monitor carol")
    c.wait_for("boss", 2)
    c.send("boss", "carol*Shadow", "/takeover")
    assert "Boss will take over now" in text_of(c.wait_for("carol")[0])
    assert "Boss" in text_of(c.wait_for("alice")[0])  # told the customer moved
    c.wait_for("boss", 2)  # the seat notice and the history, as the new servicer
    c.send("boss", "carol*Shadow", "Hello, I am the manager")
    assert text_of(c.wait_for("carol")[0]) == "Hello, I am the manager"
    c.send("carol", ROBOT_ID, "thank you")
    # boss serves now: carol's words come forwarded, not as a watcher's copy
    assert [text_of(m) for m in c.wait_for("boss")] == ["thank you"]


def test_no_one_but_a_supervisor_may_monitor(stack):
    c = stack.client
    carol_with_alice(stack)
    refused = stack.cs.settings.config.texts.monitor_refused
    c.send("alice", ROBOT_ID, "/monitor carol")  # a servicer
    assert text_of(c.wait_for("alice")[0]) == refused
    c.send("carol", ROBOT_ID, "/monitor carol")  # a customer, with an open session
    assert text_of(c.wait_for("carol")[0]) == refused


def test_a_supervisor_added_through_the_api_may_monitor(redis_url):
    import json

    from transport.http.client import JsonClient

    stack = start_stack(redis_url, api_token="boss-token-0123456789")
    try:
        auth = {"Authorization": "Bearer boss-token-0123456789"}
        http = JsonClient()
        c = stack.client
        c.send("lead", ROBOT_ID, "/monitor")
        assert text_of(c.wait_for("lead")[0]) == stack.cs.settings.config.texts.monitor_refused
        added = http.request("PUT", stack.cs.url + "/api/supervisors/lead", b"", auth)
        assert added.status == 200 and added.body["added"] == ["lead"]
        c.send("lead", ROBOT_ID, "/monitor")
        assert "live conversations" in text_of(c.wait_for("lead")[0])
        gone = http.request("DELETE", stack.cs.url + "/api/supervisors/nobody", b"", auth)
        assert gone.status == 404 and json.dumps(gone.body)
    finally:
        stack.stop()
        stack.cs.store.delete_all()
