"""The cluster's one identity: apps see one Asterisk, whichever node answered or sent an event.

Every node has its own entity id and system name (``n1``, ``n2``…). An app written for one Asterisk
may key on them (ARI proxies key nodes by ``asterisk_id``), so the gateway shows the cluster's own
instead, the same everywhere: ``system.entity_id`` and ``config.name`` of ``GET /asterisk/info``,
``asterisk_id`` of ``GET /asterisk/ping`` and of every event. Channel ids keep their node's prefix
(``n1-…``): they are ids, not identity.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClusterIdentity:
    entity_id: str
    system_name: str

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as the cluster sends it."""
        if "asterisk_id" not in event or event["asterisk_id"] == self.entity_id:
            return event
        return {**event, "asterisk_id": self.entity_id}

    def answer(self, nickname: str, body: Any) -> Any:
        """A node's answer to an ``asterisk`` resource read, as the cluster gives it."""
        if not isinstance(body, dict):
            return body
        if nickname == "ping":
            return {**body, "asterisk_id": self.entity_id}
        if nickname != "getInfo":
            return body
        described = dict(body)
        if isinstance(body.get("system"), dict):
            described["system"] = {**body["system"], "entity_id": self.entity_id}
        if isinstance(body.get("config"), dict):
            described["config"] = {**body["config"], "name": self.system_name}
        return described
