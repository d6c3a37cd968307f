"""Child processes of the load test, pinned to a core, and their CPU and memory;
and how busy the load tool's own cores were."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from storage.embedded import stop_process
from transport.http.client import NotReady, wait_healthy

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]


def pin(pid: int, core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        try:
            os.sched_setaffinity(pid, {core})
        except OSError:
            log.warning("could not pin process %s to core %s", pid, core)


def process_stats(pid: int) -> dict[str, float]:
    """CPU seconds used so far and peak RSS (MB) of a child, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    memory = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status
              if line.startswith(("VmHWM", "VmRSS"))}
    return {"cpu_secs": (int(stat[11]) + int(stat[12])) / ticks,
            "peak_rss_mb": memory.get("VmHWM", 0.0), "rss_mb": memory.get("VmRSS", 0.0)}


def cores_ticks(cores: set[int], stat: str | None = None) -> tuple[int, int]:
    """(busy, total) clock ticks so far of ``cores``, from /proc/stat's ``cpuN``
    lines: user, nice, system, idle, iowait, irq and softirq, idle and iowait
    the not-busy ones. Steal (time the hypervisor gave to other machines) is
    neither, so it is left out, as are guest times (already within user) and
    a line too short to read. (0, 0) where /proc/stat is missing: not Linux."""
    if stat is None:
        try:
            stat = Path("/proc/stat").read_text()
        except OSError:
            return 0, 0
    busy = total = 0
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            fields = rest.split()[:7]
            if len(fields) < 5 or not all(f.isdigit() for f in fields):
                continue
            ticks = [int(f) for f in fields]
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4]
    return busy, total


def tool_cores(server_pid: int) -> set[int]:
    """The cores this process may run on, or none if it shares one with the
    server (not pinned apart: one core, or pinning refused), when their
    busy share would be the server's as much as the tool's."""
    if not hasattr(os, "sched_getaffinity"):
        return set()
    mine = os.sched_getaffinity(0)
    try:
        theirs = os.sched_getaffinity(server_pid)
    except OSError:
        return set()
    return set() if mine & theirs else mine


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """The busy share of the ticks between two ``cores_ticks``; None if none passed."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else None


class Child:
    """A child process (CS server or ceiling) started with run.py."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), *argv],
                                     env={**os.environ, **env}, stdout=self._log,
                                     stderr=self._log, stdin=subprocess.DEVNULL)
        pin(self.proc.pid, 0)
        try:
            wait_healthy(self.url, lambda: self.proc.poll() is not None, timeout_secs=30)
        except NotReady:
            raise RuntimeError(f"{argv[0]} did not start; see {log_path}") from None

    def stop(self) -> None:
        stop_process(self.proc, timeout_secs=30)
        self._log.close()
