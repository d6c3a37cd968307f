"""The load-test tool itself: a short run finishes, its counts add up, nothing is lost."""

import json

import pytest

from transport.sim.loadgen import LoadOptions, LoadTest
from transport.sim.loadpeople import Samples
from transport.sim.loadplot import per_second
from transport.sim.loadprocs import ROOT, busy_share, cores_ticks, tool_cores


def test_a_five_second_run_with_fifty_customers_adds_up(tmp_path):
    output = tmp_path / "load.json"
    options = LoadOptions(customers=50, servicers=3, duration=5, rate=2.0, human_share=0.4,
                          think=0.1, questions=2, human_messages=2, ceiling_secs=0.5,
                          saturate_secs=0.5, rounds=2, half_secs=0.5, output=str(output),
                          quiet=True)
    test = LoadTest(options)
    result = test.run()
    assert json.loads(output.read_text()) == json.loads(json.dumps(result))
    assert not test.workdir.exists()  # a clean run leaves no logs behind
    scenario = result["scenario"]
    assert scenario["lost"] == 0
    assert scenario["messages_sent"] == scenario["replies_received"] > 50 * 3
    assert scenario["asked_for_a_person"] == 20
    assert result["errors"] == {}
    assert result["ceiling_callbacks_per_sec"] > 0 and result["saturation_answers_per_sec"] > 0
    # With 5 callbacks in flight as well as with 64, both servers, side by side.
    assert result["ceiling_5_callbacks_per_sec"] > 0 and result["saturation_5_answers_per_sec"] > 0
    assert result["five_vs_64"] > 0 and result["bare_five_vs_64"] > 0
    # Every answer costs a journal and a commit call, grouped into round trips
    # with others' (storage/batch.py): some, and at most a few, per answer.
    for s in ("", "_5"):
        assert 0 < result[f"saturation{s}_redis_round_trips_per_answer"] <= 3
        # The tool's own core worked (it drives the customers) and says how hard.
        assert 0 < result[f"saturation{s}_tool_cores_percent"] <= 100
    rounds = result["rounds"]
    assert len(rounds) == 2
    shares = sorted(r["share_of_ceiling"] for r in rounds)
    assert result["share_of_ceiling"] == pytest.approx(sum(shares) / 2, abs=0.001)  # the median
    assert result["losses"] == {"scenario": 0, "half_load": 0, "half_load_bare": 0,
                                "ceiling": 0, "saturation": 0, "ceiling_5": 0,
                                "saturation_5": 0}
    assert all(r["saturation_late"] == 0 == r["saturation_5_late"] for r in rounds)
    assert result["server"]["peak_rss_mb"] > 0 and result["server"]["cpu_secs"] > 0
    assert all(v is not None for v in scenario["latency_ms"].values())
    half = result["half_load"]
    assert half["lost"] == 0 and half["late"] == 0 and half["in_flight"] == 5
    assert half["messages_sent"] == half["replies_received"] > 0
    assert abs(half["target_per_sec"] - result["saturation_5_answers_per_sec"] / 2) <= 0.1
    to_200 = half["time_to_200_ms"]
    assert 0 < to_200["p50"] <= to_200["p99"] <= to_200["max"]
    bare = result["half_load_bare"]  # the same rate at the bare handler: the floor
    assert bare["target_per_sec"] == half["target_per_sec"] and bare["callbacks"] > 0
    assert 0 < bare["time_to_200_ms"]["p50"] <= bare["time_to_200_ms"]["max"]


def test_sessions_only_reports_memory_per_session(tmp_path):
    options = LoadOptions(customers=300, sessions_only=True, output=str(tmp_path / "s.json"),
                          quiet=True)
    result = LoadTest(options).run()["sessions_only"]
    assert result["lost"] == 0 and result["replies_received"] == 300
    assert result["kb_per_session"] is not None


