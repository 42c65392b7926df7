import json

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import REGISTRY, generate_latest

from gateway import metrics
from tests.support.prometheus_text import sample_value


def test_event_age_reads_asterisks_timestamp() -> None:
    old = json.dumps({"type": "StasisStart", "timestamp": "2020-01-01T00:00:00.000+0000"}).encode()
    age = metrics.event_age(old)
    assert age is not None and age > 365 * 86400
    assert metrics.event_age(b'{"type": "X"}') is None
    assert metrics.event_age(b'{"timestamp": "yesterday"}') is None
    assert metrics.event_age('{"timestamp": "2020-01-01T00:00:00"}') is None  # no zone: no age
    text_age = metrics.event_age(old.decode())
    assert text_age is not None and text_age > 365 * 86400


def test_link_legs_by_remote_node_and_bridges_spanning_nodes() -> None:
    families = metrics.link_metrics([("conf", "n2"), ("conf", "n3"), ("other", "n2")])
    legs, spanning = ({s.labels.get("node", ""): s.value for s in f.samples} for f in families)
    assert legs == {"n2": 2, "n3": 1}
    assert spanning == {"": 2}


async def test_requests_are_timed_by_operation_and_503s_counted_by_cause() -> None:
    app = FastAPI()
    app.add_middleware(metrics.RequestMetrics)

    @app.get("/ari/things/{thing}", name="getThing")
    async def get_thing(thing: str) -> JSONResponse:
        if thing == "moving":
            return JSONResponse({"error": "bridge-moving", "message": "m"}, status_code=503)
        return JSONResponse({"id": thing})

    def scraped() -> str:
        return generate_latest(REGISTRY).decode()

    def count(status: str) -> float:
        name = "ariscale_gateway_request_duration_seconds_count"
        return sample_value(scraped(), name, operation="getThing", status=status) or 0

    ok_before, unavailable_before = count("200"), count("503")
    moving_before = sample_value(scraped(), "ariscale_gateway_unavailable_total", cause="bridge-moving") or 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        assert (await client.get("/ari/things/a")).status_code == 200
        assert (await client.get("/ari/things/moving")).status_code == 503
    assert count("200") == ok_before + 1
    assert count("503") == unavailable_before + 1
    assert (
        sample_value(scraped(), "ariscale_gateway_unavailable_total", cause="bridge-moving")
        == moving_before + 1
    )
