import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from ariscale_common import Health, LinkState
from gateway.events.bus_worker import BusWorker
from tests.support.waiting import until


async def nothing(*_: Any) -> Any:
    return None


def delivery(n: int) -> SimpleNamespace:
    return SimpleNamespace(headers={}, body=b"{}", delivery_info={"routing_key": "r", "delivery_tag": n})


def test_once_a_delivery_is_left_unacknowledged_its_lane_handles_nothing_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ack covers every earlier delivery of its channel: a later delivery handled (and acked)
    after one was left for the broker to give back would lose that one."""
    loop = asyncio.new_event_loop()
    try:
        worker = BusWorker("amqp://127.0.0.1:1//", "g.1", loop, Health("test"), nothing, nothing, nothing)
        pushed: list[int] = []
        monkeypatch.setattr(
            worker, "_push", lambda name, message, work: pushed.append(message.delivery_info["delivery_tag"])
        )
        worker.dispatch_app("a")
        worker._on_app_event("a", delivery(1))
        worker.stop_dispatching("a")  # its last websocket here closed
        worker._on_app_event("a", delivery(2))  # left for the broker to give back
        worker.dispatch_app("a")  # a new websocket, before the lane wound down
        worker._on_app_event("a", delivery(3))
        assert pushed == [1]
    finally:
        loop.close()


async def test_a_worker_stopped_while_the_broker_is_unreachable_ends_its_thread() -> None:
    """Nothing listens on the broker's port, so the worker waits in Kombu's reconnect loop; told to
    stop, it must leave it (it used to go on retrying, the gateway's shutdown gave up joining it
    after 10 s, and an orchestrator's 10 s grace killed the process)."""
    health = Health("test")
    loop = asyncio.get_running_loop()
    worker = BusWorker("amqp://guest:guest@127.0.0.1:1//", "g.1", loop, health, nothing, nothing, nothing)
    worker.start()
    await until(lambda: health.state("amqp") is LinkState.DOWN, message="the worker failing to connect")
    await worker.stop()
    assert not worker._thread.is_alive()
