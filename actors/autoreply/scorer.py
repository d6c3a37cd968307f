"""Every entry's blended score for a question, in a handful of numpy calls.

The engine scores an entry twice (engine.py): by its best question and as one
document of all its questions, each as the share of the question it explains
(``Ranking.coverage``), blended. Done with Python dicts, that was two passes
over every posting a question touches (about 480 with 200 entries, ~50 µs of
the 76 µs an answer cost; docs/autoreply.md). Here both indexes' postings
for a term are one pair of arrays, built once: a question concatenates its
terms' arrays and one ``bincount`` adds them up for every question and every
entry at once; ``maximum.reduceat`` takes each entry's best question (an
entry's questions are consecutive documents).

The figures are BM25's, as ``Bm25Index`` computes them (its postings and
IDF are read, not recomputed); ``tests/test_autoreply_scorer.py`` holds the
two to the same ranking on generated questions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from actors.autoreply.retrieval import Bm25Index

_Ids = npt.NDArray[np.intp]
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
        self._size = questions.size + entries.size
        self._starts = np.cumsum([0, *questions_per_entry[:-1]], dtype=np.intp)
        self._blend = blend
        # term -> (documents, weights, IDF in the question index, IDF in the entry index)
        table: dict[str, tuple[_Ids, _Weights, float, float]] = {}
        q_postings, e_postings = questions.postings, entries.postings
        for term in q_postings.keys() | e_postings.keys():
            q, e = q_postings.get(term, {}), e_postings.get(term, {})
            ids = [*q, *(self._n_questions + doc for doc in e)]
            table[term] = (np.array(ids, dtype=np.intp),
                           np.array([*q.values(), *e.values()], dtype=np.float64),
                           questions.idf(term), entries.idf(term))
        self._table = table

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
        table, questions, entries = self._table, self._questions, self._entries
        ids: list[_Ids] = []
        weights: list[_Weights] = []
        idf_q = idf_e = 0.0
        repeated = False
        for term, count in query.items():
            repeated = repeated or count > 1
            found = table.get(term)
            if found is None:  # no postings: unknown, or known but under MIN_IDF,
                idf_q += questions.idf(term)  # which still counts at its own IDF
                idf_e += entries.idf(term)
                continue
            ids.append(found[0])
            weights.append(found[1] if count == 1 else found[1] * count)
            idf_q += found[2]
            idf_e += found[3]
        if not ids:
            return None
        scores = np.bincount(np.concatenate(ids), np.concatenate(weights), self._size)
        if repeated:  # a term twice ("人工人工"): BM25's own formula for the query
            own_question, own_entry = questions.self_score(query), entries.self_score(query)
        else:
            own_question = questions.self_score_of_distinct(idf_q, len(query))
            own_entry = entries.self_score_of_distinct(idf_e, len(query))
        own_question, own_entry = own_question or 1.0, own_entry or 1.0
        best_question = np.maximum.reduceat(scores[:self._n_questions], self._starts)
        blended: _Weights = (np.minimum(best_question, own_question) * (self._blend / own_question)
                             + np.minimum(scores[self._n_questions:], own_entry)
                             * ((1 - self._blend) / own_entry))
        return blended


def top(scores: _Weights, limit: int) -> tuple[int, ...]:
    """The indexes of the ``limit`` best positive scores, best first (ties: the
    lower index)."""
    if limit < len(scores):
        best = np.argpartition(scores, -limit)[-limit:]
        best = best[np.argsort(-scores[best], kind="stable")]
    else:
        best = np.argsort(-scores, kind="stable")
    return tuple(i for i, score in zip(best.tolist(), scores[best].tolist(), strict=True)
                 if score > 0.0)
