"""What one auto-reply answer costs with a 200-entry knowledge base, and what
the engine costs to start.

    python benchmarks/autoreply_speed.py [--entries 200] [--repeat 7]

The knowledge base is config/knowledge.yaml's entries copied until there are
``--entries`` of them, each copy's questions made its own with a model
number (so the index is 200 entries' size, not 14 entries' repeated); the
questions are tests/data/autoreply_heldout.jsonl's 307, asked in turn (none is
a variant as written, so none takes the exact-match short cut). The figures
are the median and the best of ``--repeat`` passes, in µs per question.
"""

import argparse
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

started = time.perf_counter()
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from actors.autoreply.engine import AutoReply  # noqa: E402
from actors.autoreply.evaluation import load_labelled  # noqa: E402
from actors.autoreply.knowledge import Entry, load_knowledge  # noqa: E402
from actors.config import CsConfig  # noqa: E402

import_secs = time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    base = load_knowledge(ROOT / "config" / "knowledge.yaml")
    entries = list(base.entries)
    for i in range(len(entries), args.entries):
        e = base.entries[i % len(base.entries)]
        entries.append(Entry(f"{e.id}_{i}", tuple(f"{q} 型号{i} model {i}" for q in e.questions),
                             e.answer, e.answers))
    knowledge = replace(base, entries=tuple(entries[:args.entries]))
    t0 = time.perf_counter()
    autoreply = AutoReply(knowledge, CsConfig().human_words)
    build_ms = 1000 * (time.perf_counter() - t0)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    labelled = load_labelled(ROOT / "tests" / "data" / "autoreply_heldout.jsonl")
    questions = [item.question for item in labelled]
    passes = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for question in questions:
            autoreply.reply(question)
        passes.append((time.perf_counter() - t0) / len(questions))
    print(f"{args.entries} entries: {1e6 * statistics.median(passes):.1f} µs per question "
          f"(median of {args.repeat} passes over {len(questions)} questions; best "
          f"{1e6 * min(passes):.1f}); engine built in {build_ms:.1f} ms; "
          f"imports {1000 * import_secs:.0f} ms; peak RSS {rss_after / 1024:.1f} MB "
          f"(+{(rss_after - rss_before) / 1024:.1f} MB over the interpreter)")


if __name__ == "__main__":
    main()
