"""Which apps a channel may move to (``POST /channels/{id}/move``)."""

import json

import pytest

from ariscale_common.dialplan import LINK_APP
from ariscale_common.discovery import AppRecord
from gateway.exceptions import UnknownApplication
from gateway.routing.messages import AriCall
from gateway.routing.moves import check_target
from gateway.routing.plans import plan_for
from gateway.routing.spec import operations

APPS = {"a": AppRecord(name="a"), "b": AppRecord(name="b"), "off": AppRecord(name="off", enabled=False)}


def move(target: str, in_body: bool = False) -> AriCall:
    op = next(o for o in operations() if o.nickname == "move")
    query = [] if in_body else [("app", target)]
    body = json.dumps({"app": target}).encode() if in_body else None
    return AriCall(op, plan_for(op), "a", "/channels/c/move", {"channelId": "c"}, query, body)


@pytest.mark.parametrize("in_body", [False, True])
def test_the_own_app_and_other_registered_apps_are_allowed(in_body: bool) -> None:
    check_target(move("a", in_body), APPS)
    check_target(move("b", in_body), APPS)


@pytest.mark.parametrize("target", ["nobody", "off", LINK_APP, ""])
@pytest.mark.parametrize("in_body", [False, True])
def test_unknown_disabled_and_internal_apps_are_refused(target: str, in_body: bool) -> None:
    with pytest.raises(UnknownApplication):
        check_target(move(target, in_body), APPS)
