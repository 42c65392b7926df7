"""The container runtime: each process of the cluster in its own podman container, host network.

One record file per container (its id) under ``record_dir``, as the native runtime keeps pid
files: ``stop`` and ``down`` remove exactly the containers this cluster started. A command without
an image (the machine's own Redis or RabbitMQ, when ariscale has to start them) runs natively.
"""

import contextlib
import os
import subprocess
from pathlib import Path

from ariscale_cluster.images import SERVICE_UID
from ariscale_cluster.processes import Command, ProcessTable

PODMAN_TIMEOUT = 60.0


def podman(*args: str, timeout: float = PODMAN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)


class ContainerTable(ProcessTable):
    """Containers named ``ariscale-<cluster key>-<component>``, logging to the component's file."""

    def __init__(self, pid_dir: Path, log_dir: Path, record_dir: Path, cluster_key: str) -> None:
        super().__init__(pid_dir, log_dir)
        self.record_dir = record_dir
        self.cluster_key = cluster_key

    def container_name(self, component: str) -> str:
        return f"ariscale-{self.cluster_key}-{component}"

    def _record(self, component: str) -> Path:
        return self.record_dir / f"{component}.id"

    def _env_file(self, component: str) -> Path:
        return self.record_dir / f"{component}.env"

    def launch(self, component: str, command: Command) -> None:
        if command.image is None:
            super().launch(component, command)
            return
        self.record_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for directory in command.mounts:
            hand_to_service_user(directory)
        # Variables go through a private file, not podman's argv (ps would show the secrets).
        env_file = self._env_file(component)
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in command.env.items()))
        name = self.container_name(component)
        podman("rm", "--force", "--ignore", name)
        volumes = [arg for host, inside in command.mounts.items() for arg in ("--volume", f"{host}:{inside}")]
        result = podman(
            "run", "--detach", "--name", name, "--network", "host",
            "--label", f"ariscale.cluster={self.cluster_key}", "--env-file", str(env_file),
            "--log-driver", "k8s-file", "--log-opt", f"path={self.log_path(component)}",
            *volumes, command.image, *command.argv,
        )  # fmt: skip
        if result.returncode != 0:
            with open(self.log_path(component), "a") as log:
                log.write(f"podman run {name} failed: {result.stderr}")
            return
        self._record(component).write_text(result.stdout.strip() + "\n")

    def pid(self, component: str) -> int | None:
        """The container's main process (as the host sees it), while the container runs."""
        if not self._record(component).exists():
            return super().pid(component)
        name = self.container_name(component)
        inspected = podman("inspect", "--format", "{{.State.Running}} {{.State.Pid}}", name)
        running, _, pid = inspected.stdout.strip().partition(" ")
        return int(pid) if inspected.returncode == 0 and running == "true" and pid.isdigit() else None

    def components(self) -> list[str]:
        containers = [p.stem for p in self.record_dir.glob("*.id")]
        return sorted({*super().components(), *containers})

    def stop(self, component: str, timeout: float = 10.0) -> bool:
        """Stop and remove the component's container; True if there was one."""
        record = self._record(component)
        if not record.exists():
            return super().stop(component, timeout)
        # The record goes first, as the pid file does natively: a supervisor never restarts it.
        record.unlink(missing_ok=True)
        self._env_file(component).unlink(missing_ok=True)
        name = self.container_name(component)
        podman("stop", "--ignore", "--time", str(int(timeout)), name, timeout=timeout + PODMAN_TIMEOUT)
        podman("rm", "--force", "--ignore", name)
        return True

    def kill(self, component: str) -> None:
        """SIGKILL the container, as a crash would; its record stays so status shows it dead."""
        if not self._record(component).exists():
            super().kill(component)
            return
        podman("kill", "--signal", "KILL", self.container_name(component))
        podman("wait", self.container_name(component), timeout=15)


def hand_to_service_user(directory: Path) -> None:
    """Create ``directory`` and give it to the non-root user the services' images run as."""
    directory.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(directory):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            with contextlib.suppress(FileNotFoundError):
                os.lchown(name, SERVICE_UID, SERVICE_UID)
