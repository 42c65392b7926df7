"""Wakes the registry's loops when Consul changes: the node service's health, or any key under the
KV prefix (apps, drained nodes, the mirror's mark).

Two blocking queries (:mod:`ariscale_common.consul_query`) follow Consul, and each change calls
every listener: the SIP edge recomputes its dispatch set at once (a node that fails its check
stops getting calls without waiting for a poll), the KV mirror looks for its mark (a Consul that
restarted empty gets its apps back). Those loops still look on their own, rarely: a safety net,
not the way changes arrive. An idle registry asks Consul twice per ``WAIT_S`` instead of three
times a second.
"""

from collections.abc import Callable, Sequence

from ariscale_common import Health
from ariscale_common.consul_query import ConsulQuery, Following, LinkReport, consul_client
from ariscale_common.discovery import NODE_SERVICE


class ConsulChanges:
    def __init__(
        self, consul_url: str, kv_prefix: str, health: Health, listeners: Sequence[Callable[[], None]]
    ) -> None:
        http = consul_client(consul_url)
        self._listeners = list(listeners)
        queries = [
            ConsulQuery(http, "nodes", f"/v1/health/service/{NODE_SERVICE}"),
            ConsulQuery(http, "kv", f"/v1/kv/{kv_prefix}", keys="true"),
        ]
        self._following = Following(http, queries, self._changed, LinkReport(health))

    def start(self) -> None:
        self._following.start()

    async def stop(self) -> None:
        await self._following.stop()

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()
