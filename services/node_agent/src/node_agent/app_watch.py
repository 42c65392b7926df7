"""The app list: a Consul blocking query on ``<prefix>apps/`` drives subscriptions and dialplan.

A change in the KV returns the query at once, so the node follows within well under 2 s.
"""

import asyncio
import logging
import re

from ariscale_common import Health, LinkState
from ariscale_common.backoff import Backoff
from ariscale_common.discovery import AppRecord
from node_agent.consul_client import ConsulClient, ConsulUnavailable
from node_agent.dialplan_sync import DialplanSync
from node_agent.subscriptions import Subscriptions

log = logging.getLogger(__name__)

# App names become routing-key words and websocket query values; extensions become variable names.
APP_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EXTENSION = re.compile(r"^[0-9*#+]{1,32}$")


def usable_apps(records: list[AppRecord], node_id: str) -> list[AppRecord]:
    """The enabled records whose name and extensions are safe to use; the others are logged."""
    apps = []
    for record in records:
        if not APP_NAME.match(record.name):
            log.warning("%s: ignoring app with invalid name %r", node_id, record.name)
            continue
        bad = [e for e in record.extensions if not EXTENSION.match(e)]
        if bad:
            log.warning("%s app %s: ignoring invalid extensions %s", node_id, record.name, bad)
        if record.enabled:
            extensions = [e for e in record.extensions if e not in bad]
            apps.append(record.model_copy(update={"extensions": extensions}))
    return apps


class AppWatcher:
    def __init__(
        self,
        consul: ConsulClient,
        subscriptions: Subscriptions,
        dialplan: DialplanSync,
        health: Health,
        node_id: str,
        wait_s: int,
        backoff: Backoff,
    ) -> None:
        self._consul = consul
        self._subscriptions = subscriptions
        self._dialplan = dialplan
        self._health = health
        self._node_id = node_id
        self._wait_s = wait_s
        self._backoff = backoff

    async def run(self) -> None:
        index: int | None = None
        while True:
            try:
                new_index, records = await self._consul.apps(index, self._wait_s)
            except ConsulUnavailable as exc:
                self._health.set("consul:apps", LinkState.DOWN, str(exc))
                index = None
                await asyncio.sleep(self._backoff.next())
                continue
            self._health.set("consul:apps", LinkState.UP)
            self._backoff.reset()
            if records is None:
                # Consul came back empty: keep serving the apps we have until the registry re-syncs.
                log.warning("%s: the app list in Consul is not mirrored yet; keeping the apps", self._node_id)
            elif new_index != index:
                self.apply(records)
            # Consul's index only grows, unless Consul restarted: then start over (as its docs advise).
            index = None if index is not None and new_index < index else max(new_index, 1)

    def apply(self, records: list[AppRecord]) -> None:
        apps = usable_apps(records, self._node_id)
        log.info("%s: apps %s", self._node_id, sorted(a.name for a in apps) or "none")
        self._dialplan.set_apps(apps)
        self._subscriptions.ensure({a.name for a in apps})
