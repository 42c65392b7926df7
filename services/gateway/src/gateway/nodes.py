"""The nodes the gateway currently knows (from Consul) and one ARI client per node."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ariscale_common.ari import AriClient

if TYPE_CHECKING:  # the watch builds Nodes; the clients only read its snapshot
    from gateway.consul_watch import ConsulWatch


@dataclass(frozen=True)
class Node:
    """An Asterisk node as Consul knows it."""

    node_id: str
    ari_url: str
    sip_address: str
    healthy: bool
    drained: bool
    started: str = ""  # Asterisk's start time, as its agent last reported it


class NodeClients:
    """One pooled ARI client per node, created on first use and kept across requests."""

    def __init__(self, watch: "ConsulWatch", user: str, password: str, timeout: float) -> None:
        self._watch = watch
        self._user = user
        self._password = password
        self._timeout = timeout
        self._clients: dict[str, tuple[str, AriClient]] = {}

    def node(self, node_id: str) -> Node | None:
        return self._watch.snapshot.nodes.get(node_id)

    def healthy(self) -> list[Node]:
        return self._watch.healthy_nodes()

    def client(self, node: Node) -> AriClient:
        cached = self._clients.get(node.node_id)
        if cached is None or cached[0] != node.ari_url:
            client = AriClient(node.ari_url, self._user, self._password, timeout=self._timeout)
            self._clients[node.node_id] = (node.ari_url, client)
            return client
        return cached[1]

    async def aclose(self) -> None:
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
