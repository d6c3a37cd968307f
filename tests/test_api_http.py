"""The servicer-team flows over HTTP: the JSON API, the IM simulator and the CS server."""

import json

import pytest

from conftest import ROBOT_ID, make_config, start_stack
from transport.http.client import JsonClient

http = JsonClient()
TOKEN = "supervisor-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def team(redis_url):
    stack = start_stack(redis_url, make_config(servicers=[
        {"id": "alice", "name": "Alice", "capacity": 1},
        {"id": "bob", "name": "Bob", "capacity": 1}]), api_token=TOKEN)
    yield stack
    stack.stop()


def api(stack, method, path, body=None):
    url = stack.cs.url + path
    if method == "GET":
        return http.get(url, AUTH)
    if method == "PUT":
        return http.request("PUT", url, json.dumps(body).encode(),
                             {**AUTH, "Content-Type": "application/json"})
    return http.post(url, body, AUTH)


def text_of(message):
    return message["payload"].get("searchableContent", "")


def test_servicers_are_added_and_set_on_duty_through_the_api(team):
    created = api(team, "PUT", "/api/servicers/carl",
                  {"name": "Carl", "capacity": 2, "groups": ["vip"]})
    assert created.status == 200
    assert created.body["groups"] == ["vip"] and created.body["status"] == "off"
    on = api(team, "POST", "/api/servicers/carl/status", {"status": "on"})
    assert on.status == 200 and on.body["on_duty"] is True
    ids = [s["id"] for s in api(team, "GET", "/api/servicers").body["servicers"]]
    assert ids == ["alice", "bob", "carl"]
    team.client.send("carl", ROBOT_ID, "/off")  # a new servicer is known to the Directory
    assert "off duty" in text_of(team.client.wait_for("carl", 2)[-1])


@pytest.mark.parametrize("method, path, body, status, code", [
    ("PUT", "/api/servicers/x", {"capacity": 0}, 400, "bad_servicer"),
    ("PUT", "/api/servicers/x", {"colour": "red"}, 400, "bad_servicer"),
    ("POST", "/api/servicers/alice/status", {"status": "asleep"}, 400, "bad_status"),
    ("POST", "/api/servicers/nobody/status", {"status": "on"}, 404, "no_servicer"),
    ("GET", "/api/servicers/nobody/stats", None, 404, "no_servicer"),
    ("POST", "/api/sessions/carol/transfer", {"to": 5}, 400, "bad_target"),
    ("POST", "/api/sessions/carol/transfer", {"to": "bob"}, 409, "transfer_refused"),
    ("GET", "/api/customers/carol/history?order=sideways", None, 400, "bad_order"),
    ("GET", "/api/customers/carol/history?limit=abc", None, 400, "bad_limit"),
    ("GET", "/api/ratings/nothing", None, 404, "no_rating"),
])
def test_api_errors_are_json_with_the_right_status(team, method, path, body, status, code):
    response = api(team, method, path, body)
    assert response.status == status
    assert response.body["error"]["code"] == code


def test_api_refuses_a_missing_token(team):
    assert http.get(team.cs.url + "/api/queue").status == 401


