"""Bring a whole native cluster up, report on it, take it down: used by ``make`` and by the tests."""

import dataclasses
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from ariscale_cluster import asterisk, backing, consul, envfile, images, kamailio, services, supervisor
from ariscale_cluster.containers import ContainerTable
from ariscale_cluster.processes import Command, ProcessTable
from ariscale_cluster.spec import ClusterSpec, NodeSpec

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0


class ClusterError(RuntimeError):
    """A component could not be started; the message names it and its log."""


@dataclass(frozen=True)
class Component:
    name: str
    address: str
    healthy: Callable[[], bool]
    start: Callable[[], None] | None  # None: not ours to start (a server we only reuse)
    log: Path | None


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    address: str
    healthy: bool
    managed: bool
    log: Path | None
    restarts: int = 0  # by the supervisor


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def http_ok(url: str, auth: tuple[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, auth=auth, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def runtime(spec: ClusterSpec) -> ProcessTable:
    """How the spec's processes are started, checked and stopped."""
    if spec.runtime == "containers":
        return ContainerTable(spec.pid_dir, spec.log_dir, spec.container_dir, spec.key)
    return ProcessTable(spec.pid_dir, spec.log_dir)


class Cluster:
    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec
        self.procs = runtime(spec)

    # -- what the cluster is made of -------------------------------------------------------------

    def components(self) -> list[Component]:
        spec = self.spec
        return [
            self._redis(),
            self._rabbitmq(),
            Component(
                "consul", spec.consul_url,
                lambda: http_ok(f"{spec.consul_url}/v1/status/leader") and self._consul_has_leader(),
                lambda: self._start("consul", consul.consul_command(spec)),
                self.procs.log_path("consul"),
            ),
            *(self._asterisk(node) for node in spec.nodes),
            Component(
                "kamailio", f"udp:127.0.0.1:{spec.sip_edge_port}",
                lambda: self.procs.pid("kamailio") is not None
                and kamailio.kamcmd(spec, "core.version").returncode == 0,
                self._start_kamailio,
                self.procs.log_path("kamailio"),
            ),
            *(self._service(s) for s in services.cluster_services(spec)),
            *([self._supervisor()] if spec.supervised else []),
        ]  # fmt: skip

    def start_supervisor(self) -> None:
        """Supervise this cluster from now on (``up`` does it for a supervised spec)."""
        self._save_spec()
        self._ensure(self._supervisor())

    def _supervisor(self) -> Component:
        state_dir = str(self.spec.state_dir)
        # A native process in both runtimes: it restarts dead processes or containers alike.
        argv = [sys.executable, "-m", "ariscale_cluster", "supervise", "--state-dir", state_dir]
        return Component(
            "supervisor", "restarts crashed processes",
            lambda: self.procs.pid("supervisor") is not None,
            lambda: self._start("supervisor", Command(argv)),
            self.procs.log_path("supervisor"),
        )  # fmt: skip

    def _redis(self) -> Component:
        spec = self.spec
        return Component(
            "redis", spec.redis_url, lambda: backing.redis_ok(spec.redis_url),
            lambda: self._start("redis", Command(backing.redis_server_argv(spec))),
            self.procs.log_path("redis"),
        )  # fmt: skip

    def _rabbitmq(self) -> Component:
        spec = self.spec
        return Component(
            "rabbitmq", f"{spec.amqp_host}:{spec.amqp_port} vhost {spec.amqp_vhost}",
            lambda: backing.rabbitmq_ok(spec),
            lambda: self._start("rabbitmq", Command(["rabbitmq-server"])),
            self.procs.log_path("rabbitmq"),
        )  # fmt: skip

    def _asterisk(self, node: NodeSpec) -> Component:
        spec = self.spec

        def start() -> None:
            asterisk.prepare_node(spec, node)
            self._start(f"asterisk-{node.node_id}", asterisk.asterisk_command(spec, node))

        return Component(
            f"asterisk-{node.node_id}", f"ARI {node.ari_url}  SIP {node.sip_address}",
            lambda: http_ok(f"{node.ari_url}/asterisk/info", (spec.ari_user, spec.ari_password)),
            start, asterisk.log_file(spec, node),
        )  # fmt: skip

    def _service(self, service: services.ServiceSpec) -> Component:
        return Component(
            service.component, service.url, lambda: http_ok(f"{service.url}/health"),
            lambda: self._start(service.component, services.service_command(service)),
            self.procs.log_path(service.component),
        )  # fmt: skip

    def _consul_has_leader(self) -> bool:
        try:
            return bool(httpx.get(f"{self.spec.consul_url}/v1/status/leader", timeout=2).json())
        except (httpx.HTTPError, ValueError):
            return False

    def _start_kamailio(self) -> None:
        kamailio.prepare(self.spec)
        self._start("kamailio", kamailio.kamailio_command(self.spec))

    def _start(self, component: str, command: Command) -> None:
        self.procs.stop(component)  # a stale process that is not healthy is replaced, not doubled
        self.procs.launch(component, command)

    # -- lifecycle -------------------------------------------------------------------------------

    def check_provisioned(self) -> None:
        spec = self.spec
        if spec.runtime == "containers":
            # The rootfs holds the nodes' rendered files, mounted into their containers.
            absent = images.missing()
            if absent or not spec.rootfs.exists():
                raise ClusterError(f"images missing ({', '.join(absent) or spec.rootfs}): run make images")
            return
        missing = [
            what
            for what, ok in (
                (f"Asterisk rootfs {spec.rootfs}", (spec.rootfs / "usr/sbin/asterisk").exists()),
                (f"Consul {spec.consul_bin}", spec.consul_bin.exists()),
                ("kamailio", shutil.which("kamailio") is not None),
                ("sipp", shutil.which("sipp") is not None),
            )
            if not ok
        ]
        if missing:
            raise ClusterError(
                f"not provisioned ({', '.join(missing)} missing): run deploy/scripts/provision.sh"
            )

    def up(self) -> list[ComponentStatus]:
        """Start whatever is not healthy yet, in dependency order; leave healthy parts alone."""
        self.check_provisioned()
        self.spec.state_dir.mkdir(parents=True, exist_ok=True)
        self._save_spec()
        for component in self.components():
            self._ensure(component)
            if component.name == "rabbitmq":
                # Before any service connects: they all expect the cluster's own vhost.
                backing.ensure_vhost(self.spec)
        envfile.write(self.spec.state_dir / "env", envfile.cluster_env(self.spec))
        return self.status()

    def _ensure(self, component: Component) -> None:
        if component.healthy():
            return
        if component.start is None:
            raise ClusterError(f"{component.name} at {component.address} is not reachable")
        log.info("starting %s (%s)", component.name, component.address)
        component.start()

        def settled() -> bool:
            return component.healthy() or self.procs.pid(component.name) is None

        wait_until(settled, START_TIMEOUT)
        if self.procs.pid(component.name) is None:
            raise ClusterError(f"{component.name} exited at start; see its log: {component.log}")
        if not component.healthy():
            raise ClusterError(
                f"{component.name} did not become healthy within {START_TIMEOUT:.0f} s;"
                f" see its log: {component.log}"
            )

    def status(self) -> list[ComponentStatus]:
        managed = set(self.procs.components())
        restarts = supervisor.read_restarts(self.spec.state_dir)
        return [
            ComponentStatus(
                c.name, c.address, c.healthy(), c.name in managed, c.log, _count(restarts, c.name)
            )
            for c in self.components()
        ]

    def supervise(self) -> None:
        """Restart every process of ours that died, forever (the ``supervisor`` component's loop)."""
        records = supervisor.read_restarts(self.spec.state_dir)
        while True:
            if self._restart_dead(records, time.time()):
                supervisor.write_restarts(self.spec.state_dir, records)
            time.sleep(supervisor.CHECK_INTERVAL_S)

    def _restart_dead(self, records: dict[str, supervisor.RestartRecord], now: float) -> bool:
        changed = False
        ours = set(self.procs.components())  # pid files: started by us and not stopped on purpose
        for component in self.components():
            name = component.name
            if name == "supervisor" or name not in ours or component.start is None:
                continue
            if self.procs.pid(name) is not None:
                continue
            record = records.setdefault(name, supervisor.RestartRecord())
            delay = supervisor.next_delay(record, now)
            if now < record.last_start + delay:
                continue  # still backing off
            log.warning("%s died; restarting it (restart %d, backoff %.0f s)", name, record.count + 1, delay)
            try:
                component.start()
            except Exception:  # a start that fails is retried after the next delay
                log.exception("restarting %s failed", name)
            record.count, record.last_start, record.delay = record.count + 1, now, delay
            changed = True
        return changed

    def down(self) -> list[str]:
        """Stop every process this cluster started (by recorded pid or container id), services first."""
        stopped = []
        order = [c.name for c in reversed(self.components())]
        for name in order:
            if self.procs.stop(name):
                stopped.append(name)
        return stopped

    def _save_spec(self) -> None:
        data = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self.spec).items()}
        (self.spec.state_dir / "spec.json").write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> "Cluster":
        """The cluster that ``up`` started from ``state_dir`` (its saved spec)."""
        data = json.loads((state_dir / "spec.json").read_text())
        data.setdefault("runtime", "native")  # a cluster started before there were two runtimes
        for key in ("state_dir", "rootfs", "consul_bin"):
            data[key] = Path(data[key])
        return cls(ClusterSpec(**data))


def _count(restarts: dict[str, supervisor.RestartRecord], name: str) -> int:
    record = restarts.get(name)
    return record.count if record else 0
