"""What the registry accepts as an app name, an extension list and a partial update."""

import pytest
from pydantic import ValidationError

from registry.schemas import AppCreate, AppUpdate


@pytest.mark.parametrize("name", ["conf", "a", "a-b_9", "9x", "x" * 64, "ariscale-link"])
def test_valid_names(name: str) -> None:
    assert AppCreate(name=name).name == name


@pytest.mark.parametrize(
    "name", ["", "x" * 65, "a b", "a.b", "a/b", "é", "a*", "conf\n", "CONF", "Conf", "-", "_", "-a", "_a"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        AppCreate(name=name)


@pytest.mark.parametrize("extension", ["8000", "*97", "#1", "+441234567890", "1" * 32])
def test_dialable_extensions(extension: str) -> None:
    assert AppCreate(name="a", extensions=[extension]).extensions == [extension]


@pytest.mark.parametrize("extension", ["", "1" * 33, "80a0", "8000 ", "80-00", "_X."])
def test_undialable_extensions(extension: str) -> None:
    with pytest.raises(ValidationError, match="extensions"):
        AppCreate(name="a", extensions=[extension])


def test_repeated_extension_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="more than once: 8000"):
        AppCreate(name="a", extensions=["8000", "8001", "8000"])


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="colour"):
        AppCreate.model_validate({"name": "a", "colour": "red"})


def test_update_keeps_what_is_omitted() -> None:
    change = AppUpdate.model_validate({"enabled": False})
    assert change.model_dump(exclude_unset=True) == {"enabled": False}
    assert AppUpdate.model_validate({}).model_dump(exclude_unset=True) == {}


@pytest.mark.parametrize("field", ["enabled", "extensions", "description"])
def test_update_refuses_null(field: str) -> None:
    with pytest.raises(ValidationError, match=f"null is not a value for {field}"):
        AppUpdate.model_validate({field: None})
