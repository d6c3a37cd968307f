"""BM25 over character n-grams: retrieval that works for Chinese and English alike.

Chinese has no spaces, so words come from characters: each run of Han
characters gives its single characters and its bigrams (the usual
dictionary-free choice; it needs no segmentation model). English words are
lower-cased and lightly stemmed, and also give character trigrams, so that
a typo ("refnud") still shares most of its evidence with the right word.

BM25 is implemented here (about forty lines) rather than taken from
rank-bm25, whose last release was in 2022 and which rescans every document
per query; an inverted index keeps a query proportional to its matches.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from actors.autoreply.text import normalise

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"([{_HAN}]+)|([a-z0-9]+)")
# Words that every English question has; Han function characters are left to IDF.
STOPWORDS = frozenset(
    "a an the is are am was be to of for on in at it its and or i me my we our you your "
    "do does did can could would will please hi hello how what when where which there "
    "this that with about have has get".split())
# Han characters that carry no topic: alone, or paired with each other, they
# only dilute how much of a question a known question explains. 什 and 怎
# (什么, 怎么) ask, they say nothing of what: as a term, 什么 sent chit-chat
# ("今天吃什么") to the entries whose variants ask 什么时候 (pooled 10-fold
# 0.926 -> 0.933, zh 0.933 -> 0.944).
_HAN_STOP = frozenset("的了吗呢啊吧呀我你您他她们是在有想要请问一下个这那和就都也还么什怎")
# Han words that name no topic: "东西" (a thing) and "情况" (a situation) are
# in questions of every kind. Once customers' questions were shipped as
# examples (config/knowledge.yaml), "这是什么东西" and "什么情况" answered with
# the warranty entry, whose examples say "东西坏了" and "哪些情况".
_HAN_STOP_WORDS = re.compile("东西|情况")
K1, B = 1.2, 0.75
# A term in most documents says almost nothing and costs a pass over most of
# them; below this IDF (in over ~90% of documents) it is skipped.
MIN_IDF = 0.1


def stem(word: str) -> str:
    """A light suffix stripper that gives a word and most of its inflections
    one stem: "charge", "charges", "charged", "charging" -> "charg";
    "delivery", "deliveries" -> "deliveri". Stripping "s", "es", "ed" and
    "ing" alone left "price" and "prices" ("pric") apart, so a final "e" goes
    too, and "es" comes off only after s, x, z, ch or sh (boxes, matches),
    where the "e" is not the word's own."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "i"
    if word.endswith("es") and word[-3] in "sxz" or word.endswith(("ches", "shes")):
        return word[:-2]
    for suffix in ("ing", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    if word.endswith("y") and len(word) > 4:
        return word[:-1] + "i"
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def tokens(text: str) -> list[str]:
    """The terms of a text: Han unigrams and bigrams; English stems and trigrams."""
    return terms_of(normalise(text))


def terms_of(normal: str) -> list[str]:
    """``tokens`` of a text already ``normalise``d (the engine normalises a
    question once and searches two indexes with its terms)."""
    terms: list[str] = []
    if "东" in normal or "情" in normal:
        normal = _HAN_STOP_WORDS.sub(" ", normal)
    for han, word in _RUNS.findall(normal):
        if han:
            terms += [c for c in han if c not in _HAN_STOP]
            terms += [han[i:i + 2] for i in range(len(han) - 1)
                      if han[i] not in _HAN_STOP or han[i + 1] not in _HAN_STOP]
        elif word not in STOPWORDS:
            root = stem(word)
            terms.append("w:" + root)
            padded = f"^{root}$"
            terms += ["t:" + padded[i:i + 3] for i in range(len(padded) - 2)]
    return terms


class Ranking(NamedTuple):
    """The best documents for a query, and how much of the query each explains.

    ``own_score`` is what the query would score against itself: a document's
    score over it says how much of the question the document explains
    (0..1), the engine's confidence. (The share of the *document* the query
    hits was tried as the confidence too: 0.926 against 0.942 on the
    labelled set, so it went.)
    """

    hits: list[tuple[int, float]]  # (document, score), best first
    own_score: float

    def coverage(self, score: float) -> float:
        return min(1.0, score / self.own_score)


class Bm25Index:
    """Immutable once built; safe to share between sessions."""

    def __init__(self, documents: Iterable[str]) -> None:
        docs = [Counter(tokens(d)) for d in documents]
        self._lengths = [sum(d.values()) for d in docs]
        self._avg = (sum(self._lengths) / len(docs)) if docs else 1.0
        counts: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, count in doc.items():
                counts[term].append((i, count))
        n = len(docs)
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))
                     for t, p in counts.items()}
        # A query term no document has counts as rare as the rarest known one.
        self._unknown_idf = max(self._idf.values(), default=1.0)
        # Each posting carries its whole BM25 term weight, computed once here:
        # a query then only adds numbers (it was a third of an answer's cost).
        self._postings: dict[str, dict[int, float]] = {
            term: {doc: self._idf[term] * count * (K1 + 1)
                   / (count + self._norm(self._lengths[doc]))
                   for doc, count in postings}
            for term, postings in counts.items() if self._idf[term] >= MIN_IDF}

    @property
    def size(self) -> int:
        """How many documents the index holds."""
        return len(self._lengths)

    @property
    def terms(self) -> frozenset[str]:
        """Every term a document has (the postings leave out the commonest)."""
        return frozenset(self._idf)

    @property
    def postings(self) -> dict[str, dict[int, float]]:
        """Each term's documents and BM25 weights (scorer.py reads them; do not change)."""
        return self._postings

    @property
    def unknown_idf(self) -> float:
        """The IDF of a term no document has."""
        return self._unknown_idf

    def idf(self, term: str) -> float:
        """A term's IDF; a term no document has counts as rare as the rarest."""
        return self._idf.get(term, self._unknown_idf)

    def self_score_of_distinct(self, idf_sum: float, length: int) -> float:
        """``self_score`` of a query of ``length`` terms each once, whose IDFs
        sum to ``idf_sum`` (scorer.py sums them with the scores)."""
        return idf_sum * (K1 + 1) / (1 + self._norm(length))

    def _norm(self, length: int) -> float:
        """BM25's length normalisation of a text of ``length`` terms."""
        return K1 * (1 - B + B * length / self._avg)

    def _score(self, query: Counter[str]) -> dict[int, float]:
        scores: dict[int, float] = {}
        get = scores.get
        for term, q_count in query.items():
            postings = self._postings.get(term)
            if not postings:
                continue
            if not scores and q_count == 1:
                scores.update(postings)  # the first term's weights, copied in C
                continue
            for doc, weight in postings.items():
                scores[doc] = get(doc, 0.0) + q_count * weight
        return scores

    def self_score(self, query: Counter[str]) -> float:
        """What the query would score against itself: the 1.0 of coverage."""
        length = sum(query.values())
        norm = self._norm(length)
        if length == len(query):  # each term once, as in nearly every question: sum in C
            return (sum(map(self._idf.get, query, repeat(self._unknown_idf)))
                    * (K1 + 1) / (1 + norm))
        return sum(count * self._idf.get(term, self._unknown_idf) * count * (K1 + 1)
                   / (count + norm) for term, count in query.items())

    def search(self, text: str, limit: int = 10) -> Ranking:
        """The best ``limit`` documents. Plain pairs, not an object per hit:
        the auto-reply reads only the first few (a sixth of its cost was hits
        it never read)."""
        return self.search_terms(Counter(tokens(text)), limit)

    def search_terms(self, query: Counter[str], limit: int = 10) -> Ranking:
        """``search`` for a question's terms (``Counter(tokens(text))``)."""
        scores = self._score(query)
        # sorted() runs in C; nlargest's key loop was Python (measured 2x slower here)
        best = sorted(scores.items(), key=itemgetter(1), reverse=True)[:limit]
        return Ranking(best, (self.self_score(query) or 1.0) if best else 1.0)