def test_queue_transfer_and_rating_over_http(team):
    c = team.client
    assert api(team, "POST", "/api/servicers/alice/status", {"status": "on"}).status == 200
    c.wait_for("alice")
    c.send("carol", ROBOT_ID, "human")
    assert "Alice will help you" in text_of(c.wait_for("carol")[0])
    c.send("dave", ROBOT_ID, "人工")
    assert "number 1 in the queue" in text_of(c.wait_for("dave")[0])
    queue = api(team, "GET", "/api/queue").body["queue"]
    assert [(q["customer"], q["position"]) for q in queue] == [("dave", 1)]

    # bob comes on duty: dave is seated from the queue
    c.send("bob", ROBOT_ID, "/on")
    assert "Bob will help you" in text_of(c.wait_for("dave")[0])
    assert api(team, "GET", "/api/queue").body["queue"] == []

    # transfer carol to bob by API: refused while bob is full, done once he is free
    refused = api(team, "POST", "/api/sessions/carol/transfer", {"to": "bob"})
    assert refused.status == 409 and "full" in refused.body["error"]["message"]
    c.send("bob", "dave*Shadow", "/end")
    c.wait_for("dave", 2)  # end notice, rating request
    moved = api(team, "POST", "/api/sessions/carol/transfer", {"to": "bob"})
    assert moved.status == 200
    assert "Bob will take over" in text_of(c.wait_for("carol")[0])

    c.send("bob", "carol*Shadow", "Bob here")
    assert text_of(c.wait_for("carol")[0]) == "Bob here"
    c.send("bob", "carol*Shadow", "/end")
    end, request = c.wait_for("carol", 2)
    assert request["payload"]["type"] == 10005
    c.send("carol", ROBOT_ID, payload={"type": 10004, "persistFlag": 3,
                                       "content": json.dumps({"stars": 5, "comment": "great"})})
    assert "Thank you" in text_of(c.wait_for("carol")[0])

    stats = api(team, "GET", "/api/servicers/bob/stats").body
    assert (stats["sessions"], stats["rated"], stats["rating_avg"]) == (2, 1, 5.0)
    assert stats["first_response_avg_secs"] is not None
    session_id = json.loads(request["payload"]["content"])["sessionId"]
    rating = api(team, "GET", f"/api/ratings/{session_id}")
    assert rating.status == 200 and rating.body["comment"] == "great"


def test_history_pages_both_ways(team):
    c = team.client
    for i in range(6):
        c.send("erin", ROBOT_ID, f"question {i}")
        c.wait_for("erin")
    newest = api(team, "GET", "/api/customers/erin/history?limit=4").body["messages"]
    assert [m["dir"] for m in newest] == ["out", "in", "out", "in"]
    assert text_of(newest[1]) == "question 5"
    cursor = newest[-1]["t"]
    older = api(team, "GET", f"/api/customers/erin/history?limit=4&before={cursor}")
    assert text_of(older.body["messages"][1]) == "question 3"
    oldest = api(team, "GET", "/api/customers/erin/history?limit=2&order=oldest").body
    assert [text_of(m) for m in oldest["messages"]][0] == "question 0"
    after = oldest["messages"][-1]["t"]
    page2 = api(team, "GET", f"/api/customers/erin/history?limit=2&order=oldest&after={after}")
    assert text_of(page2.body["messages"][0]) == "question 1"


def test_transfer_targets_are_servicers_on_duty_with_room(team):
    assert api(team, "GET", "/api/transfer-targets").body == {"servicers": []}  # all off
    for servicer in ("alice", "bob"):
        api(team, "POST", f"/api/servicers/{servicer}/status", {"status": "on"})
    targets = api(team, "GET", "/api/transfer-targets").body["servicers"]
    assert [(t["id"], t["name"], t["load"], t["capacity"]) for t in targets] == [
        ("alice", "Alice", 0, 1), ("bob", "Bob", 0, 1)]
    team.client.send("carol", ROBOT_ID, "human")
    team.client.wait_for("carol")
    assert api(team, "GET", "/api/sessions").body["sessions"] == ["carol"]
    targets = api(team, "GET", "/api/transfer-targets").body["servicers"]
    assert len(targets) == 1 and "customers" not in targets[0]  # the full one is left out


def test_a_customers_profile_has_their_name_portrait_and_seat_time(team):
    team.sim.put_user("carol", "Carol Chen", "https://example.invalid/carol.png")
    api(team, "POST", "/api/servicers/alice/status", {"status": "on"})
    team.client.send("carol", ROBOT_ID, "human")
    team.client.wait_for("carol")
    profile = api(team, "GET", "/api/customers/carol/profile").body
    assert (profile["name"], profile["portrait"]) == (
        "Carol Chen", "https://example.invalid/carol.png")
    assert profile["seated_at_ms"] > 0
    missing = api(team, "GET", "/api/customers/nobody/profile")
    assert (missing.status, missing.body["error"]["code"]) == (404, "no_session")
