"""The person intent's learned part (actors/autoreply/logistic.py) is
scikit-learn's L2 logistic regression, written in numpy so that the server
needs neither scipy nor scikit-learn: the two are held to the same
probabilities on generated data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.autoreply.logistic import LogisticRegression

sklearn_linear = pytest.importorskip("sklearn.linear_model")
sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")

FEATURES = st.lists(st.sampled_from("ab cd ef gh ij kl mn 转 人工 客服".split()), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(FEATURES, st.booleans()), min_size=2, max_size=30)
       .filter(lambda rows: len({label for _, label in rows}) == 2
               and any(doc for doc, _ in rows)),
       st.lists(FEATURES, min_size=1, max_size=5),
       st.sampled_from([0.1, 1.0, 10.0]))
def test_the_probabilities_are_scikit_learns_logistic_regression(train, asked, c):
    # Documents may be empty (a question with no known feature), and so may questions.
    documents = [doc for doc, _ in train]
    labels = [label for _, label in train]
    ours = LogisticRegression(documents, labels, c)
    vectoriser = sklearn_text.CountVectorizer(analyzer=lambda d: d, binary=True)
    theirs = sklearn_linear.LogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(
        vectoriser.fit_transform(documents), labels)
    expected = theirs.predict_proba(vectoriser.transform(asked))[:, 1]
    got = np.array([ours.probability(q) for q in asked])
    np.testing.assert_allclose(got, expected, atol=2e-4)


def test_unknown_features_are_left_out_and_the_order_of_features_does_not_matter():
    model = LogisticRegression([["转", "人工"], ["运费"], ["人工", "湖"]], [True, False, False],
                               c=10.0)
    assert model.probability(["转", "人工"]) > 0.5 > model.probability(["运费"])
    assert model.probability(["转", "never seen"]) == model.probability(["转"])
    assert model.probability(["人工", "转"]) == model.probability(("转", "人工"))


@pytest.mark.parametrize("labels, c", [
    ([True, True], 1.0), ([False, False], 1.0), ([1, 0], 1.0), ([True, False], 0.0),
    ([True, False], -1.0), ([True, False], float("inf")), ([True], 1.0)])
def test_one_class_a_label_not_a_bool_or_a_bad_c_is_refused(labels, c):
    with pytest.raises(ValueError):
        LogisticRegression([["a"], ["b"]], labels, c)
