"""Requests checked against Asterisk's spec: where parameters come from, and what is refused."""

import json

import pytest

from gateway.routing.parameters import Parameters
from gateway.routing.spec import Operation, operations
from gateway.routing.validation import InvalidParameter, check_json_body, effective_parameters, validate


def op(resource: str, nickname: str) -> Operation:
    return next(o for o in operations() if (o.resource, o.nickname) == (resource, nickname))


def params(
    query: list[tuple[str, str]], body: object = None, content_type: str = "application/json"
) -> dict[str, object]:
    raw = json.dumps(body).encode() if body is not None and content_type == "application/json" else body
    assert raw is None or isinstance(raw, bytes)
    return effective_parameters(Parameters.parse(query, raw, content_type))


def test_json_body_overrides_the_query_and_the_last_query_value_wins() -> None:
    assert params([("app", "a"), ("app", "b")])["app"] == "b"
    assert params([("app", "a")], {"app": "c"})["app"] == "c"


def test_form_fields_count_but_the_query_wins_over_them() -> None:
    assert params([], b"app=x&endpoint=PJSIP%2F1", "application/x-www-form-urlencoded")["app"] == "x"
    assert params([("app", "q")], b"app=x", "application/x-www-form-urlencoded; charset=utf-8")["app"] == "q"


def test_a_body_of_another_content_type_is_not_read() -> None:
    assert "app" not in params([], b'{"app": "x"}', "text/plain")


def test_the_bridge_variable_crash_is_refused_whatever_form_it_takes() -> None:
    set_var = op("bridges", "setBridgeVar")
    for parameters in ({}, {"variable": ""}, {"variable": None}, {"variable": 5}, {"variable": ["X"]}):
        with pytest.raises(InvalidParameter, match="variable"):
            validate(set_var, {"bridgeId": "b"}, parameters)
    validate(set_var, {"bridgeId": "b"}, {"variable": "X", "value": "1"})


def test_types_allowed_values_and_ranges() -> None:
    hangup, record = op("channels", "hangup"), op("channels", "record")
    validate(hangup, {"channelId": "c"}, {"reason": "busy"})
    with pytest.raises(InvalidParameter, match="reason"):
        validate(hangup, {"channelId": "c"}, {"reason": "explode"})
    base = {"name": "r", "format": "wav"}
    validate(record, {"channelId": "c"}, {**base, "maxDurationSeconds": "5", "beep": "true"})
    for bad in ({"maxDurationSeconds": "-1"}, {"maxDurationSeconds": "x"}, {"beep": "maybe"}):
        with pytest.raises(InvalidParameter, match=next(iter(bad))):
            validate(record, {"channelId": "c"}, {**base, **bad})


def test_control_characters_and_slashes_in_path_or_values_are_refused() -> None:
    get = op("channels", "get")
    for channel_id in ("\x01", "a\x00", "a/b", "\x7f", ""):
        with pytest.raises(InvalidParameter, match="channelId"):
            validate(get, {"channelId": channel_id}, {})
    with pytest.raises(InvalidParameter, match="endpoint"):
        validate(op("channels", "originate"), {}, {"endpoint": "PJSIP/1\n", "app": "a"})


def test_variables_must_be_an_object_of_strings() -> None:
    originate = op("channels", "originate")
    required = {"endpoint": "PJSIP/1", "app": "a"}
    validate(originate, {}, {**required, "variables": {"X": "1"}})
    with pytest.raises(InvalidParameter, match="variables"):
        validate(originate, {}, {**required, "variables": {"X": 1}})


def test_deep_or_broken_json_is_a_400_not_a_crash() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    for body in (deep, b'{"a": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}', b"{not json"):
        with pytest.raises(InvalidParameter, match="body"):
            check_json_body(body, "application/json")


def test_what_the_spec_leaves_unsaid_but_asterisk_fails_on() -> None:
    create = op("bridges", "create")
    validate(create, {}, {"type": "mixing,dtmf_events", "bridgeId": "b"})
    for bad in ({"type": "mixing,party"}, {"type": "\u00af"}, {"bridgeId": ""}):
        with pytest.raises(InvalidParameter, match=next(iter(bad))):
            validate(create, {}, bad)
