"""A call as the app sees it, built from its StasisStart."""

import pytest

from app_sdk import CallContext
from app_sdk.context import node_of


def test_a_context_from_stasis_start() -> None:
    channel = {
        "id": "n2-1795680783.4",
        "state": "Ring",
        "caller": {"number": "1001", "name": "Alice"},
        "dialplan": {"context": "ariscale", "exten": "8000", "priority": 2},
    }
    context = CallContext.from_event({"type": "StasisStart", "channel": channel, "args": ["a", "b"]})
    assert (context.channel_id, context.node, context.dialed) == ("n2-1795680783.4", "n2", "8000")
    assert (context.caller_number, context.caller_name, context.args) == ("1001", "Alice", ["a", "b"])
    assert context.channel is channel and context.state == {} and not context.ended


def test_a_bare_event_gives_empty_fields() -> None:
    context = CallContext.from_event({"type": "StasisStart", "channel": {"id": "x"}})
    assert (context.caller_number, context.dialed, context.node, context.args) == ("", "", "", [])


def test_contexts_do_not_share_their_state() -> None:
    one, two = CallContext(channel_id="a"), CallContext(channel_id="b")
    one.state["k"] = 1
    assert two.state == {}


@pytest.mark.parametrize(
    ("channel_id", "node"), [("n1-1795680783.0", "n1"), ("edge-n3-1.2", "edge"), ("1.2", "")]
)
def test_the_node_is_the_ids_prefix(channel_id: str, node: str) -> None:
    assert node_of(channel_id) == node
