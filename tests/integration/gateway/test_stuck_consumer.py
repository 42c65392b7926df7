"""One app's websocket that never reads delays no other app and is cut off (issue 11, row 11).

Both apps are dispatched by gateway ``g2`` (their first websockets are there) and their app-wide
events go to the first live instance in id order, on ``g1``: so every event reaches ``g1``
through its one forwarding queue, shared by all apps. A write to B's stuck websocket that held
up that queue would hold up A's events too (real RabbitMQ, Redis and Consul).
"""

from typing import Any

from bench.stuck_consumer import never_reading
from tests.integration.gateway.conftest import LiveCount, NewApp, StartGateway
from tests.integration.gateway.events_harness import BusPublisher, streams
from tests.support.waiting import until

QUEUE_SIZE = 20  # events that may wait for one websocket before it counts as stuck
FLOOD = 120  # B's events of 100 KB: 12 MB, well over what the kernel buffers take unread


def app_event(app: str, name: str, padding: int = 0) -> dict[str, Any]:
    """An event of the app, no call's (it goes to the app's first live instance)."""
    padded = {"x": "x" * padding}
    return {"type": "ChannelUserevent", "application": app, "eventname": name, "userevent": padded}


def received(events: list[dict[str, Any]], prefix: str) -> int:
    return sum(1 for e in events if str(e.get("eventname", "")).startswith(prefix))


async def test_a_stuck_consumer_delays_no_other_app_and_is_cut_off(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher, live: LiveCount
) -> None:
    (a, a_pw), (b, b_pw) = events_app(), events_app()
    # App-wide events go to the first live instance: a heartbeat late by the default 3 s on a
    # loaded machine would send some of A's to g2 (seen once: 5 and 5). Liveness is not what is
    # measured here, so it is given room.
    alive = {"instance_ttl_seconds": 30}
    dispatcher = await start_gateway("g2", **alive)
    # A write that never completes never times out here: only the bounded queue can cut B off.
    target = await start_gateway("g1", event_send_timeout_seconds=3600, event_queue_size=QUEUE_SIZE, **alive)
    await until(lambda: bus_publisher.queue_ready(a) and bus_publisher.queue_ready(b), message="app queues")
    async with streams(dispatcher.events_url(a, a_pw), dispatcher.events_url(b, b_pw)) as (a1, b1):
        for app, stream in ((a, a1), (b, b1)):  # g2 is each app's dispatcher before g1 consumes
            await bus_publisher.publish(app, "n1", app_event(app, "first"))
            await until(lambda s=stream: received(s.events, "first") == 1, message=f"{app} on g2")  # type: ignore[misc]
        async with streams(target.events_url(a, a_pw)) as (a2,):
            with never_reading("127.0.0.1", target.port, f"app={b}&api_key={b}:{b_pw}"):
                await until(lambda: live(a) == 2 and live(b) == 2, message="both apps live on g1 too")
                flood = (app_event(b, f"flood{i}", 100_000) for i in range(FLOOD))
                await bus_publisher.publish(b, "n1", *flood)
                await bus_publisher.publish(a, "n1", *(app_event(a, f"mark{i}") for i in range(10)))
                # Held up behind B's stuck write, A's events would never come (12 MB of B's go first:
                # generous on a loaded machine).

                def marks() -> tuple[int, int]:
                    return received(a2.events, "mark"), received(a1.events, "mark")

                try:
                    await until(lambda: sum(marks()) == 10, timeout=90, message="A's events")
                finally:
                    # Any on g2 would mean g1's instance looked dead to the dispatcher there.
                    assert marks() == (10, 0), f"A's events (on g1, on g2): {marks()}"
                await until(lambda: live(b) == 1, timeout=30, message="B's stuck websocket cut off")
                # B's next events go to its other websocket.
                await bus_publisher.publish(b, "n1", app_event(b, "after"))
                await until(lambda: received(b1.events, "after") == 1, timeout=30, message="B's event on g2")
        assert received(a1.events, "mark") == 0  # the forwarding path is the one measured
