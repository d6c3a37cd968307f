"""The /demo page's routes (demo mode only): a customer played through the IM simulator.

The page shows one customer's chat with the CS Robot as a WildfireChat client
would: both sides, from the simulator's record of that conversation
(``/sim/conversation``), never from the CS server's history store, whose API
stays behind servicer and supervisor tokens.

Scoping: a browser opens a customer name with ``POST /demo/api/open`` and gets
a key for it, kept in this process's memory; reading and sending as that
customer need the key (``X-Demo-Key``). A name already open in another browser
is refused, so one demo customer never reads another's chat through these
routes. (The simulator's own ``/sim`` API, on its own port, is a test tool and
reads any inbox; it is not this page's business.)
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any
from urllib.parse import quote

import bottle

from transport.http.client import JsonClient
from transport.http.web import ApiError, json_body

# A demo customer is a WildfireChat user id the page makes up: letters (any
# script), digits, "_", "." and "-".
CUSTOMER = re.compile(r"[\w.-]{1,64}")
# Names open at once in one demo run; a demo serves a handful of people, and
# the bound keeps a script from filling the process's memory.
MAX_OPEN_CUSTOMERS = 10_000
MAX_TEXT_CHARS = 2000


class DemoKeys:
    """Which browser holds which demo customer: customer id -> key (greenlet-only)."""

    def __init__(self, limit: int = MAX_OPEN_CUSTOMERS) -> None:
        self._keys: dict[str, str] = {}
        self._limit = limit

    def open(self, customer: str, key: str) -> str:
        """The key for ``customer``: a new one if nobody holds it, the same if
        ``key`` is already it (a reload).

        Raises:
            ApiError: 409 if another browser holds the name, 503 when full.
        """
        held = self._keys.get(customer)
        if held is not None:
            if hmac.compare_digest(held.encode(), key.encode()):
                return held
            raise ApiError(409, "customer_taken",
                           f"{customer} is open in another browser; pick another name")
        if len(self._keys) >= self._limit:
            raise ApiError(503, "demo_full", "too many demo customers in this run")
        self._keys[customer] = secrets.token_urlsafe(18)
        return self._keys[customer]

    def check(self, customer: str, key: str) -> None:
        """Raises ApiError 403 unless ``key`` is the one ``customer`` was opened with."""
        held = self._keys.get(customer)
        if held is None or not hmac.compare_digest(held.encode(), key.encode()):
            raise ApiError(403, "not_your_chat", "open this customer's chat first")


def install_demo(app: bottle.Bottle, sim_url: str, robot_id: str) -> None:
    """``/demo/api/open``, ``/send`` and ``/conversation``, forwarding to the simulator."""
    sim = JsonClient(maxsize=16)
    keys = DemoKeys()

    def customer_of(value: Any) -> str:
        if not isinstance(value, str) or not CUSTOMER.fullmatch(value):
            raise ApiError(400, "bad_customer",
                           "a customer name is 1-64 letters, digits, '_', '.' or '-'")
        return value

    def key() -> str:
        return str(bottle.request.get_header("X-Demo-Key", ""))

    @app.post("/demo/api/open")
    def demo_open() -> dict[str, Any]:
        body = json_body()
        customer = customer_of(body.get("customer"))
        given = body.get("key")
        return {"customer": customer,
                "key": keys.open(customer, given if isinstance(given, str) else "")}

    @app.post("/demo/api/send")
    def demo_send() -> dict[str, Any]:
        body = json_body()
        customer = customer_of(body.get("customer"))
        keys.check(customer, key())
        request: dict[str, Any] = {"sender": customer, "target": robot_id}
        if isinstance(body.get("payload"), dict):
            request["payload"] = body["payload"]
        elif isinstance(body.get("text"), str) and body["text"].strip():
            request["text"] = body["text"][:MAX_TEXT_CHARS]
        else:
            raise ApiError(400, "bad_message", "give text or a payload")
        return _forward(sim.post(f"{sim_url}/sim/send", request))

    @app.get("/demo/api/conversation/<customer>")
    def demo_conversation(customer: str) -> dict[str, Any]:
        keys.check(customer_of(customer), key())
        after = bottle.request.query.get("after", "0")
        after = after if after.isascii() and after.isdigit() else "0"  # not "²"
        return _forward(sim.get(
            f"{sim_url}/sim/conversation/{quote(customer, safe='')}"
            f"?with={quote(robot_id, safe='')}&after={after}"))


def _forward(response: Any) -> dict[str, Any]:
    if response.status != 200 or not isinstance(response.body, dict):
        raise ApiError(502, "simulator_error", "the IM simulator did not answer")
    return dict(response.body)
