"""The eighth blind set: the issue's targets, cross-validated within it.

tests/data/autoreply_blind8.jsonl (320 questions) was written in round nine
by a helper who saw only the entries' ids and answers, never the engine nor
another set, and was measured once, on the engine as it stood
(docs/autoreply.md): 10-fold within it 0.944 (zh 0.962, en 0.926), as shipped
0.928 (zh 0.949, en 0.907); no off-topic question handed to a person. Its
errors are unread and it is not among the examples, so these figures stay
held-out ones; the floors guard the targets (0.93 overall, 0.9 in each
language, at most 2% of off-topic questions to a person) and the shipped
figure a few questions below where it was measured.
"""

from pathlib import Path

import pytest

from actors.autoreply.engine import AutoReply
from actors.autoreply.evaluation import cross_validate, judge, load_labelled, report, without
from actors.autoreply.knowledge import HUMAN_LABEL, NONE_LABEL, load_knowledge
from actors.autoreply.text import language_of, normalise
from actors.config import CsConfig

DATA = Path(__file__).parent / "data"
BLIND8 = DATA / "autoreply_blind8.jsonl"
KNOWLEDGE = Path(__file__).parent.parent / "config" / "knowledge.yaml"
TARGET, LANGUAGE_TARGET, TO_PERSON_CEILING = 0.93, 0.9, 0.02
SHIPPED_FLOOR, SHIPPED_LANGUAGE_FLOOR = 0.91, 0.89


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def items():
    return load_labelled(BLIND8)


def test_the_set_is_large_varied_and_kept_out_of_the_examples(knowledge, items):
    assert len(items) >= 300
    labels = [i.expect for i in items]
    assert set(labels) == {e.id for e in knowledge.entries} | {HUMAN_LABEL, NONE_LABEL}
    assert all(labels.count(e.id) >= 15 for e in knowledge.entries)
    assert labels.count(HUMAN_LABEL) >= 30 and labels.count(NONE_LABEL) >= 40
    languages = [language_of(i.question) for i in items]
    assert min(languages.count("zh"), languages.count("en")) >= 130
    # Not among the examples but for 39 short questions another set has too
    # ("转人工"), each with the same label there; every figure below takes
    # them out as well (evaluation.without), so it is a held-out one.
    examples = {normalise(q): label for q, label in knowledge.examples}
    shared = [i for i in items if normalise(i.question) in examples]
    assert len(shared) <= 39 and all(examples[normalise(i.question)] == i.expect
                                     for i in shared)


def test_cross_validated_within_it_the_targets_are_met(knowledge, items):
    r = report(cross_validate(knowledge, CsConfig().human_words, items))
    assert r.accuracy >= TARGET, r
    assert min(acc for acc, _ in r.by_language.values()) >= LANGUAGE_TARGET, r
    assert r.off_topic_to_person <= TO_PERSON_CEILING, r


def test_as_shipped_it_keeps_its_figure(knowledge, items):
    r = report(judge(AutoReply(without(knowledge, items), CsConfig().human_words), items))
    assert r.accuracy >= SHIPPED_FLOOR, r
    assert min(acc for acc, _ in r.by_language.values()) >= SHIPPED_LANGUAGE_FLOOR, r
    assert r.off_topic_to_person <= TO_PERSON_CEILING, r
