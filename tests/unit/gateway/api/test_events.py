import pytest

from ariscale_common.errors import ApiError, Forbidden
from gateway.api.events import check_apps, requested_apps


def test_app_list_is_split_trimmed_and_deduplicated() -> None:
    assert requested_apps("conf") == ["conf"]
    assert requested_apps("conf, conf,,conf") == ["conf"]
    assert requested_apps("b,a") == ["b", "a"]
    assert requested_apps(None) == []


def test_an_app_may_subscribe_to_itself() -> None:
    check_apps("conf", ["conf"])


def test_another_app_is_forbidden_by_name() -> None:
    with pytest.raises(Forbidden) as refused:
        check_apps("conf", ["conf", "billing"])
    assert "billing" in refused.value.message
    assert refused.value.details["refused"] == ["billing"]


def test_no_app_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as refused:
        check_apps("conf", [])
    assert refused.value.status == 400
