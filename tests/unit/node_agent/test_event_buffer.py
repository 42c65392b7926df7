import threading

import pytest

from node_agent.event_buffer import EventBuffer


def drain(buffer: EventBuffer[int]) -> list[int]:
    out = []
    while (item := buffer.peek(0)) is not None:
        assert buffer.pop_if(item)
        out.append(item)
    return out


def test_items_leave_in_the_order_they_came() -> None:
    buffer: EventBuffer[int] = EventBuffer(10)
    for i in range(5):
        assert buffer.put(i) is None
    assert len(buffer) == 5
    assert drain(buffer) == [0, 1, 2, 3, 4]
    assert (buffer.received, buffer.dropped) == (5, 0)


def test_head_stays_until_popped_so_a_failed_publish_is_retried_first() -> None:
    buffer: EventBuffer[int] = EventBuffer(10)
    buffer.put(1)
    buffer.put(2)
    assert buffer.peek(0) == 1
    assert buffer.peek(0) == 1  # not confirmed: still the head
    assert drain(buffer) == [1, 2]


def test_overflow_drops_the_oldest_and_counts_it() -> None:
    buffer: EventBuffer[int] = EventBuffer(3)
    evicted = [buffer.put(i) for i in range(7)]
    assert evicted == [None, None, None, 0, 1, 2, 3]
    assert (buffer.received, buffer.dropped, len(buffer)) == (7, 4, 3)
    assert drain(buffer) == [4, 5, 6]


def test_pop_if_ignores_an_item_evicted_while_in_flight() -> None:
    buffer: EventBuffer[object] = EventBuffer(1)
    first, second = object(), object()
    buffer.put(first)
    in_flight = buffer.peek(0)
    buffer.put(second)  # evicts the one being published
    assert not buffer.pop_if(in_flight)
    assert buffer.peek(0) is second


def test_peek_waits_for_an_item_from_another_thread() -> None:
    buffer: EventBuffer[str] = EventBuffer(2)
    threading.Timer(0.05, buffer.put, args=("late",)).start()
    assert buffer.peek(5) == "late"


def test_peek_on_empty_buffer_returns_none() -> None:
    assert EventBuffer[int](1).peek(0) is None


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        EventBuffer[int](0)


def test_take_unsent_hands_each_item_out_once_and_keeps_it_until_popped() -> None:
    buffer: EventBuffer[int] = EventBuffer(10)
    assert buffer.take_unsent(3, 0) == []
    for item in range(5):
        buffer.put(item)
    assert buffer.take_unsent(3, 0) == [0, 1, 2]
    assert buffer.take_unsent(9, 0) == [3, 4]
    assert buffer.take_unsent(9, 0) == []
    assert len(buffer) == 5  # nothing leaves before it is confirmed
    assert buffer.pop_if(0) and buffer.pop_if(1)
    buffer.put(5)
    assert buffer.take_unsent(9, 0) == [5]  # popping the head does not hand anything out again


def test_rewind_hands_out_again_everything_not_popped_in_order() -> None:
    buffer: EventBuffer[int] = EventBuffer(10)
    for item in range(4):
        buffer.put(item)
    assert buffer.take_unsent(3, 0) == [0, 1, 2]
    assert buffer.pop_if(0)
    buffer.rewind()  # the connection failed before 1 and 2 were confirmed
    assert buffer.take_unsent(9, 0) == [1, 2, 3]


def test_an_evicted_item_that_was_sent_does_not_hide_an_unsent_one() -> None:
    buffer: EventBuffer[int] = EventBuffer(2)
    buffer.put(0)
    buffer.put(1)
    assert buffer.take_unsent(1, 0) == [0]
    assert buffer.put(2) == 0  # evicts the one in flight
    assert buffer.take_unsent(9, 0) == [1, 2]


def test_take_unsent_waits_for_an_item_from_another_thread() -> None:
    buffer: EventBuffer[str] = EventBuffer(2)
    buffer.put("sent")
    assert buffer.take_unsent(1, 0) == ["sent"]
    threading.Timer(0.05, buffer.put, args=("late",)).start()
    assert buffer.take_unsent(1, 5) == ["late"]
