"""An app never hears of another app's channels, even through a source they share.

An ``endpoint:`` subscription forwards everything about the endpoint's channels (res/stasis/app.c,
``forwards_create_endpoint``), and the cluster's one endpoint carries every app's calls. So an
event naming a channel (``channel``, ``peer``, ``caller``, ``forwarded``) reaches the app only when
the channel is the app's, and ``EndpointStateChange`` lists only the app's ``channel_ids``.

Whose a channel is: the snapshot's ``Stasis(<app>)`` when it is in one (no lookup: the app's own
calls, nearly every event), else the ownership entry, else, for a call not recorded yet or any
more, the app whose number it dialed; a channel none of these names passes (the app's own
channel created without a number, whose entry went with its end). ``StasisEnd`` and
``ApplicationMoveFailed`` always pass: Asterisk sends them only to the app the channel leaves
(after a move the channel is already the new app's).
"""

from collections.abc import Callable, Mapping
from typing import Any

from ariscale_common.discovery import AppRecord
from gateway.ownership import Kind, Owner, OwnershipStore

Event = dict[str, Any]

CHANNEL_FIELDS = ("channel", "peer", "caller", "forwarded")
ALWAYS_THE_APPS = frozenset({"StasisEnd", "ApplicationMoveFailed"})


def stasis_app(snapshot: Event) -> str | None:
    """The app a channel snapshot shows it in, if it is in ``Stasis``."""
    dialplan = snapshot.get("dialplan") or {}
    if dialplan.get("app_name") != "Stasis" or not dialplan.get("app_data"):
        return None
    return str(dialplan["app_data"]).split(",")[0]


def dialed_app(snapshot: Event, apps: Mapping[str, AppRecord]) -> str | None:
    """The app whose number the channel dialed (before it reaches ``Stasis``)."""
    exten = str((snapshot.get("dialplan") or {}).get("exten", ""))
    return next((name for name, record in apps.items() if exten in record.extensions), None)


class ForeignChannels:
    def __init__(self, ownership: OwnershipStore, apps: Callable[[], Mapping[str, AppRecord]]) -> None:
        self._ownership = ownership
        self._apps = apps  # the registered apps, as last read from Consul

    async def view(self, app: str, event: Event) -> Event | None:
        """The event as ``app`` may see it; None when it is about another app's channel."""
        if event.get("type") in ALWAYS_THE_APPS:
            return event
        snapshots = [s for s in (event.get(f) for f in CHANNEL_FIELDS) if isinstance(s, dict)]
        unsure = [s for s in snapshots if stasis_app(s) != app]
        if unsure:
            owners = await self._ownership.get_many(Kind.CHANNEL, [str(s.get("id")) for s in unsure])
            whose = [self._whose(s, owner) for s, owner in zip(unsure, owners, strict=True)]
            if any(other not in (None, app) for other in whose):
                return None
        endpoint = event.get("endpoint")
        if event.get("type") == "EndpointStateChange" and isinstance(endpoint, dict):
            return {**event, "endpoint": {**endpoint, "channel_ids": await self._own(app, endpoint)}}
        return event

    def _whose(self, snapshot: Event, owner: Owner | None) -> str | None:
        if owner is not None:
            return owner.app
        return stasis_app(snapshot) or dialed_app(snapshot, self._apps())

    async def _own(self, app: str, endpoint: Event) -> list[str]:
        ids = [str(c) for c in endpoint.get("channel_ids", [])]
        owners = await self._ownership.get_many(Kind.CHANNEL, ids)
        return [c for c, owner in zip(ids, owners, strict=True) if owner is not None and owner.app == app]
