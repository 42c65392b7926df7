import json
import logging

from ariscale_common.logs import JsonFormatter, log_context, redact
from ariscale_common.request_ids import accepted_or_new, path_fields


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("gateway.x", logging.INFO, __file__, 1, msg, args, None)


def test_a_line_is_json_with_the_calls_context() -> None:
    formatter = JsonFormatter("node_agent", node="n2")
    with log_context(app="conf", channel="n2-1.7", request_id="abc"):
        line = json.loads(formatter.format(record("hello %s", "world")))
    assert line["msg"] == "hello world"
    assert (line["service"], line["node"], line["app"], line["channel"]) == (
        "node_agent",
        "n2",
        "conf",
        "n2-1.7",
    )
    assert line["request_id"] == "abc" and line["level"] == "INFO" and line["ts"].endswith("Z")
    assert "channel" not in json.loads(formatter.format(record("outside")))


def test_a_lines_time_is_its_records_to_the_millisecond_and_its_text_is_kept_as_written() -> None:
    formatter = JsonFormatter("gateway")
    lines = []
    for created in (1796025951.4148, 1796025951.9991, 1796025952.0, 1796025951.5):
        rec = record("appel de José → %s", "n1")
        rec.created, rec.msecs = created, (created - int(created)) * 1000
        lines.append(json.loads(formatter.format(rec)))
    assert [line["ts"] for line in lines] == [
        "2026-11-30T08:05:51.414Z",
        "2026-11-30T08:05:51.999Z",
        "2026-11-30T08:05:52.000Z",
        "2026-11-30T08:05:51.500Z",  # a second formatted before, again
    ]
    assert lines[0]["msg"] == "appel de José → n1"


def test_secrets_never_reach_a_line() -> None:
    for text, secret in (
        ("connecting to amqp://guest:s3cr3t@127.0.0.1:5672/v", "s3cr3t"),
        ("ws://h/ari/events?app=conf&api_key=conf:pa55word", "pa55word"),
        ("Authorization: Bearer tok-123456", "tok-123456"),
        ('{"password": "hunter2", "name": "x"}', "hunter2"),
        ("admin_token=ariscale-admin", "ariscale-admin"),
        ("PASSWORD=Hunter2 in upper case", "Hunter2"),  # the quick check before the patterns
        ("AUTHORIZATION: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("redis://:Pa55@10.0.0.1:6379/0", "Pa55"),
    ):
        assert secret not in redact(text), text
    assert "conf" in redact("app=conf channel=n1-1.2")
    formatter = JsonFormatter("registry")
    assert "hunter2" not in formatter.format(record("created %s", {"password": "hunter2"}))


def test_request_ids_and_path_fields() -> None:
    assert accepted_or_new("op-42") == "op-42"
    assert accepted_or_new("bad id\n") != "bad id\n" and len(accepted_or_new(None)) == 32
    assert path_fields("/ari/channels/n1-1.2/answer") == {"channel": "n1-1.2"}
    assert path_fields("/ari/bridges/conf/addChannel") == {"bridge": "conf"}
    assert path_fields("/apps") == {}
