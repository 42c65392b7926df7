"""Nodes that exist only in Consul, registered as a node agent would: for what the gateway does
with the list of nodes (no Asterisk behind them)."""

import contextlib
import socket
import uuid
from collections.abc import Iterator

import consul

from ariscale_common.discovery import NODE_SERVICE, NodeMeta


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeNode:
    """A node registered in Consul as an agent would, its check passed or failed by the test."""

    def __init__(self, consul_url: str, ari_port: int) -> None:
        host, port = consul_url.removeprefix("http://").split(":")
        self._consul = consul.Consul(host=host, port=int(port))
        self.node_id = f"nu{uuid.uuid4().hex[:6]}"
        self._check = f"service:{self.node_id}"
        self._ari_port = ari_port

    def register(self) -> None:
        meta = NodeMeta(ari_url=f"http://127.0.0.1:{self._ari_port}/ari", sip_address="127.0.0.1:5060")
        check = {**consul.Check.ttl("60s"), "CheckID": self._check, "Name": "ARI answers"}
        self._consul.agent.service.register(
            NODE_SERVICE, service_id=self.node_id, meta=meta.model_dump(), check=check
        )
        self._consul.agent.check.ttl_pass(self._check)

    def fail(self) -> None:
        self._consul.agent.check.ttl_fail(self._check, "ARI does not answer")

    def deregister(self) -> None:
        self._consul.agent.service.deregister(self.node_id)


@contextlib.contextmanager
def registered(node: FakeNode) -> Iterator[FakeNode]:
    node.register()
    try:
        yield node
    finally:
        node.deregister()
