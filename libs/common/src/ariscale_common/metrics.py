"""Prometheus metrics: ``GET /metrics`` in the text format.

Two kinds of metric live side by side. Counters and histograms of things that happen are module
globals in each service's ``metrics.py``, updated where the thing happens (process-wide registry).
Values that mirror state held elsewhere (Consul, Asterisk, a buffer) are *sampled* at scrape
time: a service adds samplers to its app, async callables returning metric families, each
bounded by a timeout so a slow backend never stalls a scrape (its families are then missing).
Every service also exports its ``/health`` links as ``ariscale_link_up{link}``.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from ariscale_common.health import Health, LinkState

Sampler = Callable[[], Awaitable[Iterable[Metric]]]
SAMPLE_TIMEOUT_S = 2.0

# A ``_created`` twin of every counter doubles the output and no query here uses it.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated

log = logging.getLogger(__name__)
router = APIRouter(tags=["metrics"])


def add_sampler(app: FastAPI, sampler: Sampler) -> None:
    """Run ``sampler`` at every scrape of ``app``'s ``/metrics``."""
    samplers: list[Sampler] = getattr(app.state, "metric_samplers", [])
    samplers.append(sampler)
    app.state.metric_samplers = samplers


def gauge(name: str, documentation: str, values: dict[tuple[str, ...], float], labels: list[str]) -> Metric:
    """One gauge family from ``{label values: value}``."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


def node_gauge(name: str, documentation: str, per_node: Mapping[str, float]) -> Metric:
    """One gauge family labelled ``node``, from ``{node id: value}``."""
    return gauge(name, documentation, {(node,): value for node, value in per_node.items()}, ["node"])


def link_metrics(health: Health) -> Metric:
    """``ariscale_link_up{link}``: 1 while a link in ``/health`` is up, else 0."""
    report = health.report()
    values: dict[tuple[str, ...], float] = {
        (name,): 1.0 if s.state is LinkState.UP else 0.0 for name, s in report.links.items()
    }
    return gauge("ariscale_link_up", "1 while the named connection is up, else 0.", values, ["link"])


class _Sampled(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


async def _sample(sampler: Sampler) -> list[Metric]:
    try:
        async with asyncio.timeout(SAMPLE_TIMEOUT_S):
            return list(await sampler())
    except Exception as exc:  # the scrape still answers, without this sampler's families
        log.warning("metrics sampler %s failed: %s", getattr(sampler, "__qualname__", sampler), exc)
        return []


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Every ``ariscale_`` metric of this service, in Prometheus' text format."""
    samplers: list[Sampler] = getattr(request.app.state, "metric_samplers", [])
    families = [f for fs in await asyncio.gather(*(_sample(s) for s in samplers)) for f in fs]
    health = getattr(request.app.state, "health", None)
    if isinstance(health, Health):
        families.append(link_metrics(health))
    sampled = CollectorRegistry(auto_describe=False)
    sampled.register(_Sampled(families))
    return Response(generate_latest(REGISTRY) + generate_latest(sampled), media_type=CONTENT_TYPE_LATEST)
