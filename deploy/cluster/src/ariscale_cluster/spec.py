"""What one native cluster is: where it keeps its state, which ports it uses, which servers it reuses.

Port layout for a cluster at ``port_base`` P (make up: 20000, the test suite: 23000)::

    P+0 registry   P+1 gateway   P+2 conf_app   P+3 consul http   P+4..6 consul serf/rpc
    P+7 Kamailio (SIP edge)      P+8 Redis and P+9 RabbitMQ (only when ariscale had to start them)
    P+10*i   node i ARI (HTTP)   P+10*i+1 node i SIP   P+10*i+2 node i agent    (i = 1..9)
    P+200*i .. P+200*i+199       node i RTP
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

CACHE_DIR = Path(os.environ.get("ARISCALE_CACHE_DIR", "/var/cache/ariscale"))
MAX_NODES = 8
RUNTIMES = ("native", "containers")


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    index: int
    ari_port: int
    sip_port: int
    agent_port: int
    rtp_start: int
    rtp_end: int

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.ari_port}/ari"

    @property
    def sip_address(self) -> str:
        return f"127.0.0.1:{self.sip_port}"


@dataclass(frozen=True)
class ClusterSpec:
    """Everything needed to start (or find again) one cluster; derived values are properties."""

    state_dir: Path
    port_base: int = 20000
    node_count: int = 2
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "ariscale:"
    amqp_host: str = "127.0.0.1"
    amqp_port: int = 5672
    amqp_vhost: str = "ariscale"
    amqp_user: str = "guest"
    amqp_password: str = "guest"
    admin_token: str = "ariscale-admin"
    ari_user: str = "ariscale"
    ari_password: str = "ariscale"
    rootfs: Path = field(default=CACHE_DIR / "rootfs-sid")
    consul_bin: Path = field(default=CACHE_DIR / "consul-1.8.7/usr/bin/consul")
    # A supervisor restarts crashed processes (make up); the test clusters kill parts on purpose.
    supervised: bool = False
    runtime: str = "native"  # how each process runs: "native" (pid files) or "containers" (podman)

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if not 1 <= self.node_count <= MAX_NODES:
            raise ValueError(f"node_count must be 1..{MAX_NODES}, got {self.node_count}")

    @property
    def key(self) -> str:
        """Short id that keeps two clusters (two checkouts, or make up and the tests) apart."""
        return hashlib.sha1(str(self.state_dir.resolve()).encode()).hexdigest()[:10]

    @property
    def nodes(self) -> list[NodeSpec]:
        p = self.port_base
        return [
            NodeSpec(
                node_id=f"n{i}",
                index=i,
                ari_port=p + 10 * i,
                sip_port=p + 10 * i + 1,
                agent_port=p + 10 * i + 2,
                rtp_start=p + 200 * i,
                rtp_end=p + 200 * i + 198,
            )
            for i in range(1, self.node_count + 1)
        ]

    @property
    def registry_port(self) -> int:
        return self.port_base + 0

    @property
    def gateway_port(self) -> int:
        return self.port_base + 1

    @property
    def conf_app_port(self) -> int:
        return self.port_base + 2

    @property
    def consul_http_port(self) -> int:
        return self.port_base + 3

    @property
    def consul_serf_lan_port(self) -> int:
        return self.port_base + 4

    @property
    def consul_serf_wan_port(self) -> int:
        return self.port_base + 5

    @property
    def consul_server_port(self) -> int:
        return self.port_base + 6

    @property
    def sip_edge_port(self) -> int:
        return self.port_base + 7

    @property
    def own_redis_port(self) -> int:
        return self.port_base + 8

    @property
    def own_amqp_port(self) -> int:
        return self.port_base + 9

    @property
    def amqp_url(self) -> str:
        vhost = self.amqp_vhost.replace("/", "%2F")
        return f"amqp://{self.amqp_user}:{self.amqp_password}@{self.amqp_host}:{self.amqp_port}/{vhost}"

    @property
    def consul_url(self) -> str:
        return f"http://127.0.0.1:{self.consul_http_port}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pid_dir(self) -> Path:
        return self.state_dir / "pids"

    @property
    def container_dir(self) -> Path:
        """The ids (and private env files) of the containers this cluster started."""
        return self.state_dir / "containers"

    @property
    def chroot_cluster_dir(self) -> str:
        """Where this cluster's node files live, as Asterisk (inside the chroot) sees them."""
        return f"/var/lib/ariscale/clusters/{self.key}"

    def node_dir(self, node: NodeSpec) -> Path:
        """The node's directory as seen from the host."""
        return self.rootfs / self.chroot_cluster_dir.lstrip("/") / node.node_id
