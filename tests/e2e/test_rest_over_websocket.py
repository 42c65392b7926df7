"""ARI over the events websocket: RESTRequest answered with RESTResponse, routed like HTTP (real calls)."""

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets

from tests.e2e.conftest import BLACK_HOLE, RegisteredApp
from tests.support.callers import callers
from tests.support.waiting import until


class RestSocket:
    """An app's events websocket at the gateway, used for requests; events are kept aside."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def request(self, method: str, uri: str, **fields: Any) -> dict[str, Any]:
        request_id = uuid.uuid4().hex
        await self.ws.send(json.dumps({"type": "RESTRequest", "request_id": request_id, "method": method,
                                       "uri": uri, **fields}))  # fmt: skip
        while True:
            message: dict[str, Any] = json.loads(await self.ws.recv())
            if message.get("type") == "RESTResponse" and message.get("request_id") == request_id:
                return message
            self.events.append(message)


@contextlib.asynccontextmanager
async def rest_socket(gateway_url: str, app: RegisteredApp) -> AsyncIterator[RestSocket]:
    url = gateway_url.replace("http://", "ws://") + f"/ari/events?app={app.name}"
    headers = {"Authorization": httpx.BasicAuth(*app.auth)._auth_header}
    async with websockets.connect(url, additional_headers=headers) as ws:
        yield RestSocket(ws)


async def test_rest_requests_on_the_websocket_are_answered_like_http(
    gateway_url: str, gw: httpx.AsyncClient, sip_edge: str, registered_app: RegisteredApp
) -> None:
    async with rest_socket(gateway_url, registered_app) as socket:
        ping = await socket.request("GET", "asterisk/ping", transaction_id="t1")
        assert (ping["status_code"], ping["transaction_id"], ping["uri"]) == (200, "t1", "asterisk/ping")
        assert json.loads(ping["message_body"])["ping"] == "pong"

        async with callers(gw, sip_edge, registered_app.extension) as group:
            first, second = await group.call(2, answer=False)
            for channel in (first, second):
                answered = await socket.request("POST", f"channels/{channel['id']}/answer")
                assert (answered["status_code"], answered["reason_phrase"]) == (204, "No Content")
                assert "message_body" not in answered
            bridge_id = f"ws-{uuid.uuid4().hex[:8]}"
            created = await socket.request("POST", f"bridges/{bridge_id}?type=mixing")
            assert created["status_code"] == 200, created
            added = await socket.request(
                "POST",
                f"bridges/{bridge_id}/addChannel",
                content_type="application/json",
                message_body=json.dumps({"channel": [first["id"], second["id"]]}),
            )
            assert added["status_code"] == 204, added
            listed = await socket.request("GET", f"bridges/{bridge_id}")
            assert sorted(json.loads(listed["message_body"])["channels"]) == sorted(
                [first["id"], second["id"]]
            )
            assert (await socket.request("DELETE", f"bridges/{bridge_id}"))["status_code"] == 204
            channels = json.loads((await socket.request("GET", "channels"))["message_body"])
            assert {c["id"] for c in channels} == {first["id"], second["id"]}


async def test_rest_requests_on_the_websocket_keep_apps_apart(
    gateway_url: str, gw: httpx.AsyncClient, registry: httpx.AsyncClient, registered_app: RegisteredApp
) -> None:
    other = f"o{uuid.uuid4().hex[:8]}"
    assert (await registry.post("/apps", json={"name": other, "extensions": []})).status_code == 201
    try:
        created = await gw.post(
            "/channels/create", params={"endpoint": BLACK_HOLE, "app": registered_app.name}
        )
        assert created.status_code == 200, created.text
        channel_id = created.json()["id"]
        async with rest_socket(gateway_url, registered_app) as socket:
            mine = await socket.request("GET", f"channels/{channel_id}")
            assert mine["status_code"] == 200
            refused = await socket.request(
                "POST", f"applications/{other}/subscription?eventSource=channel:{channel_id}"
            )
            assert refused["status_code"] == 404, refused
            foreign = await socket.request(
                "POST",
                "channels/create",
                query_strings=[{"name": "endpoint", "value": BLACK_HOLE}, {"name": "app", "value": other}],
            )
            assert foreign["status_code"] == 403, foreign
        assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    finally:
        await registry.delete(f"/apps/{other}")
    await until(lambda: _gone(gw, channel_id), message="channel gone")


async def _gone(gw: httpx.AsyncClient, channel_id: str) -> bool:
    return (await gw.get(f"/channels/{channel_id}")).status_code == 404
