"""What a memory-hungry neighbour does to the CS server, and to the bare handler.

    python benchmarks/neighbour.py --pairs 2

This host has slow spells in which our CPU per answer rises by a third or
more while the bare Bottle handler's rises by about a tenth, which moves
the share of the ceiling from ~0.37 to ~0.33 (README, load test). This
runs the load test's ceiling and saturation (Redis on the generator's core)
alternately alone and beside a neighbour process on the generator's core
that copies 64 MB buffers in a loop, so that it fills the shared cache and
memory bus the way another tenant of the host would. A neighbour that only
spins moves our CPU per answer by 3-6%; this one reproduces the spells.

It prints the bare handler's rate and the CS server's CPU per answer, not the
share: the neighbour also takes half of the generator's core, so the
saturation is the generator's pace there (the CPU per answer is not).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR_CORE = 1
BUFFER_BYTES = 64 * 1024 * 1024  # well past any last-level cache here

_NEIGHBOUR = f"""
import os
os.sched_setaffinity(0, {{{GENERATOR_CORE}}})
source, target = bytearray({BUFFER_BYTES}), bytearray({BUFFER_BYTES})
while True:
    target[:] = source
"""


def measure(output: Path) -> dict[str, float]:
    """One ceiling and one saturation, as ``run.py loadtest`` takes them."""
    run = subprocess.run([sys.executable, str(ROOT / "run.py"), "loadtest", "--customers",
                          "200", "--duration", "2", "--rate", "0.5", "--ceiling-secs", "5",
                          "--saturate-secs", "6", "--rounds", "1", "--redis-core",
                          str(GENERATOR_CORE), "--quiet", "--output", str(output)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        sys.exit(f"run.py loadtest failed:\n{run.stderr}")
    result = json.loads(output.read_text())
    return {name: result[name] for name in (
        "ceiling_callbacks_per_sec", "ceiling_server_cpu_percent",
        "saturation_server_cpu_us_per_answer", "saturation_server_cpu_percent")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=2, help="quiet/neighbour pairs to run")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores: the server's and the generator's")
    runs = []
    with tempfile.TemporaryDirectory() as workdir:
        output = Path(workdir) / "run.json"
        for pair in range(args.pairs):
            for neighbour in (False, True):
                hog = (subprocess.Popen([sys.executable, "-c", _NEIGHBOUR])
                       if neighbour else None)
                try:
                    measured = measure(output)
                finally:
                    if hog is not None:
                        hog.kill()
                        hog.wait()
                runs.append({"pair": pair + 1, "neighbour": neighbour, **measured})
                print(f"pair {pair + 1} {'neighbour' if neighbour else 'quiet    '}: "
                      f"bare handler {measured['ceiling_callbacks_per_sec']:.0f}/s "
                      f"(its CPU {measured['ceiling_server_cpu_percent']:.0f}%), "
                      f"CS server {measured['saturation_server_cpu_us_per_answer']:.0f} µs "
                      f"of CPU per answer", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
