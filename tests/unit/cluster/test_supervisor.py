from pathlib import Path

from ariscale_cluster.supervisor import (
    FIRST_DELAY_S,
    MAX_DELAY_S,
    STABLE_AFTER_S,
    RestartRecord,
    next_delay,
    read_restarts,
    write_restarts,
)


def test_a_first_crash_is_restarted_at_once() -> None:
    assert next_delay(RestartRecord(), now=1000.0) == FIRST_DELAY_S


def test_a_process_that_keeps_crashing_waits_longer_each_time_up_to_a_cap() -> None:
    record = RestartRecord(count=1, last_start=1000.0, delay=0.0)
    delays = []
    for _ in range(8):
        record.delay = next_delay(record, now=record.last_start + 1)
        record.count += 1
        delays.append(record.delay)
    assert delays[:3] == [1.0, 2.0, 4.0]
    assert delays == sorted(delays)
    assert delays[-1] == MAX_DELAY_S


def test_a_process_that_ran_long_enough_starts_its_backoff_over() -> None:
    record = RestartRecord(count=5, last_start=1000.0, delay=16.0)
    assert next_delay(record, now=1000.0 + STABLE_AFTER_S) == FIRST_DELAY_S


def test_restart_counts_survive_a_round_trip_and_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_restarts(tmp_path) == {}
    write_restarts(tmp_path, {"agent-n1": RestartRecord(count=2, last_start=5.0, delay=1.0)})
    assert read_restarts(tmp_path) == {"agent-n1": RestartRecord(count=2, last_start=5.0, delay=1.0)}
