"""The auto-reply's accuracy on questions it has never seen.

    python benchmarks/autoreply_eval.py [--k 10] [--lockbox] [--fresh] [--pooled] [--blind]
                                        [--errors] [--blends 1.0]

Scores tests/data/autoreply_heldout.jsonl by k-fold cross-validation (the
threshold fitted on the training folds only; see actors/autoreply/evaluation.py)
against config/knowledge.yaml. ``--lockbox`` also judges
tests/data/autoreply_lockbox.jsonl, a set not looked at while the matcher was
built, at the settings in config/knowledge.yaml (fitted on the held-out set).
``--fresh`` judges tests/data/autoreply_fresh.jsonl the same way: a set written
after the matcher of issue 24 and committed before any change measured on it
(docs/autoreply.md says which figures are fitted). ``--errors`` lists the
mistakes. ``--pooled`` cross-validates the three sets together (k folds over
their union, each set's share in every fold) and prints each set's part of it:
since round three all three are development data (docs/autoreply.md), so this
is the figure changes are judged on, and the blind check is a set kept
outside the repository. ``--blind`` judges that set,
tests/data/autoreply_blind.jsonl, written by someone who never saw the
engine, its code or its errors, and measured once per engine of round three
before it entered the repository: from now on it is development data too, and
the next round needs a new blind set (docs/autoreply.md).
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.autoreply.engine import AutoReply  # noqa: E402
from actors.autoreply.evaluation import (  # noqa: E402
    BLENDS,
    Outcome,
    cross_validate,
    fit_all,
    judge,
    load_labelled,
    report,
)
from actors.autoreply.knowledge import Knowledge, load_knowledge  # noqa: E402
from actors.config import CsConfig  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = ("heldout", "lockbox", "fresh")


def show(title: str, outcomes: list[Outcome], errors: bool) -> None:
    r = report(outcomes)
    print(f"{title}: accuracy {r.accuracy:.3f} on {len(outcomes)} questions; "
          f"off-topic handed to a person {r.off_topic_to_person:.3f}")
    print("  per language: " + ", ".join(f"{lang} {acc:.3f} ({n})"
                                         for lang, (acc, n) in r.by_language.items()))
    print("  per intent:   " + ", ".join(f"{name} {acc:.2f} ({n})"
                                         for name, (acc, n) in r.by_intent.items()))
    fitted = sorted({(o.blend, o.threshold) for o in outcomes})
    print("  (blend, threshold) used: " + ", ".join(f"({b:.1f}, {t:.2f})" for b, t in fitted))
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
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--blind", action="store_true")
    parser.add_argument("--pooled", action="store_true",
                        help="k-fold over heldout + lockbox + fresh together")
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--blends", type=float, nargs="+", default=(),
                        help="blends to fit among, with the threshold (default: "
                             "config/knowledge.yaml's blend alone; "
                             f"--blends {' '.join(map(str, BLENDS))} fits it too)")
    args = parser.parse_args()
    knowledge = load_knowledge(ROOT / "config" / "knowledge.yaml")
    human_words = CsConfig().human_words
    items = load_labelled(DATA / "autoreply_heldout.jsonl")
    outcomes = cross_validate(knowledge, human_words, items, args.k, args.blends)
    show(f"held-out, {args.k}-fold", outcomes, args.errors)
    fitted = fit_all(knowledge, human_words, items, args.blends)
    print(f"fitted on the whole held-out set: blend {fitted.blend}, threshold "
          f"{fitted.threshold} (config/knowledge.yaml has {knowledge.blend}, "
          f"{knowledge.threshold})")
    if args.lockbox:
        autoreply = AutoReply(knowledge, human_words)
        show("lockbox, at config/knowledge.yaml's settings",
             judge(autoreply, load_labelled(DATA / "autoreply_lockbox.jsonl")), args.errors)
    if args.fresh:
        autoreply = AutoReply(knowledge, human_words)
        show("fresh, at config/knowledge.yaml's settings",
             judge(autoreply, load_labelled(DATA / "autoreply_fresh.jsonl")), args.errors)
    if args.blind:
        autoreply = AutoReply(knowledge, human_words)
        show("blind, at config/knowledge.yaml's settings",
             judge(autoreply, load_labelled(DATA / "autoreply_blind.jsonl")), args.errors)
    if args.pooled:
        pooled(knowledge, human_words, args.k, args.blends, args.errors)


def pooled(knowledge: Knowledge, human_words: tuple[str, ...], k: int,
           blends: Sequence[float], errors: bool) -> None:
    """k-fold over the union of the three sets; each set's questions then
    judged at settings fitted on folds that held none of them."""
    sets = {name: load_labelled(DATA / f"autoreply_{name}.jsonl") for name in SETS}
    items = [item for chosen in sets.values() for item in chosen]
    outcomes = cross_validate(knowledge, human_words, items, k, blends)
    show(f"pooled (heldout + lockbox + fresh), {k}-fold", outcomes, errors)
    start = 0
    for name, chosen in sets.items():
        show(f"  of which {name}", outcomes[start:start + len(chosen)], False)
        start += len(chosen)
    fitted = fit_all(knowledge, human_words, items, blends)
    print(f"fitted on the pooled set: blend {fitted.blend}, threshold {fitted.threshold}")


if __name__ == "__main__":
    main()
