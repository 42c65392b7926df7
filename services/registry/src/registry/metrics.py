"""The registry's metrics: apps, nodes by state, how fresh the SIP edge's dispatch set is."""

import asyncio
import time
from collections import Counter

from fastapi import FastAPI
from prometheus_client.metrics_core import Metric

from ariscale_common.metrics import add_sampler, gauge
from registry.apps import AppService
from registry.consul_store import ConsulStore, NodeEntry
from registry.edge_sync import EdgeSync

NODE_STATES = ("healthy", "critical", "drained")


def node_state(node: NodeEntry, drained: set[str]) -> str:
    """One state per node: drained wins, else Consul's health (anything not passing is critical)."""
    if node.node_id in drained:
        return "drained"
    return "healthy" if node.health == "passing" else "critical"


def node_metrics(nodes: list[NodeEntry], drained: set[str]) -> Metric:
    counts = Counter(node_state(n, drained) for n in nodes)
    return gauge(
        "ariscale_registry_nodes",
        "Asterisk nodes by state (healthy, critical, drained).",
        {(state,): counts.get(state, 0) for state in NODE_STATES},
        ["state"],
    )


def edge_metrics(edge: EdgeSync) -> Metric:
    values: dict[tuple[str, ...], float] = {}
    if edge.last_synced is not None:
        values[()] = time.monotonic() - edge.last_synced
    return gauge(
        "ariscale_registry_sip_edge_sync_age_seconds",
        "Seconds since the SIP edge's dispatch set was last checked against Consul successfully.",
        values,
        [],
    )


def install(app: FastAPI, apps: AppService, store: ConsulStore, edge: EdgeSync) -> None:
    """Sample apps (SQL), nodes (Consul) and the edge's sync at every scrape."""

    async def registered() -> list[Metric]:
        listed = await apps.list_all()
        enabled = sum(1 for a in listed.data if a.enabled)
        return [
            gauge("ariscale_registry_apps", "Registered apps.", {(): listed.count}, []),
            gauge("ariscale_registry_apps_enabled", "Registered apps that are enabled.", {(): enabled}, []),
        ]

    async def nodes() -> list[Metric]:
        entries, drained = await asyncio.gather(store.nodes(), store.drained())
        return [node_metrics(entries, drained)]

    async def sip_edge() -> list[Metric]:
        return [edge_metrics(edge)]

    add_sampler(app, registered)
    add_sampler(app, nodes)
    add_sampler(app, sip_edge)
