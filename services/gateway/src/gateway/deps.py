"""Named dependencies: what a route needs, handed out from the composition root (app.state)."""

from typing import Annotated

from fastapi import Depends, Query, Request

from ariscale_common.deps import from_state
from gateway.auth import Authenticator
from gateway.routing.forwarding import AriGateway

AuthenticatorDep = Annotated[Authenticator, Depends(from_state("authenticator"))]


async def current_app(
    request: Request,
    authenticator: AuthenticatorDep,
    api_key: Annotated[str | None, Query(description="app:password, instead of HTTP basic")] = None,
) -> str:
    """The authenticated application's name."""
    client = request.client.host if request.client else ""
    return await authenticator.authenticate(request.headers.get("authorization"), api_key, client)


CurrentApp = Annotated[str, Depends(current_app)]
AriGatewayDep = Annotated[AriGateway, Depends(from_state("ari"))]
