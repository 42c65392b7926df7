import gc
import subprocess
import sys
import time
import warnings
from pathlib import Path

from ariscale_cluster.processes import ProcessTable


def wait_for_output(log: Path, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in log.read_text():
        assert time.monotonic() < deadline, f"{text!r} never reached {log}"
        time.sleep(0.02)


def test_start_records_the_pid_and_stop_ends_only_that_process(tmp_path: Path) -> None:
    table = ProcessTable(tmp_path / "pids", tmp_path / "logs")
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid = table.start(
            "sleeper", [sys.executable, "-c", "print('hello', flush=True); import time; time.sleep(60)"]
        )
        assert table.pid("sleeper") == pid
        wait_for_output(table.log_path("sleeper"), "hello")
        assert table.components() == ["sleeper"]
        assert table.stop("sleeper") is True
        assert table.pid("sleeper") is None
        assert table.components() == []
        assert bystander.poll() is None, "stop must not touch processes it did not start"
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_of_something_never_started_is_a_no_op(tmp_path: Path) -> None:
    assert ProcessTable(tmp_path / "pids", tmp_path / "logs").stop("ghost") is False


def test_a_dead_process_has_no_pid(tmp_path: Path) -> None:
    table = ProcessTable(tmp_path / "pids", tmp_path / "logs")
    table.start("short", [sys.executable, "-c", "pass"])
    table.kill("short")
    assert table.pid("short") is None


def test_starting_again_after_a_crash_leaves_no_unwaited_process(tmp_path: Path) -> None:
    """A component that died by itself (not through the table) and is started again: the dead
    one's Popen is reaped, not dropped unwaited (a ResourceWarning, an error under pytest)."""
    table = ProcessTable(tmp_path / "pids", tmp_path / "logs")
    table.start("crasher", [sys.executable, "-c", "print('dying', flush=True)"])
    wait_for_output(table.log_path("crasher"), "dying")
    deadline = time.monotonic() + 10
    while table.pid("crasher") is not None:
        assert time.monotonic() < deadline, "the crasher never exited"
        time.sleep(0.02)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table.start("crasher", [sys.executable, "-c", "import time; time.sleep(60)"])
        gc.collect()
    try:
        assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    finally:
        table.stop("crasher")
