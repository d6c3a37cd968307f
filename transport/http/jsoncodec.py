"""JSON on the hot path: orjson, with the standard library's leniency kept.

Every answer encodes one robot API body and decodes two JSON documents; the
standard library took 4-5 µs for what orjson does in under 1 (see the README's
dependency notes). The few documents orjson refuses and the standard library
accepts (NaN, lone surrogates) fall back to the latter. One difference stays:
orjson reads an integer beyond 64 bits as a float; our field checks refuse it
as out of range either way (transport/callbacks.py), and no peer of ours
sends one (the IM server's numbers are Java longs).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(raw: bytes) -> Any:
    """Parse UTF-8 JSON; raise ValueError (UnicodeDecodeError for bad bytes)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (no ASCII escaping: the IM server reads UTF-8)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (tests send them)
        return json.dumps(value, ensure_ascii=False).encode()
