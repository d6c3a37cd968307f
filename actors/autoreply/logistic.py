"""Binary logistic regression on binary features, fitted with L-BFGS in numpy.

The person intent (intent.py) leaves some questions undecided: they name a
person in a phrasing its rules do not know ("transfer me to support",
"你解答不了就让你们的人来"). Naive Bayes, the entry classifier
(classifier.py), sent a quarter of the off-topic questions that name a
person to one, since every word for a person is evidence for the class that
asks for one; a discriminative model learns that "客服" with "邮箱" or
"工资" is no request (docs/autoreply.md, round six).

The model is scikit-learn's ``LogisticRegression`` (L2, the intercept not
penalised): minimise ``C * sum(log-loss) + |w|^2 / 2``. It is fitted on the
labelled questions that name a person (about 1,300 with the sample knowledge
base: ~90 ms here, a fifth of the engine's build), by a hand-written L-BFGS over
index arrays, which brings no scipy into the server;
tests/test_autoreply_logistic.py holds it to scikit-learn's probabilities.

Deterministic: no randomness, features in sorted order, and a question's
weights summed exactly (``math.fsum``), whatever the order of its features.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.intp]

MEMORY = 10  # L-BFGS correction pairs
MAX_ITERATIONS = 500
TOLERANCE = 1e-6  # on the largest gradient component, relative to the data's size


class LogisticRegression:
    """Immutable once fitted; ``probability`` is safe from any greenlet."""

    def __init__(self, documents: Sequence[Iterable[str]], labels: Sequence[bool],
                 c: float = 1.0) -> None:
        """Fit the model; it learns nothing from one class, so both are needed.

        Args:
            documents: each document's features (each counted once).
            labels: True for the positive class.
            c: the inverse of the L2 penalty's strength, as scikit-learn's ``C``.

        Raises:
            ValueError: a label per document missing, a label not a bool, one
                class only, or ``c`` not a positive finite number.
        """
        if len(documents) != len(labels):
            raise ValueError("one label per document")
        if not all(isinstance(label, bool) for label in labels) or len(set(labels)) != 2:
            raise ValueError("labels must be True and False, both present")
        if not 0 < c < math.inf:
            raise ValueError(f"c must be a positive finite number, not {c}")
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for i, document in enumerate(documents):
            for feature in sorted(set(document)):
                rows.append(i)
                cols.append(vocabulary.setdefault(feature, len(vocabulary)))
        self._vocabulary = vocabulary
        y = np.asarray(labels, dtype=np.float64)
        self._weights, self._bias = _fit(np.asarray(rows, dtype=np.intp),
                                         np.asarray(cols, dtype=np.intp),
                                         len(documents), len(vocabulary), y, c)

    def probability(self, features: Iterable[str]) -> float:
        """The positive class's probability; unknown features are left out."""
        vocabulary, weights = self._vocabulary, self._weights
        z = math.fsum([self._bias, *(float(weights[vocabulary[f]])
                                     for f in set(features) if f in vocabulary)])
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


def _fit(rows: _Ints, cols: _Ints, n: int, d: int, y: _Floats,
         c: float) -> tuple[_Floats, float]:
    """Weights and intercept minimising ``c * sum(log-loss) + |w|^2 / 2``."""

    def objective(theta: _Floats) -> tuple[float, _Floats]:
        w, b = theta[:d], theta[d]
        z = np.bincount(rows, weights=w[cols], minlength=n) + b
        # log(1 + e^z) - y z, stably; its derivative is sigmoid(z) - y.
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z))
        residual = _sigmoid(z) - y
        gradient = np.empty(d + 1)
        gradient[:d] = c * np.bincount(cols, weights=residual[rows], minlength=d) + w
        gradient[d] = c * residual.sum()
        return c * loss + 0.5 * _dot(w, w), gradient

    theta = np.zeros(d + 1)
    value, gradient = objective(theta)
    tolerance = TOLERANCE * max(1.0, c * n)
    steps: list[tuple[_Floats, _Floats, float]] = []  # (s, y, 1 / y.s)
    for _ in range(MAX_ITERATIONS):
        if np.abs(gradient).max() <= tolerance:
            break
        direction = -_two_loop(gradient, steps)
        slope = _dot(gradient, direction)
        if slope >= 0:  # not a descent direction: start the memory again
            steps.clear()
            direction, slope = -gradient, -_dot(gradient, gradient)
        step = 1.0 if steps else 1.0 / max(1.0, float(np.abs(gradient).sum()))
        while True:  # backtracking, Armijo's condition
            candidate = theta + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, change = candidate - theta, new_gradient - gradient
        curvature = _dot(change, s)
        if curvature > 1e-12:
            steps.append((s, change, 1.0 / curvature))
            if len(steps) > MEMORY:
                steps.pop(0)
        theta, value, gradient = candidate, new_value, new_gradient
    return theta[:d].copy(), float(theta[d])


def _two_loop(gradient: _Floats, steps: list[tuple[_Floats, _Floats, float]]) -> _Floats:
    """The inverse Hessian estimate applied to ``gradient`` (L-BFGS)."""
    q = gradient.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * _dot(s, q)
        q -= alpha * y
        alphas.append(alpha)
    if steps:
        s, y, _ = steps[-1]
        q *= _dot(s, y) / _dot(y, y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
        q += (alpha - rho * _dot(y, q)) * s
    return q


def _dot(a: _Floats, b: _Floats) -> float:
    """A dot product without BLAS: its threads, on vectors this small, cost
    more than the sum (70 ms a call with another process busy on the host)."""
    return float(np.multiply(a, b).sum())


def _sigmoid(z: _Floats) -> _Floats:
    result: _Floats = np.exp(-np.logaddexp(0.0, -z))
    return result
