"""The IM simulator answers as the WildfireChat server does (DESIGN.md §4)."""

import time
import urllib.request

import gevent
import gevent.event
import pytest

from transport.http.client import JsonClient
from transport.http.server import start_server
from transport.sim.imsim import ImSimClient, ImSimulator, make_imsim_app
from transport.wildfire.api import AdminApi, ImApiError
from transport.wildfire.signing import wildfire_headers, wildfire_sign
from waiting import wait_until

http = JsonClient()
ADMIN = "admin-secret"


@pytest.fixture
def sim():
    # The rate limit's clock stands still: at 5 per 10 s, 2 ms would leak enough
    # for one more grant (im-server grants while the level is below the limit).
    state = ImSimulator(ADMIN, rate_limit=5, clock_ms=lambda: 0)
    server = start_server(make_imsim_app(state))
    state.put_robot("bot", secret="bot-secret")
    yield state, server.url
    server.stop()


def send(url, headers, body=None):
    body = body or {"sender": "bot", "conv": {"type": 0, "target": "u1", "line": 0},
                    "payload": {"type": 1, "searchableContent": "hi"}}
    return http.post(url + "/robot/message/send", body, headers).body


def test_signed_robot_send_is_delivered(sim):
    state, url = sim
    answer = send(url, wildfire_headers("bot-secret", robot_id="bot"))
    assert answer["code"] == 0 and answer["msg"] == "success"
    assert isinstance(answer["result"]["messageUid"], int)
    assert state.inboxes["u1"][0]["payload"]["searchableContent"] == "hi"


def test_robot_send_errors_use_the_real_codes(sim):
    _, url = sim
    good = wildfire_headers("bot-secret", robot_id="bot")
    assert send(url, {k: v for k, v in good.items() if k != "sign"})["code"] == 239
    old = str(int(time.time() * 1000) - 3 * 3600 * 1000)
    expired = dict(good, timestamp=old, sign=wildfire_sign(good["nonce"], "bot-secret", old))
    assert send(url, expired)["code"] == 243
    assert send(url, dict(good, sign="0" * 40))["code"] == 244
    assert send(url, wildfire_headers("x", robot_id="ghost"))["code"] == 253
    bad_body = {"sender": "bot", "conv": {"type": 0}, "payload": {"type": 1}}
    assert send(url, good, bad_body)["code"] == 251


def test_rate_limit_answers_250_after_the_burst(sim):
    _, url = sim
    codes = [send(url, wildfire_headers("bot-secret", robot_id="bot"))["code"]
             for _ in range(7)]
    assert codes == [0] * 5 + [250] * 2


def test_admin_api_checks_the_admin_signature(sim):
    state, url = sim
    with pytest.raises(ImApiError) as error:
        AdminApi(url, "wrong").get_user("u1")
    assert error.value.im_code == 244
    state.put_user("u1", "User One", "http://p")
    assert AdminApi(url, ADMIN).get_user("u1")["displayName"] == "User One"


def test_callbacks_are_posted_unsigned_with_the_real_fields(sim):
    state, url = sim
    received = []
    import bottle

    app = bottle.Bottle()

    @app.post("/cb")
    def cb():
        received.append((dict(bottle.request.headers), bottle.request.json))
        return "ignored"

    server = start_server(app)
    try:
        state.put_robot("bot2", secret="s", callback=server.url + "/cb")
        client = ImSimClient(url)
        client.send("u1", "bot2", "hello")
        client.send("u1", "bot2", payload={"type": 10001, "persistFlag": 4})  # transparent
        client.send("u1", "bot2", "second")
        with gevent.Timeout(3):
            while len(received) < 2:
                gevent.sleep(0.01)
        gevent.sleep(0.05)
        assert len(received) == 2  # transparent messages never reach robots
        headers, body = received[0]
        assert set(body) == {"messageId", "sender", "conv", "payload", "toUsers", "timestamp"}
        assert body["conv"] == {"type": 0, "target": "bot2", "line": 0}
        assert "sign" not in {k.lower() for k in headers}
        assert [b["payload"]["searchableContent"] for _, b in received] == ["hello", "second"]
    finally:
        server.stop()


# WildfireChat's rules, pinned on both sides -------------------------------------------

SIGN_VECTOR = ("76543", "robot-secret-1", "1700000000000",
               "1e78ea903bf6cd5b2481915ace75813e52663aa1")


