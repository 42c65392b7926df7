from gateway.routing.matching import match


def test_a_path_names_its_operation_and_parameters() -> None:
    found = match("POST", "/channels/n1-1.2/answer")
    assert found is not None and found.op is not None
    assert (found.op.operation_id, found.path_params) == ("channels.answer", {"channelId": "n1-1.2"})


def test_static_segments_win_over_parameters() -> None:
    found = match("POST", "/channels/externalMedia")
    assert found is not None and found.op is not None
    assert found.op.nickname == "externalMedia"


def test_an_unknown_path_is_none_and_a_wrong_method_has_no_operation() -> None:
    assert match("GET", "/nowhere") is None
    found = match("PUT", "/asterisk/ping")
    assert found is not None and found.op is None


def test_the_events_websocket_is_no_request() -> None:
    assert match("GET", "/events") is None
