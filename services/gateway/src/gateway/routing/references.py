"""Resources an app names as an argument (an event source, a device, a channel to claim) must be
its own: a subscription to another app's call, or a user event with another app's channel as
its source, would hand the app that call's events and snapshots.

* ``channel:<id>`` and ``bridge:<id>`` sources: the app's own channels and bridges only.
* ``endpoint:<tech>/<resource>`` (or ``endpoint:<tech>``): a subscription is allowed; an endpoint
  is shared by every app's calls, so what it brings is cut to the app's own channels
  (:mod:`gateway.events.foreign_channels`), as ``GET /endpoints`` lists only them. As a user
  event's source it is refused: the event would carry the endpoint with every app's channels.
* ``originator`` (originate, create) and ``caller`` (dial): the app's own channel only; Asterisk
  would take the other app's channel as the new one's requester (inherited variables, linked id).
* ``deviceState:<name>`` and ``/deviceStates/<name>``: ``Stasis:`` devices are namespaced per app,
  ``Stasis:<app>:<name>``; another app's namespace does not exist for it.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from gateway.exceptions import NotYourResource, ResourceNotFound
from gateway.ownership import Kind, Owner
from gateway.routing.messages import AriCall

STASIS_DEVICE = "stasis:"
_SOURCE_PARAMS = ("eventSource", "source")
_SOURCE_KINDS = {"channel": Kind.CHANNEL, "bridge": Kind.BRIDGE}
SUBSCRIPTIONS = ("subscribe", "unsubscribe")
# Parameters naming an existing channel the request takes something from.
CHANNEL_ARGUMENTS = ("originator", "caller")

OwnerLookup = Callable[[Kind, str], Awaitable[Owner | None]]


def device_namespace(app: str) -> str:
    return f"Stasis:{app}:"


def is_own_device(app: str, device: str) -> bool:
    """Whether ``device`` may be seen or changed by ``app`` (other technologies are not ours to police)."""
    if not device.lower().startswith(STASIS_DEVICE):
        return True
    return device.lower().startswith(device_namespace(app).lower())


def sources(call: AriCall) -> list[tuple[str, str]]:
    """The ``(scheme, id)`` event sources a call names (subscribe, unsubscribe, user events)."""
    found = []
    for name in _SOURCE_PARAMS:
        if any(p.name == name for p in call.op.params):
            for source in call.params.values(name):
                scheme, _, resource = source.partition(":")
                found.append((scheme, resource))
    return found


async def check_references(call: AriCall, owner_of: OwnerLookup) -> None:
    """403/404 when ``call`` names another app's resource (see the module's rules)."""
    await _check_sources(call, owner_of)
    await _check_channel_arguments(call, owner_of)
    if call.op.nickname == "claimChannel":
        owner = await owner_of(Kind.CHANNEL, call.query_value("channelId") or "")
        if owner is None or owner.app != call.app:
            raise ResourceNotFound("Channel not found")
    device = call.path_params.get("deviceName")
    if device is not None and not is_own_device(call.app, device):
        if call.op.method == "PUT":
            raise _foreign_device(call.app, device)
        raise ResourceNotFound("Device not found")


async def _check_sources(call: AriCall, owner_of: OwnerLookup) -> None:
    for scheme, resource in sources(call):
        kind = _SOURCE_KINDS.get(scheme)
        if kind is not None:
            owner = await owner_of(kind, resource)
            if owner is None or owner.app != call.app:
                raise NotYourResource(f"event source {scheme}:{resource} is not one of the app's")
        elif scheme == "endpoint" and call.op.nickname not in SUBSCRIPTIONS:
            raise NotYourResource("endpoints are shared by every app: a user event cannot carry one")
        elif scheme == "deviceState" and not is_own_device(call.app, resource):
            raise _foreign_device(call.app, resource)


async def _check_channel_arguments(call: AriCall, owner_of: OwnerLookup) -> None:
    """An unknown channel is left to the node (Asterisk's own "not found")."""
    for name in CHANNEL_ARGUMENTS:
        channel = call.query_value(name) if any(p.name == name for p in call.op.params) else None
        if channel:
            owner = await owner_of(Kind.CHANNEL, channel)
            if owner is not None and owner.app != call.app:
                raise NotYourResource(f"{name}={channel!r} is not one of the app's channels")


def _foreign_device(app: str, device: str) -> NotYourResource:
    return NotYourResource(f"device {device!r}: an app's devices are named {device_namespace(app)}…")


def own_devices(app: str, devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in devices if is_own_device(app, str(d.get("name", "")))]
