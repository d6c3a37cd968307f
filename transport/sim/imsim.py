"""The IM simulator: the part of the WildfireChat server that wildfire-cs talks to.

It checks robot and admin signatures the way the real server does, applies
the per-robot leaky-bucket rate limit, answers with the real result codes
(all three from transport/sim/imrules.py, never from the code under test),
and posts callbacks to robots the real way: same JSON, unsigned,
fire-and-forget, through OkHttp's dispatcher (transport/sim/imdispatch.py).
Simulated users keep an inbox that tests and people read through the
``/sim`` API.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import bottle
import gevent

from transport.http import jsoncodec
from transport.http.client import HttpError, JsonClient
from transport.http.web import json_body, json_error_app
from transport.sim.imdispatch import CallbackDispatcher, CallResult
from transport.sim.imrules import (
    BAD_SIGN,
    INVALID_PARAMETER,
    MISSING_HEADERS,
    NOT_EXIST,
    OVER_FREQUENCY,
    SIGN_EXPIRED,
    SIGN_MAX_AGE_MS,
    SUCCESS,
    RobotRateLimiter,
    im_sign,
)
from transport.sim.simfast import Wsgi, json_or_none, with_fast_send

log = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT = 1000
RATE_PERIOD_SECS = 10.0
TRANSPARENT = 4


def _expired(timestamp: str) -> bool:
    """A sign older than the IM server accepts (an unreadable timestamp counts as old)."""
    try:
        return int(time.time() * 1000) - int(timestamp) > SIGN_MAX_AGE_MS
    except ValueError:
        return True


def _monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


def _answer(code: int, msg: str = "", result: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "msg": msg or ("success" if code == 0 else "error")}
    if result is not None:
        body["result"] = result
    return body


class ImSimulator:
    """State of the simulated IM server; greenlet-only, so no locks."""

    def __init__(self, admin_secret: str, rate_limit: int = DEFAULT_RATE_LIMIT, *,
                 clock_ms: Callable[[], int] | None = None) -> None:
        """
        Args:
            clock_ms: milliseconds for the rate limit (monotonic by default);
                tests freeze it.
        """
        self.admin_secret = admin_secret
        self.rate_limit = rate_limit
        self.users: dict[str, dict[str, Any]] = {}
        self.robots: dict[str, dict[str, Any]] = {}
        self.inboxes: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.stats: collections.Counter[str] = collections.Counter()
        self._limiter = RobotRateLimiter(rate_limit, RATE_PERIOD_SECS,
                                         clock_ms or _monotonic_ms)
        self._ids = itertools.count(int(time.time() * 1000) * 1000)
        self.callbacks = CallbackDispatcher()
        # messageId -> HTTP status of its callback (0: no answer): what the
        # receiver acknowledged, for tests that count what must not be lost.
        self.callback_status: dict[int, int] = {}
        # A fault to play on the robot API: "http503" or "code250", for
        # ``fault_count`` requests (None: until cleared). Repeated callbacks
        # are ``callbacks.repeat``.
        self.fault: str | None = None
        self.fault_count: int | None = None
        # Called with every message delivered (the load test's eyes), and
        # with every callback's result.
        self.on_deliver: Callable[[dict[str, Any]], None] | None = None
        self.on_callback: Callable[[CallResult], None] | None = None

    # Users and robots --------------------------------------------------------

    def put_user(self, user_id: str, name: str = "", portrait: str = "") -> dict[str, Any]:
        user = {"userId": user_id, "name": name or user_id,
                "displayName": name or user_id, "portrait": portrait}
        self.users[user_id] = user
        return user

    def put_robot(self, user_id: str, *, secret: str, callback: str = "", name: str = "",
                  display_name: str = "", portrait: str = "", owner: str = "") -> None:
        self.robots[user_id] = {"secret": secret, "callback": callback, "owner": owner}
        self.users[user_id] = {"userId": user_id, "name": name or user_id,
                               "displayName": display_name or name or user_id,
                               "portrait": portrait, "type": 1}

    # Message delivery --------------------------------------------------------

    def deliver(self, sender: str, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Put a message in the target's inbox; call back if the target is a robot."""
        if sender not in self.users:
            self.put_user(sender)
        message = {"messageId": next(self._ids), "sender": sender,
                   "conv": {"type": 0, "target": target, "line": 0},
                   "payload": payload, "toUsers": [],
                   "timestamp": int(time.time() * 1000)}
        self.inboxes[target].append(message)
        if self.on_deliver is not None:
            self.on_deliver(message)
        robot = self.robots.get(target)
        if robot and robot["callback"] and payload.get("persistFlag") != TRANSPARENT:
            self._queue_callback(sender, robot["callback"], message)
        return message

    def conversation(self, user: str, peer: str, after: int = 0) -> list[dict[str, Any]]:
        """What ``user`` and ``peer`` said to each other, oldest first, after the
        message id ``after``: what a WildfireChat client shows of one chat.

        Built from the two inboxes when asked, so delivery (the load test's path)
        pays nothing for it; ids grow with delivery, so each inbox is in id order.
        """
        def newer(inbox: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return inbox[bisect.bisect_right(inbox, after, key=lambda m: m["messageId"]):]

        said = [m for m in newer(self.inboxes.get(peer, [])) if m["sender"] == user]
        heard = [m for m in newer(self.inboxes.get(user, [])) if m["sender"] == peer]
        return sorted(said + heard, key=lambda m: m["messageId"])

    def _queue_callback(self, sender: str, url: str, message: dict[str, Any]) -> None:
        message_id = message["messageId"]

        def done(result: CallResult) -> None:
            if result.status:
                self.stats[f"callback_http_{result.status}"] += 1
            else:
                self.stats["callback_failed"] += 1  # fire-and-forget: no retry
            if result.posts > 1:
                self.stats["callback_repeated"] += 1
            self.callback_status[message_id] = result.status
            if self.on_callback is not None:
                self.on_callback(result)

        self.callbacks.enqueue(url, jsoncodec.dumps(message), done)

    def robot_send(self, headers: Any, body: Any) -> dict[str, Any]:
        """``/robot/message/send``: checks, in the IM server's order, then delivery."""
        nonce, timestamp = headers.get("nonce"), headers.get("timestamp")
        sign, rid = headers.get("sign"), headers.get("rid")
        if not (nonce and timestamp and sign and rid):
            return self._count(_answer(MISSING_HEADERS, "api not signed"))
        if _expired(timestamp):
            return self._count(_answer(SIGN_EXPIRED, "sign expired"))
        robot = self.robots.get(rid)
        if robot is None:
            return self._count(_answer(NOT_EXIST, "not exist"))
        if im_sign(nonce, robot["secret"], timestamp) != sign:
            return self._count(_answer(BAD_SIGN, "auth failure"))
        fault = self._take_fault()
        if fault == "http503":
            self.stats["robot_send_http_503"] += 1
            raise bottle.HTTPError(503, "simulated outage")
        if fault == "code250" or not self._limiter.granted(rid):
            return self._count(_answer(OVER_FREQUENCY, "over frequency"))
        try:
            conv, payload = body["conv"], body["payload"]
            target = conv["target"]
            valid = (body.get("sender", rid) == rid and isinstance(target, str) and target
                     and conv.get("type", 0) == 0 and isinstance(payload.get("type"), int))
        except (KeyError, TypeError, AttributeError):
            valid = False
        if not valid:
            return self._count(_answer(INVALID_PARAMETER, "invalid parameter"))
        message = self.deliver(rid, target, payload)
        return self._count(_answer(SUCCESS, result={
            "messageUid": message["messageId"], "timestamp": message["timestamp"]}))

    def _take_fault(self) -> str | None:
        if self.fault is None:
            return None
        fault = self.fault
        if self.fault_count is not None:
            self.fault_count -= 1
            if self.fault_count <= 0:
                self.fault, self.fault_count = None, None
        return fault

    def _count(self, answer: dict[str, Any]) -> dict[str, Any]:
        self.stats[f"robot_send_code_{answer['code']}"] += 1
        return answer

    def admin_check(self, headers: Any) -> dict[str, Any] | None:
        nonce, timestamp, sign = headers.get("nonce"), headers.get("timestamp"), headers.get("sign")
        if not (nonce and timestamp and sign):
            return _answer(MISSING_HEADERS, "api not signed")
        if _expired(timestamp):
            return _answer(SIGN_EXPIRED, "sign expired")
        if im_sign(nonce, self.admin_secret, timestamp) != sign:
            self.stats["admin_bad_sign"] += 1
            return _answer(BAD_SIGN, "auth failure")
        return None


def make_imsim_app(sim: ImSimulator) -> Wsgi:
    """The simulator's HTTP face: the real robot and admin routes, plus ``/sim``;
    the robot API's send answered before Bottle where it can be (simfast.py)."""
    return with_fast_send(sim, bottle_imsim_app(sim))


def bottle_imsim_app(sim: ImSimulator) -> bottle.Bottle:
    """Every route through Bottle."""
    app = json_error_app()

    @app.post("/robot/message/send")
    def robot_send() -> dict[str, Any]:
        return sim.robot_send(bottle.request.headers, _body_or_none())

    @app.post("/admin/robot/create")
    def robot_create() -> dict[str, Any]:
        denied = sim.admin_check(bottle.request.headers)
        if denied:
            return denied
        body = _body_or_none()
        if not isinstance(body, dict) or not isinstance(body.get("userId"), str) \
                or not body["userId"] or not isinstance(body.get("secret", ""), str):
            return _answer(INVALID_PARAMETER, "invalid parameter")
        sim.put_robot(body["userId"], secret=body.get("secret") or body["userId"],
                      callback=str(body.get("callback", "")), name=str(body.get("name", "")),
                      display_name=str(body.get("displayName", "")),
                      portrait=str(body.get("portrait", "")), owner=str(body.get("owner", "")))
        sim.stats["robots_created"] += 1
        return _answer(SUCCESS, result={"userId": body["userId"],
                                             "secret": sim.robots[body["userId"]]["secret"]})

    @app.post("/admin/user/get_info")
    def user_get_info() -> dict[str, Any]:
        denied = sim.admin_check(bottle.request.headers)
        if denied:
            return denied
        body = _body_or_none()
        user_id = body.get("userId") if isinstance(body, dict) else None
        user = sim.users.get(user_id) if isinstance(user_id, str) else None
        if user is None:
            return _answer(NOT_EXIST, "not exist")
        return _answer(SUCCESS, result=user)

    # The /sim API: for tests, the demo and the load generator. ---------------

    @app.post("/sim/users")
    def put_user() -> dict[str, Any]:
        body = json_body()
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise bottle.HTTPError(400, "userId is required")
        return sim.put_user(user_id, str(body.get("name", "")), str(body.get("portrait", "")))

    @app.post("/sim/send")
    def send_as_user() -> dict[str, Any]:
        body = json_body()
        sender, target = body.get("sender"), body.get("target")
        payload = body.get("payload")
        if payload is None and isinstance(body.get("text"), str):
            payload = {"type": 1, "searchableContent": body["text"], "persistFlag": 3}
        if not (isinstance(sender, str) and sender and isinstance(target, str) and target
                and isinstance(payload, dict) and isinstance(payload.get("type"), int)):
            raise bottle.HTTPError(400, "need sender, target and payload (or text)")
        message = sim.deliver(sender, target, payload)
        return {"messageId": message["messageId"]}

    @app.get("/sim/inbox/<user_id:path>")
    def inbox(user_id: str) -> Any:
        since = bottle.request.query.get("since", "0")
        start = int(since) if since.isdigit() else 0
        messages = sim.inboxes.get(user_id, [])
        if bottle.request.query.get("format") == "text":
            # For a person at a terminal (the demo's guide): one line per
            # message, the text itself rather than JSON with \uXXXX escapes.
            lines = []
            for m in messages[start:]:
                p = m["payload"]
                said = p.get("searchableContent") or p.get("content") or ""
                kind = "" if p.get("type") == 1 else f"[type {p.get('type')}] "
                clock = time.strftime("%H:%M:%S", time.localtime(m["timestamp"] / 1000))
                lines.append(f"{clock} {m['sender']}: {kind}{said}".replace("\n", " ") + "\n")
            bottle.response.content_type = "text/plain; charset=utf-8"
            return "".join(lines)
        return {"messages": messages[start:], "next": len(messages)}

    @app.get("/sim/conversation/<user_id:path>")
    def conversation(user_id: str) -> Any:
        peer, after = bottle.request.query.get("with", ""), bottle.request.query.get("after", "0")
        if not peer:
            raise bottle.HTTPError(400, "with=<the other user> is required")
        start = int(after) if after.isdigit() else 0
        messages = sim.conversation(user_id, peer, start)
        return {"messages": messages, "next": messages[-1]["messageId"] if messages else start}

    @app.post("/sim/fault")
    def set_fault() -> dict[str, Any]:
        body = json_body()
        fault, count = body.get("fault"), body.get("count")
        if fault not in (None, "http503", "code250") or not (
                count is None or (isinstance(count, int) and count > 0)):
            raise bottle.HTTPError(400, "fault: null, 'http503' or 'code250'; count: n > 0")
        sim.fault, sim.fault_count = fault, count
        return {"fault": fault, "count": count}

    @app.get("/sim/stats")
    def stats() -> dict[str, Any]:
        return {"stats": dict(sim.stats), "robots": sorted(sim.robots),
                "users": len(sim.users)}

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Up: ``run.py demo`` waits for this, as for every part it starts."""
        return {"ok": True}

    return app


def _body_or_none() -> Any:
    return json_or_none(bottle.request.body.read())


class ImSimClient:
    """Drives the simulator over HTTP: send as any user, read any inbox."""

    def __init__(self, base_url: str, client: JsonClient | None = None) -> None:
        self.base = base_url.rstrip("/")
        self._client = client or JsonClient()
        self._cursors: dict[str, int] = collections.defaultdict(int)

    def put_user(self, user_id: str, name: str = "", portrait: str = "") -> None:
        self._ok(self._client.post(f"{self.base}/sim/users",
                                   {"userId": user_id, "name": name, "portrait": portrait}))

    def send(self, sender: str, target: str, text: str | None = None,
             payload: dict[str, Any] | None = None) -> int:
        body: dict[str, Any] = {"sender": sender, "target": target}
        if payload is not None:
            body["payload"] = payload
        else:
            body["text"] = text
        return int(self._ok(self._client.post(f"{self.base}/sim/send", body))["messageId"])

    def inbox(self, user_id: str, since: int = 0) -> list[dict[str, Any]]:
        from urllib.parse import quote

        url = f"{self.base}/sim/inbox/{quote(user_id, safe='')}?since={since}"
        return list(self._ok(self._client.get(url))["messages"])

    def new_messages(self, user_id: str) -> list[dict[str, Any]]:
        """Messages the user received since the last call for this user."""
        messages = self.inbox(user_id, self._cursors[user_id])
        self._cursors[user_id] += len(messages)
        return messages

    def wait_for(self, user_id: str, count: int = 1, timeout: float = 5.0,
                 poll_secs: float = 0.01) -> list[dict[str, Any]]:
        """Wait until ``count`` new messages arrived; return them (and consume them)."""
        deadline = time.monotonic() + timeout
        got: list[dict[str, Any]] = []
        while True:
            got.extend(self.new_messages(user_id))
            if len(got) >= count or time.monotonic() > deadline:
                return got
            gevent.sleep(poll_secs)

    def stats(self) -> dict[str, int]:
        return dict(self._ok(self._client.get(f"{self.base}/sim/stats"))["stats"])

    @staticmethod
    def _ok(response: Any) -> Any:
        if response.status != 200:
            raise HttpError(f"simulator answered {response.status}: {response.body}")
        return response.body
