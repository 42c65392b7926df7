"""Publisher confirms counted by delivery tag: cumulative acks, single acks out of order, nacks."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from node_agent.publisher import Confirms


class ConfirmingChannel:
    """What Confirms uses of a py-amqp channel: confirm mode and the ack/nack callbacks."""

    def __init__(self) -> None:
        self.confirm_mode = False
        self.events: defaultdict[str, set[Callable[..., Any]]] = defaultdict(set)

    def confirm_select(self) -> None:
        self.confirm_mode = True

    def broker_says(self, method: str, tag: int, multiple: bool) -> None:
        for callback in self.events[method]:
            callback(tag, multiple)


def test_tags_count_from_one_in_publishing_order() -> None:
    confirms = Confirms(ConfirmingChannel())
    assert [confirms.published() for _ in range(3)] == [1, 2, 3]


def test_a_multiple_ack_confirms_every_tag_up_to_its_own() -> None:
    channel = ConfirmingChannel()
    confirms = Confirms(channel)
    assert channel.confirm_mode
    tags = [confirms.published() for _ in range(4)]
    channel.broker_says("basic_ack", 3, True)
    assert [confirms.confirmed(t) for t in tags] == [True, True, True, False]


def test_single_acks_may_come_out_of_order() -> None:
    channel = ConfirmingChannel()
    confirms = Confirms(channel)
    tags = [confirms.published() for _ in range(3)]
    channel.broker_says("basic_ack", 2, False)
    assert [confirms.confirmed(t) for t in tags] == [False, True, False]
    channel.broker_says("basic_ack", 1, False)
    assert [confirms.confirmed(t) for t in tags] == [True, True, False]
    confirms.forget(2)
    channel.broker_says("basic_ack", 3, True)
    assert all(confirms.confirmed(t) for t in tags)


def test_a_nack_is_remembered() -> None:
    channel = ConfirmingChannel()
    confirms = Confirms(channel)
    confirms.published()
    channel.broker_says("basic_nack", 1, False)
    assert confirms.nacked and not confirms.confirmed(1)
