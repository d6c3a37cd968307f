"""The simulator's robot API without Bottle's per-request work, for the load test.

Under ``run.py loadtest`` the load tool's core, which runs the simulator,
the simulated people and Redis, was 93-98% busy at 64 in flight, so the rate
measured was the tool's as much as the CS server's (docs/performance.md).
Half of the tool's CPU went to receiving the Outbox's sends, and a third of
that to Bottle around the handler (its request and response objects, routing,
the JSON plugin). Here ``POST /robot/message/send`` is answered straight from
the WSGI environ; anything unusual about a request (a chunked or missing
length, a header that is not ASCII, an armed fault) and every other route go
to the Bottle app as before. tests/test_simfast_differential.py holds the two
to the same answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transport.sim.imsim import ImSimulator

log = logging.getLogger(__name__)

SEND_PATH = "/robot/message/send"
MAX_FAST_BODY = 102_400  # bottle.BaseRequest.MEMFILE_MAX: above it Bottle spools to a file
_SIGNED = (("nonce", "HTTP_NONCE"), ("timestamp", "HTTP_TIMESTAMP"),
           ("sign", "HTTP_SIGN"), ("rid", "HTTP_RID"))
_INTERNAL = json.dumps({"error": {"code": "internal", "message": "internal error"}}).encode()

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def with_fast_send(sim: ImSimulator, app: Wsgi) -> Wsgi:
    """``app``, with the robot API's send answered before Bottle when it can be."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != SEND_PATH or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        request = _plain_request(sim, environ)
        if request is None:
            return app(environ, start_response)
        headers, length = request
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        try:
            out = json.dumps(sim.robot_send(headers, body)).encode()
            status = "200 OK"
        except Exception:
            log.exception("internal error on POST %s", SEND_PATH)
            out, status = _INTERNAL, "500 Internal Server Error"
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(out)))])
        return [out]

    return wsgi


def _plain_request(sim: ImSimulator, environ: dict[str, Any]
                   ) -> tuple[dict[str, str], int] | None:
    """The signed headers and the body's length, or None for Bottle to answer."""
    if sim.fault is not None or "HTTP_TRANSFER_ENCODING" in environ:
        return None
    length = environ.get("CONTENT_LENGTH") or "0"
    if not (length.isascii() and length.isdigit()) or int(length) > MAX_FAST_BODY:
        return None
    headers = {}
    for name, key in _SIGNED:
        value = environ.get(key)
        if value is not None:
            if not value.isascii():
                return None  # Bottle re-reads such a value as UTF-8
            headers[name] = value
    return headers, int(length)
