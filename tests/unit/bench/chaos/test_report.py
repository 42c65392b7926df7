"""The README's faults table."""

from bench.chaos.report import COLUMNS, table

RESULT = {
    "fault": "asterisk", "established_before": 150, "ended_early": 75, "ended_early_by_node": {"n1": 75},
    "new_failed": 2, "new_calls": 150, "new_failed_window": {"first_s": 0.1, "last_s": 1.9, "span_s": 1.8},
    "events": {"lost": 0, "duplicates": 0, "start_without_end": 3}, "orphans": {"count": 0},
    "app_reconnect_s": [0.52, None], "edge_out_and_back_s": {"n1": {"out_s": 3.04, "back_s": None}},
    "edge_sent_to_faulted_node": {
        "not_answered": 4, "failed_over": 3, "not_answered_window": {"first_s": 0.2, "last_s": 2.9},
    },
    "time_to_health_s": 6.25,
}  # fmt: skip


def test_one_row_per_fault_and_skipped_faults_say_why() -> None:
    rows = table([RESULT, {"fault": "gateway", "skipped": "needs two"}]).splitlines()
    assert len(rows) == 4 and rows[0].count("|") == len(COLUMNS) + 1
    assert rows[2] == (
        "| asterisk | 150 | 75 (n1 75) | 2 / 150 | +0.1 .. +1.9 | 0 / 0 | 3 | 0 | 0.5, never | n1 3.0 / never"
        " | 4 (3, +2.9) | 6.2 |"
    )
    assert rows[3].startswith("| gateway | skipped: needs two |")