def test_the_simulators_signature_matches_the_fixed_vector():
    from transport.sim.imrules import im_sign

    nonce, secret, timestamp, expected = SIGN_VECTOR
    assert im_sign(nonce, secret, timestamp) == expected


def test_the_cs_servers_signature_matches_the_fixed_vector():
    nonce, secret, timestamp, expected = SIGN_VECTOR
    assert wildfire_sign(nonce, secret, timestamp) == expected


def test_the_simulator_refuses_a_sign_made_with_another_secret(sim):
    _, url = sim
    nonce, _, _, _ = SIGN_VECTOR
    timestamp = str(int(time.time() * 1000))
    wrong = {"nonce": nonce, "timestamp": timestamp, "rid": "bot",
             "sign": wildfire_sign(nonce, "robot-secret-1", timestamp)}
    assert send(url, wrong)["code"] == 244
    right = dict(wrong, sign=wildfire_sign(nonce, "bot-secret", timestamp))
    assert send(url, right)["code"] == 0


def test_the_robot_rate_limit_is_a_burst_then_the_rate_and_a_refusal_costs_nothing():
    from transport.sim.imrules import RobotRateLimiter

    now = [0]
    limiter = RobotRateLimiter(1000, 10.0, lambda: now[0])  # im-server's default
    assert all(limiter.granted("cs_robot") for _ in range(1000))
    assert not limiter.granted("cs_robot")
    assert limiter.granted("shadow")  # each robot has its own bucket
    now[0] += 10  # 10 ms leak one request at 100 a second
    assert limiter.granted("cs_robot")
    assert not limiter.granted("cs_robot")
    for _ in range(50):  # refused requests do not fill the bucket
        assert not limiter.granted("cs_robot")
    now[0] += 1000
    assert sum(limiter.granted("cs_robot") for _ in range(200)) == 100


# Callbacks as OkHttp's dispatcher posts them ---------------------------------------------

class HeldCallbacks:
    """A callback receiver that holds every request until released; counts what is in flight."""

    def __init__(self):
        import bottle

        self.in_flight = self.most = 0
        self.arrived = []
        self.release = gevent.event.Event()
        self._changed = gevent.event.Event()
        app = bottle.Bottle()

        @app.post("/cb/<name>")
        def cb(name):
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.arrived.append((name, bottle.request.json["payload"]["searchableContent"]))
            self._changed.set()
            self.release.wait(5)
            self.in_flight -= 1
            return {"ok": True}

        self.server = start_server(app)
        self.port = self.server.url.rsplit(":", 1)[1]

    def wait_until(self, condition, timeout=5.0):
        with gevent.Timeout(timeout, False):
            while not condition():
                self._changed.clear()
                self._changed.wait(0.05)
        return condition()


@pytest.fixture
def held():
    receiver = HeldCallbacks()
    yield receiver
    receiver.release.set()
    receiver.server.stop()


def test_never_more_than_five_callbacks_are_in_flight_to_one_host(held):
    state = ImSimulator(ADMIN)
    state.put_robot("bot", secret="s", callback=f"http://127.0.0.1:{held.port}/cb/a")
    state.put_robot("other", secret="s", callback=f"http://localhost:{held.port}/cb/b")
    for i in range(20):
        state.deliver("u1", "bot", {"type": 1, "searchableContent": str(i)})
    assert held.wait_until(lambda: held.in_flight == 5)
    # A call to another host is queued after the twenty, and starts at once: the
    # dispatcher has looked past the waiting fifteen by the time it arrives.
    state.deliver("u2", "other", {"type": 1, "searchableContent": "x"})
    assert held.wait_until(lambda: ("b", "x") in held.arrived)
    assert sorted(text for name, text in held.arrived if name == "a") == [str(i) for i in range(5)]
    assert state.callbacks.waiting() == 15
    held.release.set()
    assert held.wait_until(lambda: len(held.arrived) == 21)
    assert state.callbacks.most_per_host["127.0.0.1"] == 5
    # Started in order, but five at a time they may arrive in any order.
    assert sorted(int(text) for name, text in held.arrived if name == "a") == list(range(20))
    assert held.wait_until(lambda: len(state.callback_status) == 21)
    assert set(state.callback_status.values()) == {200}


