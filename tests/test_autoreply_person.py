"""The person intent's learned part: a model of whether a question that names
a person asks for one, consulted when the rules (intent.py) leave it
undecided, and learnt from the knowledge base's ``person_examples``
(docs/autoreply.md, round six)."""

import random
from pathlib import Path

import pytest

from actors.autoreply import engine as engine_module
from actors.autoreply.engine import ASK_HUMAN, AutoReply
from actors.autoreply.evaluation import load_labelled, without
from actors.autoreply.knowledge import (
    HUMAN_LABEL,
    NONE_LABEL,
    knowledge_from_config,
    knowledge_from_dict,
    knowledge_to_dict,
    load_knowledge,
)
from actors.config import ConfigError, CsConfig

ROOT = Path(__file__).resolve().parent.parent
TRAPS = ROOT / "tests" / "data" / "autoreply_person_traps.jsonl"
# 200 more, written in round seven for phrasings a keyword bot misses (100 ask
# for a person, 100 name one and ask for none).
TRAPS3 = ROOT / "tests" / "data" / "autoreply_person_traps3.jsonl"
ENTRY = {"id": "fee", "questions": ["运费多少"], "answer": "8 元"}


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(ROOT / "config" / "knowledge.yaml")


def test_the_shipped_person_examples_are_the_trap_sets(knowledge):
    # 260 questions that name a person, written for this (170 that ask for
    # none, 90 that ask for one; an entry's label there asks for no person),
    # and round seven's 200.
    expected = {(i.question, HUMAN_LABEL if i.expect == HUMAN_LABEL else NONE_LABEL)
                for path in (TRAPS, TRAPS3) for i in load_labelled(path)}
    assert len(expected) == 460 and set(knowledge.person_examples) == expected


def judge_folds(knowledge, traps: Path = TRAPS) -> tuple[int, int, int, int]:
    """Five-fold over a trap set: each fold judged by an engine that learnt
    from the other four. (requests recognised, requests, false requests, others)"""
    items = load_labelled(traps)
    random.Random(7).shuffle(items)
    found = false = 0
    for f in range(5):
        fold = items[f::5]
        autoreply = AutoReply(without(knowledge, fold), CsConfig().human_words)
        for item in fold:
            asked = autoreply.wants_human(item.question)
            found += asked and item.expect == HUMAN_LABEL
            false += asked and item.expect != HUMAN_LABEL
    requests = sum(i.expect == HUMAN_LABEL for i in items)
    return found, requests, false, len(items) - requests


def test_the_model_finds_requests_the_rules_miss_at_a_bounded_cost(knowledge, monkeypatch):
    # Measured when written: rules alone 56 of 90 and 6 of 170 false; with the
    # model 62 of 90 and 7 of 170 (docs/autoreply.md).
    found, requests, false, others = judge_folds(knowledge)
    monkeypatch.setattr(engine_module, "PERSON_THRESHOLD", 1.1)  # the model never decides
    rules_found, _, rules_false, _ = judge_folds(knowledge)
    assert found >= rules_found + 6, (found, rules_found)
    assert found / requests >= 0.68 and false / others <= 0.06, (found, false)
    assert false - rules_false <= 4, (false, rules_false)


def test_words_no_rule_reads_bring_a_question_to_the_model(knowledge):
    """Round seven's trap set, five-fold: 店长, 售后, a specialist, typos of
    human and agent... reach the model, which learnt from the other folds.
    Measured when written: 50 of 100 found and 9 of 100 false; 41 and 10
    when only the rules' words reached it (docs/autoreply.md)."""
    found, requests, false, others = judge_folds(knowledge, TRAPS3)
    assert (requests, others) == (100, 100)
    assert found >= 47 and false <= 11, (found, false)


def test_the_model_learns_from_the_person_examples_only_what_they_say(knowledge):
    asked = "escalate to support"
    words = CsConfig().human_words
    assert AutoReply(knowledge, words).wants_human(asked)
    bare = knowledge_from_dict({"entries": [ENTRY]})
    assert not AutoReply(bare, words).wants_human(asked)  # nothing learnt: the rules cannot tell
    things = ["5g", "usb c", "dark mode", "two users", "apple pay", "wifi 6", "bluetooth",
              "hdr", "fast charging", "nfc", "sd cards", "wireless charging", "4k", "eSIM",
              "voice control", "ipv6", "arabic", "a stylus", "two screens", "night mode"]
    taught = knowledge_from_dict({"entries": [ENTRY], "person_examples": {
        HUMAN_LABEL: [f"escalate this to support, order {i}" for i in range(20)],
        NONE_LABEL: [f"does it support {thing}" for thing in things]}})
    assert not AutoReply(bare, words).wants_human("escalate this to support")
    assert AutoReply(taught, words).wants_human("escalate this to support")
    assert not AutoReply(taught, words).wants_human("does the plan support 5 users")
    assert knowledge_from_dict(knowledge_to_dict(taught)) == taught


@pytest.mark.parametrize("question", [
    "客服工资多少", "你们客服在哪个城市", "does the plan support 5 users",
    "is your support team outsourced", "经理", "客服邮箱多少"])
def test_without_questions_that_name_a_person_and_ask_for_none_there_is_no_model(question):
    # Found in review: learnt from the ways of asking alone, the model took every
    # question that named a person for a request (the config's keyword FAQ,
    # or any small knowledge file, has no other).
    for knowledge in (knowledge_from_config(CsConfig()), knowledge_from_dict({"entries": [ENTRY]})):
        autoreply = AutoReply(knowledge, CsConfig().human_words)
        assert not autoreply.wants_human(question)
        assert autoreply.reply(question).kind != ASK_HUMAN


def test_the_model_is_never_asked_about_a_question_that_names_nobody(monkeypatch):
    asked = []
    monkeypatch.setattr(engine_module._Engine, "_learned_person",
                        lambda self, normal: asked.append(normal) or True)
    autoreply = AutoReply(knowledge_from_dict({"entries": [ENTRY]}))
    for question in ("运费多少", "how much is shipping", "你好", "不要人工", "真人秀好看吗",
                     "what does human resources do", "客服几点下班"):
        assert not autoreply.wants_human(question)
    assert asked == []


@pytest.mark.parametrize("person_examples, where", [
    (["q"], "knowledge.person_examples"),
    ({"fee": ["q"]}, "knowledge.person_examples.fee"),
    ({"human": []}, "knowledge.person_examples.human")])
def test_bad_person_examples_are_refused_with_the_place_named(person_examples, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        knowledge_from_dict({"entries": [ENTRY], "person_examples": person_examples})


@pytest.mark.parametrize("value", [[], "", 0, False, ["q"]])
def test_person_examples_that_are_no_mapping_are_refused_even_empty_or_false(value):
    with pytest.raises(ConfigError, match=r"knowledge\.person_examples: expected a mapping"):
        knowledge_from_dict({"entries": [ENTRY], "person_examples": value})


def test_an_entry_id_is_no_label_of_the_person_examples():
    with pytest.raises(ConfigError, match=r"person_examples\.fee: a label here is human or none"):
        knowledge_from_dict({"entries": [ENTRY], "person_examples": {"fee": ["q"]}})
