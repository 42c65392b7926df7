"""The node in Consul: service ``asterisk`` (id = node id) whose TTL check follows ARI.

Every ``heartbeat_s`` the agent asks ARI ``/asterisk/info``. If it answers, the TTL check is
passed (and the service registered first when Consul does not know it: agent start, Consul
restart, Asterisk version change). If it does not, the check is failed at once, so the node is
critical within a heartbeat even though the agent lives; if the agent dies, the TTL lapses.
"""

import asyncio
import logging

from ariscale_common import Health, LinkState
from ariscale_common.ari import AriClient, AriError
from ariscale_common.discovery import NodeMeta
from node_agent.consul_client import ConsulClient, ConsulUnavailable
from node_agent.settings import Settings

log = logging.getLogger(__name__)


class NodeRegistration:
    def __init__(self, consul: ConsulClient, ari: AriClient, settings: Settings, health: Health) -> None:
        self._consul = consul
        self._ari = ari
        self._health = health
        self._node_id = settings.node_id
        self._ari_url = settings.ari.url
        self._sip_address = settings.sip_address
        self._ttl_s = settings.timing.check_ttl_s
        self._heartbeat_s = settings.timing.heartbeat_s
        self._registered: NodeMeta | None = None
        self._version = ""
        self._started = ""

    async def run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self._heartbeat_s)

    async def beat(self) -> None:
        """Probe ARI once and tell Consul."""
        try:
            info = await self._ari.get("/asterisk/info")
            self._version, self._started = _version_and_start(info)
            ari_error = None
            self._health.set("ari", LinkState.UP)
        except AriError as exc:
            ari_error = exc.message
            self._health.set("ari", LinkState.DOWN, ari_error)
        meta = NodeMeta(
            ari_url=self._ari_url,
            sip_address=self._sip_address,
            asterisk_version=self._version,
            asterisk_started=self._started,
        )
        try:
            if self._registered != meta:
                await self._consul.register_node(meta, self._ttl_s)
                log.info("%s: registered in Consul (%s)", self._node_id, meta.model_dump())
                self._registered = meta
            if ari_error is None:
                await self._consul.pass_check("ARI answers")
            else:
                await self._consul.fail_check(f"ARI does not answer: {ari_error}")
            self._health.set("consul", LinkState.UP)
        except ConsulUnavailable as exc:
            # Consul may have restarted and forgotten us: register again on the next beat.
            self._registered = None
            self._health.set("consul", LinkState.DOWN, str(exc))

    async def deregister(self) -> None:
        try:
            await self._consul.deregister_node()
            log.info("%s: deregistered from Consul", self._node_id)
        except ConsulUnavailable as exc:
            log.warning("%s: could not deregister from Consul: %s", self._node_id, exc)


def _version_and_start(info: object) -> tuple[str, str]:
    """Asterisk's version and start time from ``/asterisk/info``."""
    if not isinstance(info, dict):
        return "", ""
    system, status = info.get("system") or {}, info.get("status") or {}
    return str(system.get("version", "")), str(status.get("startup_time", ""))
