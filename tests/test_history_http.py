"""The console's history polling over HTTP, for a customer with a long history."""

import time

from conftest import ROBOT_ID
from storage.keys import HISTORY_MAX_ENTRIES
from transport.http.client import JsonClient

http = JsonClient()

# What transport/edge/static/console.js asks for: the newest page when a chat
# is first shown, then only what is newer than the newest entry it has.
FIRST_PAGE = "/api/customers/{customer}/history?limit=100"
POLL = "/api/customers/{customer}/history?limit=100&order=oldest&after={after}"


def redis_bytes_sent(store):
    return store.client.info("stats")["total_net_output_bytes"]


def test_a_returning_customers_new_message_reaches_the_console_and_a_poll_reads_only_it(stack):
    store = stack.cs.store
    start = int(time.time() * 1000) - 10_000_000
    store.commit("rita", None, [{"t": start + i, "dir": "in", "from": "rita",
                                 "payload": {"type": 1, "searchableContent": f"old {i} " * 20}}
                                for i in range(HISTORY_MAX_ENTRIES)])
    url = stack.cs.url
    shown = http.get(url + FIRST_PAGE.format(customer="rita")).body["messages"][::-1]
    assert len(shown) == 100 and shown[-1]["t"] == start + HISTORY_MAX_ENTRIES - 1
    newest = shown[-1]["t"]

    stack.client.send("rita", ROBOT_ID, "price, again")
    stack.client.wait_for("rita")

    before = redis_bytes_sent(store)
    polled = http.get(url + POLL.format(customer="rita", after=newest)).body["messages"]
    sent = redis_bytes_sent(store) - before
    assert [(m["dir"], m["payload"]["searchableContent"]) for m in polled] == [
        ("in", "price, again"), ("out", "Our plan costs 10 yuan a month.")]
    # Reading the whole list moved ~330 KB out of Redis for this one poll.
    assert sent < 20_000, sent
    again = http.get(url + POLL.format(customer="rita", after=polled[-1]["t"])).body
    assert again["messages"] == []


def test_the_console_asks_for_the_newest_page_then_only_what_is_newer():
    # The console's JavaScript is not run here; this keeps the requests the
    # test above makes the same as the ones it sends.
    from pathlib import Path

    import transport.edge

    script = (Path(transport.edge.__file__).parent / "static" / "console.js").read_text()
    assert '"/history?limit=" + PAGE' in script and "const PAGE = 100;" in script
    assert '"&order=oldest&after=" + newest' in script


def callback(message_id, text):
    """A robot callback as the IM server posts it (it may reorder two of them)."""
    return {"messageId": message_id, "sender": "olga",
            "conv": {"type": 0, "target": ROBOT_ID, "line": 0},
            "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
            "toUsers": [], "timestamp": 1700000000000}


def customer_lines(messages):
    return [m["payload"]["searchableContent"] for m in messages
            if m["dir"] == "in" and m["from"] == "olga"]


def test_two_messages_arriving_out_of_order_are_both_handled_and_shown_in_message_id_order(stack):
    url = stack.cs.url
    robot = f"{url}/im/robot/{stack.settings.callback_token}"
    history = f"{url}/api/customers/olga/history?limit=100"
    # The IM server accepted "price" (id 1000) before "hours" (id 1001), but
    # its five connections delivered "hours" first.
    assert http.post(robot, callback(1001, "hours")).status == 200
    assert len(stack.client.wait_for("olga")) == 1
    cursor = http.get(history).body["messages"][0]["t"]  # what a console has seen
    assert http.post(robot, callback(1000, "price")).status == 200
    assert len(stack.client.wait_for("olga")) == 1  # both were answered

    oldest = http.get(history + "&order=oldest").body["messages"]
    assert customer_lines(oldest) == ["price", "hours"]
    newest = http.get(history).body["messages"]
    assert customer_lines(newest) == ["hours", "price"]
    # A console polling after what it had still gets the late one, marked to go
    # before the message it overtook.
    polled = http.get(history + f"&order=oldest&after={cursor}").body["messages"]
    assert customer_lines(polled) == ["price"]
    late = next(m for m in polled if m["dir"] == "in")
    overtaken = next(m for m in oldest if customer_lines([m]) == ["hours"])
    assert late["ahead_of"] == overtaken["t"] and late["mid"] == 1000


def test_what_a_servicer_does_in_the_console_stays_where_it_happened_in_the_history(
        redis_url, tmp_path):
    # Console actions carry ids of their own below every IM id; they are not
    # the IM server's numbers and must not be taken for late arrivals (they
    # were: the console's /end showed first in the transcript).
    from conftest import make_config, start_stack, tokens_file

    stack = start_stack(redis_url, make_config(servicers=[{"id": "alice", "name": "Alice"}]),
                        api_tokens_file=tokens_file(tmp_path / "t.json", {"alice-t": "alice"}))
    try:
        auth = {"Authorization": "Bearer alice-t"}
        assert http.post(stack.cs.url + "/api/servicers/alice/status", {"status": "on"},
                         auth).status == 200
        stack.client.send("vera", ROBOT_ID, "人工")
        stack.client.wait_for("vera")
        stack.client.send("vera", ROBOT_ID, "my parcel is late")
        stack.client.wait_for("alice", 3)  # the seat, the history, the question
        assert http.post(stack.cs.url + "/api/sessions/vera/reply", {"text": "Checking now"},
                         auth).status == 200
        assert http.post(stack.cs.url + "/api/sessions/vera/end", {}, auth).status == 200
        assert len(stack.client.wait_for("vera", 3)) == 3  # the reply, the end, the rating
        oldest = http.get(stack.cs.url + "/api/customers/vera/history?order=oldest",
                          auth).body["messages"]
        said = [m["payload"].get("searchableContent") for m in oldest]
        assert said.index("my parcel is late") < said.index("Checking now") < said.index("/end")
        assert said[0] == "人工", said
        assert not any("ahead_of" in m for m in oldest)
    finally:
        stack.stop()
        stack.cs.store.delete_all()
