"""The IM simulator answers as the WildfireChat server does (DESIGN.md §4)."""

import time
import urllib.request

import gevent
import pytest

from transport.http.client import JsonClient
from transport.http.server import start_server
from transport.sim.imsim import ImSimClient, ImSimulator, make_imsim_app
from transport.wildfire.api import AdminApi, ImApiError
from transport.wildfire.signing import wildfire_headers, wildfire_sign

http = JsonClient()
ADMIN = "admin-secret"


@pytest.fixture
def sim():
    state = ImSimulator(ADMIN, rate_limit=5)
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
