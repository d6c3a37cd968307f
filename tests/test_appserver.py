"""The App Server boundary: signed, fresh, once, and only Shadows that fit the pattern."""

import json

from transport.appserver.client import AppServerClient
from transport.appserver.signing import hmac_headers
from transport.http.client import HttpError, JsonClient

http = JsonClient()


def call(stack, path, body, key=None, headers=None):
    raw = json.dumps(body).encode()
    headers = headers or hmac_headers(key or stack.appserver_key, "POST", path, raw)
    return http.post(stack.appserver_http.url + path, None, headers, raw=raw), headers


def shadow_body(customer="carol", shadow=None):
    return {"customerId": customer, "shadowId": shadow or f"{customer}*Shadow",
            "secret": "s" * 32, "callback": "http://127.0.0.1:1/im/shadow/token"}


def test_signed_request_creates_a_shadow_with_the_customers_name(stack):
    stack.client.put_user("carol", "Carol C", "http://img/carol.png")
    shadow = AppServerClient(stack.appserver_http.url, stack.appserver_key).create_shadow(
        customer_id="carol", shadow_id="carol*Shadow", secret="s" * 32, callback="http://cb")
    assert (shadow.customer_name, shadow.customer_portrait) == ("Carol C", "http://img/carol.png")
    assert stack.sim.robots["carol*Shadow"]["callback"] == "http://cb"


def test_wrong_key_is_refused(stack):
    response, _ = call(stack, "/api/shadows", shadow_body(), key="wrong")
    assert response.status == 403
    assert "carol*Shadow" not in stack.sim.robots


def test_replayed_nonce_is_refused(stack):
    first, headers = call(stack, "/api/shadows", shadow_body())
    assert first.status == 200
    replay, _ = call(stack, "/api/shadows", shadow_body(), headers=headers)
    assert replay.status == 403 and replay.body["error"]["message"] == "nonce already used"


def test_altered_body_is_refused(stack):
    raw = json.dumps(shadow_body()).encode()
    headers = hmac_headers(stack.appserver_key, "POST", "/api/shadows", raw)
    altered = json.dumps(shadow_body("mallory")).encode()
    response = http.post(stack.appserver_http.url + "/api/shadows", None, headers, raw=altered)
    assert response.status == 403


def test_shadow_id_outside_the_pattern_is_refused(stack):
    response, _ = call(stack, "/api/shadows", shadow_body(shadow="admin"))
    assert response.status == 403
    assert response.body["error"]["code"] == "bad_shadow_id"
    assert "admin" not in stack.sim.robots


def test_client_raises_on_refusal(stack):
    client = AppServerClient(stack.appserver_http.url, "wrong-key")
    try:
        client.create_shadow(customer_id="c", shadow_id="c*Shadow", secret="x", callback="y")
    except HttpError as exc:
        assert "403" in str(exc)
        assert "wrong-key" not in str(exc)
    else:
        raise AssertionError("expected HttpError")
