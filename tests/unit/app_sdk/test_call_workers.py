"""Per-call ordering: a call's events in order, other calls never held up behind a slow one."""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app_sdk.call_workers import CallWorkers
from app_sdk.context import Event
from tests.support.waiting import until

log = logging.getLogger("app_sdk.test")


def event(kind: str, channel_id: str, n: int = 0) -> Event:
    return {"type": kind, "channel": {"id": channel_id}, "n": n}


class Recorder:
    """The handler: records (channel, n); an event with ``hold`` waits until released."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, int]] = []
        self.release = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        if event.get("hold"):
            await self.release.wait()
        if event.get("fail"):
            raise ValueError("handler bug")
        channel: dict[str, Any] = event.get("channel") or {}
        self.handled.append((str(channel.get("id", "-")), int(event.get("n", 0))))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def workers(recorder: Recorder) -> AsyncIterator[CallWorkers]:
    workers = CallWorkers(recorder, log, "test")
    yield workers
    await workers.close()


async def test_a_slow_event_holds_up_its_own_call_only(recorder: Recorder, workers: CallWorkers) -> None:
    workers.put({**event("StasisStart", "A", 1), "hold": True})
    workers.put(event("ChannelStateChange", "A", 2))
    workers.put(event("StasisStart", "B", 1))
    await until(lambda: ("B", 1) in recorder.handled, timeout=5, message="call B handled")
    assert recorder.handled == [("B", 1)], "A's second event waits behind its first"
    recorder.release.set()
    await until(lambda: len(recorder.handled) == 3, timeout=5, message="call A handled")
    assert recorder.handled == [("B", 1), ("A", 1), ("A", 2)]


async def test_a_failing_handler_is_logged_with_its_call_and_the_call_goes_on(
    recorder: Recorder, workers: CallWorkers, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger=log.name):
        workers.put({**event("StasisStart", "n1-7.0", 1), "fail": True})
        workers.put(event("ChannelStateChange", "n1-7.0", 2))
        await until(lambda: ("n1-7.0", 2) in recorder.handled, timeout=5, message="the next event")
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure.getMessage() == "app test, call n1-7.0: handler for StasisStart failed"


@pytest.mark.parametrize("last", ["StasisEnd", "ChannelDestroyed"])
async def test_a_calls_worker_ends_after_its_last_event(
    recorder: Recorder, workers: CallWorkers, last: str
) -> None:
    workers.put(event("StasisStart", "A", 1))
    await until(lambda: len(recorder.handled) == 1, timeout=5, message="StasisStart handled")
    assert workers.active() == {"channel:A"}, "an ordinary event keeps the worker"
    workers.put(event(last, "A", 2))
    await until(lambda: not workers.active(), timeout=5, message="the worker gone")
    assert recorder.handled == [("A", 1), ("A", 2)]


async def test_bridge_events_have_a_worker_per_bridge_until_destroyed(
    recorder: Recorder, workers: CallWorkers
) -> None:
    workers.put({"type": "BridgeCreated", "bridge": {"id": "conf"}})
    await until(lambda: len(recorder.handled) == 1, timeout=5, message="BridgeCreated handled")
    assert workers.active() == {"bridge:conf"}
    workers.put({"type": "BridgeDestroyed", "bridge": {"id": "conf"}})
    await until(lambda: not workers.active(), timeout=5, message="the bridge's worker gone")


async def test_events_of_no_call_share_one_lasting_worker(recorder: Recorder, workers: CallWorkers) -> None:
    for n in range(3):
        workers.put({"type": "DeviceStateChanged", "n": n, "device_state": {"name": "Custom:x"}})
    await until(lambda: len(recorder.handled) == 3, timeout=5, message="device states handled")
    assert recorder.handled == [("-", 0), ("-", 1), ("-", 2)]
    assert workers.active() == {""}


async def test_close_stops_every_worker(recorder: Recorder, workers: CallWorkers) -> None:
    workers.put({**event("StasisStart", "A", 1), "hold": True})
    await until(lambda: workers.active() == {"channel:A"}, timeout=5, message="A's worker")
    await workers.close()
    assert workers.active() == set()
    recorder.release.set()
    await asyncio.sleep(0)
    assert recorder.handled == []
