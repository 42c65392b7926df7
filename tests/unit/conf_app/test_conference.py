"""Who is a participant: decisions the conference takes before any ARI request.

The app is never started here, so any ARI request it tried would raise "not running": these
tests pass only if the conference leaves snoop channels and foreign bridges alone.
"""

import pytest

from app_sdk import CallContext, Config
from conf_app.conference import ConferenceApp


@pytest.fixture
def conference() -> ConferenceApp:
    return ConferenceApp(Config(gateway_url="http://127.0.0.1:9", app_password="x"), "conf", "conf")


def snoop() -> CallContext:
    return CallContext(channel_id="n1-2.0", channel={"id": "n1-2.0", "name": "Snoop/n1-1.0-00000001"})


async def test_a_snoop_channel_is_neither_answered_nor_bridged(conference: ConferenceApp) -> None:
    await conference.on_start(snoop())
    await conference.on_up(snoop())
    assert conference.here == set()


async def test_entering_another_bridge_does_not_make_a_participant(conference: ConferenceApp) -> None:
    await conference.on_bridge_enter(CallContext(channel_id="n1-1.0"), {"id": "other"})
    assert conference.here == set()


async def test_a_non_participant_leaving_is_not_announced(conference: ConferenceApp) -> None:
    await conference.on_end(CallContext(channel_id="n1-1.0"))


async def test_a_participant_joining_needs_the_running_app(conference: ConferenceApp) -> None:
    # The counterpart of the tests above: a real join does talk to ARI (and fails here, not running).
    with pytest.raises(RuntimeError, match="not running"):
        await conference.on_bridge_enter(CallContext(channel_id="n1-1.0"), {"id": "conf"})
