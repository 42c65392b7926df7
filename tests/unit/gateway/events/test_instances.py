"""One websocket's writer: numbered events once each, a resumed one's replay before the rest."""

import asyncio

from gateway.events.instances import Instance
from gateway.events.sequence import RESTARTED, Replay
from tests.support.waiting import until


class Client:
    """What the websocket wrote, in order."""

    def __init__(self) -> None:
        self.written: list[str] = []

    async def send(self, text: str) -> None:
        self.written.append(text)


async def test_an_event_the_bus_brings_twice_is_written_once() -> None:
    client = Client()
    instance = Instance("app", "g/1", client.send, send_timeout=5)
    for seq in (1, 2, 2, 3, 1):
        assert await instance.send_event(f"e{seq}", seq)
    assert await instance.send("response")  # not an event: never filtered
    await until(lambda: len(client.written) == 4, message="4 written")
    assert client.written == ["e1", "e2", "e3", "response"]
    instance.close()


async def test_a_resumed_instance_writes_the_replay_first_then_what_came_meanwhile() -> None:
    client = Client()
    instance = Instance("app", "g/1", client.send, send_timeout=5, after=10)
    # Live events while the replay is read: held, not written yet.
    for seq in (9, 12, 13, 14):
        await instance.send_event(f"e{seq}", seq)
    await asyncio.sleep(0.05)
    assert client.written == []
    instance.release(Replay([(11, "e11"), (12, "e12"), (13, "e13")], "e1"))
    await until(lambda: len(client.written) == 4, message="replay and the rest")
    assert client.written == ["e11", "e12", "e13", "e14"]
    instance.close()


async def test_a_number_of_a_new_count_closes_the_instance_instead_of_passing_for_a_repeat() -> None:
    client = Client()
    instance = Instance("app", "g/1", client.send, send_timeout=5)
    for seq in (1, 2, 3):
        assert await instance.send_event(f"e{seq}", seq, "epoch-1")
    await until(lambda: len(client.written) == 3, message="3 written")
    # Redis lost the log: the count starts over at 1 under a new epoch.
    assert not await instance.send_event("new-1", 1, "epoch-2")
    assert instance.closed.is_set() and instance.close_reason == RESTARTED
    assert client.written == ["e1", "e2", "e3"]


async def test_a_replay_of_another_count_than_the_live_events_closes_the_instance() -> None:
    client = Client()
    instance = Instance("app", "g/1", client.send, send_timeout=5, after=2)
    assert await instance.send_event("e3", 3, "epoch-2")
    instance.release(Replay([(3, "old3")], "epoch-1"))
    assert instance.closed.is_set() and instance.close_reason == RESTARTED
