import subprocess
import sys
import time
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
