"""A lane hands deliveries to the loop in order and takes a failed one back with its successors."""

import asyncio
import queue
import threading
from typing import Any

from gateway.events.lanes import ACK, FINISHED, RETRY, Lane, Outcome, Publish, Retry


class Message:
    def __init__(self, number: int) -> None:
        self.number = number
        self.delivery_info = {"number": number}


def settled_numbers(
    settled: "queue.SimpleQueue[tuple[Lane, Any, Outcome]]", count: int
) -> list[tuple[int, Any]]:
    """The next ``count`` outcomes as (message number, outcome), waiting for each."""
    return [
        (item.message.number, outcome) for _, item, outcome in (settled.get(timeout=5) for _ in range(count))
    ]


async def test_deliveries_are_handled_in_order_without_waiting_for_each() -> None:
    loop = asyncio.get_running_loop()
    settled: queue.SimpleQueue[tuple[Lane, Any, Outcome]] = queue.SimpleQueue()
    lane = Lane("test", channel=None, settled=settled)
    handled: list[int] = []
    gate = asyncio.Event()

    def work_for(number: int) -> Any:
        async def work() -> Outcome:
            if number == 0:
                await gate.wait()  # the first is slow: the thread must not wait for it
            handled.append(number)
            return Publish("", "q", {}) if number == 3 else ACK

        return work

    def thread() -> None:
        lane.start(loop)
        for number in range(5):
            lane.push(Message(number), work_for(number))

    pusher = threading.Thread(target=thread)
    pusher.start()
    await asyncio.to_thread(pusher.join, 5)
    assert not pusher.is_alive()  # every push returned while the first was still being handled
    gate.set()
    outcomes = await asyncio.to_thread(settled_numbers, settled, 5)
    assert handled == [0, 1, 2, 3, 4]
    assert outcomes == [(0, ACK), (1, ACK), (2, ACK), (3, Publish("", "q", {})), (4, ACK)]
    lane.close()


async def test_a_failed_delivery_and_its_successors_wait_for_the_next_generation() -> None:
    loop = asyncio.get_running_loop()
    settled: queue.SimpleQueue[tuple[Lane, Any, Outcome]] = queue.SimpleQueue()
    lane = Lane("test", channel=None, settled=settled)
    handled: list[int] = []
    failing = {1}

    def work_for(number: int) -> Any:
        async def work() -> Outcome:
            if number in failing:
                raise Retry("no instance yet")
            handled.append(number)
            return ACK

        return work

    lane.start(loop)
    for number in range(4):
        lane.push(Message(number), work_for(number))
    first = await asyncio.to_thread(settled_numbers, settled, 2)
    assert first == [(0, ACK), (1, RETRY)]
    await asyncio.sleep(0.1)
    assert handled == [0]  # 2 and 3 came after the failed one: skipped, they come back with it
    assert settled.empty()
    failing.clear()
    lane.generation += 1  # what the thread does when it recovers the channel
    for number in (1, 2, 3):
        lane.push(Message(number), work_for(number))
    again = await asyncio.to_thread(settled_numbers, settled, 3)
    assert again == [(1, ACK), (2, ACK), (3, ACK)]
    assert handled == [0, 1, 2, 3]
    lane.close()


async def test_a_finishing_lane_completes_the_message_in_hand_and_skips_the_rest() -> None:
    loop = asyncio.get_running_loop()
    settled: queue.SimpleQueue[tuple[Lane, Any, Outcome]] = queue.SimpleQueue()
    lane = Lane("test", channel=None, settled=settled)
    handled: list[int] = []
    gate = asyncio.Event()

    def work_for(number: int) -> Any:
        async def work() -> Outcome:
            await gate.wait()
            handled.append(number)
            return ACK

        return work

    lane.start(loop)
    for number in range(3):
        lane.push(Message(number), work_for(number))
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
    lane.close()


async def test_an_idle_lane_finishes_at_once() -> None:
    settled: queue.SimpleQueue[tuple[Lane, Any, Outcome]] = queue.SimpleQueue()
    lane = Lane("test", channel=None, settled=settled)
    lane.start(asyncio.get_running_loop())
    lane.finish()
    assert (await asyncio.to_thread(settled.get, True, 5))[2] == FINISHED
    lane.close()
