"""The learned layer (actors/autoreply/classifier.py) is scikit-learn's
multinomial naive Bayes on binary features, written in numpy so that the
server needs neither scipy nor scikit-learn: the two are held to the same
probabilities on generated data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.autoreply.classifier import ALPHA, ROWS, NaiveBayes, features_of

sklearn_nb = pytest.importorskip("sklearn.naive_bayes")
sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")

FEATURES = st.lists(st.sampled_from("ab cd ef gh ij kl mn 退 款 运费".split()), max_size=6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(FEATURES, st.sampled_from("xyz")), min_size=1, max_size=25),
       st.lists(FEATURES, min_size=1, max_size=5),
       st.sampled_from([0.1, 0.2, 1.0]))
def test_the_probabilities_are_scikit_learns_multinomial_naive_bayes(train, asked, alpha):
    documents = [doc + ["bias"] for doc, _ in train]  # no empty document for the vectoriser
    labels = [label for _, label in train]
    classes = sorted(set(labels))
    ours = NaiveBayes(documents, labels, classes, alpha)
    vectoriser = sklearn_text.CountVectorizer(analyzer=lambda d: d, binary=True)
    theirs = sklearn_nb.MultinomialNB(alpha=alpha).fit(vectoriser.fit_transform(documents),
                                                       labels)
    assert list(theirs.classes_) == classes
    expected = theirs.predict_proba(vectoriser.transform([q + ["bias"] for q in asked]))
    got = np.array([ours.probabilities(q + ["bias"]) for q in asked])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("asked", [10, ROWS - 1, ROWS, 3 * ROWS])
def test_a_question_with_more_known_features_than_the_precomputed_rows(asked):
    """The classes' base for k known features is computed once for k < ROWS
    and on the spot past it: both are scikit-learn's figures. Every asked
    feature is once in each class, so the classes differ only by that base
    (their sizes), the part the rows hold, and no probability is 0 or 1."""
    asked_features = [f"q{i}" for i in range(asked)]
    documents = [asked_features, asked_features, asked_features,
                 [f"x{i}" for i in range(4)], [f"y{i}" for i in range(8)],
                 [f"z{i}" for i in range(12)]]
    labels = ["x", "y", "z", "x", "y", "z"]
    ours = NaiveBayes(documents, labels, ["x", "y", "z"])
    vectoriser = sklearn_text.CountVectorizer(analyzer=lambda d: d, binary=True)
    theirs = sklearn_nb.MultinomialNB(alpha=ALPHA).fit(vectoriser.fit_transform(documents),
                                                       labels)
    assert len(ours.parts(asked_features)) == asked
    expected = theirs.predict_proba(vectoriser.transform([asked_features]))[0]
    assert expected.min() > 1e-9
    np.testing.assert_allclose(ours.probabilities(asked_features), expected, rtol=1e-7)


def test_a_class_without_documents_gets_no_probability_and_unknown_features_none():
    model = NaiveBayes([["refund"], ["ship"]], ["refund", "ship"], ["refund", "ship", "none"])
    p = model.probabilities(["refund", "never seen"])
    assert p[2] == 0.0 and p[0] > p[1] and p.sum() == pytest.approx(1.0)
    assert np.array_equal(model.probabilities(["refund", "never seen"]), p)  # deterministic


def test_features_are_terms_and_character_ngrams_without_bare_spaces():
    found = features_of("运费 ok")
    assert {"运", "运费", "w:ok", "c:运", "c:运费", "c: ok", "c:ok ", "c:ok"} <= found
    assert not {"c: ", "c:  ", "c:   "} & found
    assert not {"c:o", "c:k"} & found  # a Latin letter alone is no feature
