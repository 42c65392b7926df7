import base64

import pytest

from gateway.auth import parse_credentials


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth() -> None:
    assert parse_credentials(basic("conf", "p:w"), None) == ("conf", "p:w")


def test_api_key() -> None:
    assert parse_credentials(None, "conf:secret") == ("conf", "secret")


@pytest.mark.parametrize(
    ("header", "api_key"), [(None, None), ("Basic !!!", None), (None, "no-colon"), ("Bearer x", None)]
)
def test_unusable_credentials(header: str | None, api_key: str | None) -> None:
    assert parse_credentials(header, api_key) is None
