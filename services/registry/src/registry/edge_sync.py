"""Keeps Kamailio's dispatch set equal to the healthy (passing), undrained nodes.

The set is recomputed from Consul at once after a change there (:meth:`EdgeSync.nudge`, from
:mod:`registry.consul_changes`, and the drain API) and every ``poll_interval`` seconds besides.
When it differs from what Kamailio last loaded, the list file is rewritten (atomically, line
format in ``ariscale_common.sip_edge``) and ``kamcmd dispatcher.reload`` makes Kamailio re-read
it without a restart. No healthy node gives an empty file: Kamailio then answers 503.
While Consul does not answer, the file is left alone: an unknown set is not an empty one.
"""

import asyncio
import logging
import os
import time
import uuid
from pathlib import Path

from ariscale_common import Health, LinkState
from ariscale_common.backoff import Backoff
from ariscale_common.sip_edge import DispatchTarget, parse_dispatcher_list, render_dispatcher_list
from registry.consul_store import ConsulStore
from registry.exceptions import ConsulUnavailable
from registry.settings import SipEdgeSettings
from registry.wake import sleep_or_wake

log = logging.getLogger(__name__)
LINK = "sip-edge"
RELOAD_TIMEOUT = 5.0


class ReloadFailed(Exception):
    """kamcmd could not make Kamailio reload its dispatch list."""


class EdgeSync:
    def __init__(self, store: ConsulStore, settings: SipEdgeSettings, health: Health) -> None:
        self._store = store
        self._settings = settings
        self._health = health
        self._list_file = Path(settings.dispatcher_list)
        self._loaded: str | None = None  # the list text Kamailio last reloaded successfully
        self._wake = asyncio.Event()
        self._stopping = False
        self.last_synced: float | None = None  # time.monotonic() of the last check that succeeded

    def nudge(self) -> None:
        """Recompute now (a node was drained or undrained)."""
        self._wake.set()

    async def targets(self) -> list[DispatchTarget]:
        nodes, drained = await asyncio.gather(self._store.nodes(), self._store.drained())
        return [
            DispatchTarget(n.node_id, n.meta.sip_address)
            for n in nodes
            if n.health == "passing" and n.node_id not in drained and n.meta is not None
        ]

    async def sync_once(self) -> bool:
        """Apply the current set; True if Kamailio was reloaded. Raises on Consul/kamcmd failure."""
        text = render_dispatcher_list(await self.targets())
        if text == self._loaded:
            return False
        await asyncio.to_thread(_write_atomically, self._list_file, text)
        await self._reload()
        self._loaded = text
        nodes = ", ".join(t.node_id for t in parse_dispatcher_list(text)) or "none (503)"
        log.info("SIP edge dispatch set is now: %s", nodes)
        self._health.set(LINK, LinkState.UP)
        return True

    async def run(self) -> None:
        # Capped low: the loop is cheap, and a refused reload ("Ongoing reload") must be retried
        # soon after Kamailio's rate limit lets it through.
        backoff = Backoff(initial=0.5, maximum=2.0, jitter=0.2)
        while not self._stopping:
            try:
                await self.sync_once()
            except ConsulUnavailable:
                delay = backoff.next()  # the consul link in /health already says why
            except (ReloadFailed, OSError) as exc:
                delay = backoff.next()
                self._health.set(LINK, LinkState.DOWN, str(exc))
                log.warning("SIP edge update failed, retrying in %.1f s: %s", delay, exc)
            else:
                self.last_synced = time.monotonic()
                backoff.reset()
                delay = self._settings.poll_interval
            await sleep_or_wake(self._wake, delay)

    def stop(self) -> None:
        """End :meth:`run` after its current step (no cancellation in the middle of a kamcmd run)."""
        self._stopping = True
        self._wake.set()

    async def _reload(self) -> None:
        argv = [self._settings.kamcmd, "-s", f"unix:{self._settings.ctl_socket}", "dispatcher.reload"]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
        except OSError as exc:
            raise ReloadFailed(f"{argv[0]}: {exc}") from exc
        try:
            async with asyncio.timeout(RELOAD_TIMEOUT):
                output, _ = await proc.communicate()
        except TimeoutError:
            raise ReloadFailed(f"kamcmd did not answer within {RELOAD_TIMEOUT:.0f} s") from None
        finally:
            if proc.returncode is None:  # timed out or cancelled: leave no kamcmd behind
                proc.kill()
                await proc.wait()
        said = output.decode(errors="replace").strip()
        # kamcmd exits 0 even when Kamailio refuses, e.g. "error: 500 - Ongoing reload" (the
        # dispatcher module allows one reload per reload_delta; the cluster config sets it to 0).
        if proc.returncode != 0 or said.lower().startswith("error"):
            raise ReloadFailed(f"kamcmd exited {proc.returncode}: {said}")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own: two registries (or a restart overlapping the old one) may write at once.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
