"""The supervisor restarts a crashed container, and leaves one stopped on purpose alone: the same
tests as for native processes (tests/e2e/test_supervision.py), run against this package's cluster."""

from tests.e2e.test_supervision import (
    test_a_killed_agent_is_restarted_by_the_supervisor_and_counted,
    test_a_process_stopped_on_purpose_stays_stopped,
)

__all__ = [
    "test_a_killed_agent_is_restarted_by_the_supervisor_and_counted",
    "test_a_process_stopped_on_purpose_stays_stopped",
]
