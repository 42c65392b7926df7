"""The dashboard's picture of the cluster: nodes, apps, conferences and charts, in one snapshot.

Nodes come from Consul, what is on them from each node's ARI, apps from SQL with their consumers
from Redis, and the charts from Prometheus' query API. A part that does not answer leaves its
figures unknown (null) or its charts empty; the snapshot itself never fails on it.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ariscale_common.ari import AriError
from registry.apps import AppService
from registry.conferences import calls_per_app, conferences
from registry.consul_store import ConsulStore, NodeEntry
from registry.node_ari import NodeAri, NodeContents
from registry.prometheus_query import PrometheusError, PrometheusQuery
from registry.schemas import AppView, DashboardSnapshot, NodeView, Series

log = logging.getLogger(__name__)

Consumers = Callable[[str], Awaitable[int | None]]

CHART_MINUTES = 10
CHART_STEP_S = 5
# Chart name -> (PromQL, label naming each line). Rates over 30 s: a call shows within seconds.
CHARTS = {
    "calls_per_second": ("sum by (node) (rate(ariscale_agent_calls_started_total[30s]))", "node"),
    "events_per_second": ("sum by (node) (rate(ariscale_agent_events_received_total[30s]))", "node"),
}


class DashboardService:
    def __init__(
        self,
        store: ConsulStore,
        node_ari: NodeAri,
        apps: AppService,
        consumers: Consumers,
        prometheus: PrometheusQuery | None,
    ) -> None:
        self._store = store
        self._node_ari = node_ari
        self._apps = apps
        self._consumers = consumers
        self._prometheus = prometheus

    async def snapshot(self) -> DashboardSnapshot:
        nodes, drained = await asyncio.gather(self._store.nodes(), self._store.drained())
        held = dict(
            zip(
                [n.node_id for n in nodes],
                await asyncio.gather(*(self._contents(n) for n in nodes)),
                strict=True,
            )
        )
        contents = {node: c for node, c in held.items() if c is not None}
        apps, charts = await asyncio.gather(self._app_views(calls_per_app(contents)), self._charts())
        return DashboardSnapshot(
            at=time.time(),
            nodes=[_node_view(n, n.node_id in drained, held[n.node_id]) for n in nodes],
            apps=apps,
            conferences=conferences(contents),
            charts=charts,
        )

    async def _contents(self, node: NodeEntry) -> NodeContents | None:
        if node.meta is None:
            return None
        try:
            return await self._node_ari.contents(node.meta.ari_url)
        except AriError:
            return None  # shown as unknown; Consul's health says why

    async def _app_views(self, calls: dict[str, int]) -> list[AppView]:
        listed = (await self._apps.list_all()).data
        consumers = await asyncio.gather(*(self._consumers(a.name) for a in listed))
        return [
            AppView(
                name=a.name,
                enabled=a.enabled,
                extensions=a.extensions,
                consumers=n,
                calls=calls.get(a.name, 0),
            )
            for a, n in zip(listed, consumers, strict=True)
        ]

    async def _charts(self) -> dict[str, list[Series]]:
        if self._prometheus is None:
            return {}
        prometheus = self._prometheus
        names = list(CHARTS)
        results = await asyncio.gather(
            *(prometheus.range(CHARTS[n][0], CHART_MINUTES, CHART_STEP_S, CHARTS[n][1]) for n in names),
            return_exceptions=True,
        )
        charts: dict[str, list[Series]] = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, PrometheusError):
                log.warning("dashboard chart %s: %s", name, result)
            elif isinstance(result, BaseException):
                raise result
            else:
                charts[name] = result
        return charts


def _node_view(node: NodeEntry, drained: bool, contents: NodeContents | None) -> NodeView:
    return NodeView(
        id=node.node_id,
        health=node.health,
        drained=drained,
        channels=len(contents.channels) if contents else None,
        bridges=len(contents.bridges) if contents else None,
    )
