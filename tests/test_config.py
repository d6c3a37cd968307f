"""The configuration file: defaults, overrides, and a clear error for each wrong value."""

import json

import pytest

from actors.autoreply.engine import AutoReply
from actors.autoreply.knowledge import knowledge_from_config
from actors.config import ConfigError, CsConfig, config_from_dict, load_config


def test_empty_config_gives_the_documented_defaults():
    config = config_from_dict({})
    assert config.content_types.enter == 10001
    assert config.content_types.rating_request == 10005
    assert config.shadow_id("carol") == "carol*Shadow"
    assert config.servicers == ()


def test_shadow_pattern_is_configurable_and_recognised():
    config = config_from_dict({"shadow_id_pattern": "shadow_{customer}"})
    assert config.shadow_id("c1") == "shadow_c1"
    assert config.is_shadow_id("shadow_c1")
    assert not config.is_shadow_id("shadow_") and not config.is_shadow_id("c1*Shadow")


@pytest.mark.parametrize("data, message", [
    ({"servicers": [{"name": "no id"}]}, "servicers[0]"),
    ({"servicers": [{"id": "a", "capacity": 0}]}, "capacity"),
    ({"servicers": ["a", "a"]}, "duplicate"),
    ({"faq": [{"keywords": [], "answer": "x"}]}, "faq[0]"),
    ({"idle_auto_secs": -1}, "idle_auto_secs"),
    ({"content_types": {"enter": "x"}}, "content_types.enter"),
    ({"texts": {"welcom": "typo"}}, "unknown keys"),
    ({"shadow_id_pattern": "no placeholder"}, "shadow_id_pattern"),
    ({"colour": "blue"}, "unknown key"),
])
def test_wrong_values_are_named_in_the_error(data, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict(data)


def test_load_config_reports_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ConfigError, match="bad.json: not valid JSON"):
        load_config(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"servicers": ["s1", {"id": "s2", "capacity": 3}]}))
    config = load_config(good)
    assert [(s.id, s.capacity) for s in config.servicers] == [("s1", 5), ("s2", 3)]


def test_demo_config_loads():
    # No faq: the demo answers from config/knowledge.yaml (run.py demo --knowledge).
    config = load_config("config/demo.json")
    assert len(config.servicers) == 2 and not config.faq


def engine():
    config = CsConfig()
    return AutoReply(knowledge_from_config(config), config.human_words)


@pytest.mark.parametrize("text", ["人工", "转人工！", " Human ", "agent.", "人工客服"])
def test_requests_for_a_person_are_recognised(text):
    assert engine().wants_human(text)


def test_a_sentence_mentioning_human_is_not_a_quick_hand_off():
    assert not engine().wants_human("are you a human being?")


@pytest.mark.parametrize("texts, message", [
    ({"duty_on": "On duty, {name}"}, "texts.duty_on: unknown placeholder {name}; this text "
                                     "takes {capacity}, {load}"),
    ({"welcome": "Hi {customer_name}"}, "texts.welcome: unknown placeholder {customer_name}; "
                                        "this text takes no placeholders"),
    ({"queued": "number {}"}, "texts.queued: unknown placeholder {}"),
    ({"queued": "number {position"}, "texts.queued: "),
])
def test_a_text_with_a_placeholder_it_is_not_given_is_refused_naming_both(texts, message):
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"texts": texts})
    assert str(refused.value).startswith(message)


def test_every_default_text_formats_with_what_it_is_given():
    from actors.config import check_placeholders
    from actors.texts import TEXT_PLACEHOLDERS, Texts

    texts = Texts()
    for key in Texts.__dataclass_fields__:
        check_placeholders(key, getattr(texts, key))
        getattr(texts, key).format(**dict.fromkeys(TEXT_PLACEHOLDERS.get(key, ()), "x"))


@pytest.mark.parametrize("key, value", [("idle_auto_secs", float("inf")),
                                        ("auto_pause_secs", float("nan"))])
def test_a_time_that_is_not_finite_is_refused(key, value):
    with pytest.raises(ConfigError, match=key):
        config_from_dict({key: value})


def test_a_capacity_no_person_can_hold_is_refused():
    # Found in review: 10**20 through the API made every pool snapshot unwritable.
    with pytest.raises(ConfigError, match=r"servicers\[0\].capacity: expected a whole "
                                          r"number 1..10000"):
        config_from_dict({"servicers": [{"id": "zed", "capacity": 10**20}]})
