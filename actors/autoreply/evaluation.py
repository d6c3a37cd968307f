"""Honest measurement of the auto-reply: k-fold cross-validation on labelled questions.

The knowledge base is not learnt from the labelled questions; what is
fitted is the engine's threshold (and, when asked, its blend). Each fold's
settings are chosen on the other folds only, and the fold is then judged
with them, so every figure here is of questions the fitted numbers never
saw. ``benchmarks/autoreply_eval.py`` prints the report;
tests/test_autoreply_eval.py holds the floors.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from actors.autoreply.engine import HUMAN, AutoReply, Scored
from actors.autoreply.knowledge import HUMAN_LABEL, NONE_LABEL, Knowledge
from actors.autoreply.text import language_of, normalise

# Thresholds tried on the training folds: the engine's confidence is a share
# (0..1), and a step of 0.01 is finer than any difference the sets can show.
THRESHOLDS = tuple(t / 100 for t in range(5, 81))
# Blends that can be fitted with it (``blends=BLENDS``). By default only the
# threshold is: fitting the blend as well chose 0.0-0.6 fold to fold and lost
# accuracy against any fixed blend of 0.2-0.4 (docs/autoreply.md).
BLENDS = tuple(b / 10 for b in range(11))


class Labelled(NamedTuple):
    question: str
    expect: str  # an entry id, HUMAN_LABEL or NONE_LABEL (off-topic)


class Outcome(NamedTuple):
    question: str
    expect: str
    got: str
    language: str
    blend: float  # fitted on the other folds
    threshold: float  # fitted on the other folds


def load_labelled(path: str | Path) -> list[Labelled]:
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            items.append(Labelled(record["q"], record["expect"]))
    return items


def label(scored: Scored, threshold: float) -> str:
    """What the engine does with a scored question, in the labelled set's terms
    (``AutoReply.decide``'s rule, without building its reply)."""
    if scored.ranked and scored.confidence >= threshold:
        return HUMAN_LABEL if scored.ranked[0] == HUMAN else scored.ranked[0]
    return NONE_LABEL


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


class Fit(NamedTuple):
    blend: float
    threshold: float
    right: int  # questions of the training set it gets right


def fit(scored: dict[float, list[Scored]], items: Sequence[Labelled],
        train: Sequence[int]) -> Fit:
    """The blend and threshold right on most training questions. Among tied
    thresholds the middle one, the choice least likely to sit on an edge of
    the training set; among tied blends the first."""
    best = Fit(0.0, 0.0, -1)
    for blend, scores in scored.items():
        right = [sum(label(scores[i], t) == items[i].expect for i in train)
                 for t in THRESHOLDS]
        most = max(right)
        if most > best.right:
            tied = [t for t, r in zip(THRESHOLDS, right, strict=True) if r == most]
            best = Fit(blend, tied[len(tied) // 2], most)
    return best


def without(knowledge: Knowledge, items: Sequence[Labelled],
            extra: Sequence[Labelled] = ()) -> Knowledge:
    """``knowledge`` with none of ``items`` among its examples (compared after
    normalising, so a Traditional copy is out too), and ``extra`` added: what
    an engine judged on ``items`` may learn from."""
    held = {normalise(item.question) for item in items}
    kept = tuple(e for e in knowledge.examples if normalise(e[0]) not in held)
    people = tuple(e for e in knowledge.person_examples if normalise(e[0]) not in held)
    return replace(knowledge, examples=kept + tuple((i.question, i.expect) for i in extra),
                   person_examples=people)


def score_all(knowledge: Knowledge, human_words: tuple[str, ...],
              items: Sequence[Labelled], blends: Sequence[float],
              k: int = 10) -> dict[float, list[Scored]]:
    """Every question scored once per blend (the blend changes the ranking),
    each by an engine that learnt from the other folds' questions and the
    knowledge base's examples, none of ``items`` among them."""
    dealt = folds(items, k)
    scored: dict[float, list[Scored]] = {}
    for blend in blends:
        out: list[Scored | None] = [None] * len(items)
        for test in dealt:
            held = set(test)
            train = [items[i] for i in range(len(items)) if i not in held]
            engine = AutoReply(replace(without(knowledge, items, train), blend=blend),
                               human_words)
            for i in test:
                out[i] = engine.score(items[i].question)
        scored[blend] = [s for s in out if s is not None]
    return scored


def cross_validate(knowledge: Knowledge, human_words: tuple[str, ...],
                   items: Sequence[Labelled], k: int = 10,
                   blends: Sequence[float] = (),
                   also: Sequence[Labelled] = ()) -> list[Outcome]:
    """k-fold: each fold judged by an engine that learnt from the other folds
    (and the knowledge base's examples that are not in ``items``), at the
    threshold fitted on the other folds' out-of-fold scores.

    ``also``: more labelled questions (other sets, none of ``items``) whose
    own out-of-fold scores join every fold's fit, so that the threshold of
    a set of 300 is not chosen on 270 questions alone. They are scored by
    engines that learnt from none of ``items`` and none of their own fold.
    """
    blends = blends or (knowledge.blend,)
    scored = score_all(knowledge, human_words, items, blends, k)
    everything: list[Labelled] = list(items)
    if also:
        others = score_all(without(knowledge, items), human_words, also, blends, k)
        scored = {blend: scores + others[blend] for blend, scores in scored.items()}
        everything += also
    outcomes: list[Outcome | None] = [None] * len(items)
    for test in folds(items, k):
        held = set(test)
        fitted = fit(scored, everything,
                     [i for i in range(len(everything)) if i not in held])
        for i in test:
            item = items[i]
            outcomes[i] = Outcome(item.question, item.expect,
                                  label(scored[fitted.blend][i], fitted.threshold),
                                  language_of(item.question), fitted.blend, fitted.threshold)
    return [o for o in outcomes if o is not None]


def fit_all(knowledge: Knowledge, human_words: tuple[str, ...],
            items: Sequence[Labelled], blends: Sequence[float] = ()) -> Fit:
    """The settings fitted on the whole set's out-of-fold scores: what
    config/knowledge.yaml ships."""
    return fit(score_all(knowledge, human_words, items, blends or (knowledge.blend,)), items,
               range(len(items)))


def leave_one_set_out(knowledge: Knowledge, human_words: tuple[str, ...],
                      sets: dict[str, Sequence[Labelled]]) -> dict[str, list[Outcome]]:
    """Each set judged by an engine that never learnt from it: the knowledge
    base's examples without that set's questions, at the threshold fitted on
    the other sets, each of them scored by an engine without it either."""
    judged = {}
    for name, held in sets.items():
        training = without(knowledge, held)
        scored: list[Scored] = []
        seen: list[Labelled] = []
        for other, items in sets.items():
            if other != name:
                engine = AutoReply(without(training, items), human_words)
                scored += [engine.score(item.question) for item in items]
                seen += items
        threshold = fit({knowledge.blend: scored}, seen, range(len(seen))).threshold
        judged[name] = judge(AutoReply(replace(training, threshold=threshold), human_words),
                             held)
    return judged


def judge(autoreply: AutoReply, items: Sequence[Labelled]) -> list[Outcome]:
    """Outcomes at the engine's own settings (for a set kept apart from fitting)."""
    knowledge = autoreply.knowledge
    return [Outcome(item.question, item.expect,
                    label(autoreply.score(item.question), knowledge.threshold),
                    language_of(item.question), knowledge.blend, knowledge.threshold)
            for item in items]


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
