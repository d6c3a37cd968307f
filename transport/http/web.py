"""Bottle helpers shared by our three apps: JSON errors and JSON bodies.

Every error leaves as ``{"error": {"code", "message"}}`` with the right HTTP
status; anything unexpected is logged and becomes a 500 (a bug).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import bottle

from transport.http import jsoncodec

log = logging.getLogger(__name__)

# Callbacks and API bodies are small; a bigger body is refused with 413
# before it is read into memory.
MAX_BODY_BYTES = 256 * 1024


class ApiError(bottle.HTTPResponse):
    """A client error with a stable machine-readable ``code``."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
        super().__init__(body=body, status=status,
                         headers={"Content-Type": "application/json; charset=utf-8",
                                  **(headers or {})})
        self.code = code


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 500: "internal",
                 503: "unavailable"}


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
        code = _STATUS_CODES.get(error.status_code, "error")
        return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)

    for status in _STATUS_CODES:
        app.error(status)(json_error)
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
