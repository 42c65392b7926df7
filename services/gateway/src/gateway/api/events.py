"""``GET /ari/events``: the app's events over a websocket, as ARI sends them (text frames of JSON).

Credentials as for every ARI call (HTTP basic or ``api_key``). ``app`` lists the applications to
receive, comma-separated as in ARI; here each must be the authenticated app itself. Refusals
happen before the upgrade, as an HTTP answer with ariscale's JSON error body (400, 401, 403).
``subscribeAll`` is accepted for compatibility; the stream carries every event the nodes publish
for the app. Each connection is one *instance* of the app: each call's events go to one instance.
Every event carries ``ariscale_seq``, the app's sequence number; ``after=<seq>`` resumes: the
logged events after it come first (410 ``resume-expired`` when they are no longer kept, 400
``sequence-unknown`` when no such number was given; :mod:`gateway.events.sequence`). When the
app's numbering starts over (Redis lost it) the gateway closes the websocket with code 1012 and
reason ``sequence-restarted: …``: reconnect without ``after``.
``RESTRequest`` messages from the client are answered on it (:mod:`gateway.routing.websocket_requests`).
"""

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket
from fastapi.responses import JSONResponse

from ariscale_common.errors import ApiError, Forbidden, error_body
from gateway.auth import Authenticator
from gateway.events.instances import Instance, Instances
from gateway.events.sequence import parse_after
from gateway.routing.websocket_requests import WebsocketRequests

router = APIRouter(tags=["events"])


def requested_apps(app: str | None) -> list[str]:
    """The distinct names in ARI's comma-separated ``app`` parameter, in order."""
    names = [name.strip() for name in (app or "").split(",")]
    return list(dict.fromkeys(name for name in names if name))


def check_apps(authenticated: str, requested: list[str]) -> None:
    if not requested:
        raise ApiError("the app parameter must name the application to receive events for")
    others = [name for name in requested if name != authenticated]
    if others:
        raise Forbidden(
            f"application {authenticated!r} may only receive its own events, not those of {others}",
            {"app": authenticated, "refused": others},
        )


@router.websocket("/ari/events")
async def events(
    websocket: WebSocket,
    app: Annotated[str | None, Query(description="Apps to receive events of, comma-separated")] = None,
    subscribe_all: Annotated[bool, Query(alias="subscribeAll")] = False,
    api_key: Annotated[str | None, Query(description="app:password, instead of HTTP basic")] = None,
    after: Annotated[
        str | None,
        Query(
            description="Resume: the ariscale_seq of the last event received; the events after it come first"
        ),
    ] = None,
) -> None:
    authenticator: Authenticator = websocket.app.state.authenticator
    instances: Instances = websocket.app.state.instances
    try:
        client = websocket.client.host if websocket.client else ""
        name = await authenticator.authenticate(websocket.headers.get("authorization"), api_key, client)
        check_apps(name, requested_apps(app))
        resume_after = parse_after(after)
        # Connected means events flow, as with one Asterisk: not before the app's queue exists.
        await instances.prepare(name, resume_after)
    except ApiError as exc:
        await _refuse(websocket, exc)
        return
    await websocket.accept()
    try:
        instance = await instances.attach(name, websocket.send_text, resume_after)
    except ApiError as exc:  # the events after it were dropped since prepare (rare): say so
        await websocket.close(code=1008, reason=f"{exc.error_id}: {exc.message}"[:120])
        return
    try:
        await _until_closed(websocket, instance, websocket.app.state.ws_requests)
    finally:
        await instances.detach(instance)
        with contextlib.suppress(Exception):  # already closed by the client
            if instance.close_reason is None:
                await websocket.close()
            else:  # 1012 (service restart): reconnect
                await websocket.close(code=1012, reason=instance.close_reason)


async def _until_closed(websocket: WebSocket, instance: Instance, requests: WebsocketRequests) -> None:
    """Until the client goes away or the gateway gives up on the instance (stuck, failed send);
    meanwhile each RESTRequest the client sends is answered in turn, as Asterisk does."""

    async def client_gone() -> None:
        while (message := await websocket.receive())["type"] != "websocket.disconnect":
            text = message.get("text")
            response = await requests.answer(instance.app, text) if text is not None else None
            if response is not None:
                await instance.send(response)

    reader = asyncio.create_task(client_gone())
    closed = asyncio.create_task(instance.closed.wait())
    try:
        await asyncio.wait({reader, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, closed):
            task.cancel()
        await asyncio.gather(reader, closed, return_exceptions=True)


async def _refuse(websocket: WebSocket, exc: ApiError) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = error_body(exc.error_id, exc.message, exc.details)
        headers = {"WWW-Authenticate": 'Basic realm="ariscale"'} if exc.status == 401 else None
        await websocket.send_denial_response(JSONResponse(body, status_code=exc.status, headers=headers))
    else:  # the server cannot answer the upgrade with a body: close with the reason (HTTP 403)
        await websocket.close(code=1008, reason=exc.message[:120])
