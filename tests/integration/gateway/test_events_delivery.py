"""Events from the bus reach the right websocket: one app's calls, spread over its instances,
each call whole and in order, on one gateway or several (real RabbitMQ, Redis and Consul)."""

import json
from collections import Counter
from typing import Any

import httpx
import pytest
import redis
import websockets

from gateway.events.sequence import RESTARTED
from tests.integration.gateway.conftest import LiveCount, NewApp, StartGateway
from tests.integration.gateway.events_harness import (
    BusPublisher,
    EventStream,
    call_events,
    streams,
)
from tests.support.waiting import until


def interleave(*calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events of several calls mixed the way a busy node sends them (each call stays in order)."""
    mixed: list[dict[str, Any]] = []
    for i in range(max(len(c) for c in calls)):
        mixed += [c[i] for c in calls if i < len(c)]
    return mixed


def assert_whole_and_in_order(received: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    channel = sent[0]["channel"]["id"]
    assert [e for e in received if e.get("channel", {}).get("id") == channel] == sent


async def test_events_reach_their_own_app_in_order_and_never_another(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher
) -> None:
    (a, a_pw), (b, b_pw) = events_app(), events_app()
    gateway = await start_gateway("g1")
    await until(lambda: bus_publisher.queue_ready(a) and bus_publisher.queue_ready(b), message="app queues")
    a_calls = [call_events(a, f"n1-{i}.0", middle=10) for i in range(3)]
    b_calls = [call_events(b, f"n2-{i}.0") for i in range(2)]
    # Published before anyone listens: they wait in the app's queue.
    await bus_publisher.publish(a, "n1", *interleave(*a_calls[:2]))
    async with streams(gateway.events_url(a, a_pw), gateway.events_url(b, b_pw)) as (a_ws, b_ws):
        await bus_publisher.publish(b, "n2", *interleave(*b_calls))
        await bus_publisher.publish(a, "n1", *a_calls[2])
        total = sum(len(c) for c in a_calls)
        await until(lambda: len(a_ws.events) == total, message=f"{total} events on {a}'s websocket")
        await until(lambda: len(b_ws.events) == 12, message=f"12 events on {b}'s websocket")
    for sent in a_calls:
        assert_whole_and_in_order(a_ws.events, sent)
    assert {e["application"] for e in a_ws.events} == {a}
    assert {e["application"] for e in b_ws.events} == {b}
    for sent in b_calls:
        assert_whole_and_in_order(b_ws.events, sent)


async def test_app_list_naming_the_app_once_or_twice_works(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher
) -> None:
    app, password = events_app()
    gateway = await start_gateway("g1")
    await until(lambda: bus_publisher.queue_ready(app), message="app queue")
    async with streams(gateway.events_url(app, password, apps=f"{app},{app}")) as (ws,):
        await bus_publisher.publish(app, "n1", *call_events(app, "n1-7.0"))
        await until(lambda: len(ws.events) == 6, message="6 events")


async def test_an_app_that_connects_as_soon_as_it_is_known_loses_no_event(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher
) -> None:
    gateway = await start_gateway("g1")
    app, password = events_app()  # after the gateway started: it learns of the app from Consul
    stream = EventStream(gateway.events_url(app, password))
    await until(lambda: _opened(stream), message="the gateway lets the new app in")
    try:
        # Accepted means listening, as with one Asterisk: the nodes' next event must not be lost.
        assert bus_publisher.queue_ready(app)
        await bus_publisher.publish(app, "n1", *call_events(app, "n1-8.0"))
        await until(lambda: len(stream.events) == 6, message="6 events")
    finally:
        await stream.close()


async def _opened(stream: EventStream) -> bool:
    try:
        await stream.open()
    except websockets.InvalidStatus:  # 401 until the gateway's Consul view has the app
        return False
    return True


@pytest.mark.parametrize("gateway_ids", [("g1", "g1"), ("g1", "g2")], ids=["one gateway", "two gateways"])
async def test_instances_share_calls_and_each_call_stays_on_one(
    start_gateway: StartGateway,
    events_app: NewApp,
    bus_publisher: BusPublisher,
    live: LiveCount,
    gateway_ids: tuple[str, str],
) -> None:
    """Two instances of one app, on one gateway or on two, share the calls the same way."""
    app, password = events_app()
    gateways = {gateway_id: await start_gateway(gateway_id) for gateway_id in dict.fromkeys(gateway_ids)}
    async with streams(*(gateways[g].events_url(app, password) for g in gateway_ids)) as pair:
        await until(lambda: live(app) == 2, message="2 live")
        await _twenty_calls_split_between(app, bus_publisher, pair[0].events, pair[1].events)


async def _twenty_calls_split_between(
    app: str, bus: BusPublisher, one: list[dict[str, Any]], other: list[dict[str, Any]]
) -> None:
    calls = [call_events(app, f"n{1 + i % 2}-{i}.0", middle=4) for i in range(20)]
    for node in ("n1", "n2"):
        of_node = [c for c in calls if c[0]["channel"]["id"].startswith(f"{node}-")]
        await bus.publish(app, node, *interleave(*of_node))
    total = sum(len(c) for c in calls)
    await until(lambda: len(one) + len(other) == total, message=f"{total} events over both instances")
    owners = Counter[str]()
    for sent in calls:
        channel = sent[0]["channel"]["id"]
        on_one = [e for e in one if e["channel"]["id"] == channel]
        on_other = [e for e in other if e["channel"]["id"] == channel]
        assert not (on_one and on_other), f"call {channel} was split over both instances"
        assert (on_one or on_other) == sent, f"call {channel} arrived incomplete or out of order"
        owners["one" if on_one else "other"] += 1
    assert owners == {"one": 10, "other": 10}, owners  # round robin over two


async def test_handled_events_are_acknowledged_and_never_handed_out_again(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher
) -> None:
    """Acks go in batches (by time or count): a gateway that stops after handling events must
    still have acknowledged them, or the broker would hand them to the next gateway again."""
    app, password = events_app()
    gateway = await start_gateway("g1", hangup_grace_seconds=30)
    await until(lambda: bus_publisher.queue_ready(app), message="app queue")
    async with streams(gateway.events_url(app, password)) as (ws,):
        await bus_publisher.publish(app, "n1", *call_events(app, "n1-3.0", middle=4))
        await until(lambda: len(ws.events) == 7, message="7 events")
        gateway.stop()  # the consumer's channel closes: whatever it had not acked is requeued
    assert bus_publisher.waiting(app) == 0


@pytest.mark.parametrize("after", [None, 3, 5], ids=["plain", "after-3", "after-5"])
async def test_reconnect_within_grace_loses_nothing(
    start_gateway: StartGateway,
    events_app: NewApp,
    bus_publisher: BusPublisher,
    live: LiveCount,
    after: int | None,
) -> None:
    """Plainly, the rest waited in the app's queue; ``after`` a number seen, the logged events
    after it come first (as if those after it were lost with the connection), none twice."""
    app, password = events_app()
    gateway = await start_gateway("g1", hangup_grace_seconds=30)
    call = call_events(app, "n1-1.0", middle=20)
    async with streams(gateway.events_url(app, password)) as (ws,):
        await bus_publisher.publish(app, "n1", *call[:5])
        await until(lambda: len(ws.events) == 5, message="the first 5 events")
    assert ws.seqs == [1, 2, 3, 4, 5]
    await until(lambda: live(app) == 0, message="detached")
    await bus_publisher.publish(app, "n1", *call[5:15])  # nobody connected: they wait
    seen = 5 if after is None else after
    async with streams(gateway.events_url(app, password, after=after)) as (again,):
        await bus_publisher.publish(app, "n1", *call[15:])
        await until(lambda: len(again.events) == len(call) - seen, message="every event after the drop")
        await bus_publisher.publish(app, "n1", *call[:2])  # more afterwards: numbered on
        await until(lambda: len(again.events) == len(call) - seen + 2, message="2 more")
    assert again.seqs == list(range(seen + 1, len(call) + 3))
    assert ws.events[:seen] + again.events == call + call[:2]


async def test_resume_refusals_name_the_problem_before_the_upgrade(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher
) -> None:
    app, password = events_app()
    gateway = await start_gateway("g1", event_replay_size=3)
    async with streams(gateway.events_url(app, password)) as (ws,):
        await bus_publisher.publish(app, "n1", *call_events(app, "n1-1.0", middle=3))
        await until(lambda: len(ws.events) == 6, message="6 events")
    cases = {"x": (400, "bad-request"), "2": (410, "resume-expired"), "7": (400, "sequence-unknown")}
    for after, (status, error) in cases.items():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(gateway.events_url(app, password) + f"&after={after}")
        answer = refused.value.response
        assert (answer.status_code, json.loads(answer.body)["error"]) == (status, error), answer.body
    async with streams(gateway.events_url(app, password, after=3)) as (resumed,):
        await until(lambda: len(resumed.events) == 3, message="4, 5 and 6")
    assert resumed.seqs == [4, 5, 6]


async def test_connections_close_when_redis_lost_the_app_s_numbering(
    start_gateway: StartGateway,
    events_app: NewApp,
    bus_publisher: BusPublisher,
    live: LiveCount,
    events_redis: redis.Redis,
    events_redis_prefix: str,
) -> None:
    """Redis restarted without its data: the count starts again at 1. Each connection (one per
    gateway) is closed with a reason, not fed nothing (new numbers are no repeats); a resume after
    an old number is refused; a fresh connection gets every event of the new calls."""
    app, password = events_app()
    first, second = await start_gateway("g1"), await start_gateway("g2")
    urls = first.events_url(app, password), second.events_url(app, password)
    async with streams(*urls) as (one, two):
        await until(lambda: live(app) == 2, message="2 live")
        # More numbers than the new calls' 20 events can take even twice over (bounces from the
        # closing connections are numbered too): the resume below names a number the new count
        # has not reached.
        before = 50
        await bus_publisher.publish(app, "n1", *[call_events(app, f"n1-{i}.0")[0] for i in range(before)])
        await until(lambda: len(one.events) + len(two.events) == before, message=f"{before} StasisStart")
        assert one.seqs and two.seqs, "round robin gave a connection nothing"
        seen = max(s or 0 for s in one.seqs + two.seqs)
        # As Redis restarted empty: every key of ours gone (not FLUSHALL: the server is shared).
        events_redis.delete(*events_redis.scan_iter(match=f"{events_redis_prefix}*"))
        await until(lambda: live(app) == 2, message="the gateways list their instances again")
        calls = [call_events(app, f"n1-{i}.0", middle=2) for i in range(100, 104)]
        await bus_publisher.publish(app, "n1", *interleave(*calls))
        await until(
            lambda: None not in (one.closed_by_gateway(), two.closed_by_gateway()), message="both closed"
        )
    assert one.closed_by_gateway() == two.closed_by_gateway() == (1012, RESTARTED)
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(first.events_url(app, password, after=seen))
    assert json.loads(refused.value.response.body)["error"] == "sequence-unknown"
    async with streams(second.events_url(app, password)) as (fresh,):
        total = sum(len(c) for c in calls)
        await until(
            lambda: len(fresh.events) == total,
            timeout=30,
            message=lambda: f"every event of the new calls ({len(fresh.events)} of {total})",
        )
    # Each once: the event that found its connection closed went back to the app's queue (a
    # bounce, as when any connection closes), so it may come after later ones of other calls.
    sent = [e for c in calls for e in c]
    assert sorted(map(json.dumps, fresh.events)) == sorted(map(json.dumps, sent))
    assert len(set(fresh.seqs)) == total and None not in fresh.seqs


async def test_a_dropped_instance_s_calls_move_to_the_other(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher, live: LiveCount
) -> None:
    app, password = events_app()
    first, second = await start_gateway("g1"), await start_gateway("g2")
    calls = [call_events(app, f"n1-{i}.0", middle=6) for i in range(4)]
    async with streams(first.events_url(app, password)) as (staying,):
        async with streams(second.events_url(app, password)) as (leaving,):
            await until(lambda: live(app) == 2, message="2 live")
            await bus_publisher.publish(app, "n1", *interleave(*[c[:3] for c in calls]))
            await until(lambda: len(staying.events) + len(leaving.events) == 12, message="12 events")
        assert leaving.channels(), "round robin gave the leaving instance no call"
        await until(lambda: live(app) == 1, message="1 live")
        await bus_publisher.publish(app, "n1", *interleave(*[c[3:] for c in calls]))
        total = sum(len(c) for c in calls)
        await until(lambda: len(staying.events) + len(leaving.events) == total, message="the rest")
    for sent in calls:
        channel = sent[0]["channel"]["id"]
        # Whatever went to the leaving instance, the rest of the call followed to the other one.
        assert leaving.of_channel(channel) + staying.of_channel(channel) == sent
        assert staying.of_channel(channel)[-1]["type"] == "ChannelDestroyed"


async def test_refusals_come_before_the_upgrade_with_a_clear_status(
    start_gateway: StartGateway, events_app: NewApp
) -> None:
    (app, password), (other, _) = events_app(), events_app()
    gateway = await start_gateway("g1")
    base = f"ws://127.0.0.1:{gateway.port}/ari/events"
    cases = {
        f"{base}?app={app}": 401,
        f"{base}?app={app}&api_key={app}:wrong": 401,
        f"{base}?app={other}&api_key={app}:{password}": 403,
        f"{base}?app={app},{other}&api_key={app}:{password}": 403,
        f"{base}?api_key={app}:{password}": 400,
    }
    for url, status in cases.items():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url):
                pass
        assert refused.value.response.status_code == status, url
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(f"{base}?app={other}&api_key={app}:{password}"):
            pass
    assert other in refused.value.response.body.decode()


async def test_health_reports_amqp_and_redis_up(start_gateway: StartGateway) -> None:
    gateway = await start_gateway("g1")

    async def links_up() -> bool:
        async with httpx.AsyncClient() as client:
            links = (await client.get(f"{gateway.url}/health")).json()["links"]
        return all(links.get(name, {}).get("state") == "up" for name in ("amqp", "redis"))

    await until(links_up, message="amqp and redis up in /health")


async def test_two_gateway_processes_given_one_name_never_share_a_forwarding_queue(
    start_gateway: StartGateway, events_app: NewApp, bus_publisher: BusPublisher, live: LiveCount
) -> None:
    """A second process started with a gateway's name (a restart while the old one drains, a
    copied setting) must not take half of the events forwarded to the first one's websockets."""
    app, password = events_app()
    dispatcher = await start_gateway("g2")
    async with streams(dispatcher.events_url(app, password)) as (on_g2,):
        first = {"type": "ChannelUserevent", "application": app, "eventname": "first"}
        await bus_publisher.publish(app, "n1", first)
        await until(lambda: len(on_g2.events) == 1, message="g2 dispatches the app")
        target = await start_gateway("g1")
        await start_gateway("g1")  # its twin: no websocket of the app
        async with streams(target.events_url(app, password)) as (on_g1,):
            await until(lambda: live(app) == 2, message="2 live")
            # Events of no call go to the first live instance in id order: the one on g1.
            marks = [{**first, "eventname": f"m{i}"} for i in range(20)]
            await bus_publisher.publish(app, "n1", *marks)
            await until(lambda: len(on_g1.events) + len(on_g2.events) == 21, message="20 marks")
            names = [e.get("eventname") for e in on_g1.events]
            assert names == [m["eventname"] for m in marks], f"on g1: {names}; on g2: {on_g2.events[1:]}"
