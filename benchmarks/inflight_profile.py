"""Where the server's time per answer goes with 64 callbacks in flight and with 5.

    python benchmarks/inflight_profile.py [--secs 9] [--top 25]

Runs one round of the load test (``run.py loadtest``), attaches py-spy (in
``.[load]``) to the CS server during each saturation, and prints, per
function, the server's CPU per answer at 64 in flight, at 5, and the
difference, largest first: the functions whose cost 64 concurrent callbacks
share and 5 do not. Each sample's share of the run is scaled by the CPU per
answer the load test reports, so the figures are µs per answer.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def until(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("the load test did not reach the phase in time")
        time.sleep(0.1)


def server_pid() -> str | None:
    found = subprocess.run(["pgrep", "-f", "run.py --log-level WARNING serve"],
                           capture_output=True, text=True).stdout.split()
    return found[0] if found else None


def per_function(raw: Path) -> tuple[Counter[str], Counter[str], int]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return inclusive, own, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--secs", type=float, default=9.0, help="seconds recorded per setting")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inflight-"))
    log = work / "loadtest.log"
    with log.open("w") as out:
        test = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "loadtest", "--customers", "1000",
             "--duration", "5", "--rate", "0", "--ceiling-secs", "1",
             "--saturate-secs", str(args.secs + 5), "--rounds", "1", "--half-secs", "2",
             "--output", str(work / "loadtest.json")], stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text
    until(lambda: server_pid() is not None)
    pid = server_pid()
    assert pid is not None
    raws: dict[str, Path] = {}
    for setting, starts in (("64", "ceiling, 64 in flight"), ("5", "ceiling, 5 in flight")):
        until(lambda starts=starts: any(line.startswith(starts)
                                        for line in text().splitlines()))
        time.sleep(1)  # into the saturation that follows the ceiling
        raws[setting] = work / f"in-flight-{setting}.raw"
        subprocess.run([str(BIN / "py-spy"), "record", "--pid", pid, "-d", str(int(args.secs)),
                        "-r", "250", "-f", "raw", "-o", str(raws[setting]), "--nonblocking"],
                       capture_output=True, check=True)
    test.wait()
    cost = dict(re.findall(r"saturation, (\d+) in flight: .*?\(([\d.]+) µs per answer\)", text()))
    print(f"CPU per answer: {cost['64']} µs with 64 in flight, {cost['5']} µs with 5 "
          f"(load test output in {work})")
    (i64, o64, t64), (i5, o5, t5) = per_function(raws["64"]), per_function(raws["5"])
    us64, us5 = float(cost["64"]), float(cost["5"])
    for title, a64, a5 in (("inclusive", i64, i5), ("own", o64, o5)):
        print(f"--- {title}: µs per answer with 64 | with 5 | difference")
        names = {k for k, _ in a64.most_common(80)} | {k for k, _ in a5.most_common(80)}
        rows = sorted(((a5[k] / t5 * us5 - a64[k] / t64 * us64, k) for k in names), reverse=True)
        for difference, name in rows[:args.top]:
            print(f"{a64[name] / t64 * us64:7.1f} {a5[name] / t5 * us5:7.1f} {difference:+7.1f}"
                  f"  {name[:100]}")


if __name__ == "__main__":
    main()
