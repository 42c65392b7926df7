"""A single-server Consul agent (dev mode: in-memory, one node) on the cluster's own ports."""

from ariscale_cluster.images import image_tag
from ariscale_cluster.processes import Command
from ariscale_cluster.spec import ClusterSpec


def consul_command(spec: ClusterSpec) -> Command:
    argv = consul_argv(spec)
    # Natively the binary unpacked from bullseye's package; in its image, /usr/bin/consul.
    return Command(["consul", *argv[1:]], image_tag("consul"), native_argv=argv)


def consul_argv(spec: ClusterSpec) -> list[str]:
    return [
        str(spec.consul_bin), "agent", "-dev",
        "-node", f"ariscale-{spec.key}",
        "-bind", "127.0.0.1", "-client", "127.0.0.1",
        "-http-port", str(spec.consul_http_port),
        "-dns-port", "-1",
        "-serf-lan-port", str(spec.consul_serf_lan_port),
        "-serf-wan-port", str(spec.consul_serf_wan_port),
        "-server-port", str(spec.consul_server_port),
        "-grpc-port", "-1",
    ]  # fmt: skip
