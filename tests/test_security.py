"""Security: API roles, callback sources, the App Server boundary, secrets, floods."""

import io
import json
import logging
import urllib.error
import urllib.request
import wsgiref.util

import pytest

from actors.messages import text_payload
from conftest import ROBOT_ID, make_config, start_stack
from storage import Store, connect
from transport.appserver.client import AppServerClient
from transport.appserver.server import make_appserver_app
from transport.appserver.signing import RedisNonces, hmac_headers
from transport.edge.auth import token_hash
from transport.http.client import HttpError, JsonClient
from transport.http.server import start_server
from world import World

http = JsonClient()
TEAM = [{"id": "alice", "name": "Alice", "capacity": 2},
        {"id": "bob", "name": "Bob", "capacity": 2}]
TOKENS = {"boss": ("supervisor", None), "alice-token": ("servicer", "alice"),
          "bob-token": ("servicer", "bob")}


@pytest.fixture
def secured(redis_url, tmp_path):
    entries = [{"sha256": token_hash(t), "role": role, **({"servicer": s} if s else {})}
               for t, (role, s) in TOKENS.items()]
    tokens_file = tmp_path / "tokens.json"
    tokens_file.write_text(json.dumps({"tokens": entries}))
    stack = start_stack(redis_url, make_config(servicers=TEAM),
                        api_tokens_file=str(tokens_file))
    stack.tokens_file = tokens_file
    c = stack.client
    for servicer in ("alice", "bob"):
        c.send(servicer, ROBOT_ID, "/on")
        c.wait_for(servicer)
    for customer in ("carol", "dave"):  # carol -> alice, dave -> bob (least loaded)
        c.send(customer, ROBOT_ID, "human")
        c.wait_for(customer)
    yield stack
    stack.stop()


def call(stack, token, path, body=None, method=None):
    headers = {"Authorization": f"Bearer {token}"}
    if body is None and method is None:
        return http.get(stack.cs.url + path, headers)
    return http.post(stack.cs.url + path, body or {}, headers)


def test_tokens_file_holds_no_token(secured):
    text = secured.tokens_file.read_text()
    assert all(token not in text for token in TOKENS)


def test_supervisor_sees_everything(secured):
    assert [s["id"] for s in call(secured, "boss", "/api/servicers").body["servicers"]] == [
        "alice", "bob"]
    assert call(secured, "boss", "/api/sessions").body["sessions"] == ["carol", "dave"]
    assert call(secured, "boss", "/api/customers/dave/history").status == 200
    assert call(secured, "boss", "/api/me").body == {"role": "supervisor", "servicer": None}


def test_servicer_sees_only_their_own(secured):
    assert [s["id"] for s in call(secured, "alice-token", "/api/servicers").body[
        "servicers"]] == ["alice"]
    assert call(secured, "alice-token", "/api/sessions").body["sessions"] == ["carol"]
    assert call(secured, "alice-token", "/api/customers/carol/history").status == 200
    for path in ("/api/customers/dave/history", "/api/servicers/bob",
                 "/api/servicers/bob/stats"):
        response = call(secured, "alice-token", path)
        assert response.status == 403 and response.body["error"]["code"] == "forbidden"
    assert call(secured, "alice-token", "/api/servicers/bob/status",
                {"status": "off"}).status == 403
    assert call(secured, "alice-token", "/api/sessions/dave/transfer",
                {"to": "alice"}).status == 403
    assert call(secured, "alice-token", "/api/servicers/alice/status",
                {"status": "paused"}).body["status"] == "paused"


def test_servicer_may_not_change_the_team(secured):
    response = http.request("PUT", secured.cs.url + "/api/servicers/eve",
                             json.dumps({"capacity": 9}).encode(),
                             {"Authorization": "Bearer alice-token"})
    assert response.status == 403
    assert call(secured, "boss", "/api/servicers/eve").status == 404


