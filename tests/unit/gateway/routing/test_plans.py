import pytest

from gateway.ownership import Kind
from gateway.routing.plans import Policy, plan_for
from gateway.routing.spec import Operation, operations


def op(method: str, path: str) -> Operation:
    return next(o for o in operations() if o.method == method and o.path == path)


def test_the_whole_spec_is_loaded() -> None:
    assert len(operations()) > 100
    assert {o.resource for o in operations()} >= {"channels", "bridges", "playbacks", "recordings", "events"}


@pytest.mark.parametrize(
    ("method", "path", "policy", "kind"),
    [
        ("POST", "/channels/{channelId}/answer", Policy.OWNER, Kind.CHANNEL),
        ("DELETE", "/bridges/{bridgeId}", Policy.OWNER, Kind.BRIDGE),
        ("POST", "/playbacks/{playbackId}/control", Policy.OWNER, Kind.PLAYBACK),
        ("POST", "/recordings/live/{recordingName}/stop", Policy.OWNER, Kind.RECORDING),
        ("GET", "/recordings/stored/{recordingName}", Policy.OWNER, Kind.STORED),
        ("POST", "/channels", Policy.CREATE, Kind.CHANNEL),
        ("POST", "/channels/{channelId}", Policy.CREATE, Kind.CHANNEL),
        ("POST", "/bridges/{bridgeId}", Policy.CREATE, Kind.BRIDGE),
        ("POST", "/channels/externalMedia", Policy.CREATE, Kind.CHANNEL),
        ("GET", "/channels", Policy.LIST, None),
        ("GET", "/bridges", Policy.LIST, None),
        ("GET", "/applications/{applicationName}", Policy.APP, None),
        ("GET", "/asterisk/info", Policy.ANY, None),
        ("POST", "/asterisk/variable", Policy.ALL, None),
        ("GET", "/events", Policy.EVENTS, None),
    ],
)
def test_plans(method: str, path: str, policy: Policy, kind: Kind | None) -> None:
    plan = plan_for(op(method, path))
    assert plan.policy is policy
    assert plan.kind is kind


def test_sub_resources_are_tracked_from_the_answer() -> None:
    assert plan_for(op("POST", "/channels/{channelId}/play")).creates is Kind.PLAYBACK
    record = plan_for(op("POST", "/bridges/{bridgeId}/record"))
    assert record.creates is Kind.RECORDING and record.created_id_field == "name"
    assert plan_for(op("POST", "/channels/{channelId}/snoop")).creates is Kind.CHANNEL


def test_app_parameters_are_checked() -> None:
    assert plan_for(op("POST", "/channels")).app_params == ("app",)
    assert plan_for(op("POST", "/channels/{channelId}/move")).app_params == ("app",)
