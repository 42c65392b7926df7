"""The load harness's readings: sipp's files, /proc CPU trees, percentiles, event delays."""

import os
from pathlib import Path

from bench.load import cpu
from bench.load.__main__ import bus_figures
from bench.load.app import Outage, event_delay_ms, reconnects
from bench.load.sipp_run import read_results
from bench.stats import latency_ms, percentile

STAT_HEADER = (
    "StartTime;LastResetTime;CurrentTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C)"
)


def test_sipp_counts_and_response_times_are_read_from_its_files(tmp_path: Path) -> None:
    (tmp_path / "stat.csv").write_text(f"{STAT_HEADER}\na;b;c;3;3;0;0\na;b;c;2;5;1;1\n")
    (tmp_path / "uac_123_rtt.csv").write_text(
        "Date_ms;response_time_ms;rtd_no\n1.0;4.000000;1;\n2.0;12.5;1;\n"
    )
    result = read_results(tmp_path, calls=6)
    assert (result.ok, result.failed) == (5, 1)
    assert result.invite_to_200_ms == [4.0, 12.5]


def test_calls_sipp_never_placed_count_as_failed(tmp_path: Path) -> None:
    (tmp_path / "stat.csv").write_text(f"{STAT_HEADER}\na;b;c;2;4;0;0\n")
    assert read_results(tmp_path, calls=10).failed == 6
    assert read_results(tmp_path / "missing", calls=10).failed == 10


def test_percentiles_are_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 0.95) == 95.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert latency_ms([]) == {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0}


def test_cpu_of_a_tree_includes_descendants_only() -> None:
    table = {1: (0, 1.0), 10: (1, 2.0), 11: (10, 4.0), 20: (0, 8.0)}
    assert cpu.tree_seconds([10], table) == 6.0
    assert cpu.tree_seconds([1], table) == 7.0
    assert cpu.tree_seconds([99], table) == 0.0


def test_this_process_uses_some_cpu_as_read_from_proc() -> None:
    sum(range(200_000))
    table = cpu.processes()
    assert table[os.getpid()][0] == os.getppid()
    assert cpu.tree_seconds([os.getpid()], table) > 0


def test_event_delay_is_measured_from_asterisk_s_timestamp() -> None:
    event = {"type": "StasisStart", "timestamp": "2026-11-29T08:00:00.250+0000"}
    arrived = 1795939200.0 + 0.2555  # 2026-11-29T08:00:00.2555Z
    assert abs((event_delay_ms(event, arrived) or 0) - 5.5) < 0.01
    assert event_delay_ms({"type": "x"}, arrived) is None
    assert event_delay_ms({"timestamp": "yesterday"}, arrived) is None


def test_reconnects_after_a_moment_give_each_outage_s_gap_and_when_it_ended() -> None:
    outages = [Outage(5.0, 5.6), Outage(10.2, 10.7), Outage(20.0)]
    assert reconnects(outages, since=10.0) == {"gap_s": [0.5, None], "after_s": [0.7, None]}
    assert reconnects(outages, since=30.0) == {"gap_s": [], "after_s": []}


def test_bus_figures_are_per_call_and_per_message() -> None:
    assert bus_figures((100, 40), (1000, 400), calls=100) == {
        "bus_events_per_call": 9.0,
        "bus_events_per_message": 2.5,
    }
    assert bus_figures((5, 5), (5, 5), calls=0) == {
        "bus_events_per_call": None,
        "bus_events_per_message": None,
    }
