"""Channels an operation takes something from must be the app's own (``originator``, ``caller``)."""

import json

import pytest

from gateway.exceptions import NotYourResource
from gateway.ownership import Kind, Owner
from gateway.routing.messages import AriCall
from gateway.routing.plans import plan_for
from gateway.routing.references import check_references
from gateway.routing.spec import operations

OWNERS = {"mine": Owner("n1", "a"), "theirs": Owner("n1", "b")}


async def owner_of(kind: Kind, resource_id: str) -> Owner | None:
    return OWNERS.get(resource_id) if kind is Kind.CHANNEL else None


def call(nickname: str, param: str, channel: str, in_body: bool) -> AriCall:
    op = next(o for o in operations() if o.nickname == nickname and o.resource == "channels")
    query = [] if in_body else [(param, channel)]
    body = json.dumps({param: channel}).encode() if in_body else None
    return AriCall(op, plan_for(op), "a", op.path, {"channelId": "mine"}, query, body)


@pytest.mark.parametrize("in_body", [False, True])
@pytest.mark.parametrize(
    ("nickname", "param"), [("create", "originator"), ("originate", "originator"), ("dial", "caller")]
)
async def test_another_apps_channel_is_refused_and_the_apps_own_or_an_unknown_one_passes(
    nickname: str, param: str, in_body: bool
) -> None:
    with pytest.raises(NotYourResource):
        await check_references(call(nickname, param, "theirs", in_body), owner_of)
    await check_references(call(nickname, param, "mine", in_body), owner_of)
    await check_references(call(nickname, param, "gone", in_body), owner_of)  # Asterisk says not found
