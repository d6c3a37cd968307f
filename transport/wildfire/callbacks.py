"""Parsing the IM server's callback JSON into an ``Inbound`` value.

The callback is unsigned (DESIGN.md §4), so everything is checked: types,
sizes, and that the message was sent to the robot the route serves.
"""

from __future__ import annotations

import re
from typing import Any

from actors.messages import Inbound, Payload
from transport.http.web import ApiError

MAX_ID_CHARS = 128
# A Shadow's id is ours: the customer's id (at most MAX_ID_CHARS) %-escaped,
# up to 12 characters for one beyond ASCII ("%F0%9F%99%82"), in the pattern
# (actors/config.py shadow_id_for). As a target it must fit, or a servicer's
# reply to a long Chinese id was refused; it is checked against the pattern.
MAX_TARGET_CHARS = 12 * MAX_ID_CHARS + 256
MAX_TEXT_CHARS = 16_000
# ``extra`` is ours to fill (servicer name and portrait); a client that sends
# more than this is not sending anything we should relay.
MAX_EXTRA_CHARS = 8_000
_STR_FIELDS = ("searchableContent", "content", "base64edData", "remoteMediaUrl",
               "extra", "pushContent", "pushData")
_INT_FIELDS = ("persistFlag", "expireDuration", "mentionedType", "mediaType")


def _bad(message: str) -> ApiError:
    return ApiError(400, "bad_callback", message)


_CONTROL = re.compile(r"[\x00-\x1f]")


def _user_id(value: Any, field: str, most: int = MAX_ID_CHARS) -> str:
    if not isinstance(value, str) or not value or len(value) > most:
        raise _bad(f"{field} must be a non-empty string of at most {most} characters")
    if _CONTROL.search(value):
        raise _bad(f"{field} has control characters")
    return value


# The IM server's ids and times are Java longs; anything wider is not from it
# (and msgpack could not journal it: hypothesis found a timestamp of -2**63 - 1).
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def _int(value: Any, field: str) -> int:
    if isinstance(value, float) and value.is_integer() and not LONG_MIN < value < LONG_MAX:
        raise _bad(f"{field} is out of range")  # a JSON integer too wide for 64 bits
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{field} must be an integer")
    if not LONG_MIN <= value <= LONG_MAX:
        raise _bad(f"{field} is out of range")
    return value


def parse_payload(data: Any) -> Payload:
    if not isinstance(data, dict):
        raise _bad("payload must be an object")
    values: dict[str, Any] = {"type": _int(data.get("type"), "payload.type")}
    for name in _STR_FIELDS:
        if data.get(name) is not None:
            if not isinstance(data[name], str):
                raise _bad(f"payload.{name} must be a string")
            values[name] = data[name]
    for name in _INT_FIELDS:
        if data.get(name) is not None:
            values[name] = _int(data[name], f"payload.{name}")
    if data.get("mentionedTarget") is not None:
        targets = data["mentionedTarget"]
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise _bad("payload.mentionedTarget must be a list of strings")
        values["mentionedTarget"] = tuple(targets)
    if len(values.get("searchableContent", "")) > MAX_TEXT_CHARS:
        raise _bad(f"payload.searchableContent over {MAX_TEXT_CHARS} characters")
    if len(values.get("extra", "")) > MAX_EXTRA_CHARS:
        raise _bad(f"payload.extra over {MAX_EXTRA_CHARS} characters")
    return Payload(**values)


def parse_callback(body: dict[str, Any]) -> Inbound:
    """Validate one callback body; raise ApiError(400) naming the first bad field."""
    message_id = body.get("messageId")
    if isinstance(message_id, str) and message_id.isdigit():
        message_id = int(message_id)
    message_id = _int(message_id, "messageId")
    sender = _user_id(body.get("sender"), "sender")
    conv = body.get("conv")
    if not isinstance(conv, dict):
        raise _bad("conv must be an object")
    if conv.get("type", 0) != 0:
        raise _bad("only single chats (conv.type 0) reach customer service")
    target = _user_id(conv.get("target"), "conv.target", MAX_TARGET_CHARS)
    timestamp = body.get("timestamp", 0)
    return Inbound(message_id, sender, target, parse_payload(body.get("payload")),
                   _int(timestamp, "timestamp"))
