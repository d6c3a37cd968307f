"""The load test's ``--plot``: replies per second and latency over time, as a PNG."""

from __future__ import annotations

from typing import NamedTuple

from transport.sim.loadpeople import Samples, percentile


class PerSecond(NamedTuple):
    """One value per whole second of the run, from its first sample's second."""

    replies: list[int]
    p50_ms: list[float]
    p99_ms: list[float]


def per_second(samples: Samples) -> PerSecond:
    """Replies, and their median and 99th-percentile latency, in each second."""
    seconds = int(max((t for t, _ in samples.latencies), default=0)) + 1
    buckets: list[list[float]] = [[] for _ in range(seconds)]
    for t, latency in samples.latencies:
        buckets[int(t)].append(latency * 1000)
    for bucket in buckets:
        bucket.sort()
    return PerSecond([len(b) for b in buckets],
                     [percentile(b, 0.50) if b else 0.0 for b in buckets],
                     [percentile(b, 0.99) if b else 0.0 for b in buckets])


def plot(samples: Samples, path: str) -> str:
    """Draw the samples as two charts sharing the time axis; says what happened."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "--plot needs matplotlib: pip install matplotlib"
    series = per_second(samples)
    seconds = range(len(series.replies))
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
    top.plot(seconds, series.replies)
    top.set_ylabel("replies / s")
    bottom.plot(seconds, series.p99_ms, label="p99")
    bottom.plot(seconds, series.p50_ms, label="p50")
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("seconds")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f"plot written to {path}"