def test_no_more_than_the_total_limit_run_across_hosts(held):
    state = ImSimulator(ADMIN)
    state.callbacks.max_requests = 6
    state.put_robot("bot", secret="s", callback=f"http://127.0.0.1:{held.port}/cb/a")
    state.put_robot("other", secret="s", callback=f"http://localhost:{held.port}/cb/b")
    for i in range(10):
        state.deliver("u1", "bot", {"type": 1, "searchableContent": str(i)})
        state.deliver("u2", "other", {"type": 1, "searchableContent": str(i)})
    assert held.wait_until(lambda: held.in_flight == 6)
    assert state.callbacks.in_flight() == 6 and state.callbacks.waiting() == 14
    # FIFO across hosts: a0 b0 a1 b1 a2 b2 started; a's fourth waits for a slot.
    assert sorted(held.arrived) == sorted([("a", "0"), ("b", "0"), ("a", "1"), ("b", "1"),
                                           ("a", "2"), ("b", "2")])
    held.release.set()
    assert held.wait_until(lambda: len(held.arrived) == 20)
    assert held.most == 6


def test_a_dead_callback_url_is_not_retried(sim):
    state, _ = sim
    state.put_robot("bot3", secret="s", callback="http://127.0.0.1:9/cb")  # nobody listens
    message = state.deliver("u1", "bot3", {"type": 1, "searchableContent": "hi"})
    assert wait_until(lambda: message["messageId"] in state.callback_status)
    assert state.callback_status[message["messageId"]] == 0
    assert state.stats["callback_failed"] == 1 and state.callbacks.posted == 1


def test_a_callback_posted_twice_is_answered_200_and_handled_once(stack):
    from conftest import ROBOT_ID

    stack.sim.callbacks.repeat = 1  # as OkHttp's retry after a connection failure would
    first = stack.client.send("carol", ROBOT_ID, "price")
    assert wait_until(lambda: first in stack.sim.callback_status)  # both POSTs answered
    assert stack.sim.callback_status[first] == 200
    assert stack.sim.stats["callback_repeated"] == 1 and stack.sim.callbacks.posted == 2
    stack.client.send("carol", ROBOT_ID, "hours")  # sent after the repeat was handled
    replies = stack.client.wait_for("carol", count=2)
    assert [m["payload"]["searchableContent"] for m in replies] == [
        "Our plan costs 10 yuan a month.", "We are open 9:00-18:00."]
    assert stack.client.new_messages("carol") == []  # no second answer to "price"
    assert http.get(stack.cs.url + "/readyz").body["duplicate_callbacks"] == 1
    history = http.get(stack.cs.url + "/api/customers/carol/history?limit=50&order=oldest")
    said = [e["payload"]["searchableContent"] for e in history.body["messages"]
            if e["dir"] == "in"]
    assert said == ["price", "hours"]


def test_inbox_as_text_is_one_readable_line_per_message(sim):
    state, url = sim
    state.deliver("bot", "u1", {"type": 1, "searchableContent": "您好\nsecond line"})
    state.deliver("bot", "u1", {"type": 10005, "content": '{"sessionId": "s1"}'})
    with urllib.request.urlopen(url + "/sim/inbox/u1?format=text", timeout=10) as response:
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        lines = response.read().decode().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("bot: 您好 second line")
    assert lines[1].endswith('bot: [type 10005] {"sessionId": "s1"}')


def test_a_conversation_is_both_sides_between_two_users_in_order_after_a_cursor(sim):
    state, url = sim
    first = state.deliver("u1", "bot", {"type": 1, "searchableContent": "q1"})
    state.deliver("u2", "bot", {"type": 1, "searchableContent": "someone else's"})
    state.deliver("bot", "u1", {"type": 1, "searchableContent": "a1"})
    state.deliver("bot", "u2", {"type": 1, "searchableContent": "not u1's"})
    state.deliver("u1", "bot", {"type": 1, "searchableContent": "q2"})

    page = http.get(url + "/sim/conversation/u1?with=bot&after=0").body
    said = [(m["sender"], m["payload"]["searchableContent"]) for m in page["messages"]]
    assert said == [("u1", "q1"), ("bot", "a1"), ("u1", "q2")]
    assert page["next"] == page["messages"][-1]["messageId"]

    later = http.get(url + f"/sim/conversation/u1?with=bot&after={first['messageId']}").body
    assert [m["payload"]["searchableContent"] for m in later["messages"]] == ["a1", "q2"]
    empty = http.get(url + f"/sim/conversation/u1?with=bot&after={page['next']}").body
    assert empty == {"messages": [], "next": page["next"]}
    assert http.get(url + "/sim/conversation/u1").status == 400  # with whom?
