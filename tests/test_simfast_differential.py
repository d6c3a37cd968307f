"""The simulator's fast robot-API send (transport/sim/simfast.py) answers as
its Bottle route does: the same requests, generated, malformed ones included,
to two simulators in the same state, one served each way, over real HTTP."""

import http.client
import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transport.http.server import start_server
from transport.sim.imrules import SIGN_MAX_AGE_MS, im_sign
from transport.sim.imsim import ImSimulator, bottle_imsim_app, make_imsim_app

SECRET = "bot-secret"


@pytest.fixture(scope="module")
def pair():
    sims, servers = [], []
    for make in (make_imsim_app, bottle_imsim_app):
        sim = ImSimulator("admin", rate_limit=1_000_000)
        sim.put_robot("bot", secret=SECRET)
        sims.append(sim)
        servers.append(start_server(make(sim)))
    yield sims, [s.port for s in servers]
    for server in servers:
        server.stop()


def exchange(port, raw, keep_alive):
    """The answer, and with keep-alive the next one on the same connection (so a
    wrong Content-Length or a connection left unusable shows)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        answers = [read(sock)]
        if keep_alive and answers[0][0] < 500:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
            answers.append(read(sock))
        return answers


def read(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    return response.status, response.getheader("Content-Type"), comparable(body)


def delivered(sim):
    return {user: [(m["sender"], m["payload"]) for m in messages]
            for user, messages in sim.inboxes.items()}


def comparable(body):
    """The answer, with the ids and times each simulator makes up masked."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    result = answer.get("result") if isinstance(answer, dict) else None
    if isinstance(result, dict) and {"messageUid", "timestamp"} <= result.keys():
        answer["result"] = {k: type(v).__name__ for k, v in result.items()}
    return answer


def signed(kind, rid):
    now = int(time.time() * 1000)
    timestamp = {"old": now - SIGN_MAX_AGE_MS - 60_000, "bad": "soon"}.get(kind, now)
    sign = im_sign("7654", SECRET, str(timestamp))
    headers = {"nonce": "7654", "timestamp": str(timestamp), "sign": sign, "rid": rid}
    if kind == "wrong_sign":
        headers["sign"] = "0" * 40
    return headers


message = st.fixed_dictionaries({
    "sender": st.sampled_from(["bot", "someone"]),
    "conv": st.one_of(st.fixed_dictionaries({
        "type": st.sampled_from([0, 1]), "target": st.sampled_from(["u1", "", 7]),
        "line": st.just(0)}), st.none()),
    "payload": st.fixed_dictionaries({
        "type": st.sampled_from([1, "1"]), "searchableContent": st.text(max_size=20)}),
})
bodies = st.one_of(
    message.map(lambda m: json.dumps(m, ensure_ascii=False).encode()),
    st.sampled_from([b"", b"null", b"{", b"[]", b'"text"', b"\xff\xfe", b"{}", b"[" * 50_000]),
    st.binary(max_size=40),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["good", "old", "bad", "wrong_sign"]),
       rid=st.sampled_from(["bot", "nobody"]),
       drop=st.sets(st.sampled_from(["nonce", "timestamp", "sign", "rid"]), max_size=2),
       extra=st.sampled_from([{}, {"rid": "b\u00f6t"}, {"nonce": ""}]),
       framing=st.sampled_from(["length", "chunked", "none"]),
       method=st.sampled_from(["POST", "POST", "GET"]), keep_alive=st.booleans(),
       path=st.sampled_from(["/robot/message/send", "/robot/message/send?x=1",
                             "/robot/message/sendx"]),
       body=bodies)
def test_the_fast_send_answers_as_the_bottle_route(pair, kind, rid, drop, extra, framing,
                                                   method, keep_alive, path, body):
    sims, ports = pair
    headers = {k: v for k, v in signed(kind, rid).items() if k not in drop}
    headers.update(extra)
    lines = [f"{method} {path} HTTP/1.1", "Host: sim"]
    lines += [] if keep_alive else ["Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        payload = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    else:
        payload = b""
    raw = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + payload
    fast, slow = (exchange(port, raw, keep_alive) for port in ports)
    assert fast == slow
    assert sims[0].stats == sims[1].stats
    assert delivered(sims[0]) == delivered(sims[1])


def test_an_armed_fault_still_answers_503_through_bottle(pair):
    sims, ports = pair
    for sim in sims:
        sim.fault = "http503"
    try:
        fast, slow = (exchange(port, good_send(), False) for port in ports)
        assert fast == slow and fast[0][0] == 503
    finally:
        for sim in sims:
            sim.fault = None


def good_send(body=None):
    body = body or json.dumps({"sender": "bot", "conv": {"type": 0, "target": "u1", "line": 0},
                               "payload": {"type": 1}}).encode()
    return ("POST /robot/message/send HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in signed("good", "bot").items())
            + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_over_the_rate_limit_both_answer_code_250_alike():
    sims, servers = [], []
    try:
        for make in (make_imsim_app, bottle_imsim_app):
            sim = ImSimulator("admin", rate_limit=2, clock_ms=lambda: 0)
            sim.put_robot("bot", secret=SECRET)
            sims.append(sim)
            servers.append(start_server(make(sim)))
        answers = [[exchange(server.port, good_send(), False)[0] for _ in range(4)]
                   for server in servers]
        assert answers[0] == answers[1]
        assert [a[2]["code"] for a in answers[0]] == [0, 0, 250, 250]
    finally:
        for server in servers:
            server.stop()


def test_a_fault_armed_while_the_body_arrives_is_answered_as_bottle_would():
    from transport.sim.simfast import with_fast_send

    sim = ImSimulator("admin")
    sim.put_robot("bot", secret=SECRET)
    raw = good_send()
    body = raw.split(b"\r\n\r\n", 1)[1]

    class Arriving:
        def read(self, n):
            sim.fault = "http503"  # armed by a test while this body was on its way
            return body[:n]

    environ = {"PATH_INFO": "/robot/message/send", "REQUEST_METHOD": "POST",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": Arriving(),
               **{f"HTTP_{k.upper()}": v for k, v in signed("good", "bot").items()}}
    started = []
    fast = with_fast_send(sim, lambda *_: [])
    out = b"".join(fast(environ, lambda status, headers: started.append((status, dict(headers)))))
    [(status, headers)] = started
    assert status.startswith("503") and headers["Content-Type"].endswith("charset=utf-8")
    assert json.loads(out) == {"error": {"code": "unavailable", "message": "simulated outage"}}


@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"conv": ' * 10_000])
def test_a_body_too_deep_to_parse_is_a_json_500_as_from_bottle(pair, body):
    sims, ports = pair
    raw = good_send(body).replace(b"Connection: close\r\n", b"")
    fast, slow = (exchange(port, raw, False) for port in ports)
    assert fast == slow and fast[0][:2] == (500, "application/json; charset=utf-8")
