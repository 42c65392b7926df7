"""A lane hands deliveries to the loop in order and takes a failed one back with its successors."""

import asyncio
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from gateway.events.lanes import ACK, FINISHED, RETRY, Lane, Outcome, Publish, Retry

Settled = queue.SimpleQueue[tuple[Lane, Any, Outcome]]


class Message:
    def __init__(self, number: int) -> None:
        self.number = number
        self.delivery_info = {"number": number}


def settled_numbers(settled: Settled, count: int) -> list[tuple[int, Any]]:
    """The next ``count`` outcomes as (message number, outcome), waiting for each."""
    return [
        (item.message.number, outcome) for _, item, outcome in (settled.get(timeout=5) for _ in range(count))
    ]


def push_all(lane: Lane, numbers: Iterable[int], work_for: Callable[[int], Any]) -> None:
    """Push a message per number, each with the work made for it."""
    for number in numbers:
        lane.push(Message(number), work_for(number))


@pytest.fixture
def settled() -> Settled:
    """Where the lane reports each outcome, as the consuming thread reads them."""
    return queue.SimpleQueue()


@pytest.fixture
def lane(settled: Settled) -> Iterator[Lane]:
    """A lane without a channel (not started: each test starts it where it needs)."""
    lane = Lane("test", channel=None, settled=settled)
    yield lane


async def test_deliveries_are_handled_in_order_without_waiting_for_each(lane: Lane, settled: Settled) -> None:
    loop = asyncio.get_running_loop()
    handled: list[int] = []
    gate = asyncio.Event()

    def work_for(number: int) -> Any:
        async def work() -> Outcome:
            if number == 0:
                await gate.wait()  # the first is slow: the thread must not wait for it
            handled.append(number)
            return (Publish("", "q", {}),) if number == 3 else ACK

        return work

    def thread() -> None:
        lane.start(loop)
        push_all(lane, range(5), work_for)

    pusher = threading.Thread(target=thread)
    pusher.start()
    await asyncio.to_thread(pusher.join, 5)
    assert not pusher.is_alive()  # every push returned while the first was still being handled
    gate.set()
    outcomes = await asyncio.to_thread(settled_numbers, settled, 5)
    assert handled == [0, 1, 2, 3, 4]
    assert outcomes == [(0, ACK), (1, ACK), (2, ACK), (3, (Publish("", "q", {}),)), (4, ACK)]


async def test_a_failed_delivery_and_its_successors_wait_for_the_next_generation(
    lane: Lane, settled: Settled
) -> None:
    handled: list[int] = []
    failing = {1}

    def work_for(number: int) -> Any:
        async def work() -> Outcome:
            if number in failing:
                raise Retry("no instance yet")
            handled.append(number)
            return ACK

        return work

    lane.start(asyncio.get_running_loop())
    push_all(lane, range(4), work_for)
    first = await asyncio.to_thread(settled_numbers, settled, 2)
    assert first == [(0, ACK), (1, RETRY)]
    await asyncio.sleep(0.1)
    assert handled == [0]  # 2 and 3 came after the failed one: skipped, they come back with it
    assert settled.empty()
    failing.clear()
    lane.generation += 1  # what the thread does when it recovers the channel
    push_all(lane, (1, 2, 3), work_for)
    again = await asyncio.to_thread(settled_numbers, settled, 3)
    assert again == [(1, ACK), (2, ACK), (3, ACK)]
    assert handled == [0, 1, 2, 3]


async def test_a_finishing_lane_completes_the_message_in_hand_and_skips_the_rest(
    lane: Lane, settled: Settled
) -> None:
    handled: list[int] = []
    gate = asyncio.Event()

    def work_for(number: int) -> Any:
        async def work() -> Outcome:
            await gate.wait()
            handled.append(number)
            return ACK

        return work

    lane.start(asyncio.get_running_loop())
    push_all(lane, range(3), work_for)
    await asyncio.sleep(0.05)  # 0 is in hand, 1 and 2 wait
    lane.finish()
    await asyncio.sleep(0.05)
    gate.set()
    first = await asyncio.to_thread(settled.get, True, 5)
    last = await asyncio.to_thread(settled.get, True, 5)
    assert (first[1].message.number, first[2]) == (0, ACK)
    assert (last[1], last[2]) == (None, FINISHED)
    await asyncio.sleep(0.05)
    assert handled == [0]  # 1 and 2 go back to the queue with the channel
    assert settled.empty()


async def test_an_idle_lane_finishes_at_once(lane: Lane, settled: Settled) -> None:
    lane.start(asyncio.get_running_loop())
    lane.finish()
    assert (await asyncio.to_thread(settled.get, True, 5))[2] == FINISHED
