"""Telling a stored record we can use from one we cannot.

Restore must never abort on one bad record (issue 19): each is decoded and
its outer shape checked here; what fails is set aside under the ``bad`` key
by the Store and skipped. The fields inside a snapshot are the owning
actor's business (its ``from_snapshot``); an actor that finds one invalid
calls ``Store.set_aside`` itself.
"""

from __future__ import annotations

from typing import Any

from storage.codec import UNPACK_ERRORS, unpack

INBOUND_FIELDS = 5  # actors/messages.py Inbound.to_record: id, sender, target, payload, t
INBOUND_PAYLOAD = 3
OUTBOUND_FIELDS = 4  # Outbound.to_record: sender, target, payload, order key
OUTBOUND_PAYLOAD = 2


# Move one record under the bad key and remove it from where it was, in one
# step, so a restart never finds it in both places or in neither.
# KEYS: bad hash, the record's key, open-sessions set.
# ARGV: bad field, bad record, 'key' or 'field', field, customer to drop or ''.
SET_ASIDE_SCRIPT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == 'field' then
  redis.call('HDEL', KEYS[2], ARGV[4])
else
  redis.call('DEL', KEYS[2])
end
if ARGV[5] ~= '' then redis.call('SREM', KEYS[3], ARGV[5]) end
return 1
"""

class Bad(Exception):
    """A record that cannot be used; the message says why."""


def decoded(raw: Any) -> Any:
    try:
        return unpack(raw)
    except UNPACK_ERRORS as exc:
        raise Bad(f"not msgpack ({exc.__class__.__name__}: {exc})") from None


def a_map(raw: Any) -> dict[str, Any]:
    """A snapshot: a map."""
    value = decoded(raw)
    if not isinstance(value, dict):
        raise Bad(f"a {type(value).__name__}, not a map")
    return value


def inbound_entry(field: str, raw: Any) -> tuple[int, list[Any]]:
    try:
        message_id = int(field)
    except ValueError:
        raise Bad("field is not a message id") from None
    return message_id, _row(raw, INBOUND_FIELDS, INBOUND_PAYLOAD)


def outbound_entry(raw: Any) -> list[Any]:
    return _row(raw, OUTBOUND_FIELDS, OUTBOUND_PAYLOAD)


def shadow_customer(raw: Any) -> str:
    customer = a_map(raw).get("customer")
    if not isinstance(customer, str) or not customer:
        raise Bad("no customer id")
    return customer


def _row(raw: Any, size: int, payload_at: int) -> list[Any]:
    value = decoded(raw)
    if not isinstance(value, list) or len(value) != size:
        raise Bad(f"not a {size}-item list")
    if not isinstance(value[payload_at], dict):
        raise Bad("payload is not a map")
    return value