def test_under_a_robot_rate_limit_the_outbox_holds_a_backlog_and_collects_no_250(tmp_path):
    # 30 sends per 10 s with a burst of 30: 40 welcomes and 2 duty replies must queue.
    options = LoadOptions(customers=40, servicers=2, sessions_only=True, im_rate_limit=30,
                          output=str(tmp_path / "r.json"), quiet=True)
    result = LoadTest(options).run()
    assert result["sessions_only"]["lost"] == 0
    assert result["server"]["outbox_backlog_peak"] > 0
    assert result["errors"] == {}  # no robot_send_code_250


def test_the_plot_buckets_replies_and_latencies_by_second():
    samples = Samples(started=0.0)
    for at, latency in [(0.1, 0.001), (0.5, 0.003), (0.9, 0.002), (2.2, 0.010)]:
        samples.add(at - latency, at)
    series = per_second(samples)
    assert series.replies == [3, 0, 1]
    assert series.p50_ms == pytest.approx([2.0, 0.0, 10.0])
    assert series.p99_ms == pytest.approx([3.0, 0.0, 10.0])


def test_under_the_cs_robots_limit_a_crowd_is_answered_and_shadows_are_not_held_back(tmp_path):
    # 200 sends per 10 s (180 for our Outbox, then 18 a second): 120 customers'
    # welcomes and answers leave a backlog of about 60, a few seconds to drain.
    options = LoadOptions(servicers=2, robot_limit_customers=120, im_rate_limit=200,
                          output=str(tmp_path / "l.json"), quiet=True)
    result = LoadTest(options).run()
    limit = result["robot_limit"]
    assert limit["lost"] == 0 and limit["late"] == 0 and limit["code_250"] == 0
    assert limit["replies_received"] == 240
    assert result["server"]["outbox_backlog_peak"] > 0  # the CS Robot did wait for its bucket
    assert limit["shadow_messages"] > 0 and limit["shadow_lost"] == 0
    # Behind the CS Robot's backlog a Shadow's message would wait as long as the
    # backlog; on its own bucket it goes at once (the 1 s target is a benchmark's).
    assert limit["shadow_delay_ms"]["max"] < 1000 * limit["backlog_drained_secs"] / 2
    assert result["errors"] == {}


def test_a_run_that_loses_anything_keeps_the_servers_logs(tmp_path):
    import shutil

    # No reply can come within a microsecond: every welcome counts as lost.
    options = LoadOptions(customers=5, sessions_only=True, wait=1e-6,
                          output=str(tmp_path / "lost.json"), quiet=True)
    test = LoadTest(options)
    try:
        result = test.run()
        assert result["losses"]["sessions_only"] == 5
        assert result["logs_kept_in"] == str(test.workdir)
        assert (test.workdir / "server.log").exists()
    finally:
        shutil.rmtree(test.workdir, ignore_errors=True)


def test_losses_are_counted_in_every_phase_not_only_the_scenario():
    from transport.sim.loadgen import losses

    result = {"scenario": {"lost": 0, "late": 3}, "half_load": {"lost": 62, "late": 0},
              "saturation_5_lost": 1, "saturation_5_late": 4, "ceiling_lost": 0,
              "robot_limit": {"lost": 0, "shadow_lost": 2}}
    assert losses(result) == {"scenario": 0, "half_load": 62, "saturation_5": 1, "ceiling": 0,
                              "robot_limit": 0, "robot_limit_shadow": 2}


class _Sim:
    on_deliver = None


def _deliver(people, customer, text):
    people._observe({"conv": {"target": customer}, "payload": {"searchableContent": text}})


