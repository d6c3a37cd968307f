"""The numpy scorer (actors/autoreply/scorer.py) ranks entries as the two BM25
indexes' own searches, blended the way the engine blended them before, do;
and the exact-variant short cut answers what the search would."""

import functools
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.autoreply.engine import ANSWER, AutoReply
from actors.autoreply.knowledge import Entry, knowledge_from_dict, load_knowledge
from actors.autoreply.retrieval import terms_of
from actors.autoreply.scorer import EntryScorer, top
from actors.autoreply.text import normalise
from actors.config import CsConfig

KNOWLEDGE = load_knowledge(Path(__file__).resolve().parent.parent / "config" / "knowledge.yaml")
ENGINE = AutoReply(KNOWLEDGE, CsConfig().human_words)
# Pieces of the knowledge base's questions and of customers' ones, so that
# generated questions hit many entries at once, with repeats, typos and noise.
WORDS = sorted({w for e in KNOWLEDGE.entries for q in e.questions for w in q.split()}
               | {q[i:i + 2] for e in KNOWLEDGE.entries for q in e.questions
                  for i in range(0, len(q) - 1, 2) if not q.isascii()}
               | {"refnud", "shippin", "人工", "退款退款", "?", "😀", "ｐｒｏ", "運費"})


def reference(engine, query: Counter, limit: int) -> dict[int, float]:
    """Each entry's blended score the way engine.score computed it with dicts:
    every hit of both indexes (no cut-off), each entry's best question."""
    blend = engine.knowledge.blend
    combined: dict[int, float] = {}
    entries = engine.entry_index.search_terms(query, limit=10**9)
    for doc, score in entries.hits:
        combined[doc] = (1 - blend) * entries.coverage(score)
    # An entry's documents are its questions, then its labelled examples.
    examples = Counter(label for _, label in engine.knowledge.examples)
    owner_of = [i for i, e in enumerate(engine.knowledge.entries)
                for _ in range(len(e.questions) + examples[e.id] or 1)]
    questions = engine.index.search_terms(query, limit=10**9)
    seen = set()
    for doc, score in questions.hits:
        owner = owner_of[doc]
        if owner not in seen:
            seen.add(owner)
            combined[owner] = combined.get(owner, 0.0) + blend * questions.coverage(score)
    return {doc: score for doc, score in combined.items() if score > 0.0}


def check_same_ranking(engine, text: str, limit: int) -> None:
    query = Counter(terms_of(engine.prepare_normal(normalise(text))))
    ranked, confidence = engine.scorer.rank(query, limit)
    expected = reference(engine, query, limit)
    assert len(ranked) == min(limit, len(expected)) and len(set(ranked)) == len(ranked)
    got = [expected[i] for i in ranked]  # every ranked entry is one the reference scores
    assert got == sorted(got, reverse=True)
    if ranked:
        assert confidence == pytest.approx(got[0], abs=1e-9)
        left_out = [s for i, s in expected.items() if i not in ranked]
        assert not left_out or max(left_out) <= got[-1] + 1e-9
    else:
        assert confidence == 0.0


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=8),
       st.sampled_from(["", " ", "，"]), st.integers(min_value=1, max_value=20))
def test_the_scorer_ranks_as_the_bm25_searches_blended(words, glue, limit):
    check_same_ranking(ENGINE._engine, glue.join(words), limit)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.sampled_from([0.0, 0.5, 1.0]))
def test_the_scorer_agrees_at_any_blend_and_with_an_entry_without_questions(words, blend):
    check_same_ranking(engine_at(blend), " ".join(words), 4)


@functools.cache
def engine_at(blend: float) -> Any:
    """One engine per blend: a build takes a few hundred ms with the shipped examples."""
    return AutoReply(replace(KNOWLEDGE, blend=blend, entries=(
        *KNOWLEDGE.entries, Entry("empty", (), "nothing"))))._engine


def test_the_scorer_refuses_indexes_that_do_not_line_up():
    engine = ENGINE._engine
    with pytest.raises(ValueError):
        EntryScorer(engine.index, engine.entry_index, [1] * len(KNOWLEDGE.entries), 0.5)


@pytest.mark.parametrize("entry", KNOWLEDGE.entries, ids=lambda e: e.id)
def test_a_variant_asked_as_written_is_its_entry_with_full_confidence(entry):
    for question in entry.questions:
        for asked in (question, question.upper() + "？", f"  {question}!! "):
            result = ENGINE.reply(asked)
            assert result.kind == ANSWER and result.entry_id == entry.id, asked
            assert result.confidence == 1.0


def test_a_form_two_entries_share_is_left_to_the_search():
    autoreply = AutoReply(knowledge_from_dict({"entries": [
        {"id": "a", "questions": ["same question", "alpha"], "answer": "A"},
        {"id": "b", "questions": ["same question"], "answer": "B"}]}))
    assert set(autoreply.score("same question").ranked) == {"a", "b"}  # searched: both
    assert autoreply.score("alpha").ranked == ("a",)


def test_the_scorer_agrees_when_a_word_is_in_every_question():
    """A word every question has (a product's name) is known to the indexes but too
    common to score (IDF under MIN_IDF, so it has no postings): the query's own
    score still counts it at its own small IDF, as BM25 does, not as a word no
    question has (the rarest IDF), which halved the confidence here."""
    autoreply = AutoReply(knowledge_from_dict({"entries": [
        {"id": w, "questions": [f"refund {w}"], "answer": w}
        for w in ("policy", "status", "time", "fee", "help", "form")]}))
    check_same_ranking(autoreply._engine, "policy refund", 3)
    assert autoreply.score("policy refund").confidence > 0.9


@given(st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.5, 0.9, -0.2]), max_size=30),
       st.integers(min_value=1, max_value=8))
def test_top_is_the_best_positive_scores_first_and_the_lower_index_on_a_tie(scores, limit):
    expected = sorted((i for i, s in enumerate(scores) if s > 0.0),
                      key=lambda i: (-scores[i], i))[:limit]
    assert top(np.array(scores, dtype=np.float64), limit) == tuple(expected)
