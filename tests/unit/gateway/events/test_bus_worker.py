import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from ariscale_common import Health
from gateway.events.bus_worker import BusWorker


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
