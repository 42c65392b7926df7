"""What the cluster holds at rest (channels and bridges on every node, Redis keys of the cluster's
prefix, queues of its broker), and what was left behind compared with the same view before load."""

import asyncio
import subprocess
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis.asyncio as aioredis

from ariscale_cluster.private_broker import CTL

# Keys of calls and their resources: none may outlive the calls (keyspace.py names them all).
# The others (event logs, turns, instances, expiring tombstones) belong to apps or expire. A call
# key set to expire within LINGER_S is on its way out (a call's assignment lingers 60 s after it).
LINGER_S = 300
CALL_KEY_KINDS = (
    "own", "node-channels", "assign", "calls", "link", "leg-call", "members", "moving", "placement",
)  # fmt: skip


@dataclass
class Holdings:
    """Everything counted, as ids or names (queues: name → (messages, consumers))."""

    channels: dict[str, list[str]] = field(default_factory=dict)  # node → ids (link legs included)
    bridges: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)  # name → seconds to live (-1: forever)
    queues: dict[str, tuple[int, int]] = field(default_factory=dict)


def key_kind(key: str, prefix: str) -> str:
    """``own`` for ``<prefix>own:channel:n1-…``; the whole rest when there is no colon."""
    return key.removeprefix(prefix).split(":", 1)[0]


def left_behind(before: Holdings, after: Holdings, prefix: str) -> dict[str, Any]:
    """Channels and bridges present after but not before, call keys that outlive their calls, and
    queues holding messages or with no consumer (events stuck, or a consumer that died; a new queue
    that someone consumes and that holds nothing is live: a gateway started in place of one killed
    has a forwarding queue of its own)."""

    def new_ids(b: dict[str, list[str]], a: dict[str, list[str]]) -> dict[str, list[str]]:
        found = {node: sorted(set(ids) - set(b.get(node, []))) for node, ids in a.items()}
        return {node: ids for node, ids in found.items() if ids}

    keys = sorted(k for k, ttl in after.keys.items() if k not in before.keys and not 0 <= ttl <= LINGER_S)
    stuck = {
        name: {"messages": messages, "consumers": consumers}
        for name, (messages, consumers) in sorted(after.queues.items())
        if messages > 0 or consumers == 0
    }
    channels, bridges = new_ids(before.channels, after.channels), new_ids(before.bridges, after.bridges)
    call_keys = [k for k in keys if key_kind(k, prefix) in CALL_KEY_KINDS]
    return {
        "channels": channels,
        "bridges": bridges,
        "redis_keys": call_keys,
        "queues": stuck,
        "count": sum(map(len, channels.values())) + sum(map(len, bridges.values()))
        + len(call_keys) + len(stuck),
    }  # fmt: skip


async def node_resources(
    client: httpx.AsyncClient, nodes: dict[str, str]
) -> tuple[dict[str, list[str]], ...]:
    """(channels, bridges) on each node (node id → ARI URL); a node that does not answer: none."""
    channels: dict[str, list[str]] = {}
    bridges: dict[str, list[str]] = {}
    for node, url in nodes.items():
        for kind, into in (("channels", channels), ("bridges", bridges)):
            try:
                into[node] = [item["id"] for item in (await client.get(f"{url}/{kind}")).json()]
            except (httpx.HTTPError, ValueError, TypeError):
                into[node] = []
    return channels, bridges


async def redis_keys(url: str, prefix: str) -> dict[str, int]:
    """Every key of the prefix and its time to live in seconds (-1: none)."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.ttl(key)
            ttls = await pipe.execute()
        return dict(zip(keys, ttls, strict=True))
    finally:
        await client.aclose()


def parse_queues(text: str) -> dict[str, tuple[int, int]]:
    """``rabbitmqctl list_queues name messages consumers`` (tab separated, no headers)."""
    queues = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            queues[fields[0]] = (int(fields[1]), int(fields[2]))
    return queues


async def broker_queues(env: dict[str, str], vhost: str) -> dict[str, tuple[int, int]]:
    """The queues of ``vhost`` on the broker that ``env`` (its RABBITMQ_* variables) names; raises
    when the broker cannot be asked (an empty answer would pass for "nothing left behind")."""
    argv = [
        CTL,
        "-q",
        "list_queues",
        "-p",
        vhost,
        "--no-table-headers",
        "name",
        "messages",
        "consumers",
    ]
    result = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=60, check=False, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"rabbitmqctl list_queues failed ({result.returncode}): {result.stderr.strip()[-500:]}"
        )
    return parse_queues(result.stdout)


async def holdings(
    client: httpx.AsyncClient, nodes: dict[str, str], redis_url: str, prefix: str,
    broker_env: dict[str, str], vhost: str,
) -> Holdings:  # fmt: skip
    channels, bridges = await node_resources(client, nodes)
    return Holdings(
        channels, bridges, await redis_keys(redis_url, prefix), await broker_queues(broker_env, vhost)
    )