def test_queue_shows_servicers_how_long_not_who(secured):
    secured.client.send("erin", ROBOT_ID, "human")
    secured.client.send("fay", ROBOT_ID, "human")
    secured.client.send("gus", ROBOT_ID, "human")  # alice and bob full at 2
    secured.client.wait_for("gus")
    assert "customer" in call(secured, "boss", "/api/queue").body["queue"][0]
    queue = call(secured, "alice-token", "/api/queue").body["queue"]
    assert queue and all("customer" not in q for q in queue)


@pytest.mark.parametrize("token, challenge", [
    ("", 'Bearer realm="wildfire-cs"'), ("Bearer", 'Bearer realm="wildfire-cs"'),
    ("Basic boss", 'Bearer realm="wildfire-cs"'),
    ("Bearer wrong", 'Bearer realm="wildfire-cs", error="invalid_token"')])
def test_unknown_or_missing_tokens_get_401_with_a_bearer_challenge(secured, token, challenge):
    status, headers, body = raw_get(secured.cs.url + "/api/queue", {"Authorization": token})
    assert status == 401 and body["error"]["code"] == "bad_token"
    assert headers["WWW-Authenticate"] == challenge  # RFC 6750, section 3


def test_a_known_token_without_the_right_gets_403(secured):
    status, headers, body = raw_get(secured.cs.url + "/api/overview",
                                    {"Authorization": "Bearer alice-token"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert "WWW-Authenticate" not in headers


def test_without_tokens_the_api_answers_only_loopback_callers(stack):
    ok = wsgi(stack.cs.app, "/api/queue", "127.0.0.1")
    assert ok[0] == 200
    refused = wsgi(stack.cs.app, "/api/queue", "10.1.2.3")
    assert refused[0] == 403 and refused[1]["error"]["code"] == "loopback_only"
    # X-Forwarded-For is written by the caller: it must not open the door.
    spoofed = wsgi(stack.cs.app, "/api/queue", "10.1.2.3", {"X-Forwarded-For": "127.0.0.1"})
    assert spoofed[0] == 403


def test_open_api_answers_any_caller_and_says_so(redis_url, caplog):
    with caplog.at_level(logging.WARNING, logger="transport.csserver"):
        stack = start_stack(redis_url, open_api=True)
    try:
        assert wsgi(stack.cs.app, "/api/queue", "10.1.2.3")[0] == 200
        assert any("--open-api" in r.getMessage() for r in caplog.records)
    finally:
        stack.stop()


def test_callback_sources_are_the_socket_peer_not_a_forwarded_header(redis_url):
    stack = start_stack(redis_url, callback_sources=("10.0.0.0/8",))
    try:
        body = json.dumps({"messageId": 1, "sender": "carol",
                           "conv": {"type": 0, "target": ROBOT_ID},
                           "payload": {"type": 1, "searchableContent": "hi"}}).encode()
        status, answer = wsgi(stack.cs.app, f"/im/robot/{stack.settings.callback_token}",
                              "192.0.2.7", {"X-Forwarded-For": "10.1.2.3"}, body)
        assert status == 403 and answer["error"]["code"] == "source_not_allowed"
    finally:
        stack.stop()


def raw_get(url, headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


def wsgi(app, path, remote_addr, headers=None, body=b""):
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD="POST" if body else "GET", PATH_INFO=path,
                   REMOTE_ADDR=remote_addr, CONTENT_LENGTH=str(len(body)),
                   CONTENT_TYPE="application/json", **{"wsgi.input": io.BytesIO(body)})
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status = []
    content = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), json.loads(content)


def test_callbacks_only_from_allowed_sources(redis_url):
    body = {"messageId": 1, "sender": "carol", "conv": {"type": 0, "target": ROBOT_ID},
            "payload": {"type": 1, "searchableContent": "hi"}}
    for sources, status in [(("10.0.0.0/8",), 403), (("10.0.0.0/8", "127.0.0.1/32"), 200)]:
        stack = start_stack(redis_url, callback_sources=sources)
        try:
            url = f"{stack.cs.url}/im/robot/{stack.settings.callback_token}"
            response = http.post(url, body)
            assert response.status == status
            if status == 403:
                assert response.body["error"]["code"] == "source_not_allowed"
        finally:
            stack.stop()


def test_app_server_will_not_take_over_a_real_users_id(stack):
    stack.client.put_user("victim*Shadow", "A real person")
    client = AppServerClient(stack.appserver_http.url, stack.appserver_key)
    with pytest.raises(HttpError, match="403"):
        client.create_shadow(customer_id="victim", shadow_id="victim*Shadow", secret="s",
                             callback="http://x")
    assert "victim*Shadow" not in stack.sim.robots
    stack.client.put_user(ROBOT_ID, "someone")  # the CS Robot's id taken by a person
    with pytest.raises(HttpError, match="403"):
        client.create_cs_robot(secret="s", callback="http://x")


def test_replay_is_refused_across_app_server_restarts(stack, redis_url):
    store = Store(connect(redis_url), prefix="nonce-test")
    try:
        def app_server():
            return start_server(make_appserver_app(
                admin=stack.admin, key=stack.appserver_key, robot_id=ROBOT_ID,
                shadow_id_pattern="{customer}*Shadow", nonces=RedisNonces(store)))

        body = json.dumps({"customerId": "c", "shadowId": "c*Shadow", "secret": "s",
                           "callback": "http://x"}).encode()
        headers = hmac_headers(stack.appserver_key, "POST", "/api/shadows", body)
        first = app_server()
        assert http.post(first.url + "/api/shadows", None, headers, raw=body).status == 200
        first.stop()
        second = app_server()
        replay = http.post(second.url + "/api/shadows", None, headers, raw=body)
        second.stop()
        assert replay.status == 403 and replay.body["error"]["message"] == "nonce already used"
    finally:
        store.delete_all()


def test_secrets_never_reach_logs_or_error_messages(redis_url, caplog):
    caplog.set_level(logging.DEBUG)
    stack = start_stack(redis_url, make_config(servicers=TEAM))
    admin_secret = stack.sim.admin_secret
    key = stack.appserver_key
    try:
        c = stack.client
        c.send("alice", ROBOT_ID, "/on")
        c.send("carol", ROBOT_ID, "human")
        c.wait_for("carol")
        wrong = AppServerClient(stack.appserver_http.url, "not-the-key")
        with pytest.raises(HttpError) as refused:
            wrong.create_shadow(customer_id="x", shadow_id="x*Shadow", secret="s",
                                callback="http://x")
        stack.sim.admin_secret = "rotated"  # the App Server's admin calls now fail
        c.send("dave", ROBOT_ID, "human")
        c.wait_for("dave")
    finally:
        stack.stop()
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "refused App Server call" in logged and "not created" in logged
    for secret in (admin_secret, key, "not-the-key"):
        assert secret not in logged
        assert secret not in str(refused.value)


def test_a_flooding_customer_is_told_once_and_the_session_survives(store):
    world = World(store, make_config(customer_rate_limit=5, idle_auto_secs=600))
    for _ in range(8):
        world.customer("flood", text_payload("price"))
    texts = world.deliver.wait_for("flood", 6)
    world.settle()
    assert world.deliver.texts_to("flood") == texts
    assert texts.count(world.config.texts.too_fast) == 1
    assert texts.count("Our plan costs 10 yuan a month.") == 5
    world.clock.advance(10)
    world.customer("flood", text_payload("hours"))
    assert world.deliver.wait_for("flood", 7)[-1] == "We are open 9:00-18:00."
    dropped = [e for e in store.history("flood", 100) if e.get("dropped")]
    assert len(dropped) == 3  # kept in the history, not handled


def test_robot_api_nonces_are_random_hex_and_never_repeat_across_refills():
    from transport.wildfire.signing import NONCES_PER_READ, fresh_nonce

    nonces = [fresh_nonce() for _ in range(3 * NONCES_PER_READ)]
    assert len(set(nonces)) == len(nonces)
    assert all(len(n) == 16 and int(n, 16) >= 0 for n in nonces)
