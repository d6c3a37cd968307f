"""Bad callbacks are refused with a JSON error and touch no session."""

import json
import re

import pytest

from actors.call import ask
from actors.directory import Directory
from conftest import ROBOT_ID
from transport.http.client import JsonClient

http = JsonClient()


def good_callback(**changes):
    body = {"messageId": 123456789, "sender": "carol",
            "conv": {"type": 0, "target": ROBOT_ID, "line": 0},
            "payload": {"type": 1, "searchableContent": "hello", "persistFlag": 3},
            "toUsers": [], "timestamp": 1700000000000}
    body.update(changes)
    return body


def post(stack, path, body=None, raw=None):
    return http.post(stack.cs.url + path, body, raw=raw)


def robot_path(stack, token=None):
    return f"/im/robot/{token or stack.settings.callback_token}"


def assert_nothing_changed(stack):
    assert ask(stack.cs.actors.directory, Directory.open_sessions).get(timeout=2) == []
    assert stack.cs.store.open_session_ids() == []
    assert stack.cs.store.history("carol") == []


@pytest.mark.parametrize("body, raw, status, code", [
    (None, b"{not json", 400, "bad_json"),
    (None, b"\xff\xfe", 400, "bad_encoding"),
    (None, b"[1, 2]", 400, "bad_json"),
    (None, b"[" * 150_000 + b"]" * 150_000, 413, "too_large"),
    (None, b"[" * 50_000 + b"]" * 50_000, 400, "bad_json"),
    ({"sender": "carol"}, None, 400, "bad_callback"),
    (good_callback(messageId="abc"), None, 400, "bad_callback"),
    (good_callback(messageId=2**63), None, 400, "bad_callback"),
    (good_callback(timestamp=-(2**63) - 1), None, 400, "bad_callback"),
    (good_callback(sender=""), None, 400, "bad_callback"),
    (good_callback(sender="x" * 500), None, 400, "bad_callback"),
    (good_callback(payload={"type": "1"}), None, 400, "bad_callback"),
    (good_callback(payload={"type": 1, "searchableContent": 5}), None, 400, "bad_callback"),
    (good_callback(conv={"type": 1, "target": ROBOT_ID}), None, 400, "bad_callback"),
    (good_callback(conv={"type": 0, "target": "someone_else"}), None, 400, "wrong_target"),
    (good_callback(sender=ROBOT_ID), None, 400, "wrong_sender"),
])
def test_malformed_robot_callbacks_are_rejected(stack, body, raw, status, code):
    response = post(stack, robot_path(stack), body, raw=raw)
    assert response.status == status
    assert response.body["error"]["code"] == code
    assert_nothing_changed(stack)


@pytest.mark.parametrize("field, value", [("timestamp", -(2**63) - 1), ("messageId", 2**64),
                                          ("timestamp", 10**30)])
def test_an_integer_too_wide_for_a_java_long_is_named_out_of_range(stack, field, value):
    response = post(stack, robot_path(stack), good_callback(**{field: value}))
    assert response.status == 400
    assert response.body["error"]["message"] == f"{field} is out of range"
    assert_nothing_changed(stack)


def test_wrong_token_is_forbidden_before_the_body_is_read(stack):
    response = post(stack, robot_path(stack, token="x" * 32), good_callback())
    assert response.status == 403
    assert response.body["error"]["code"] == "bad_token"
    assert_nothing_changed(stack)


def test_shadow_route_refuses_a_target_that_is_not_a_shadow(stack):
    response = post(stack, f"/im/shadow/{stack.settings.callback_token}", good_callback())
    assert response.status == 400
    assert response.body["error"]["code"] == "wrong_target"


def test_unknown_route_is_a_json_404(stack):
    response = http.get(stack.cs.url + "/nope")
    assert response.status == 404
    assert response.body["error"]["code"] == "not_found"


def test_good_callback_is_accepted_and_opens_a_session(stack):
    response = post(stack, robot_path(stack), good_callback())
    assert response.status == 200 and response.body == {"ok": True, "duplicate": False}
    [answer] = stack.client.wait_for("carol")
    assert answer["payload"]["searchableContent"] == stack.settings.config.texts.fallback
    assert stack.cs.store.open_session_ids() == ["carol"]


def test_api_requires_the_bearer_token_when_one_is_set(redis_url):
    from conftest import start_stack

    stack = start_stack(redis_url, api_token="t0ken")
    try:
        url = stack.cs.url + "/api/customers/carol/history"
        assert http.get(url).status == 401
        ok = http.get(url, {"Authorization": "Bearer t0ken"})
        assert ok.status == 200 and ok.body["messages"] == []
        bad_limit = http.get(url + "?limit=0", {"Authorization": "Bearer t0ken"})
        assert bad_limit.status == 400
    finally:
        stack.stop()


def test_history_api_returns_messages_in_order(stack):
    stack.client.send("carol", ROBOT_ID, "price")
    stack.client.wait_for("carol")
    response = http.get(stack.cs.url + "/api/customers/carol/history?limit=10&order=oldest")
    assert response.status == 200
    entries = response.body["messages"]
    assert [(e["dir"], e["payload"]["searchableContent"]) for e in entries] == [
        ("in", "price"), ("out", "Our plan costs 10 yuan a month.")]
    assert json.dumps(entries)  # plain JSON all the way down


def test_metrics_count_callbacks_and_show_state(stack):
    stack.client.send("carol", ROBOT_ID, "price")
    stack.client.wait_for("carol")
    post(stack, robot_path(stack, token="x" * 32), good_callback())
    text = http.get(stack.cs.url + "/metrics").raw.decode()
    assert 'cs_callbacks_total{result="accepted",route="robot"} 1.0' in text
    assert 'cs_callbacks_total{result="refused_403",route="robot"} 1.0' in text
    assert 'cs_sessions_open{mode="auto"} 1.0' in text
    assert 'cs_deliveries_total{outcome="sent"} 1.0' in text
    assert "cs_outbox_backlog 0.0" in text
    scripts = re.search(r"^cs_redis_scripts_total (\S+)$", text, re.M)
    round_trips = re.search(r"^cs_redis_script_round_trips_total (\S+)$", text, re.M)
    assert scripts and round_trips
    assert float(scripts.group(1)) >= 2  # journal + commit of the one message
    assert 1 <= float(round_trips.group(1)) <= float(scripts.group(1))
