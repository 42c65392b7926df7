"""What lives in Consul, written down once: the node service and the KV layout.

* Service ``asterisk``: one instance per node, service id = node id, meta ``ari_url``,
  ``sip_address``, ``asterisk_version``; a TTL check the node agent passes while ARI answers.
* KV ``<prefix>apps/<name>``: JSON :class:`AppRecord`, mirrored from the registry's database
  (the database is the truth; the registry re-syncs the KV at start and every
  ``kv_resync_interval`` seconds, deleting app keys the database does not have).
* KV ``<prefix>apps/`` (the folder key itself): written by the registry after every full re-sync.
  An app list without it is no mirror: Consul restarted empty (dev mode keeps nothing) and the
  registry has not re-synced yet. Readers then keep the apps they had (:func:`mirrored`), so a
  Consul restart unsubscribes no app and unroutes no number.
* KV ``<prefix>drained/<node id>``: present while the node is drained (no new calls); the value
  is JSON ``{"since": <unix time>}`` and carries no meaning beyond that.
"""

from typing import Any

from pydantic import BaseModel

NODE_SERVICE = "asterisk"


class AppRecord(BaseModel):
    """An application as the nodes see it: enough to subscribe and to route dialed numbers."""

    name: str
    extensions: list[str] = []
    # False: nodes stop routing the app's extensions and the gateway refuses its credentials.
    enabled: bool = True
    # The app's ARI password as ariscale_common.passwords.hash_password stored it; the gateway
    # checks app logins with passwords.verify_password against it. Never the password itself.
    password_hash: str = ""


class NodeMeta(BaseModel):
    ari_url: str
    sip_address: str
    asterisk_version: str = ""
    # Asterisk's own start time (ARI /asterisk/info): a new one means Asterisk restarted and every
    # channel it had is gone, even if the node never looked dead in between.
    asterisk_started: str = ""


def apps_prefix(kv_prefix: str) -> str:
    return f"{kv_prefix}apps/"


def app_key(kv_prefix: str, name: str) -> str:
    return f"{apps_prefix(kv_prefix)}{name}"


def mirrored_key(kv_prefix: str) -> str:
    """The registry's mark that ``<prefix>apps/`` holds its mirror (see the module docstring)."""
    return apps_prefix(kv_prefix)


def mirrored(kv_prefix: str, items: list[dict[str, Any]]) -> bool:
    """Whether a recursive read of ``<prefix>apps/`` (its items) is the registry's mirror."""
    return any(item["Key"] == mirrored_key(kv_prefix) for item in items)


def app_items(kv_prefix: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The app keys of a recursive read of ``<prefix>apps/`` (without the mirror's mark)."""
    return [item for item in items if item["Key"] != mirrored_key(kv_prefix)]


def drained_prefix(kv_prefix: str) -> str:
    return f"{kv_prefix}drained/"


def drained_key(kv_prefix: str, node_id: str) -> str:
    return f"{drained_prefix(kv_prefix)}{node_id}"
