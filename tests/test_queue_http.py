"""Taking the next waiting customer and placing one by hand, over real HTTP with the IM
simulator (issue 23): POST /api/queue/take and POST /api/queue/<customer>/assign."""

import json

import gevent
import pytest

from conftest import ROBOT_ID, make_config, start_stack, tokens_file
from transport.http.client import JsonClient
from waiting import wait_until

http = JsonClient()
ALICE, BOB, BOSS = "alice-queue-token", "bob-queue-token", "boss-queue-token"


@pytest.fixture
def team(redis_url, tmp_path):
    """alice and bob, one customer each, both on duty and full."""
    tokens = tokens_file(tmp_path / "tokens.json", {ALICE: "alice", BOB: "bob"}, [BOSS])
    stack = start_stack(redis_url, make_config(servicers=[
        {"id": "alice", "name": "Alice", "capacity": 1},
        {"id": "bob", "name": "Bob", "capacity": 1, "groups": ["tech"]}]),
        api_tokens_file=tokens)
    for servicer, token in (("alice", ALICE), ("bob", BOB)):
        assert post(stack, token, f"/api/servicers/{servicer}/status",
                    {"status": "on"}).status == 200
    ask_for_person(stack, "carol", "Alice will help you")
    ask_for_person(stack, "dave", "Bob will help you", "tech")
    yield stack
    stack.stop()


def post(stack, token, path, body=None):
    return http.post(stack.cs.url + path, {} if body is None else body,
                     {"Authorization": f"Bearer {token}"})


def text_of(message):
    return message["payload"].get("searchableContent", "")


def ask_for_person(stack, customer, expect, group=""):
    stack.client.send(customer, ROBOT_ID, payload={
        "type": 10003, "persistFlag": 0, "content": json.dumps({"group": group})})
    assert expect in text_of(stack.client.wait_for(customer)[0])


def received(stack, user, words):
    return wait_until(lambda: any(words in text_of(m) for m in stack.client.inbox(user)))


def seat_notices(stack, servicer):
    return [(m["sender"], text_of(m)) for m in stack.client.inbox(servicer)
            if "已接入" in text_of(m)]


def test_two_servicers_taking_at_once_never_seat_one_customer_twice(team):
    ask_for_person(team, "erin", "number 1 in the queue", "tech")

    takes = [gevent.spawn(post, team, token, "/api/queue/take") for token in (ALICE, BOB)]
    gevent.joinall(takes, timeout=10, raise_error=True)
    answers = sorted(((t.value.status, t.value.body) for t in takes), key=lambda a: a[0])
    assert [status for status, _ in answers] == [200, 404]
    taken, empty = answers[0][1], answers[1][1]
    assert taken["customer"] == "erin" and taken["servicer"] in ("alice", "bob")
    assert empty["error"] == {"code": "queue_empty",
                              "message": "nobody in the queue is waiting for you"}

    seated = team.client.wait_for("erin")
    name = {"alice": "Alice", "bob": "Bob"}[taken["servicer"]]
    assert [text_of(m) for m in seated] == [
        team.settings.config.texts.seat_assigned.format(servicer_name=name)]
    # The servicer hears of erin from her Shadow, as of any seat; the other hears nothing.
    shadow = team.settings.config.shadow_id
    other = "bob" if taken["servicer"] == "alice" else "alice"
    first = {"alice": "carol", "bob": "dave"}
    assert wait_until(lambda: [s for s, _ in seat_notices(team, taken["servicer"])] == [
        shadow(first[taken["servicer"]]), shadow("erin")])
    assert [s for s, _ in seat_notices(team, other)] == [shadow(first[other])]
    servicers = {s["id"]: s for s in http.get(
        team.cs.url + "/api/servicers", {"Authorization": f"Bearer {BOSS}"}).body["servicers"]}
    assert servicers[taken["servicer"]]["customers"] == sorted([first[taken["servicer"]],
                                                                "erin"])
    assert http.get(team.cs.url + "/api/queue",
                    {"Authorization": f"Bearer {BOSS}"}).body["queue"] == []


def test_only_a_servicer_takes_and_only_from_their_groups(team):
    ask_for_person(team, "erin", "number 1 in the queue", "sales")  # alice's, not bob's
    refused = post(team, BOB, "/api/queue/take")
    assert (refused.status, refused.body["error"]["code"]) == (404, "queue_empty")
    assert post(team, BOSS, "/api/queue/take").status == 403
    taken = post(team, ALICE, "/api/queue/take")
    assert (taken.status, taken.body["customer"]) == (200, "erin")
    assert received(team, "erin", "Alice will help you")


@pytest.mark.parametrize("token, customer, body, status, code, words", [
    (BOSS, "erin", {}, 400, "bad_servicer", "servicer"),
    (BOSS, "erin", {"servicer": 7}, 400, "bad_servicer", "servicer"),
    (BOSS, "erin", {"servicer": ""}, 400, "bad_servicer", "servicer"),
    (BOSS, "nobody", {"servicer": "alice"}, 404, "not_waiting", "nobody is not in the queue"),
    (BOSS, "carol", {"servicer": "alice"}, 404, "not_waiting", "carol is not in the queue"),
    (BOSS, "erin", {"servicer": "zed"}, 404, "no_servicer", "no servicer zed"),
    (BOSS, "erin", {"servicer": "bob"}, 409, "not_in_group", "Bob does not serve"),
    (ALICE, "erin", {"servicer": "alice"}, 403, "forbidden", "may not"),
])
def test_assign_refusals_name_what_is_wrong(team, token, customer, body, status, code, words):
    ask_for_person(team, "erin", "number 1 in the queue", "sales")
    answer = post(team, token, f"/api/queue/{customer}/assign", body)
    assert (answer.status, answer.body["error"]["code"]) == (status, code)
    assert words in answer.body["error"]["message"]
    assert [q["customer"] for q in http.get(team.cs.url + "/api/queue", {
        "Authorization": f"Bearer {BOSS}"}).body["queue"]] == ["erin"]


def test_a_supervisor_assigns_a_waiting_customer_to_a_full_servicer_not_an_off_one(team):
    ask_for_person(team, "erin", "number 1 in the queue", "tech")
    assert post(team, BOB, "/api/servicers/bob/status", {"status": "off"}).status == 200
    off = post(team, BOSS, "/api/queue/erin/assign", {"servicer": "bob"})
    assert (off.status, off.body["error"]["code"]) == (409, "servicer_off")
    assert "Bob is off duty" in off.body["error"]["message"]

    placed = post(team, BOSS, "/api/queue/erin/assign", {"servicer": "alice"})
    assert placed.status == 200 and placed.body == {"customer": "erin", "servicer": "alice"}
    assert received(team, "erin", "Alice will help you")
    alice = http.get(team.cs.url + "/api/servicers/alice",
                     {"Authorization": f"Bearer {BOSS}"}).body
    assert (alice["load"], alice["capacity"]) == (2, 1)
    team.client.send("alice", team.settings.config.shadow_id("erin"), "hello erin")
    assert received(team, "erin", "hello erin")
