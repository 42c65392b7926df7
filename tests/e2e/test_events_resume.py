"""An app resumes its event stream with ``?after=<ariscale_seq>``: on real calls, after a client's
own reconnect and after the gateway it was connected to is killed (kill -9) while events flow."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from ariscale_cluster import Cluster
from tests.e2e.conftest import RegisteredApp
from tests.support.event_stream import SequencedApp, calls_whole
from tests.support.gateway import accepts_app
from tests.support.sipp import place_calls
from tests.support.waiting import until

CALLS = 6


@pytest.fixture
async def accepted(gateway_url: str, registered_app: RegisteredApp) -> str:
    async with httpx.AsyncClient(base_url=f"{gateway_url}/ari", auth=registered_app.auth, timeout=10) as c:
        await until(lambda: accepts_app(c), message="gateway accepts the app")
    return gateway_url


@pytest.fixture
async def app(registered_app: RegisteredApp) -> AsyncIterator[SequencedApp]:
    """The registered app, answering its calls and checking its sequence; disconnected after."""
    sequenced = SequencedApp(registered_app.auth)
    yield sequenced
    await sequenced.close()


def assert_each_once_in_order(app: SequencedApp) -> None:
    numbers = app.numbers()
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert len(app.of_type("StasisStart")) == CALLS
    assert calls_whole(app.received) == {}


async def test_reconnecting_after_a_number_gets_exactly_the_events_after_it(
    accepted: str, sip_edge: str, registered_app: RegisteredApp, app: SequencedApp
) -> None:
    await app.connect(accepted)
    calls = asyncio.create_task(
        place_calls(sip_edge, registered_app.extension, calls=CALLS, rate=2, hold_ms=3000, timeout=60)
    )
    await until(
        lambda: len(app.of_type("StasisStart")) >= 2 and (app.last or 0) > 3,
        timeout=20,
        message="2 calls in, more than 3 events",
    )
    # The client claims it saw fewer than it did, as if the last events were lost with the
    # connection: they come again, then the rest, each once.
    last = app.last
    assert last is not None
    kept = app.received[: last - 3]
    app.received = kept
    await app.connect(accepted, after=last - 3)
    result = await calls
    await until(lambda: len(calls_whole(app.received)) == 0, timeout=15, message="every call's end")
    assert result.successful == CALLS, result.output[-2000:]
    assert_each_once_in_order(app)


async def test_gateway_killed_while_events_flow_the_app_resumes_on_the_other(
    cluster: Cluster,
    accepted: str,
    second_gateway_url: str,
    sip_edge: str,
    registered_app: RegisteredApp,
    app: SequencedApp,
) -> None:
    await app.connect(second_gateway_url)
    calls = asyncio.create_task(
        place_calls(sip_edge, registered_app.extension, calls=CALLS, rate=2, hold_ms=4000, timeout=60)
    )
    await until(lambda: len(app.of_type("StasisStart")) >= 2, timeout=20, message="2 calls in")
    await asyncio.to_thread(cluster.procs.kill, "gateway-2")
    await until(lambda: not app.connected(), message="the app's websocket dropped with its gateway")
    await app.connect(accepted, after=app.last)
    result = await calls
    await until(lambda: len(calls_whole(app.received)) == 0, timeout=15, message="every call's end")
    assert result.successful == CALLS, result.output[-2000:]  # none dropped: the grace covered the gap
    assert_each_once_in_order(app)
