"""Prometheus, started by the launcher, scrapes every target; a call moves the counters it should.

Also: the request id a client gives the gateway comes back, and the call's steps are in the logs
``make logs CALL=<channel id>`` reads.
"""

from typing import Any

import httpx
import pytest

from ariscale_cluster import Cluster, logs
from ariscale_cluster import cli as cluster_cli
from ariscale_cluster.envfile import cluster_env
from tests.e2e.conftest import RegisteredApp
from tests.support.callers import callers
from tests.support.waiting import until


async def query(prometheus: httpx.AsyncClient, promql: str) -> float:
    """The value of a PromQL query that yields one number (0 when it yields nothing)."""
    body = (await prometheus.get("/api/v1/query", params={"query": promql})).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


async def test_prometheus_scrapes_every_service_agent_and_asterisk(cluster: Cluster) -> None:
    env = cluster_env(cluster.spec)
    expected = {"registry": 1, "gateway": 1, "conf_app": 1, "node_agent": 2, "asterisk": 2}

    async with httpx.AsyncClient(base_url=env["PROMETHEUS_URL"], timeout=10) as prometheus:

        async def all_up() -> bool:
            targets = (await prometheus.get("/api/v1/targets")).json()["data"]["activeTargets"]
            jobs: dict[str, int] = {}
            for target in targets:
                if target["health"] == "up":
                    jobs[target["labels"]["job"]] = jobs.get(target["labels"]["job"], 0) + 1
            return jobs == expected and len(targets) == sum(expected.values())

        await until(all_up, timeout=60, interval=1, message="every Prometheus target up")

        async def sampled() -> bool:  # polled: a scrape may predate an earlier test's undrain
            return (
                # Asterisk's own res_prometheus, per node, beside ours
                await query(prometheus, 'count(asterisk_core_uptime_seconds{job="asterisk"})') == 2
                and await query(prometheus, "sum(ariscale_link_up{job='node_agent'})") > 0
                and await query(prometheus, 'ariscale_registry_nodes{state="healthy"}') == 2
            )

        await until(sampled, timeout=30, interval=1, message="both nodes healthy in Prometheus")


async def test_a_call_through_the_edge_moves_the_counters(
    cluster: Cluster,
    registered_app: RegisteredApp,
    gw: httpx.AsyncClient,
    sip_edge: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = cluster_env(cluster.spec)
    app = registered_app.name
    started = f'sum(ariscale_agent_calls_started_total{{app="{app}"}})'
    delivered = f'sum(ariscale_gateway_events_delivered_total{{app="{app}"}})'
    answered = (
        'sum(ariscale_gateway_request_duration_seconds_count{operation="channels.answer",status="204"})'
    )
    async with httpx.AsyncClient(base_url=env["PROMETHEUS_URL"], timeout=10) as prometheus:
        answered_before = await query(prometheus, answered)
        async with callers(gw, sip_edge, registered_app.extension) as group:
            [channel] = await group.call(1, hold_ms=20000)
            tagged = await gw.get(f"/channels/{channel['id']}", headers={"X-Request-Id": "e2e-watch-1"})
            assert tagged.headers["x-request-id"] == "e2e-watch-1"

            async def moved() -> bool:
                return (
                    await query(prometheus, started) == 1
                    and await query(prometheus, delivered) >= 2  # StasisStart, ChannelStateChange …
                    and await query(prometheus, answered) >= answered_before + 1
                )

            await until(moved, timeout=30, interval=1, message=f"counters of {app} moved in Prometheus")
            websockets = f'sum(ariscale_gateway_websockets{{app="{app}"}})'
            assert await query(prometheus, websockets) == 1
            delay = f'sum(ariscale_gateway_event_delay_seconds_count{{app="{app}"}})'
            assert await query(prometheus, delay) >= 2

    # The call, across components, as make logs CALL=<id> shows it.
    sources = [(c.name, c.log) for c in cluster.components() if c.log is not None]

    def told() -> bool:
        found = logs.call_lines(sources, channel["id"])
        components = {line.component for line in found}
        said = " ".join(line.text for line in found)
        return {"gateway", f"agent-{channel['id'].split('-')[0]}"} <= components and "entered Stasis" in said

    await until(told, timeout=15, message="the call in the merged logs")
    request_lines = [
        ln for ln in logs.call_lines(sources, channel["id"]) if ln.fields.get("request_id") == "e2e-watch-1"
    ]
    assert request_lines, "the client's request id is in the gateway's log line of that request"
    state_dir = str(cluster.spec.state_dir)
    capsys.readouterr()
    assert cluster_cli.main(["logs", "--state-dir", state_dir, "--call", channel["id"]]) == 0
    shown = capsys.readouterr().out
    assert (
        "entered Stasis" in shown
        and "request_id=e2e-watch-1" in shown
        and f"channel={channel['id']}" in shown
    )
    assert cluster_cli.main(["logs", "--state-dir", state_dir, "--call", "n9-0.0"]) == 1
    everything = "".join(path.read_text(errors="replace") for _, path in sources if path.exists())
    assert cluster.spec.admin_token not in everything and registered_app.password not in everything
