"""An app created (or given a new password) a moment ago logs in at once, on whichever gateway
process the request reaches: the gateway reads Consul again before it refuses credentials."""

import httpx

from tests.integration.gateway.conftest import NewApp, StartGateway


async def test_an_app_registered_a_moment_ago_is_let_in_at_once(
    start_gateway: StartGateway, events_app: NewApp
) -> None:
    gateway = await start_gateway("g1")  # its snapshot of the apps is a second old at most
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        for _ in range(3):
            app, password = events_app()
            answer = await client.get("/ari/applications", auth=(app, password))
            assert answer.status_code != 401, answer.text
        unknown = await client.get("/ari/applications", auth=("nobody-here", "wrong"))
    assert unknown.status_code == 401, unknown.text
