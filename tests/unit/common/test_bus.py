import pytest

from ariscale_common import bus


def test_routing_key_grammar() -> None:
    assert bus.stasis_routing_key("conf", "n1", "StasisStart") == "stasis.app.conf.n1.StasisStart"
    assert bus.parse_routing_key("stasis.app.conf.n1.StasisStart") == ("conf", "n1", "StasisStart")


def test_bindings_cover_the_keys_they_should() -> None:
    assert bus.app_binding("conf") == "stasis.app.conf.#"
    assert bus.app_node_binding("conf", "n2") == "stasis.app.conf.n2.*"
    assert "stasis.app.*.n2.StasisStart" in bus.ownership_bindings("n2")
    assert bus.ownership_queue_name("n2") == "ariscale.ownership.n2"


@pytest.mark.parametrize("bad", ["", "a.b", "a*", "#"])
def test_words_that_would_change_the_key_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        bus.stasis_routing_key(bad, "n1", "StasisStart")


def test_foreign_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        bus.parse_routing_key("other.app.conf.n1.X")
