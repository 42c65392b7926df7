"""conf_app's metrics: conferences and participants per node, sampled from the gateway at scrape time."""

from collections import Counter

from fastapi import FastAPI
from prometheus_client.metrics_core import Metric

from app_sdk.context import node_of
from ariscale_common.metrics import add_sampler, gauge, node_gauge
from conf_app.conference import ConferenceApp


def conference_metrics(bridges: list[dict[str, object]]) -> list[Metric]:
    """Participants per node, and conferences with someone on each node."""
    participants: Counter[str] = Counter()
    conferences: Counter[str] = Counter()
    for bridge in bridges:
        channels = bridge.get("channels")
        nodes = [node_of(str(c)) for c in channels] if isinstance(channels, list) else []
        participants.update(nodes)
        conferences.update(set(nodes))
    return [
        node_gauge(
            "ariscale_conf_participants",
            "Callers in a conference, by the node their call is on.",
            participants,
        ),
        node_gauge(
            "ariscale_conf_conferences", "Conferences with at least one participant on the node.", conferences
        ),
        gauge("ariscale_conf_conferences_total", "Conferences open now.", {(): len(bridges)}, []),
    ]


def install(app: FastAPI, conference: ConferenceApp) -> None:
    """Sample the app's bridges (its conferences) through the gateway at every scrape."""

    async def sample() -> list[Metric]:
        return conference_metrics(await conference.ari("GET", "/bridges"))

    add_sampler(app, sample)
