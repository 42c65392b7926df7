"""Named dependencies: what a route needs, handed out from the composition root (app.state)."""

from typing import Annotated

from fastapi import Depends, Query, Request

from gateway.auth import Authenticator
from gateway.routing.forwarding import AriGateway


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def current_app(
    request: Request,
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    api_key: Annotated[str | None, Query(description="app:password, instead of HTTP basic")] = None,
) -> str:
    """The authenticated application's name."""
    client = request.client.host if request.client else ""
    return await authenticator.authenticate(request.headers.get("authorization"), api_key, client)


CurrentApp = Annotated[str, Depends(current_app)]


def get_ari_gateway(request: Request) -> AriGateway:
    gateway: AriGateway = request.app.state.ari
    return gateway


AriGatewayDep = Annotated[AriGateway, Depends(get_ari_gateway)]
