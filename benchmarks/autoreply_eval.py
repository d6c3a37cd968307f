"""The auto-reply's accuracy on questions it has never seen.

    python benchmarks/autoreply_eval.py [--k 10] [--lockbox] [--errors]

Scores tests/data/autoreply_heldout.jsonl by k-fold cross-validation (the
threshold fitted on the training folds only; see actors/autoreply/evaluation.py)
against config/knowledge.yaml. ``--lockbox`` also judges
tests/data/autoreply_lockbox.jsonl, a set not looked at while the matcher was
built, at the threshold fitted on the whole held-out set.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.autoreply.engine import AutoReply  # noqa: E402
from actors.autoreply.evaluation import (  # noqa: E402
    Outcome,
    cross_validate,
    fit_threshold,
    judge,
    load_labelled,
    report,
)
from actors.autoreply.knowledge import load_knowledge  # noqa: E402
from actors.config import CsConfig  # noqa: E402

DATA = ROOT / "tests" / "data"


def show(title: str, outcomes: list[Outcome], errors: bool) -> None:
    r = report(outcomes)
    print(f"{title}: accuracy {r.accuracy:.3f} on {len(outcomes)} questions; "
          f"off-topic handed to a person {r.off_topic_to_person:.3f}")
    print("  per language: " + ", ".join(f"{lang} {acc:.3f} ({n})"
                                         for lang, (acc, n) in r.by_language.items()))
    print("  per intent:   " + ", ".join(f"{name} {acc:.2f} ({n})"
                                         for name, (acc, n) in r.by_intent.items()))
    thresholds = sorted({o.threshold for o in outcomes})
    print(f"  thresholds used: {', '.join(f'{t:.2f}' for t in thresholds)}")
    print("  confusion (expected -> got: count): " + ", ".join(
        f"{e}->{g}: {n}" for (e, g), n in r.confusion.most_common()))
    if errors:
        for o in outcomes:
            if o.got != o.expect:
                print(f"    {o.expect:>18} -> {o.got:<18} {o.question}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--lockbox", action="store_true")
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args()
    autoreply = AutoReply(load_knowledge(ROOT / "config" / "knowledge.yaml"),
                          CsConfig().human_words)
    items = load_labelled(DATA / "autoreply_heldout.jsonl")
    show(f"held-out, {args.k}-fold", cross_validate(autoreply, items, args.k), args.errors)
    if args.lockbox:
        threshold = fit_threshold(autoreply, [autoreply.score(i.question) for i in items], items)
        show("lockbox", judge(autoreply, load_labelled(DATA / "autoreply_lockbox.jsonl"),
                              threshold), args.errors)


if __name__ == "__main__":
    main()
