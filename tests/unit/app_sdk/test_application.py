"""Which hook an event runs, with which call's context (events fed as the gateway's stream would)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from app_sdk import Application, CallContext, Config
from app_sdk.context import Event
from tests.support.waiting import until


class Recording(Application):
    """Records each hook call as (hook, channel id)."""

    def __init__(self) -> None:
        super().__init__(Config(gateway_url="http://127.0.0.1:9", app_password="x"), "rec", "rec")
        self.seen: list[tuple[str, str]] = []

    async def on_start(self, context: CallContext) -> None:
        self.seen.append(("start", context.channel_id))

    async def on_up(self, context: CallContext) -> None:
        self.seen.append(("up", context.channel_id))

    async def on_dtmf(self, context: CallContext, digit: str) -> None:
        self.seen.append((f"dtmf {digit}", context.channel_id))

    async def on_bridge_enter(self, context: CallContext, bridge: Event) -> None:
        self.seen.append((f"enter {bridge['id']}", context.channel_id))

    async def on_end(self, context: CallContext) -> None:
        self.seen.append(("end", context.channel_id))


@pytest.fixture
async def app() -> AsyncIterator[Recording]:
    app = Recording()
    yield app
    await app._workers.close()


def channel(channel_id: str, state: str = "Ring") -> Event:
    return {"id": channel_id, "state": state, "caller": {"number": "1001"}}


async def feed(app: Recording, *events: Event, expect: int) -> None:
    for event in events:
        app._route(event)
    await until(lambda: len(app.seen) >= expect, timeout=5, message=f"{expect} hooks run")


async def test_a_calls_life_runs_each_hook_once(app: Recording) -> None:
    await feed(
        app,
        {"type": "StasisStart", "channel": channel("n1-1.0")},
        {"type": "ChannelStateChange", "channel": channel("n1-1.0", "Up")},
        {"type": "ChannelStateChange", "channel": channel("n1-1.0", "Up")},  # repeated: on_up once
        {"type": "ChannelDtmfReceived", "channel": channel("n1-1.0", "Up"), "digit": "5"},
        {"type": "ChannelEnteredBridge", "channel": channel("n1-1.0", "Up"), "bridge": {"id": "conf"}},
        {"type": "StasisEnd", "channel": channel("n1-1.0", "Up")},
        expect=5,
    )
    await until(lambda: "n1-1.0" not in app.calls, timeout=5, message="the call forgotten")
    hooks = ["start", "up", "dtmf 5", "enter conf", "end"]
    assert app.seen == [(hook, "n1-1.0") for hook in hooks]


async def test_a_call_that_arrives_answered_is_up_at_once(app: Recording) -> None:
    await feed(app, {"type": "StasisStart", "channel": channel("n2-1.0", "Up")}, expect=2)
    assert app.seen == [("start", "n2-1.0"), ("up", "n2-1.0")]
    assert app.calls["n2-1.0"].node == "n2"


async def test_extra_handlers_get_the_calls_context_or_none(app: Recording) -> None:
    got: list[tuple[str, str | None]] = []

    @app.on("Dial")
    @app.on("BridgeDestroyed")
    async def record(context: CallContext | None, event: Event) -> None:
        got.append((event["type"], context.channel_id if context else None))

    await feed(app, {"type": "StasisStart", "channel": channel("n1-3.0")}, expect=1)
    app._route({"type": "Dial", "caller": channel("n1-3.0"), "peer": channel("n1-4.0")})
    app._route({"type": "BridgeDestroyed", "bridge": {"id": "conf"}})
    await until(lambda: len(got) == 2, timeout=5, message="both handlers run")
    # Dial belongs to its caller's call; a bridge's own event to no call's context.
    assert sorted(got, key=str) == [("BridgeDestroyed", None), ("Dial", "n1-3.0")]


async def test_a_finished_playback_wakes_its_waiter_at_once(app: Recording) -> None:
    waiter: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
    app._playbacks["p1"] = waiter
    finished = {"type": "PlaybackFinished", "playback": {"id": "p1", "target_uri": "channel:n1-1.0"}}
    app._route(finished)
    assert waiter.done() and waiter.result() is finished


async def test_call_control_before_serving_says_so(app: Recording) -> None:
    with pytest.raises(RuntimeError, match="not running"):
        await app.answer(CallContext(channel_id="n1-1.0"))
