"""Counters and histograms for the hot path, turned into Prometheus metrics
only when scraped.

prometheus-client guards every increment with a lock, which under gevent is
a Python-level object: its two histograms and two counters per bot answer
were 3.6% of the CS server's CPU (py-spy under ``run.py loadtest``). The CS
server runs in one OS thread (greenlets switch only when they wait), so
plain integers are safe here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric


class Tally:
    """A counter per combination of label values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self._name = name
        self._documentation = documentation
        self._labels = list(labels)
        self.counts: dict[tuple[str, ...], int] = {}

    def add(self, *values: str) -> None:
        self.counts[values] = self.counts.get(values, 0) + 1

    def collect(self) -> Metric:
        family = CounterMetricFamily(self._name, self._documentation, labels=self._labels)
        for values, count in sorted(self.counts.items()):
            family.add_metric(list(values), count)
        return family


class Series:
    """One histogram's buckets (``le`` bounds), sum and count."""

    __slots__ = ("_bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self._bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        running = 0
        buckets = []
        for bound, count in zip((*map(str, self._bounds), "+Inf"), self.counts, strict=True):
            running += count
            buckets.append((bound, float(running)))
        return buckets


class Timings:
    """A histogram per combination of label values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str],
                 buckets: Sequence[float]) -> None:
        self._name = name
        self._documentation = documentation
        self._labels = list(labels)
        self._bounds = tuple(sorted(buckets))
        self._series: dict[tuple[str, ...], Series] = {}

    def series(self, *values: str) -> Series:
        series = self._series.get(values)
        if series is None:
            series = self._series[values] = Series(self._bounds)
        return series

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self._name, self._documentation, labels=self._labels)
        for values, series in sorted(self._series.items()):
            family.add_metric(list(values), series.cumulative(), sum_value=series.total)
        return family


class TallyCollector:
    """Registers tallies and timings with a prometheus-client registry."""

    def __init__(self, *metrics: Tally | Timings) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        for metric in self._metrics:
            yield metric.collect()
