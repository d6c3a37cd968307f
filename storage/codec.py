"""How values become bytes in Redis: msgpack, one Packer for the process."""

from __future__ import annotations

from typing import Any

import msgpack

# One Packer for the process: msgpack.packb builds a new one (and its buffer)
# per call, a fifth of a small record's cost. pack() runs in C without
# yielding, so greenlets cannot interleave inside it.
_PACKER = msgpack.Packer(use_bin_type=True)

# What a value that cannot be packed raises (2**70, a set, an object).
PACK_ERRORS = (TypeError, ValueError, OverflowError)
# What bytes that are not a msgpack value raise (ExtraData is a ValueError).
UNPACK_ERRORS = (TypeError, ValueError, msgpack.UnpackException)


def pack(value: Any) -> bytes:
    packed: bytes = _PACKER.pack(value)
    return packed


def unpack(data: Any) -> Any:
    """Decode what redis-py returned (bytes: we never set decode_responses)."""
    return msgpack.unpackb(data, raw=False)


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
