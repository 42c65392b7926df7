"""The container runtime on the real podman: it starts, reports, kills and stops exactly its own."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ariscale_cluster.cluster import wait_until
from ariscale_cluster.containers import ContainerTable
from ariscale_cluster.images import SERVICE_UID, image_tag
from ariscale_cluster.processes import Command

# The smallest image `make images` makes; the non-root services' user exists in it.
IMAGE = image_tag("consul")


@pytest.fixture
def table(tmp_path: Path) -> Iterator[ContainerTable]:
    if subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        pytest.fail(f"{IMAGE} missing: run make images")
    containers = ContainerTable(
        tmp_path / "pids", tmp_path / "logs", tmp_path / "containers", uuid.uuid4().hex[:8]
    )
    yield containers
    for component in containers.components():
        containers.stop(component, timeout=1)


def sleeper(mounts: dict[Path, str] | None = None, env: dict[str, str] | None = None) -> Command:
    script = 'echo "up as $(id -u) with $GREETING"; touch /data/written; exec sleep 300'
    return Command(["sh", "-c", script], IMAGE, env=env or {"GREETING": "hello"}, mounts=mounts or {})


def test_a_container_runs_unprivileged_writes_its_mount_and_logs(
    table: ContainerTable, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    table.launch("sleeper", sleeper({data: "/data"}))
    assert table.pid("sleeper") is not None
    log = table.log_path("sleeper")

    def started() -> bool:
        return log.exists() and "up as" in log.read_text() and (data / "written").exists()

    assert wait_until(started, timeout=30), log.read_text() if log.exists() else "no log"
    assert f"up as {SERVICE_UID} with hello" in log.read_text()
    assert (data / "written").exists(), "the mounted directory is writable by the service user"
    env_file = table.record_dir / "sleeper.env"
    assert env_file.stat().st_mode & 0o077 == 0, "variables (secrets) are readable by root only"


def test_stop_removes_only_its_own_container_and_kill_leaves_a_dead_record(table: ContainerTable) -> None:
    bystander = f"bystander-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["podman", "run", "-d", "--name", bystander, IMAGE, "sleep", "300"], check=True, capture_output=True
    )
    try:
        table.launch("a", sleeper())
        table.launch("b", sleeper())
        assert table.components() == ["a", "b"]

        table.kill("a")
        assert table.pid("a") is None and table.components() == ["a", "b"], "a crash stays visible"
        assert table.stop("b") is True
        assert table.components() == ["a"]
        assert table.stop("a") is True and table.components() == []
        assert table.stop("a") is False

        names = subprocess.run(
            ["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True
        )
        assert bystander in names.stdout.split()
        assert not {table.container_name("a"), table.container_name("b")} & set(names.stdout.split())
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", bystander], check=False, capture_output=True)
