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

import bottle

from transport.http.web import error_json

if TYPE_CHECKING:
    from transport.sim.imsim import ImSimulator

log = logging.getLogger(__name__)

SEND_PATH = "/robot/message/send"
MAX_FAST_BODY = bottle.BaseRequest.MEMFILE_MAX  # above it Bottle spools to a file
_SIGNED = (("nonce", "HTTP_NONCE"), ("timestamp", "HTTP_TIMESTAMP"),
           ("sign", "HTTP_SIGN"), ("rid", "HTTP_RID"))
ERROR_TYPE = "application/json; charset=utf-8"  # json_error_app's

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
        try:
            out = _send(sim, headers, environ["wsgi.input"], length)
            status, kind = "200 OK", "application/json"
        except bottle.HTTPError as error:  # a fault armed while the body arrived
            out = error_json(error.status_code, str(error.body)).encode()
            status, kind = error.status_line, ERROR_TYPE
        except Exception:
            # Bottle's answer to any other error: a body too deep for the parser,
            # a connection lost while reading, a failing delivery.
            log.exception("internal error on POST %s", SEND_PATH)
            out = error_json(500, "internal error").encode()
            status, kind = "500 Internal Server Error", ERROR_TYPE
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(out)))])
        return [out]

    return wsgi


def _send(sim: ImSimulator, headers: dict[str, str], body: Any, length: int) -> bytes:
    message = json_or_none(body.read(length) if length else b"")
    return json.dumps(sim.robot_send(headers, message)).encode()


def json_or_none(raw: bytes) -> Any:
    """A request body as the simulator reads it, on either path: JSON, or None."""
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


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
