"""Honest measurement of the auto-reply: k-fold cross-validation on labelled questions.

The knowledge base is not learnt from the labelled questions; what is
fitted is the engine's threshold. Each fold's threshold is chosen on the
other folds only, and the fold is then judged with it, so every figure here
is of questions the fitted number never saw. ``benchmarks/autoreply_eval.py``
prints the report; tests/test_autoreply_eval.py holds the floors.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from actors.autoreply.engine import ANSWER, ASK_HUMAN, AutoReply, Scored
from actors.autoreply.text import language_of

HUMAN_LABEL, NONE_LABEL = "human", "none"  # the labels that are not entry ids
# Thresholds tried on the training folds: the engine's confidence is a share
# (0..1), and a step of 0.01 is finer than any difference the sets can show.
THRESHOLDS = tuple(t / 100 for t in range(5, 81))


class Labelled(NamedTuple):
    question: str
    expect: str  # an entry id, HUMAN_LABEL or NONE_LABEL (off-topic)


class Outcome(NamedTuple):
    question: str
    expect: str
    got: str
    language: str
    threshold: float  # fitted on the other folds


def load_labelled(path: str | Path) -> list[Labelled]:
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            items.append(Labelled(record["q"], record["expect"]))
    return items


def label(autoreply: AutoReply, scored: Scored, threshold: float) -> str:
    """What the engine did, in the labelled set's terms."""
    result = autoreply.decide(scored, threshold)
    if result.kind == ANSWER:
        return result.entry_id
    return HUMAN_LABEL if result.kind == ASK_HUMAN else NONE_LABEL


def folds(items: Sequence[Labelled], k: int) -> list[list[int]]:
    """Stratified and deterministic: each label's questions dealt round-robin,
    so every fold has every intent and the split never changes between runs."""
    dealt: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    by_label: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_label.setdefault(item.expect, []).append(i)
    for name in sorted(by_label):
        for i in by_label[name]:
            dealt[turn % k].append(i)
            turn += 1
    return dealt


def fit_threshold(autoreply: AutoReply, scored: Sequence[Scored],
                  items: Sequence[Labelled]) -> float:
    """The threshold right on most of ``items``; ties go to the middle of the
    best run, the choice least likely to sit on an edge of the training set."""
    pairs = list(zip(scored, items, strict=True))
    right = [sum(label(autoreply, s, t) == item.expect for s, item in pairs)
             for t in THRESHOLDS]
    best = max(right)
    tied = [t for t, r in zip(THRESHOLDS, right, strict=True) if r == best]
    return tied[len(tied) // 2]


def cross_validate(autoreply: AutoReply, items: Sequence[Labelled],
                   k: int = 10) -> list[Outcome]:
    scored = [autoreply.score(item.question) for item in items]
    outcomes: list[Outcome | None] = [None] * len(items)
    for test in folds(items, k):
        held = set(test)
        train = [i for i in range(len(items)) if i not in held]
        threshold = fit_threshold(autoreply, [scored[i] for i in train],
                                  [items[i] for i in train])
        for i in test:
            item = items[i]
            outcomes[i] = Outcome(item.question, item.expect,
                                  label(autoreply, scored[i], threshold),
                                  language_of(item.question), threshold)
    return [o for o in outcomes if o is not None]


def judge(autoreply: AutoReply, items: Sequence[Labelled], threshold: float) -> list[Outcome]:
    """Outcomes at one fixed threshold (for a set kept apart from fitting)."""
    return [Outcome(item.question, item.expect,
                    label(autoreply, autoreply.score(item.question), threshold),
                    language_of(item.question), threshold) for item in items]


class Report(NamedTuple):
    accuracy: float
    by_language: dict[str, tuple[float, int]]  # language -> (accuracy, questions)
    by_intent: dict[str, tuple[float, int]]  # expected label -> (recall, questions)
    off_topic_to_person: float  # share of off-topic questions handed to a person
    confusion: Counter[tuple[str, str]]  # (expected, got) -> count, mistakes only


def report(outcomes: Sequence[Outcome]) -> Report:
    def share(chosen: Sequence[Outcome]) -> tuple[float, int]:
        return (sum(o.got == o.expect for o in chosen) / len(chosen) if chosen else 0.0,
                len(chosen))

    languages = sorted({o.language for o in outcomes})
    intents = sorted({o.expect for o in outcomes})
    off_topic = [o for o in outcomes if o.expect == NONE_LABEL]
    return Report(
        share(outcomes)[0],
        {lang: share([o for o in outcomes if o.language == lang]) for lang in languages},
        {name: share([o for o in outcomes if o.expect == name]) for name in intents},
        (sum(o.got == HUMAN_LABEL for o in off_topic) / len(off_topic)) if off_topic else 0.0,
        Counter((o.expect, o.got) for o in outcomes if o.got != o.expect))
