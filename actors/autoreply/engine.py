"""The auto-reply engine: answers from the knowledge base, or a clean hand-off.

For each question it ranks the knowledge base's questions with BM25 over
character n-grams (actors/retrieval.py) and trusts the best one when it
explains enough of the question (``threshold``). Below that it offers the
closest questions ("did you mean"); the session offers a person after
``misses_before_human`` misses in a row. Asking for a person is itself
knowledge: the ``human`` phrases are indexed like any question, besides an
exact list of one-word requests.

The engine is immutable: ``reload`` builds a new one and swaps it in, so a
session mid-question never sees half a knowledge base.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from actors.autoreply.knowledge import Knowledge
from actors.autoreply.retrieval import Bm25Index
from actors.autoreply.text import normalise

HUMAN = "\x00human"  # the pseudo-entry of asking for a person
ANSWER, ASK_HUMAN, SUGGEST = "answer", "human", "suggest"
_TRIM = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)


class AutoReplyResult(NamedTuple):
    kind: str  # ANSWER, ASK_HUMAN or SUGGEST
    answer: str = ""
    entry_id: str = ""
    confidence: float = 0.0
    suggestions: tuple[str, ...] = ()  # entry ids, best first

    @property
    def wants_human(self) -> bool:
        return self.kind == ASK_HUMAN


class Scored(NamedTuple):
    """A question's candidates, best first (``HUMAN`` among them), and how
    much of it the best one explains (0..1)."""

    ranked: tuple[str, ...]
    confidence: float


class _Engine:
    def __init__(self, knowledge: Knowledge, human_words: tuple[str, ...]) -> None:
        self.knowledge = knowledge
        self.human_words = frozenset(normalise(w) for w in human_words)
        self.owners: list[str] = []
        documents: list[str] = []
        for entry in knowledge.entries:
            for question in entry.questions:
                documents.append(question)
                self.owners.append(entry.id)
        for phrase in knowledge.human:
            documents.append(phrase)
            self.owners.append(HUMAN)
        self.index = Bm25Index(documents)
        # Each entry as one document of all its questions: a question that
        # uses words from two of an entry's variants ("cancel" from one,
        # "membership" from another) is explained by the entry as a whole
        # even when no single variant explains it.
        self.entry_owners = [e.id for e in knowledge.entries] + [HUMAN]
        self.entry_index = Bm25Index(
            [" ".join(e.questions) for e in knowledge.entries] + [" ".join(knowledge.human)])
        self.answers = {e.id: e.answer for e in knowledge.entries}


class AutoReply:
    """Shared by every session; reads are of an immutable engine."""

    def __init__(self, knowledge: Knowledge, human_words: tuple[str, ...] = ()) -> None:
        self._engine = _Engine(knowledge, human_words)

    @property
    def knowledge(self) -> Knowledge:
        return self._engine.knowledge

    def reload(self, knowledge: Knowledge) -> None:
        """Swap in a new knowledge base (one reference assignment)."""
        self._engine = _Engine(knowledge, tuple(self._engine.human_words))

    def wants_human(self, text: str) -> bool:
        """A short message that is just a request for a person, in either language."""
        return _TRIM.sub("", normalise(text).strip()) in self._engine.human_words

    def reply(self, text: str) -> AutoReplyResult:
        return self.decide(self.score(text), self._engine.knowledge.threshold)

    def score(self, text: str) -> Scored:
        """What the knowledge base says about a question, before any threshold.

        Split from ``decide`` so that cross-validation (evaluation.py) scores
        each question once and tries every threshold on the same scores.
        """
        engine = self._engine
        if self.wants_human(text):
            return Scored((HUMAN,), 1.0)
        wanted = engine.knowledge.suggestions + 1  # one of them may be HUMAN
        blend = engine.knowledge.blend
        combined: dict[str, float] = {}
        entries = engine.entry_index.search(text, limit=wanted + 2)
        for doc, score in entries.hits:
            combined[engine.entry_owners[doc]] = (1 - blend) * entries.coverage(score)
        questions = engine.index.search(text, limit=30)
        owners, seen = engine.owners, set()
        for doc, score in questions.hits:  # best first: each entry's best question
            owner = owners[doc]
            if owner not in seen:
                seen.add(owner)
                combined[owner] = combined.get(owner, 0.0) + blend * questions.coverage(score)
        ranked = sorted(combined, key=combined.__getitem__, reverse=True)[:wanted]
        return Scored(tuple(ranked), combined[ranked[0]] if ranked else 0.0)

    def decide(self, scored: Scored, threshold: float) -> AutoReplyResult:
        engine = self._engine
        ranked, confidence = scored
        if ranked and confidence >= threshold:
            top = ranked[0]
            if top == HUMAN:
                return AutoReplyResult(ASK_HUMAN, confidence=confidence)
            return AutoReplyResult(ANSWER, engine.answers[top], top, confidence)
        suggestions = tuple(e for e in ranked if e != HUMAN)[:engine.knowledge.suggestions]
        return AutoReplyResult(SUGGEST, confidence=confidence,
                               suggestions=suggestions or self.suggested())

    def suggested(self) -> tuple[str, ...]:
        knowledge = self._engine.knowledge
        return knowledge.suggested[:knowledge.suggestions] if knowledge.suggestions else ()

    def question(self, entry_id: str) -> str:
        """How an entry is shown in a list of suggestions: its first question."""
        entry = self._engine.knowledge.entry(entry_id)
        return entry.questions[0] if entry else entry_id

    def answer(self, entry_id: str) -> str | None:
        return self._engine.answers.get(entry_id)
