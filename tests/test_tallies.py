"""Hot-path counters and histograms read as Prometheus metrics."""

from prometheus_client import CollectorRegistry, generate_latest

from transport.edge.tallies import Tally, TallyCollector, Timings


def scrape(*metrics):
    registry = CollectorRegistry()
    registry.register(TallyCollector(*metrics))
    return generate_latest(registry).decode()


def test_a_tally_counts_each_combination_of_labels():
    tally = Tally("cs_things", "Things", ["route", "result"])
    tally.add("robot", "accepted")
    tally.add("robot", "accepted")
    tally.add("shadow", "refused_403")
    text = scrape(tally)
    assert 'cs_things_total{result="accepted",route="robot"} 2.0' in text
    assert 'cs_things_total{result="refused_403",route="shadow"} 1.0' in text


def test_timings_are_cumulative_buckets_where_a_bound_holds_values_equal_to_it():
    timings = Timings("cs_wait_seconds", "Waits", ["route"], [0.1, 1.0])
    series = timings.series("robot")
    for value in (0.05, 0.1, 0.5, 2.0):
        series.observe(value)
    text = scrape(timings)
    assert 'cs_wait_seconds_bucket{le="0.1",route="robot"} 2.0' in text
    assert 'cs_wait_seconds_bucket{le="1.0",route="robot"} 3.0' in text
    assert 'cs_wait_seconds_bucket{le="+Inf",route="robot"} 4.0' in text
    assert 'cs_wait_seconds_count{route="robot"} 4.0' in text
    assert 'cs_wait_seconds_sum{route="robot"} 2.65' in text


def test_the_same_labels_give_the_same_series():
    timings = Timings("cs_wait_seconds", "Waits", [], [1.0])
    timings.series().observe(0.5)
    timings.series().observe(0.5)
    assert 'cs_wait_seconds_count 2.0' in scrape(timings)
