"""Every entry's blended score for a question, in a handful of numpy calls.

The engine scores an entry twice (engine.py): by its best question and as one
document of all its questions, each as the share of the question it explains
(``Ranking.coverage``), blended. Done with Python dicts, that was two passes
over every posting a question touches (about 480 with 200 entries, ~50 µs of
the 76 µs an answer cost; docs/autoreply.md). Here both indexes' postings
for a term, and its two IDFs, are one run of packed pairs (packed.py), built
once: a question's runs are gathered by one ``b"".join`` and added up by one
``bincount`` for every question and every entry at once, together with the
learned layer's (``parts`` and ``finish`` are apart for that: the engine sums
both); ``maximum.reduceat`` takes each entry's best question (an entry's
questions are consecutive documents).

The figures are BM25's, as ``Bm25Index`` computes them (its postings and
IDF are read, not recomputed); ``tests/test_autoreply_scorer.py`` holds the
two to the same ranking on generated questions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import repeat

import numpy as np
import numpy.typing as npt

from actors.autoreply.packed import packed, packed_runs, scaled, summed
from actors.autoreply.retrieval import Bm25Index

_Weights = npt.NDArray[np.float64]


class EntryScorer:
    """Immutable once built; shared by every session."""

    def __init__(self, questions: Bm25Index, entries: Bm25Index,
                 questions_per_entry: Sequence[int], blend: float) -> None:
        if len(questions_per_entry) != entries.size or min(questions_per_entry, default=1) < 1:
            raise ValueError("every entry needs one question document or more")
        if sum(questions_per_entry) != questions.size:
            raise ValueError("the question documents are not the entries' questions")
        self._questions, self._entries = questions, entries
        self._n_questions = questions.size
        # The vector the pairs add up to: each question document's score,
        # each entry document's, then the question's terms' IDFs in either
        # index (what a question would score against itself depends on them).
        self._idf_at = questions.size + entries.size
        self.size = self._idf_at + 2
        self._starts = np.cumsum([0, *questions_per_entry[:-1]], dtype=np.intp)
        self._blend = blend
        # term -> its (document, BM25 weight) pairs in both indexes and its
        # two IDFs, packed; the entry index's documents come after the
        # question index's. A term no document has counts at the unknown IDF.
        terms = sorted(questions.terms | entries.terms)
        places: list[int] = []
        weights: list[float] = []
        starts = [0]
        for term in terms:
            q, e = questions.postings.get(term, {}), entries.postings.get(term, {})
            places += [*q, *(self._n_questions + doc for doc in e), self._idf_at, self._idf_at + 1]
            weights += [*q.values(), *e.values(), questions.idf(term), entries.idf(term)]
            starts.append(len(places))
        self._pairs = dict(zip(terms, packed_runs(places, weights, starts), strict=True))
        self._unknown = packed([self._idf_at, self._idf_at + 1],
                               [questions.unknown_idf, entries.unknown_idf])
        self._posted = frozenset(questions.postings.keys() | entries.postings.keys())

    def rank(self, query: Counter[str], limit: int) -> tuple[tuple[int, ...], float]:
        """The best ``limit`` entries (indexes, best first) among those the
        question touches, and the best one's blended score (0..1)."""
        blended = self.blended(query)
        if blended is None or limit < 1:
            return (), 0.0
        ranked = top(blended, limit)
        return ranked, float(blended[ranked[0]]) if ranked else 0.0

    def blended(self, query: Counter[str]) -> _Weights | None:
        """Every entry's blended score (0..1, in entry order), or None when
        the question touches no posting."""
        parts = self.parts(query)
        return self.finish(summed(parts, self.size), query) if parts else None

    def parts(self, query: Counter[str]) -> list[bytes]:
        """The packed pairs of the question's terms (a term asked twice
        weighs twice); none when it touches no posting."""
        if self._posted.isdisjoint(query):
            return []
        pairs, unknown = self._pairs, self._unknown
        if sum(query.values()) == len(query):  # each term once: gathered in C
            return [*map(pairs.get, query, repeat(unknown))]
        return [pairs.get(term, unknown) if count == 1 else scaled(pairs.get(term, unknown), count)
                for term, count in query.items()]

    def finish(self, scores: _Weights, query: Counter[str], scale: float = 1.0) -> _Weights:
        """Every entry's blended score from the question's summed pairs
        (``scores``: its first ``size`` places are theirs), times ``scale``
        (the engine's weight for retrieval, applied for free)."""
        questions, entries = self._questions, self._entries
        if sum(query.values()) != len(query):  # a term twice ("人工人工"): BM25's own formula
            own_question, own_entry = questions.self_score(query), entries.self_score(query)
        else:  # the terms' IDFs, summed with the rest in their order
            own_question = questions.self_score_of_distinct(float(scores[self._idf_at]),
                                                            len(query))
            own_entry = entries.self_score_of_distinct(float(scores[self._idf_at + 1]),
                                                       len(query))
        own_question, own_entry = own_question or 1.0, own_entry or 1.0
        best_question = np.maximum.reduceat(scores[:self._n_questions], self._starts)
        blended: _Weights = (np.minimum(best_question, own_question)
                             * (scale * self._blend / own_question)
                             + np.minimum(scores[self._n_questions:self._idf_at], own_entry)
                             * (scale * (1 - self._blend) / own_entry))
        return blended


def top(scores: _Weights, limit: int) -> tuple[int, ...]:
    """The indexes of the ``limit`` best positive scores, best first (ties: the
    lower index)."""
    best = np.argsort(-scores, kind="stable")[:limit].tolist()
    return tuple(i for i in best if scores[i] > 0.0)
