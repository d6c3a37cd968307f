"""The fast JSON codec must read every document the standard library reads, alike."""

import json

import pytest

from transport.http import jsoncodec


@pytest.mark.parametrize("raw", [
    b'{"messageId": 1, "payload": {"searchableContent": "\xe4\xbd\xa0\xe5\xa5\xbd"}}',
    b'{"x": NaN, "y": Infinity}',
    b'{"s": "\\ud800"}',  # a lone surrogate
    b'[1, 2.5, null, true]',
])
def test_reads_what_the_standard_library_reads(raw: bytes) -> None:
    expected = json.loads(raw.decode())
    got = jsoncodec.loads(raw)
    assert json.dumps(got) == json.dumps(expected)


def test_an_integer_beyond_64_bits_still_reads_as_beyond_64_bits() -> None:
    # orjson gives a float, the standard library an int: the range check refuses both.
    value = jsoncodec.loads(b'{"timestamp": -9223372036854775809}')["timestamp"]
    assert value <= -(2**63)


def test_bad_bytes_and_bad_json_raise_as_before() -> None:
    with pytest.raises(UnicodeDecodeError):
        jsoncodec.loads(b"\xff\xfe")
    with pytest.raises(ValueError):
        jsoncodec.loads(b'{"a": ')


def test_writes_integers_beyond_64_bits_as_the_standard_library_does() -> None:
    assert jsoncodec.dumps({"n": 2**70}) == b'{"n": 1180591620717411303424}'


def test_writes_compact_utf8_that_round_trips() -> None:
    value = {"sender": "robot", "payload": {"searchableContent": "你好", "mentionedTarget": ("a",)},
             7: "int keys become strings, as in the standard library"}
    raw = jsoncodec.dumps(value)
    assert "你好".encode() in raw
    assert json.loads(raw) == {"sender": "robot", "7": value[7],
                               "payload": {"searchableContent": "你好", "mentionedTarget": ["a"]}}
