import json
from typing import Any

from gateway.events.identity import ClusterIdentity
from gateway.exceptions import ResourceNotFound
from gateway.routing.messages import AriAnswer, AriCall
from gateway.routing.websocket_requests import WebsocketRequests

IDENTITY = ClusterIdentity("02:a5:c1:00:00:00", "ariscale")


class Recorder:
    """The gateway's handler as seen from the websocket: records calls, answers 200 with the path."""

    def __init__(self) -> None:
        self.calls: list[AriCall] = []

    async def __call__(self, call: AriCall) -> AriAnswer:
        self.calls.append(call)
        if call.path.startswith("/channels/gone"):
            raise ResourceNotFound("Channel not found")
        return AriAnswer.json(200, {"path": call.path})


async def answer(message: Any, recorder: Recorder | None = None) -> dict[str, Any]:
    requests = WebsocketRequests(recorder or Recorder(), IDENTITY)
    text = await requests.answer("app", message if isinstance(message, str) else json.dumps(message))
    assert text is not None
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def request(**fields: Any) -> dict[str, Any]:
    return {"type": "RESTRequest", "transaction_id": "t", "request_id": "r", "method": "GET", **fields}


async def test_a_request_is_answered_with_its_ids_and_the_clusters_identity() -> None:
    response = await answer(request(uri="asterisk/ping"))
    assert response["type"] == "RESTResponse"
    assert (response["transaction_id"], response["request_id"], response["uri"]) == (
        "t",
        "r",
        "asterisk/ping",
    )
    assert (response["status_code"], response["reason_phrase"]) == (200, "OK")
    assert response["content_type"] == "application/json"
    assert json.loads(response["message_body"]) == {"path": "/asterisk/ping"}
    assert (response["application"], response["asterisk_id"]) == ("app", "02:a5:c1:00:00:00")


async def test_parameters_arrive_from_the_uri_query_strings_and_a_json_body() -> None:
    recorder = Recorder()
    await answer(
        request(
            method="POST",
            uri="bridges/b1/addChannel?role=x&api_key=app:secret",
            query_strings=[{"name": "mute", "value": "true"}],
            content_type="application/json",
            message_body=json.dumps({"channel": "n1-1.1"}),
        ),
        recorder,
    )
    (call,) = recorder.calls
    assert (call.path, call.path_params) == ("/bridges/b1/addChannel", {"bridgeId": "b1"})
    assert call.query == [("role", "x"), ("mute", "true")]
    assert call.query_value("channel") == "n1-1.1"


async def test_a_form_body_counts_as_query_parameters() -> None:
    recorder = Recorder()
    message = request(
        method="POST",
        uri="channels/n1-1.1/answer",
        content_type="application/x-www-form-urlencoded",
        message_body="a=1",
    )
    await answer(message, recorder)
    assert recorder.calls[0].query == [("a", "1")]


async def test_gateway_errors_are_answered_as_http_would() -> None:
    response = await answer(request(uri="channels/gone"))
    assert (response["status_code"], response["reason_phrase"]) == (404, "Not Found")
    assert json.loads(response["message_body"])["message"] == "Channel not found"


async def test_unknown_paths_and_methods_as_asterisk_answers_them() -> None:
    assert (await answer(request(uri="nowhere")))["status_code"] == 404
    response = await answer(request(method="PUT", uri="asterisk/ping"))
    assert (response["status_code"], json.loads(response["message_body"])) == (
        405,
        {"message": "Invalid method"},
    )


async def test_malformed_messages_get_asterisks_400s() -> None:
    assert (await answer("garbage"))["reason_phrase"] == "Failed to parse request message JSON"
    assert (await answer({"type": "Other"}))["status_code"] == 400
    missing_uri = await answer(request())
    assert json.loads(missing_uri["message_body"]) == {"message": "Empty or missing 'uri' property."}
    no_type = await answer(request(uri="asterisk/ping", content_type="", message_body="{}"))
    assert json.loads(no_type["message_body"]) == {"message": "No 'content_type' for 'message_body'."}
