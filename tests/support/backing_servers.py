"""A RabbitMQ and a Redis of a test's own, to stop and start at will (the machine's are shared).

Each keeps its data across restarts, as a production server does: a restart is an outage, not a
loss of state (the broker's durable queues and persistent messages, Redis' append-only file).
"""

import asyncio
from pathlib import Path

from ariscale_cluster.backing import port_open, redis_ok
from ariscale_cluster.cluster import wait_until
from ariscale_cluster.processes import ProcessTable


class OwnServer:
    """One server process under ``procs`` listening on ``port``: started, stopped, restarted."""

    component = "server"
    start_timeout = 30.0

    def __init__(self, procs: ProcessTable, port: int) -> None:
        self.procs = procs
        self.port = port

    def argv(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {}

    def ready(self) -> bool:
        return port_open("127.0.0.1", self.port)

    def start_now(self) -> None:
        """Start it and wait until it serves (blocking: call it from a thread in async code)."""
        self.procs.start(self.component, self.argv(), self.env())
        if not wait_until(self._serving, self.start_timeout):
            log = self.procs.log_path(self.component)
            raise AssertionError(f"{self.component} did not serve on port {self.port}: see {log}")

    def _serving(self) -> bool:
        return self.procs.pid(self.component) is not None and self.ready()

    def stop_now(self) -> None:
        """Stop it cleanly (SIGTERM) and wait until its port is closed."""
        self.procs.stop(self.component, 30)
        if not wait_until(lambda: not port_open("127.0.0.1", self.port), 10):
            raise AssertionError(f"{self.component} still listening on port {self.port}")

    async def start(self) -> None:
        await asyncio.to_thread(self.start_now)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_now)


class OwnBroker(OwnServer):
    """A throwaway RabbitMQ node (own name, ports, data and config); ``vhost`` exists from its start."""

    component = "rabbitmq-own"
    start_timeout = 60.0

    def __init__(self, procs: ProcessTable, base: Path, port: int, vhost: str = "/") -> None:
        super().__init__(procs, port)
        self.base = base
        self.vhost = vhost
        self.url = f"amqp://guest:guest@127.0.0.1:{port}/{vhost.replace('/', '%2F')}"
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        # default_vhost: created (guest allowed) on the first start, kept in its data after.
        config = f"listeners.tcp.default = 127.0.0.1:{port}\ndefault_vhost = {vhost}\n"
        (base / "rabbitmq.conf").write_text(config)
        (base / "rabbitmq-env.conf").write_text("")  # not the machine's: it names the machine's node

    def argv(self) -> list[str]:
        # The server script itself (Debian's /usr/sbin wrapper would su to the rabbitmq user).
        return ["/usr/lib/rabbitmq/bin/rabbitmq-server"]

    def env(self) -> dict[str, str]:
        base = self.base
        return {
            "RABBITMQ_NODENAME": f"ariscale-test-{self.port}@localhost",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.port + 1),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
        }


class OwnRedis(OwnServer):
    """A redis-server with an append-only file in ``base``: what it held is back after a restart."""

    component = "redis-own"

    def __init__(self, procs: ProcessTable, base: Path, port: int) -> None:
        super().__init__(procs, port)
        self.base = base
        self.url = f"redis://127.0.0.1:{port}/0"
        base.mkdir(parents=True, exist_ok=True)

    def argv(self) -> list[str]:
        return [
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.base),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
        ]  # fmt: skip

    def ready(self) -> bool:
        return redis_ok(self.url)
