"""Start long-running processes detached, remember their pids in files, stop exactly those.

A :class:`Command` describes one process of the cluster once; a runtime starts it: natively here
(:class:`ProcessTable`), or as a container (``ariscale_cluster.containers.ContainerTable``).
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Command:
    """One process of the cluster, for either runtime."""

    argv: list[str]  # as it runs in its image
    image: str | None = None  # its image; None: a machine server that is never containerised
    env: dict[str, str] = field(default_factory=dict)
    # Host directory → where the process sees it. Created before start; natively, the same path.
    mounts: dict[Path, str] = field(default_factory=dict)
    native_argv: list[str] | None = None  # natively, when it differs (a chroot, a host binary)

    @property
    def host_argv(self) -> list[str]:
        return self.native_argv if self.native_argv is not None else self.argv


class ProcessTable:
    """One pid file per component under ``pid_dir``; logs under ``log_dir``."""

    def __init__(self, pid_dir: Path, log_dir: Path) -> None:
        self.pid_dir = pid_dir
        self.log_dir = log_dir
        # Our own children: kept so they can be reaped (no zombies, no ResourceWarning).
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    def pid(self, component: str) -> int | None:
        """The recorded pid, if that process is still alive."""
        path = self.pid_dir / f"{component}.pid"
        try:
            pid = int(path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def components(self) -> list[str]:
        return sorted(p.stem for p in self.pid_dir.glob("*.pid"))

    def start(
        self,
        component: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> int:
        """Start ``argv`` in its own session (so it outlives us), logging to the component's file."""
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(component), "ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        (self.pid_dir / f"{component}.pid").write_text(f"{proc.pid}\n")
        previous = self._children.get(component)
        if previous is not None:
            # It died without our stop or kill (a crash, another table's kill): reap it now,
            # or its Popen, dropped unwaited, warns at garbage collection (an error under pytest).
            previous.poll()
        self._children[component] = proc
        return proc.pid

    def launch(self, component: str, command: Command) -> None:
        """Start ``command`` natively, after creating the directories it writes."""
        for directory in command.mounts:
            directory.mkdir(parents=True, exist_ok=True)
        self.start(component, command.host_argv, command.env)

    def stop(self, component: str, timeout: float = 10.0) -> bool:
        """SIGTERM the recorded process group, SIGKILL it after ``timeout``; True if it was running."""
        pid = self.pid(component)
        (self.pid_dir / f"{component}.pid").unlink(missing_ok=True)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
        self._reap(component)
        return True

    def _reap(self, component: str) -> None:
        child = self._children.pop(component, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)

    def kill(self, component: str) -> None:
        """SIGKILL without clean-up, as a crash would; the pid file stays so status shows it dead."""
        path = self.pid_dir / f"{component}.pid"
        pid = int(path.read_text().strip())
        _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._reap(component)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child not yet reaped) is not alive.
    with contextlib.suppress(ChildProcessError):
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
