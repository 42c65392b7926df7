"""Dialed number → app on the node, without a reload: the globals ``APP_<exten>`` over ARI.

The node's dialplan runs ``Stasis(${APP_${EXTEN}})`` and answers 404 when the variable is
empty. An extension is routed only while its app's websocket is connected on this node: a call
that entered ``Stasis()`` of an app with no websocket would fail, so the caller gets a clean 404
instead. Globals vanish when Asterisk restarts, and a websocket that (re)connects may mean just
that, so every (re)connect makes the agent set all of them again.
"""

import asyncio
import logging

from ariscale_common.ari import AriClient, AriError
from ariscale_common.backoff import Backoff
from ariscale_common.dialplan import app_variable
from ariscale_common.discovery import AppRecord

log = logging.getLogger(__name__)


def routes(apps: list[AppRecord], live: set[str], node_id: str = "") -> dict[str, str]:
    """extension → app for the ``apps`` whose websocket is ``live``; first app by name wins a clash."""
    table: dict[str, str] = {}
    for app in sorted(apps, key=lambda a: a.name):
        if app.name not in live:
            continue
        for extension in app.extensions:
            owner = table.setdefault(extension, app.name)
            if owner != app.name:
                log.warning("%s: extension %s claimed by %s and %s", node_id, extension, owner, app.name)
    return table


class DialplanSync:
    def __init__(self, ari: AriClient, node_id: str, backoff: Backoff) -> None:
        self._ari = ari
        self._node_id = node_id
        self._backoff = backoff
        self._apps: list[AppRecord] = []
        self._live: set[str] = set()
        self._applied: dict[str, str] = {}  # what we believe the node holds now
        # Set after a (re)connect: Asterisk may have restarted and lost every global.
        self._resync = False
        self._dirty = asyncio.Event()

    def set_apps(self, apps: list[AppRecord]) -> None:
        self._apps = list(apps)
        self._dirty.set()

    def subscription_up(self, app: str) -> None:
        self._live.add(app)
        self._resync = True
        self._dirty.set()

    def subscription_down(self, app: str) -> None:
        self._live.discard(app)
        self._dirty.set()

    def wanted(self) -> dict[str, str]:
        return routes(self._apps, self._live, self._node_id)

    async def run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.apply()
                self._backoff.reset()
            except AriError as exc:
                log.warning("%s: dialplan globals not set (%s); retrying", self._node_id, exc)
                await asyncio.sleep(self._backoff.next())
                self._dirty.set()

    async def apply(self) -> None:
        """Make the node's globals equal :meth:`wanted`: set new or changed ones, empty the rest."""
        wanted = self.wanted()
        full, self._resync = self._resync, False
        changed = 0
        try:
            for extension in sorted(set(self._applied) - set(wanted)):
                await self._set(extension, "")
                del self._applied[extension]
                changed += 1
            for extension, app in sorted(wanted.items()):
                if full or self._applied.get(extension) != app:
                    await self._set(extension, app)
                    self._applied[extension] = app
                    changed += 1
        except AriError:
            self._resync = self._resync or full
            raise
        if changed:
            log.info("%s: dialplan globals set (%d changed, %d routed)", self._node_id, changed, len(wanted))

    async def clear(self) -> None:
        """Empty every global this agent set (clean shutdown: its websockets are going away)."""
        self._live.clear()
        await self.apply()

    async def _set(self, extension: str, app: str) -> None:
        await self._ari.post("/asterisk/variable", params={"variable": app_variable(extension), "value": app})
        log.debug("%s: %s = %r", self._node_id, app_variable(extension), app)
