"""The conference app's runner: a crash of the SDK app is logged and shown in /health, never swallowed."""

import asyncio
import logging
from pathlib import Path

import pytest

from app_sdk import Config
from ariscale_common import Health, LinkState
from conf_app.conference import ConferenceApp
from conf_app.main import CALLS_LINK, serve_calls


async def test_a_conference_that_cannot_start_is_logged_and_shown_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # No password anywhere: the SDK refuses to start (as when the credentials dir is not the one registered).
    config = Config(gateway_url="http://127.0.0.1:9", app_password="", credentials_dir=tmp_path)
    conference = ConferenceApp(config, "conf", "conf")
    checker = Health("conf_app")
    with caplog.at_level(logging.ERROR, logger="conf_app.main"):
        await asyncio.wait_for(serve_calls(conference, checker, asyncio.Event()), 10)
    link = checker.report().links[CALLS_LINK]
    assert link.state is LinkState.DOWN and "no password for app 'conf'" in link.detail
    assert checker.report().status == "degraded"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "conference app conf stopped" in errors[0].getMessage()
    assert errors[0].exc_info is not None, "the traceback says what failed"
