"""Payloads parsed from the wire are the very values the dataclass's own
constructor builds."""

import dataclasses

import pytest

from actors.messages import TEXT, Payload, text_payload
from transport.wildfire.callbacks import _INT_FIELDS, _STR_FIELDS, parse_payload


def test_a_parsed_payload_equals_the_one_the_constructor_builds():
    wire = {"type": 1, "searchableContent": "hi", "content": "c", "mediaType": 2,
            "mentionedTarget": ["a"], "extra": "{}", "persistFlag": 3}
    parsed = parse_payload(wire)
    built = Payload(type=1, searchableContent="hi", content="c", mediaType=2,
                    mentionedTarget=("a",), extra="{}", persistFlag=3)
    assert parsed == built
    assert hash(parsed) == hash(built)
    assert repr(parsed) == repr(built)
    assert parsed.to_wire() == built.to_wire() == wire
    assert (parsed.pushData, parsed.expireDuration) == ("", 0)  # defaults read through
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.type = 2


def test_text_payload_equals_the_constructors():
    assert text_payload("hi", 3) == Payload(type=TEXT, searchableContent="hi", persistFlag=3)
    assert text_payload("hi").with_extra({"cs": 1}).extra == '{"cs": 1}'


def test_the_callback_parser_reads_every_payload_field_and_no_other():
    names = {f.name for f in dataclasses.fields(Payload)}
    assert set(_STR_FIELDS) | set(_INT_FIELDS) | {"type", "mentionedTarget"} == names


@pytest.mark.parametrize("build", [
    lambda: parse_payload({"type": 0, "content": "", "mediaType": 0, "mentionedTarget": [],
                           "persistFlag": 0}),
    lambda: Payload(type=0, content="", mediaType=0, mentionedTarget=(), persistFlag=0),
], ids=["parsed", "constructed"])
def test_the_wire_form_leaves_out_empty_fields_but_never_type_or_persist_flag(build):
    payload = build()
    assert payload.to_wire() == {"type": 0, "persistFlag": 0}
    assert payload.to_wire() is payload.to_wire()  # built once: the hot path serializes it 5 times
