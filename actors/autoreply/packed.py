"""Sparse score vectors kept as packed bytes, summed in one numpy call.

Both layers of the auto-reply score a question the same way: each of its
terms (retrieval, scorer.py) or features (the learned layer, classifier.py)
adds a short list of (index, weight) pairs to a vector, and the lists are
summed. Kept as numpy arrays, a question's 50-odd lists cost two
``np.concatenate`` calls of 50 arrays each, about a third of an answer's
time. Kept as bytes, they are gathered by ``b"".join`` in C, read back as one
record array with no copy, and summed by one ``bincount``; the two layers'
lists, their indexes kept apart (``offset``), by the same one.

The sums are the arrays' own, bit for bit: ``bincount`` adds each index's
weights in the order it is given them, whichever way they were gathered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt

RECORD = np.dtype([("index", np.intp), ("weight", np.float64)])
_Floats = npt.NDArray[np.float64]


def packed(indexes: npt.ArrayLike, weights: npt.ArrayLike) -> bytes:
    """(index, weight) pairs as the bytes ``summed`` reads: one weight per
    index (numpy would spread one weight over them all)."""
    places, values = np.asarray(indexes), np.asarray(weights)
    if places.shape != values.shape or places.ndim != 1:
        raise ValueError(f"{places.shape} indexes and {values.shape} weights: one each")
    pairs = np.empty(len(places), RECORD)
    pairs["index"], pairs["weight"] = places, values
    return pairs.tobytes()


def packed_runs(indexes: npt.ArrayLike, weights: npt.ArrayLike,
                starts: Sequence[int]) -> list[bytes]:
    """``packed`` of each run [starts[i], starts[i + 1]) of the pairs: one
    conversion and a slice of bytes per run (a run per term or feature, tens
    of thousands of them when a knowledge base is built)."""
    whole = packed(indexes, weights)
    size = RECORD.itemsize
    return [whole[size * start:size * end] for start, end in zip(starts, starts[1:], strict=False)]


def scaled(pairs: bytes, factor: float) -> bytes:
    """``pairs`` with every weight times ``factor``."""
    records = np.frombuffer(pairs, RECORD).copy()
    records["weight"] *= factor
    return records.tobytes()


def summed(parts: list[bytes], size: int) -> _Floats:
    """The vector of ``size`` that the parts' pairs add up to (their indexes
    are below ``size``: the callers pack their own)."""
    if not parts:  # bincount of nothing is a vector of integers
        return np.zeros(size)
    records = np.frombuffer(b"".join(parts), RECORD)
    return cast(_Floats, np.bincount(records["index"], records["weight"], size))
