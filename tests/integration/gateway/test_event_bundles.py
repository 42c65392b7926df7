"""Messages of several events, as a node's agent sends a burst: the app gets each event on its own,
in order, numbered one by one, and the events among them that change ownership are tracked (real
RabbitMQ, Redis and Consul; the node exists only in Consul)."""

import redis.asyncio as aioredis

from ariscale_common.keyspace import Keyspace
from gateway.ownership import Kind, Owner, OwnershipStore
from tests.integration.gateway.conftest import EVENTS_REDIS_URL, NewApp, StartGateway
from tests.integration.gateway.events_harness import BusPublisher, call_events, streams
from tests.integration.gateway.fake_nodes import FakeNode, closed_port, registered
from tests.support.waiting import until


async def test_events_sharing_a_message_reach_the_app_one_by_one_and_change_ownership(
    start_gateway: StartGateway,
    events_app: NewApp,
    bus_publisher: BusPublisher,
    events_consul_url: str,
    events_redis_prefix: str,
) -> None:
    app, password = events_app()
    node = FakeNode(events_consul_url, closed_port())
    call = call_events(app, f"{node.node_id}-1700000000.7", middle=3)
    channel = call[0]["channel"]["id"]
    with registered(node):
        gateway = await start_gateway("g1")
        await until(lambda: node.node_id in gateway.app.state.ownership_shares.share, message="node tracked")
        await until(lambda: bus_publisher.queue_ready(app), message="app queue")
        async with (
            aioredis.Redis.from_url(EVENTS_REDIS_URL) as client,
            streams(gateway.events_url(app, password)) as (ws,),
        ):
            ownership = OwnershipStore(client, Keyspace(events_redis_prefix))

            async def owner() -> Owner | None:
                return await ownership.get(Kind.CHANNEL, channel)

            async def recorded() -> bool:
                return await owner() == Owner(node=node.node_id, app=app)

            async def forgotten() -> bool:
                return await owner() is None

            # StasisStart behind another event: the message's key names the type that counts.
            await bus_publisher.publish_together(app, node.node_id, call[1], call[0])
            await until(recorded, message="the channel recorded from StasisStart")
            await bus_publisher.publish_together(app, node.node_id, *call[2:])  # … StasisEnd, destroyed
            await until(lambda: len(ws.events) == len(call), message=f"{len(call)} events")
            await until(forgotten, message="the channel forgotten on ChannelDestroyed")
    assert ws.events == [call[1], call[0], *call[2:]]
    first = ws.seqs[0]
    assert first is not None and ws.seqs == list(range(first, first + len(call)))
