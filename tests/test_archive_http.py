"""The session archive over HTTP: ended sessions by date range (supervisor), a
customer's past sessions (supervisor, or the servicer who served them), bad ranges."""

import json
import time

import pytest

from conftest import ROBOT_ID, make_config, start_stack, tokens_file
from transport.edge.api.overview import team_figures
from transport.http.client import JsonClient
from waiting import wait_until

http = JsonClient()
TOKENS = {"boss": ("supervisor", None), "alice-t": ("servicer", "alice"),
          "bob-t": ("servicer", "bob")}


@pytest.fixture
def team(redis_url, tmp_path):
    tokens = tokens_file(tmp_path / "tokens.json", {t: s for t, (_, s) in TOKENS.items() if s},
                         [t for t, (role, _) in TOKENS.items() if role == "supervisor"])
    stack = start_stack(redis_url, make_config(servicers=[
        {"id": "alice", "name": "Alice", "capacity": 1},
        {"id": "bob", "name": "Bob", "capacity": 1}]), api_tokens_file=tokens)
    yield stack
    stack.stop()


def get(stack, token, path):
    return http.get(stack.cs.url + path, {"Authorization": f"Bearer {token}"})


def served_and_rated(stack, customer, comment):
    c = stack.client
    c.send(customer, ROBOT_ID, "human")
    assert "Alice will help you" in c.wait_for(customer)[0]["payload"]["searchableContent"]
    c.send("alice", f"{customer}*Shadow", "/end")
    c.wait_for(customer, 2)
    c.send(customer, ROBOT_ID, payload={"type": 10004, "persistFlag": 3, "content": json.dumps(
        {"stars": 5, "comment": comment})})
    assert "Thank you" in c.wait_for(customer)[0]["payload"]["searchableContent"]


def test_ended_sessions_by_range_with_their_rating_and_satisfaction(team):
    before = int(time.time() * 1000)
    team.client.send("alice", ROBOT_ID, "/on")
    team.client.wait_for("alice")
    served_and_rated(team, "carol", "很好 <b>fast</b>")
    team.client.send("dave", ROBOT_ID, "price?")
    team.client.wait_for("dave")
    team.client.send("dave", ROBOT_ID, payload={"type": 10002, "persistFlag": 0})
    after = int(time.time() * 1000) + 1000

    def ended():
        return get(team, "boss", f"/api/sessions/ended?from={before}&to={after}").body

    assert wait_until(lambda: len(ended()["sessions"]) == 2)
    body = ended()
    dave, carol = body["sessions"]
    assert (dave["customer"], dave["with_person"], dave["stars"]) == ("dave", False, None)
    assert (carol["customer"], carol["servicers"], carol["stars"]) == ("carol", ["alice"], 5)
    assert carol["comment"] == "很好 <b>fast</b>"
    assert before <= carol["started"] <= carol["closed"] <= after
    assert body["count"] == 2
    assert body["satisfaction"] == {"rated": 1, "satisfied": 1, "share": 1.0}
    assert get(team, "boss", f"/api/sessions/ended?from={after}&to={after + 5}").body[
        "sessions"] == []
    assert get(team, "alice-t", "/api/sessions/ended").status == 403

    mine = get(team, "alice-t", "/api/customers/carol/sessions")
    assert mine.status == 200 and [s["session"] for s in mine.body["sessions"]] == [
        carol["session"]]
    assert get(team, "boss", "/api/customers/carol/sessions").body == mine.body
    assert get(team, "bob-t", "/api/customers/carol/sessions").status == 403
    assert get(team, "boss", "/api/customers/nobody/sessions").body["sessions"] == []


@pytest.mark.parametrize("query, code, named", [
    ("from=yesterday", "bad_from", "from"),
    ("from=%B2", "bad_from", "from"),  # "²": a digit to str.isdigit, not to int()
    ("to=%D9%A1", "bad_to", "to"),  # a digit beyond ASCII
    ("to=-5", "bad_to", "to"),
    ("from=20&to=10", "bad_range", "from"),
    ("limit=0", "bad_limit", "limit"),
])
def test_a_bad_range_is_refused_naming_the_field(team, query, code, named):
    refused = get(team, "boss", "/api/sessions/ended?" + query)
    assert refused.status == 400
    assert refused.body["error"]["code"] == code and named in refused.body["error"]["message"]


def test_team_figures_add_up_over_servicers_and_are_empty_without_data():
    assert team_figures([]) == {"first_response_avg_secs": None, "missed": 0}
    assert team_figures([{"first_responses": 0, "first_response_ms": 0, "missed": 0}]) == {
        "first_response_avg_secs": None, "missed": 0}
    assert team_figures([{"first_responses": 1, "first_response_ms": 3000, "missed": 2},
                         {"first_responses": 3, "first_response_ms": 5000, "missed": 1},
                         {}]) == {"first_response_avg_secs": 2.0, "missed": 3}
