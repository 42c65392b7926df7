"""Applications mirrored from the database (the truth) into Consul KV, where the nodes read them.

Each change is written right after its database commit. If Consul is down then, the change is
not lost: the mirror is marked dirty and the background loop re-syncs the whole app tree (write
what differs, delete keys of apps the database does not have) as soon as Consul answers, at
start-up, and every ``resync_interval`` seconds, so a wiped or edited KV heals by itself.

Each re-sync ends with the mirror's mark (``ariscale_common.discovery.mirrored_key``), and the loop
looks for it whenever the KV changes (:meth:`AppMirror.nudge`, from :mod:`registry.consul_changes`)
and every ``check_interval``: a Consul that restarted empty gets its apps back at once (meanwhile
the nodes and gateways keep the apps they had).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ariscale_common.backoff import Backoff
from ariscale_common.discovery import AppRecord
from registry.consul_store import ConsulStore
from registry.exceptions import ConsulUnavailable
from registry.wake import sleep_or_wake

log = logging.getLogger(__name__)


class AppMirror:
    def __init__(
        self,
        store: ConsulStore,
        load_records: Callable[[], Awaitable[list[AppRecord]]],
        resync_interval: float,
        check_interval: float = 10.0,
    ) -> None:
        self._store = store
        self._load_records = load_records
        self._interval = resync_interval
        self._check_interval = check_interval
        # Serialises single writes with full re-syncs: a re-sync reads the database and writes
        # KV under the lock, so it can never put back an app deleted while it ran.
        self._lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._due = False  # a full re-sync is owed (a write failed, or the last re-sync did)
        self._stopping = False
        self.resyncs = 0  # completed full re-syncs (for /health details and tests)

    async def publish(self, record: AppRecord) -> None:
        async with self._lock:
            try:
                await self._store.put_app(record)
            except ConsulUnavailable as exc:
                log.warning("app %s not mirrored yet, will re-sync: %s", record.name, exc.message)
                self._due = True
                self._dirty.set()

    async def remove(self, name: str) -> None:
        async with self._lock:
            try:
                await self._store.delete_app(name)
            except ConsulUnavailable as exc:
                log.warning("app %s not removed from KV yet, will re-sync: %s", name, exc.message)
                self._due = True
                self._dirty.set()

    async def resync(self) -> None:
        """Make KV's app tree equal to the database; raise ConsulUnavailable or SQLAlchemyError."""
        async with self._lock:
            records = {r.name: r for r in await self._load_records()}
            mirrored = await self._store.apps()
            for name, record in records.items():
                if _parse(mirrored.get(name)) != record:
                    log.info("KV: writing app %s", name)
                    await self._store.put_app(record)
            for name in mirrored.keys() - records.keys():
                log.info("KV: removing app %s (not in the database)", name)
                await self._store.delete_app(name)
            await self._store.mark_mirrored()
            self.resyncs += 1

    async def run(self) -> None:
        """Re-sync now, then on every failed write, when the mark is gone, every interval; back off
        while it fails."""
        backoff = Backoff(jitter=0.2)
        next_resync = 0.0  # monotonic time of the next periodic re-sync
        while not self._stopping:
            try:
                now = time.monotonic()
                if self._due or now >= next_resync or not await self._store.is_mirrored():
                    if not self._due and now < next_resync:
                        log.warning("KV: the app tree is gone (Consul restarted?): re-syncing it now")
                    self._due = False
                    await self.resync()
                    next_resync = now + self._interval
            except (ConsulUnavailable, SQLAlchemyError) as exc:
                self._due = True
                delay = backoff.next()
                log.warning("KV re-sync failed, retrying in %.1f s: %s", delay, exc)
            else:
                backoff.reset()
                delay = self._check_interval
            await sleep_or_wake(self._dirty, delay)

    def nudge(self) -> None:
        """Look for the mirror's mark now (the KV changed: Consul may have restarted empty)."""
        self._dirty.set()

    def stop(self) -> None:
        """End :meth:`run` after its current step (not cancelled halfway through a write)."""
        self._stopping = True
        self._dirty.set()


def _parse(raw: str | None) -> AppRecord | None:
    if not raw:
        return None
    try:
        return AppRecord.model_validate_json(raw)
    except ValidationError:
        return None
