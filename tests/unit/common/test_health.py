import asyncio

import httpx
from fastapi import FastAPI

from ariscale_common import Health, LinkState
from ariscale_common.health import health_router, probe_forever


def test_health_is_ok_only_when_every_link_is_up() -> None:
    health = Health("svc")
    assert health.report().status == "ok"
    health.set("redis", LinkState.UP)
    health.set("amqp", LinkState.CONNECTING)
    assert health.report().status == "degraded"
    health.set("amqp", LinkState.UP)
    assert health.report().status == "ok"
    assert health.state("amqp") is LinkState.UP


def test_detail_updates_do_not_reset_the_transition_time() -> None:
    health = Health("svc")
    health.set("ari:n1", LinkState.DOWN, "refused")
    since = health.report().links["ari:n1"].since
    health.set("ari:n1", LinkState.DOWN, "refused again")
    link = health.report().links["ari:n1"]
    assert link.since == since and link.detail == "refused again"


async def test_the_health_route_reports_the_apps_health() -> None:
    app = FastAPI()
    app.include_router(health_router())
    app.state.health = Health("svc")
    app.state.health.set("redis", LinkState.DOWN, "refused")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        answer = await client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["service"], body["status"]) == ("svc", "degraded")
    assert body["links"]["redis"]["state"] == "down" and body["links"]["redis"]["detail"] == "refused"


async def test_the_probe_loop_stops_when_cancelled_just_as_a_probe_finishes() -> None:
    """Python 3.11's ``wait_for`` returned the probe's result then, swallowing the cancellation:
    the loop went on for ever and held the gateway's shutdown."""
    calls = 0

    async def probe() -> bool:
        nonlocal calls
        calls += 1
        prober.cancel()  # lands as the probe finishes
        return True

    prober = asyncio.create_task(probe_forever(Health("test"), "link", probe, interval=0.01))
    done, _ = await asyncio.wait({prober}, timeout=30)
    assert done and prober.cancelled(), f"still probing after {calls} probes"
    assert calls == 1


def test_nodes_are_reported_beside_the_links_without_changing_the_status() -> None:
    health = Health("gateway")
    health.set("redis", LinkState.UP)
    health.nodes = {"n1": "up", "n2": "down"}
    report = health.report()
    assert report.status == "ok" and report.nodes == {"n1": "up", "n2": "down"}