def test_two_questions_of_one_customer_in_flight_both_find_their_answers():
    # Under load a customer has several questions in flight; a waiter that
    # took another's answer used to drop it, and the other counted it lost
    # (the "half load ... lost 62" seen only on a busy host).
    import gevent

    from transport.sim.loadpeople import People, equals

    people = People(_Sim(), think=0)
    people.inbox("c")
    first = gevent.spawn(people.wait, "c", equals("answer one"), 2.0)
    second = gevent.spawn(people.wait, "c", equals("answer two"), 2.0)
    _deliver(people, "c", "answer two")  # before either looks: the first sees both
    _deliver(people, "c", "answer one")
    gevent.joinall([first, second], timeout=3)
    assert first.value is not None and first.value[1] == "answer one"
    assert second.value is not None and second.value[1] == "answer two"


def test_an_answer_nobody_waited_for_is_still_counted_late():
    from transport.sim.loadpeople import People, equals
    from transport.sim.loadshare import count_late

    people = People(_Sim(), think=0)
    people.inbox("c")
    _deliver(people, "c", "something else")
    assert people.wait("c", equals("the answer"), 0.01) is None  # it has not come yet
    _deliver(people, "c", "the answer")
    assert count_late(people, [("c", equals("the answer"))], 0.0) == 1


def test_what_nobody_claims_is_bounded_and_the_newest_is_kept():
    from transport.sim.loadpeople import MAX_UNCLAIMED, People, equals

    people = People(_Sim(), think=0)
    people.inbox("c")
    for i in range(MAX_UNCLAIMED + 10):
        _deliver(people, "c", f"notice {i}")
    assert people.wait("c", equals("notice 0"), 0.0) is None  # the oldest went
    newest = f"notice {MAX_UNCLAIMED + 9}"
    assert people.wait("c", equals(newest), 0.0)[1] == newest


def test_the_tool_cores_busy_share_comes_from_proc_stat():
    # user nice system idle iowait irq softirq steal guest guest_nice
    before = ("cpu  9 9 9 9 9 9 9 9 0 0\n"
              "cpu0 100 0 50 800 50 0 0 0 0 0\ncpu1 10 0 10 70 10 0 0 0 5 0\n")
    after = ("cpu  9 9 9 9 9 9 9 9 0 0\n"
             "cpu0 100 0 50 900 50 0 0 0 0 0\ncpu1 70 0 20 80 20 0 0 0 5 0\n")
    # cpu1: 70 busy ticks (60 user, 10 system) of 90 (10 idle, 10 iowait more).
    share = busy_share(cores_ticks({1}, before), cores_ticks({1}, after))
    assert share == pytest.approx(70 / 90)
    # cpu0 idled throughout; "cpu " (all of them) is never counted as a core.
    assert busy_share(cores_ticks({0}, before), cores_ticks({0}, after)) == 0
    assert cores_ticks({0, 1}, before) == (150 + 20, 1000 + 100)
    assert busy_share((5, 10), (5, 10)) is None


def test_steal_and_a_short_line_are_left_out_of_the_tool_cores_ticks():
    # 40 ticks stolen by the hypervisor: neither busy nor idle.
    assert cores_ticks({1}, "cpu1 60 0 0 0 0 0 0 40 0 0\n") == (60, 60)
    # An older kernel's four columns, or garbage: skipped, not an IndexError.
    assert cores_ticks({0, 1}, "cpu0 100 0 50 800\ncpu1 1 2 x 4 5 6 7\n") == (0, 0)


def test_the_tool_cores_are_none_unless_pinned_apart_from_the_server():
    import os
    import subprocess
    import sys

    assert tool_cores(os.getpid()) == set()  # the same process shares every core
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        pytest.skip("one core: nothing to pin apart")
    server = subprocess.Popen(["sleep", "30"])
    try:
        os.sched_setaffinity(server.pid, {0})
        code = ("import os, sys; from transport.sim.loadprocs import tool_cores;"
                "os.sched_setaffinity(0, {1}); print(sorted(tool_cores(int(sys.argv[1]))))")
        apart = subprocess.run([sys.executable, "-c", code, str(server.pid)], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout
        assert apart.strip() == "[1]"
    finally:
        server.kill()
        server.wait()
