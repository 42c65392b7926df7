import json

from gateway.routing.messages import AriCall
from gateway.routing.parameters import Parameters
from gateway.routing.plans import plan_for
from gateway.routing.spec import operations

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def body(fields: dict[str, object]) -> bytes:
    return json.dumps(fields).encode()


def add_channel_call(query: list[tuple[str, str]], raw: bytes | None, content_type: str = JSON) -> AriCall:
    op = next(o for o in operations() if o.path == "/bridges/{bridgeId}/addChannel")
    return AriCall(
        op, plan_for(op), "app", "/bridges/b/addChannel", {"bridgeId": "b"}, query, raw, content_type
    )


def test_a_parameter_is_read_from_the_query() -> None:
    assert Parameters.parse([("channel", "c1")], None, JSON).value("channel") == "c1"


def test_a_parameter_is_read_from_a_json_body() -> None:
    assert Parameters.parse([], body({"channel": "c1"}), JSON).value("channel") == "c1"


def test_the_json_body_wins_over_the_query() -> None:
    params = Parameters.parse([("app", "query")], body({"app": "body"}), "application/json; charset=utf-8")
    assert params.value("app") == "body"


def test_a_json_field_that_is_not_a_string_hides_the_query_value() -> None:
    # Asterisk takes the body's field and reads NULL from it: the query value is gone.
    assert Parameters.parse([("app", "query")], body({"app": 5}), JSON).value("app") is None


def test_the_last_query_occurrence_wins() -> None:
    assert Parameters.parse([("app", "a"), ("app", "b")], None, JSON).value("app") == "b"


def test_the_query_wins_over_a_form_body() -> None:
    params = Parameters.parse([("app", "query")], b"app=form&role=x", FORM)
    assert params.value("app") == "query"
    assert params.value("role") == "x"


def test_a_body_of_another_type_is_ignored() -> None:
    assert Parameters.parse([], body({"app": "x"}), "text/plain").value("app") is None


def test_a_malformed_or_non_object_json_body_carries_no_parameters() -> None:
    assert Parameters.parse([("app", "q")], b"{not json", JSON).value("app") == "q"
    assert Parameters.parse([("app", "q")], b'["app"]', JSON).value("app") == "q"


def test_several_values_from_the_query_are_comma_separated() -> None:
    assert Parameters.parse([("channel", "c1,c2,")], None, JSON).values("channel") == ["c1", "c2"]


def test_several_values_from_json_are_an_array_or_one_unsplit_string() -> None:
    assert Parameters.parse([], body({"channel": ["c1", "c2"]}), JSON).values("channel") == ["c1", "c2"]
    assert Parameters.parse([], body({"channel": "c1,c2"}), JSON).values("channel") == ["c1,c2"]


def test_scalars_apply_the_precedence_and_spell_json_as_a_query_would() -> None:
    params = Parameters.parse(
        [("role", "q"), ("channel", "c")], body({"mute": True, "role": "b", "variables": {"x": "1"}}), JSON
    )
    assert sorted(params.scalars("channel")) == [("mute", "true"), ("role", "b")]


def test_a_call_rewritten_for_a_node_carries_the_new_value_only() -> None:
    call = add_channel_call([("channel", "q")], body({"channel": ["c1", "c2"], "role": "r"}))
    rewritten = call.with_params(("channel",), [("channel", "c1")])
    assert rewritten.query == [("channel", "c1")]
    assert json.loads(rewritten.body or b"") == {"role": "r"}
    assert rewritten.params.values("channel") == ["c1"]
    assert rewritten.query_value("role") == "r"


def test_a_form_call_rewritten_keeps_its_other_form_fields() -> None:
    call = add_channel_call([], b"channel=c1%2Cc2&role=r", FORM)
    rewritten = call.with_params(("channel",), [("channel", "c2")])
    assert rewritten.body == b"role=r"
    assert rewritten.params.values("channel") == ["c2"]


def test_the_call_reads_its_parameters_from_the_body() -> None:
    call = add_channel_call([], body({"channel": "c1"}))
    assert call.query_value("channel") == "c1"
