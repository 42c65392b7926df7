"""A bridge is one bridge, whichever nodes its channels are on (real SIP, RTP and nodes)."""

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from ariscale_cluster import Cluster
from tests.e2e.conftest import BLACK_HOLE, RegisteredApp
from tests.support import bridges
from tests.support.audio import band_energy, make_tone, peak_frequency, record, record_what_is_heard
from tests.support.callers import Callers, node_of
from tests.support.gateway import second_gateway
from tests.support.ownership import recorded_channels
from tests.support.waiting import until


async def test_four_callers_on_both_nodes_share_one_leg_per_node(
    cluster: Cluster, gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_callers: Callers
) -> None:
    channels = await app_callers.call(4)
    assert set(Counter(node_of(c["id"]) for c in channels)) == {"n1", "n2"}
    bridge_id = await bridges.new_bridge(gw, type="mixing")
    await bridges.add_channels(gw, bridge_id, *(c["id"] for c in channels))

    assert await bridges.bridge_members(gw, bridge_id) == sorted(c["id"] for c in channels)
    assert [b["id"] for b in (await gw.get("/bridges")).json()] == [bridge_id]
    assert {c["id"] for c in (await gw.get("/channels")).json()} == {c["id"] for c in channels}
    assert await bridges.legs_per_node(nodes) == {"n1": 1, "n2": 1}, (
        "one leg: its home end and its remote end"
    )
    legs = {leg for client in nodes.values() for leg in await bridges.leg_channels(client)}
    assert not legs & await recorded_channels(cluster), "link legs are no app's: never recorded"

    fifth = (await app_callers.call(1))[0]
    await bridges.add_channels(gw, bridge_id, fifth["id"])
    assert len((await gw.get(f"/bridges/{bridge_id}")).json()["channels"]) == 5
    assert await bridges.legs_per_node(nodes) == {"n1": 1, "n2": 1}, (
        "a member on a linked node opens no new leg"
    )

    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204
    # Asterisk answers a channel's DELETE once the hangup is queued: the leg's ends may still be
    # listed for a moment (a CI run saw n2's right after the 204).
    await until(lambda: bridges.no_legs(nodes), message="both ends of the leg gone with the bridge")


async def test_audio_crosses_nodes_both_ways(
    gw: httpx.AsyncClient,
    registered_app: RegisteredApp,
    tmp_path_factory: pytest.TempPathFactory,
    app_callers: Callers,
) -> None:
    tones = tmp_path_factory.mktemp("tones")
    low, high = make_tone(tones / "tone-1000.ulaw", 1000), make_tone(tones / "tone-1500.ulaw", 1500)
    # Consecutive calls alternate between the nodes at the edge.
    first = (await app_callers.call(1, tone=low))[0]
    second = (await app_callers.call(1, tone=high))[0]
    assert node_of(first["id"]) != node_of(second["id"])
    by_tone: dict[str, dict[str, Any]] = {c["caller"]["number"]: c for c in (first, second)}
    bridge_id = await bridges.new_bridge(gw, type="mixing")
    await bridges.add_channels(gw, bridge_id, f"{first['id']},{second['id']}")

    heard_by_low, heard_by_high, bridge_mix = await asyncio.gather(
        record_what_is_heard(gw, by_tone["tone-1000"]["id"], registered_app.name),
        record_what_is_heard(gw, by_tone["tone-1500"]["id"], registered_app.name),
        record(gw, f"/bridges/{bridge_id}"),
    )
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204

    # Recording the bridge (on its home node) captures the members of both nodes.
    assert band_energy(bridge_mix, 1000) > 0.2 and band_energy(bridge_mix, 1500) > 0.2

    # Each caller hears the other's tone, from the other node, and not its own.
    assert peak_frequency(heard_by_low) == pytest.approx(1500, abs=10)
    assert band_energy(heard_by_low, 1500) > 0.9
    assert peak_frequency(heard_by_high) == pytest.approx(1000, abs=10)
    assert band_energy(heard_by_high, 1000) > 0.9


@pytest.mark.parametrize("order", ["remote-first", "home-first", "interleaved"])
async def test_hang_ups_in_any_order_leave_every_node_empty(
    order: str, gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient], app_callers: Callers
) -> None:
    channels = await app_callers.call(4)
    bridge_id = await bridges.new_bridge(gw, type="mixing")
    await bridges.add_channels(gw, bridge_id, ",".join(c["id"] for c in channels))
    home = await bridges.home_of(nodes, bridge_id)
    remote_first = sorted(channels, key=lambda c: node_of(c["id"]) == home)
    ordered = {
        "remote-first": remote_first,
        "home-first": list(reversed(remote_first)),
        "interleaved": sorted(channels, key=lambda c: c["id"][::-1]),
    }[order]
    for channel in ordered:
        await app_callers.hang_up(channel["id"])
    await until(lambda: bridges.no_legs(nodes), message="link legs torn down once their members left")
    assert (await gw.get(f"/bridges/{bridge_id}")).json()["channels"] == []
    assert (await gw.delete(f"/bridges/{bridge_id}")).status_code == 204


async def test_twenty_concurrent_joins_through_two_gateways_open_one_leg_per_node(
    cluster: Cluster,
    gw: httpx.AsyncClient,
    nodes: dict[str, httpx.AsyncClient],
    registered_app: RegisteredApp,
) -> None:
    async with second_gateway(cluster, cluster.spec.port_base + 91, registered_app.auth, timeout=30) as gw2:
        created = [
            await gw.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": registered_app.name})
            for _ in range(20)
        ]
        channel_ids = [r.json()["id"] for r in created]
        assert set(Counter(node_of(c) for c in channel_ids)) == {"n1", "n2"}
        bridge_id = await bridges.new_bridge(gw, type="mixing")
        answers = await asyncio.gather(
            *(
                (gw if i % 2 else gw2).post(
                    f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id}
                )
                for i, channel_id in enumerate(channel_ids)
            )
        )
        assert [a.status_code for a in answers] == [204] * 20, [
            a.text for a in answers if a.status_code != 204
        ]
        assert await bridges.bridge_members(gw2, bridge_id) == sorted(channel_ids)
        assert await bridges.legs_per_node(nodes) == {"n1": 1, "n2": 1}
        assert (await gw2.delete(f"/bridges/{bridge_id}")).status_code == 204
        for channel_id in channel_ids:
            assert (await gw.delete(f"/channels/{channel_id}")).status_code == 204
    await bridges.until_nodes_empty(nodes)
