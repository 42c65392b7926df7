"""Dialed number → app on the node, without a reload: the globals ``APP_<exten>`` over ARI.

The node's dialplan runs ``Stasis(${APP_${EXTEN}})`` and answers 404 when the variable is
empty. An extension is routed only while its app's websocket is connected on this node: a call
that entered ``Stasis()`` of an app with no websocket would fail, so the caller gets a clean 404
instead. Globals vanish when Asterisk restarts, and a websocket that (re)connects may mean just
that, so every (re)connect makes the agent set all of them again.

Once every app it knows is routed (or after ``ROUTE_WAIT_S``, so one app that cannot connect does
not keep the node out), the agent sets ``ARISCALE_ROUTED``; until then the node answers every
number with 503, which sends the call to another node.
"""

import asyncio
import contextlib
import logging
import time

from ariscale_common.ari import AriClient, AriError
from ariscale_common.backoff import Backoff
from ariscale_common.dialplan import ROUTED_VARIABLE, app_variable
from ariscale_common.discovery import AppRecord

log = logging.getLogger(__name__)

ROUTE_WAIT_S = 5.0  # longest the node stays unrouted for apps whose websocket does not come up
RECHECK_S = 0.5  # while unrouted: how often to look again


def all_routed(apps: list[AppRecord], live: set[str]) -> bool:
    """Every app has its websocket on the node, so each of its numbers reaches it."""
    return {a.name for a in apps} <= live


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
        self._apps_known = False  # no app list yet: routing now would 404 the apps' numbers
        self._marked = False  # ROUTED_VARIABLE is known to be set on the node
        self._unrouted_since = time.monotonic()

    @property
    def routed(self) -> bool:
        return self._marked

    def set_apps(self, apps: list[AppRecord]) -> None:
        self._apps = list(apps)
        self._apps_known = True
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
            if self._marked:
                await self._dirty.wait()
            else:  # not routed yet: look again soon, ROUTE_WAIT_S may have passed
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RECHECK_S):
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
        if full and self._marked:  # Asterisk may have restarted: the node may lack the mark too
            self._marked, self._unrouted_since = False, time.monotonic()
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
        if not self._marked and self._ready():
            await self._set_variable(ROUTED_VARIABLE, "1")
            self._marked = True
            log.info("%s: node routed (%d numbers): it takes calls", self._node_id, len(wanted))

    def _ready(self) -> bool:
        if not self._apps_known:
            return False
        waited = time.monotonic() - self._unrouted_since
        return all_routed(self._apps, self._live) or waited >= ROUTE_WAIT_S

    async def clear(self) -> None:
        """Refuse new calls (503: the edge tries another node), then empty every global this agent
        set (clean shutdown: its websockets are going away)."""
        await self._set_variable(ROUTED_VARIABLE, "")
        self._marked, self._apps_known = False, False
        self._live.clear()
        await self.apply()

    async def _set(self, extension: str, app: str) -> None:
        await self._set_variable(app_variable(extension), app)

    async def _set_variable(self, variable: str, value: str) -> None:
        await self._ari.post("/asterisk/variable", params={"variable": variable, "value": value})
        log.debug("%s: %s = %r", self._node_id, variable, value)
