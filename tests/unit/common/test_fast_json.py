import json

import pytest

from ariscale_common import fast_json


def test_events_parse_and_write_as_with_the_standard_library() -> None:
    text = '{"type": "StasisStart", "channel": {"id": "n1-1.2", "name": "PJSIP/é"}, "args": [1, 2.5, null]}'
    event = fast_json.loads(text.encode())
    assert event == json.loads(text)
    assert json.loads(fast_json.dumps(event)) == event


@pytest.mark.parametrize("text", ['{"v": NaN}', '{"v": "\\ud800"}'])
def test_text_only_the_standard_library_takes_is_still_taken(text: str) -> None:
    value = fast_json.loads(text.encode())
    assert list(value) == ["v"]
    assert fast_json.loads(fast_json.dumps(value)).keys() == {"v"}


@pytest.mark.parametrize("text", [b"", b"{", b"\xff", b"[1,]"])
def test_what_is_not_json_raises_value_error(text: bytes) -> None:
    with pytest.raises(ValueError):
        fast_json.loads(text)
