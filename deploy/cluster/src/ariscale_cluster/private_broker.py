"""A RabbitMQ node of one's own (own name, ports, data and config), for runs that stop the broker:
the machine's server is never stopped. ``rabbitmqctl`` reaches it with :attr:`PrivateBroker.env`."""

import os
from pathlib import Path

from ariscale_cluster.backing import port_open
from ariscale_cluster.cluster import wait_until
from ariscale_cluster.processes import ProcessTable

# The server and CLI scripts themselves: Debian's /usr/sbin wrappers su to the rabbitmq user, whose
# Erlang cookie is not root's, so its rabbitmqctl cannot reach a node started as root.
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


class PrivateBroker:
    """Listens on ``port`` (Erlang distribution on ``port + 1``), keeps its files under ``base``."""

    def __init__(
        self, procs: ProcessTable, base: Path, port: int, component: str = "rabbitmq-private"
    ) -> None:
        self.procs = procs
        self.port = port
        self.component = component
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{port}\n")
        (base / "rabbitmq-env.conf").write_text("")  # not the machine's: it names the machine's node
        self.node_env = {
            "RABBITMQ_NODENAME": f"ariscale-{port}@localhost",
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(port + 1),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
        }

    @property
    def url(self) -> str:
        """Its default vhost, as guest (the only user a fresh node has)."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def env(self) -> dict[str, str]:
        """This process's environment pointed at the private node (for ``rabbitmqctl``)."""
        return {**os.environ, **self.node_env}

    def accepting(self) -> bool:
        return self.procs.pid(self.component) is not None and port_open("127.0.0.1", self.port)

    def start(self, timeout: float = 60) -> None:
        self.procs.start(self.component, [SERVER], self.node_env)
        if not wait_until(self.accepting, timeout):
            log = self.procs.log_path(self.component)
            raise RuntimeError(f"private RabbitMQ on port {self.port} did not start; see {log}")

    def stop(self) -> None:
        self.procs.stop(self.component, 30)
        wait_until(lambda: not port_open("127.0.0.1", self.port), 30)
