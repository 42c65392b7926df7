"""The SDK and the conference app on the real cluster: the sample, the API, robustness."""

import asyncio
import logging
import os
import sys
from functools import partial
from pathlib import Path

import httpx
import pytest

from app_sdk import Application, CallContext, Config
from ariscale_cluster import Cluster
from tests.e2e.conftest import RegisteredApp
from tests.support.audio import band_energy, record_what_is_heard
from tests.support.conference import (
    CONFERENCE,
    conference_members,
    connected,
    hang_up_all,
    has_count,
    healthy,
    in_conference,
    two_tone_callers,
)
from tests.support.sipp import SippResult, place_calls
from tests.support.waiting import until

REPO = Path(__file__).parents[2]


async def test_the_sample_app_serves_four_callers_on_both_nodes(
    cluster: Cluster, conf_gw: httpx.AsyncClient, sip_edge: str, tmp_path: Path
) -> None:
    cluster.procs.stop("conf_app")  # the sample is then the only instance of app "conf"
    log = tmp_path / "sample.log"
    env = {
        **os.environ,
        "ARISCALE_GATEWAY_URL": f"http://127.0.0.1:{cluster.spec.gateway_port}",
        "ARISCALE_CREDENTIALS_DIR": str(cluster.spec.state_dir / "credentials"),
    }
    with log.open("wb") as out:
        sample = await asyncio.create_subprocess_exec(
            sys.executable, str(REPO / "samples/bridge_app.py"), env=env, stdout=out, stderr=out, cwd=tmp_path
        )
    calls: asyncio.Task[SippResult] | None = None
    try:
        await until(lambda: "connected" in log.read_text(), timeout=20, message="the sample connected")
        calls = asyncio.create_task(
            place_calls(sip_edge, CONFERENCE, calls=4, rate=20, hold_ms=30000, timeout=60)
        )
        await until(lambda: in_conference(conf_gw, 4), timeout=20, message="4 callers in conference conf")
        members = await conference_members(conf_gw)
        assert {m.split("-")[0] for m in members} == {"n1", "n2"}, members
    finally:
        await hang_up_all(conf_gw)
        if calls is not None:
            assert (await calls).successful == 4
        sample.terminate()
        await sample.wait()
        cluster.up()  # conf_app back
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


async def test_conference_api_lists_mutes_and_kicks(
    conf_api: httpx.AsyncClient, conf_gw: httpx.AsyncClient, sip_edge: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:  # fmt: skip
    await until(lambda: healthy(conf_api), timeout=20, message="conf_app healthy")
    await until(lambda: connected(conf_api), timeout=20, message="conf_app connected to the gateway")
    tones = tmp_path_factory.mktemp("conf-tones")
    async with two_tone_callers(conf_api, conf_gw, sip_edge, tones) as (_, second):
        conference = (await conf_api.get("/conferences/conf")).json()
        by_caller = {p["caller_id"]: p for p in conference["participants"]}
        assert set(by_caller) == {"tone-1000", "tone-1500"}
        assert {p["node"] for p in conference["participants"]} == {"n1", "n2"}
        assert all(p["muted"] is False and p["joined_at"] for p in conference["participants"])
        listed = (await conf_api.get("/conferences")).json()["data"]
        assert {"id": "conf", "count": 2} in listed

        loud, listener = by_caller["tone-1000"]["channel_id"], by_caller["tone-1500"]["channel_id"]
        before = await record_what_is_heard(conf_gw, listener, "conf")
        assert band_energy(before, 1000) > 0.9, "the listener hears the other caller's tone"

        muted = await conf_api.post(f"/conferences/conf/participants/{loud}/mute")
        assert muted.status_code == 200 and muted.json()["muted"] is True
        after = await record_what_is_heard(conf_gw, listener, "conf")
        assert band_energy(after, 1000) < 0.1, "a muted caller is not heard by the others"
        unmuted = await conf_api.post(f"/conferences/conf/participants/{loud}/unmute")
        assert unmuted.json()["muted"] is False

        kicked = await conf_api.delete(f"/conferences/conf/participants/{listener}")
        assert kicked.status_code == 204
        await until(lambda: has_count(conf_api, 1), message="the kicked caller is gone")
        assert (await second).successful == 1, "the kicked call was hung up (BYE from the network)"

        for path in ("/conferences/nope", f"/conferences/nope/participants/{loud}/mute"):
            response = await (conf_api.get(path) if path.endswith("nope") else conf_api.post(path))
            assert response.status_code == 404 and response.json()["error"] == "no-such-conference"
        unknown = await conf_api.post("/conferences/conf/participants/n1-0.0/mute")
        assert unknown.status_code == 404 and unknown.json()["error"] == "no-such-participant"


class Probe(Application):
    """Answers every call, except that "boom" makes on_start raise and "slow" waits for ``go_on``."""

    def __init__(self, config: Config, name: str) -> None:
        super().__init__(config, name, name)
        self.started: set[str] = set()
        self.answered: list[str] = []  # callers, in the order their calls came up
        self.go_on = asyncio.Event()

    async def on_start(self, context: CallContext) -> None:
        self.started.add(context.caller_number)
        if context.caller_number == "boom":
            raise RuntimeError("boom")
        if context.caller_number == "slow":
            await self.go_on.wait()
        await self.answer(context)

    async def on_up(self, context: CallContext) -> None:
        self.answered.append(context.caller_number)


async def test_sdk_survives_failing_and_slow_handlers_and_gateway_restarts(
    cluster: Cluster, registered_app: RegisteredApp, gateway_url: str, sip_edge: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.ERROR, logger=f"app_sdk.{registered_app.name}")
    probe = Probe(Config(gateway_url=gateway_url, app_password=registered_app.password), registered_app.name)
    stop = asyncio.Event()
    serving = asyncio.create_task(probe.serve(stop))
    call = partial(place_calls, sip_edge, registered_app.extension, hold_ms=500, timeout=30)
    fast_callers = [f"fast{i}" for i in range(3)]
    try:
        await until(probe.connected.is_set, timeout=20, message="the probe app connected")
        slow = asyncio.create_task(call(caller="slow"))
        await until(lambda: "slow" in probe.started, timeout=20, message="the slow call's handler running")
        boom = asyncio.create_task(call(caller="boom", timeout=8))
        fast = [asyncio.create_task(call(caller=caller)) for caller in fast_callers]
        # The slow handler is held until every fast call is up: had it stalled them, none would be.
        await until(lambda: set(fast_callers) <= set(probe.answered), timeout=20,
                    message="the fast calls answered while the slow handler waits")  # fmt: skip
        assert "slow" not in probe.answered
        probe.go_on.set()
        await until(lambda: "slow" in probe.answered, timeout=20, message="the slow call answered")
        assert [(await task).successful for task in (slow, *fast)] == [1, 1, 1, 1]
        await boom  # never answered: sipp gives up
        assert "boom" not in probe.answered
        failures = [r for r in caplog.records if "handler for StasisStart failed" in r.getMessage()]
        assert failures and "call n" in failures[0].getMessage(), "the failure names the call"

        cluster.procs.stop("gateway")
        await until(lambda: not probe.connected.is_set(), message="the probe notices the gateway is gone")
        cluster.up()
        await until(probe.connected.is_set, timeout=30, message="the probe reconnected by itself")
        again = await call(caller="after")
        assert again.successful == 1
        await until(lambda: "after" in probe.answered, message="the call after the restart answered")
    finally:
        stop.set()
        await serving
