"""The learned layer: which entry a question is, learnt from labelled questions.

Retrieval (retrieval.py) asks how much of a question a known question
explains; it has no notion of which words tell entries apart, nor of what an
off-topic question looks like. This layer learns both, at start-up, from the
knowledge base's own questions, its configured ways of asking for a person,
and its labelled examples (``examples:`` in config/knowledge.yaml, taught
variants included): a multinomial naive Bayes over binary features (the
retrieval terms, and character n-grams of the prepared text), one class per
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

from actors.autoreply.packed import packed_runs, summed
from actors.autoreply.retrieval import terms_of

_Floats = npt.NDArray[np.float64]
# Additive smoothing; 0.1-0.3 scored alike on leave-one-set-out, 1.0 lost a
# question or two (docs/autoreply.md).
ALPHA = 0.2
GRAM = "c:"  # a character n-gram feature's prefix (the terms have their own)
# The classes' log-likelihood before a question's features' corrections,
# for a question with 0..ROWS-1 known features, is computed once.
ROWS = 256


def features_of(prepared: str, terms: Iterable[str] | None = None) -> set[str]:
    """A prepared question's features: its retrieval terms (``terms_of``,
    passed in when the caller has them) and its character n-grams
    (``grams_of``), spaces at the ends so that a word's first and last
    letters count."""
    found = set(terms_of(prepared) if terms is None else terms)
    found.update(GRAM + gram for gram in grams_of(prepared))
    found.discard(GRAM + " ")
    found.discard(GRAM + "  ")
    found.discard(GRAM + "   ")
    return found


def grams_of(prepared: str) -> set[str]:
    """The character n-grams of ``features_of``, without their prefix: 2- and
    3-grams, and single characters but Latin letters and digits. A letter
    alone says nothing of a question's topic, and each is in nearly every
    entry's questions: they were 38% of a question's pairs to add up, for no
    accuracy (pooled 10-fold 0.958 with them, 0.959 without; leave one set
    out 0.9638 and 0.9632; the person traps' five-fold 68 and 70 of 90;
    docs/autoreply.md). Punctuation alone stays ("会员费？" is a price)."""
    padded = f" {prepared} "
    found = {c for c in padded if not (c.isascii() and c.isalnum())}
    found.update(padded[i:i + 2] for i in range(len(padded) - 1))
    found.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return found


class NaiveBayes:
    """Immutable once built; shared by every session."""

    def __init__(self, documents: Sequence[Iterable[str]], labels: Sequence[str],
                 classes: Sequence[str], alpha: float = ALPHA, offset: int = 0,
                 temperature: float = 1.0) -> None:
        """Args:
            documents: each training document's features (each counted once).
            labels: each document's class, one of ``classes``.
            classes: the classes, in the order ``probabilities`` gives them;
                a class with no document gets no probability (0).
            offset: where the classes' places begin in the vector ``parts``
                add up to (after retrieval's, when the engine sums both).
            temperature: every log-likelihood is divided by it (1: the
                textbook model). Naive Bayes counts each piece of evidence
                as independent, and a question's features are not: a Han
                character is a feature, and so are the two pairs and the
                three-character pieces around it, and the term of the same
                pair again. Its probabilities are then all but 0 or 1, and
                dividing by about the number of features that repeat one
                piece of evidence tempers them (the engine's
                ``LEARNED_TEMPERATURE`` says what that gained).
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
        self._base: _Floats = (np.log(alpha) - log_totals) / temperature
        self._prior: _Floats = np.where(present, prior / temperature, -np.inf)
        class_of = keys % n_classes + offset
        correction: _Floats = (np.log(counts + alpha) - np.log(alpha)) / temperature
        # The pairs of feature i are [starts[i], starts[i + 1]) (keys are
        # sorted), packed apart for each feature (packed.py).
        starts = np.searchsorted(keys // n_classes, np.arange(n_features + 1)).tolist()
        self._pairs: dict[str, bytes] = dict(
            zip(vocabulary, packed_runs(class_of, correction, starts), strict=True))
        # The n-gram features again, by the n-gram alone (the same bytes):
        # the engine looks a question's n-grams up without prefixing each.
        self._grams = {feature[len(GRAM):]: pairs for feature, pairs in self._pairs.items()
                       if feature.startswith(GRAM)}
        self._rows = self._prior + np.arange(ROWS, dtype=np.float64)[:, np.newaxis] * self._base
        self.offset = offset
        self.size = offset + n_classes  # of the vector ``parts`` add up to

    def probabilities(self, features: Iterable[str]) -> _Floats:
        """Each class's probability for a question's features (the order of
        ``classes``), each feature counted once; features never seen in
        training are left out."""
        parts = self.parts(features)
        return self.finish(summed(parts, self.size), len(parts))

    def parts(self, features: Iterable[str]) -> list[bytes]:
        """The packed (class, weight) pairs of the question's known features."""
        return [*filter(None, map(self._pairs.get, set(features)))]

    def parts_of(self, prepared: str, terms: Iterable[str]) -> list[bytes]:
        """``parts(features_of(prepared, terms))``, the same pairs (in another
        order) without building the features: ``terms`` each once (a
        ``Counter``'s keys) as they are, the n-grams by their own table."""
        found = [*filter(None, map(self._pairs.get, terms))]
        found += filter(None, map(self._grams.get, grams_of(prepared)))
        return found

    def unknown(self, features: Iterable[str]) -> int:
        """How many of ``features`` (each once) training never saw."""
        found = set(features)
        return len(found) - sum(map(self._pairs.__contains__, found))

    def finish(self, scores: _Floats, known: int) -> _Floats:
        """The probabilities from the summed pairs of ``known`` features
        (``scores``: the places from ``offset`` on are theirs)."""
        likelihoods, total = self.likelihoods(scores, known)
        probabilities: _Floats = likelihoods / total
        return probabilities

    def likelihoods(self, scores: _Floats, known: int) -> tuple[_Floats, float]:
        """``finish`` before it is divided by the second value: the caller
        scales the few places it reads at once, a pass over the classes less."""
        base = self._rows[known] if known < ROWS else self._prior + known * self._base
        scores = base + scores[self.offset:self.size]
        scores = np.exp(scores - scores.max())
        return scores, float(scores.sum())
