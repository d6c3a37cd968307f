"""The learned layer: which entry a question is, learnt from labelled questions.

Retrieval (retrieval.py) asks how much of a question a known question
explains; it has no notion of which words tell entries apart, nor of what an
off-topic question looks like. This layer learns both, at start-up, from the
knowledge base's own questions, its configured ways of asking for a person,
and its labelled examples (``examples:`` in config/knowledge.yaml, taught
variants included): a multinomial naive Bayes over binary features (the
retrieval terms, and character 1-3-grams of the prepared text), one class per
entry plus "a person" and "none" (off-topic).

Why naive Bayes and not logistic regression: on leave-one-set-out (the blind
set held out, docs/autoreply.md) scikit-learn's logistic regression (C 10-30,
TF-IDF) and this scored within a question or two of each other (0.849-0.853
against 0.844), but this fits by counting (~20 ms for 200 entries, where an
iterative fit in numpy would take seconds) and needs neither scipy nor
scikit-learn at run time. It is the textbook model (scikit-learn's
``MultinomialNB`` on ``CountVectorizer(binary=True)`` features), held to it by
tests/test_autoreply_classifier.py.

Deterministic: no randomness, classes in the order given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from actors.autoreply.retrieval import terms_of

_Floats = npt.NDArray[np.float64]
# Additive smoothing; 0.1-0.3 scored alike on leave-one-set-out, 1.0 lost a
# question or two (docs/autoreply.md).
ALPHA = 0.2
NGRAMS = (1, 2, 3)


def features_of(prepared: str, terms: Iterable[str] | None = None) -> set[str]:
    """A prepared question's features: its retrieval terms (``terms_of``,
    passed in when the caller has them) and its character 1-3-grams, spaces
    at the ends so that a word's first and last letters count."""
    found = set(terms_of(prepared) if terms is None else terms)
    padded = f" {prepared} "
    for n in NGRAMS:
        found.update("c:" + padded[i:i + n] for i in range(len(padded) - n + 1))
    found.discard("c: ")
    found.discard("c:  ")
    found.discard("c:   ")
    return found


class NaiveBayes:
    """Immutable once built; shared by every session."""

    def __init__(self, documents: Sequence[Iterable[str]], labels: Sequence[str],
                 classes: Sequence[str], alpha: float = ALPHA) -> None:
        """Args:
            documents: each training document's features (each counted once).
            labels: each document's class, one of ``classes``.
            classes: the classes, in the order ``probabilities`` gives them;
                a class with no document gets no probability (0).
        """
        if len(documents) != len(labels):
            raise ValueError("one label per document")
        self.classes = tuple(classes)
        column = {name: i for i, name in enumerate(self.classes)}
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for document, name in zip(documents, labels, strict=True):
            c = column[name]
            for feature in set(document):
                rows.append(vocabulary.setdefault(feature, len(vocabulary)))
                cols.append(c)
        n_classes, n_features = len(self.classes), len(vocabulary)
        per_class = np.bincount([column[name] for name in labels],
                                minlength=n_classes).astype(np.float64)
        present = per_class > 0
        with np.errstate(divide="ignore"):
            prior = np.log(per_class / max(1.0, per_class.sum()))
        # The (feature, class) pairs seen, with their counts. Most pairs are
        # never seen, and their weight is the class's own constant,
        # log(alpha / total); only the seen ones are kept, as a correction to
        # it. A dense features x classes table took 130 MB for 200 entries.
        keys, counts = np.unique(np.array(rows, dtype=np.int64) * n_classes
                                 + np.array(cols, dtype=np.int64), return_counts=True)
        totals = np.bincount(keys % n_classes, weights=counts, minlength=n_classes)
        log_totals = np.log(totals + alpha * n_features)
        self._base: _Floats = np.log(alpha) - log_totals
        self._prior: _Floats = np.where(present, prior, -np.inf)
        class_of = (keys % n_classes).astype(np.intp)
        correction: _Floats = np.log(counts + alpha) - np.log(alpha)
        # The pairs of feature i are [starts[i], starts[i + 1]) (keys are sorted):
        # each feature keeps views of its own, so that a question's pairs are
        # two concatenations (fewer numpy calls than one gather by positions).
        starts = np.searchsorted(keys // n_classes, np.arange(n_features + 1)).tolist()
        self._pairs: dict[str, tuple[npt.NDArray[np.intp], _Floats]] = {
            feature: (class_of[starts[i]:starts[i + 1]], correction[starts[i]:starts[i + 1]])
            for feature, i in vocabulary.items()}
        self._n_classes = n_classes

    def probabilities(self, features: Iterable[str]) -> _Floats:
        """Each class's probability for a question's features (the order of
        ``classes``), each feature counted once; features never seen in
        training are left out."""
        found = [p for p in map(self._pairs.get, set(features)) if p is not None]
        scores = self._prior + len(found) * self._base
        if found:
            scores = scores + np.bincount(np.concatenate([c for c, _ in found]),
                                          weights=np.concatenate([w for _, w in found]),
                                          minlength=self._n_classes)
        scores = np.exp(scores - scores.max())
        probabilities: _Floats = scores / scores.sum()
        return probabilities
