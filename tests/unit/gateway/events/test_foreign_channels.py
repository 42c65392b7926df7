"""Whose a channel is, from its snapshot alone (the cheap part of the foreign-channel filter)."""

from ariscale_common.discovery import AppRecord
from gateway.events.foreign_channels import dialed_app, stasis_app


def snapshot(app_name: str = "", app_data: str = "", exten: str = "s") -> dict[str, object]:
    return {"id": "n1-1.0", "dialplan": {"app_name": app_name, "app_data": app_data, "exten": exten}}


def test_a_channel_in_stasis_names_its_app() -> None:
    assert stasis_app(snapshot("Stasis", "conf,arg")) == "conf"
    assert stasis_app(snapshot("Stasis", "conf")) == "conf"
    assert stasis_app(snapshot("Dial", "PJSIP/x")) is None
    assert stasis_app({"id": "n1-1.0"}) is None


def test_a_call_not_in_stasis_yet_is_the_app_of_the_number_it_dialed() -> None:
    apps = {"a": AppRecord(name="a", extensions=["9000"]), "b": AppRecord(name="b", extensions=["8000"])}
    assert dialed_app(snapshot(exten="8000"), apps) == "b"
    assert dialed_app(snapshot(exten="s"), apps) is None
