"""Bottle helpers shared by our three apps: JSON errors and JSON bodies.

Every error leaves as ``{"error": {"code", "message"}}`` with the right HTTP
status; anything unexpected is logged and becomes a 500 (a bug).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import bottle

from storage import CsError
from transport.http import jsoncodec

log = logging.getLogger(__name__)

# Callbacks and API bodies are small; a bigger body is refused with 413
# before it is read into memory.
MAX_BODY_BYTES = 256 * 1024


class ApiError(CsError):
    """A client error found at the HTTP edge, with its status and stable ``code``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code
        self.headers = dict(headers or {})


def error_response(exc: CsError) -> bottle.HTTPResponse:
    """The JSON answer for one of the project's errors: its status and code.

    A server-side error (5xx) says only what failed, by its code; its detail
    goes to the log, not to the caller.
    """
    if exc.http_status >= 500:
        log.error("%s on %s %s: %s", exc.code, bottle.request.method, bottle.request.path,
                  exc, exc_info=exc)
        message = exc.code.replace("_", " ")
    else:
        message = str(exc)
    body = json.dumps({"error": {"code": exc.code, "message": message}}, ensure_ascii=False)
    return bottle.HTTPResponse(body=body, status=exc.http_status, headers={
        "Content-Type": "application/json; charset=utf-8", **getattr(exc, "headers", {})})


def cs_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Bottle plugin: a route that raises one of the project's errors answers with it."""

    @functools.wraps(callback)
    def route(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except CsError as exc:
            raise error_response(exc) from None

    return route


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 500: "internal",
                 503: "unavailable"}


def error_json(status: int, message: str) -> str:
    """The body json_error_app answers an error with."""
    code = _STATUS_CODES.get(status, "error")
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)


def json_error_app() -> bottle.Bottle:
    """A Bottle app whose errors (404, 405, 500, HTTPError) are JSON."""
    app = bottle.Bottle()

    def json_error(error: bottle.HTTPError) -> str:
        bottle.response.content_type = "application/json; charset=utf-8"
        if error.status_code == 500:
            log.error("internal error on %s %s: %s", bottle.request.method,
                      bottle.request.path, error.exception, exc_info=error.exception)
            message = "internal error"
        else:
            message = str(error.body)
        return error_json(error.status_code, message)

    for status in _STATUS_CODES:
        app.error(status)(json_error)
    app.install(cs_errors)
    return app


def json_body(max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object body, or an ApiError saying what is wrong with it."""
    length = bottle.request.content_length
    if length > max_bytes:
        raise ApiError(413, "too_large", f"body over {max_bytes} bytes")
    raw = bottle.request.body.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", f"body over {max_bytes} bytes")
    try:
        body = jsoncodec.loads(raw)
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_json", "body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "body must be a JSON object")
    return body
