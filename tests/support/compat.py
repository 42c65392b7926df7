"""Existing ARI client libraries, installed (not vendored) and run through one call flow.

The libraries live outside the repository, cached in ``/var/cache/ariscale/compat``: PyPI's aioari
and ari-client in a venv of their own, npm's ari-client in a node_modules. Each runs its flow script
(``tests/e2e/compat/``): it connects, says ``ready``, handles one call (answer, play, bridge, list,
variables, hang-up) and prints one JSON transcript: ``{"steps": {step: answer}, "events": [...]}``.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.events.sequence import SEQ_FIELD

CACHE = Path(os.environ.get("ARISCALE_COMPAT_CACHE", "/var/cache/ariscale/compat"))
FLOWS = Path(__file__).resolve().parents[1] / "e2e" / "compat"
PYPI = ("aioari==0.10.2", "ari-client==0.9.0")
NPM = "ari-client@2.2.0"
INSTALL_TIMEOUT_S = 300
FLOW_TIMEOUT_S = 90

# The events compared: what one call through the flow makes Asterisk send its app.
EVENT_TYPES = (
    "StasisStart", "ChannelStateChange", "PlaybackStarted", "PlaybackFinished", "ChannelEnteredBridge",
    "ChannelLeftBridge", "ChannelVarset", "ChannelHangupRequest", "StasisEnd", "ChannelDestroyed",
    "BridgeDestroyed",
)  # fmt: skip


@dataclass(frozen=True)
class Client:
    name: str
    command: list[str]


CLIENT_NAMES = ("npm-ari-client", "pypi-aioari", "pypi-ari-client")


def installed_clients() -> dict[str, Client]:
    """Every library, installed on first use (bounded in time), then reused from the cache."""
    venv = CACHE / "py"
    python = venv / "bin" / "python"
    marker = venv / ("installed-" + "-".join(PYPI))
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT_S)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PYPI], check=True, timeout=INSTALL_TIMEOUT_S
        )
        marker.touch()
    npm_dir = CACHE / "npm"
    if not (npm_dir / "node_modules" / "ari-client" / "package.json").exists():
        npm_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(npm_dir), NPM],
            check=True,
            timeout=INSTALL_TIMEOUT_S,
        )
    types = ",".join(EVENT_TYPES)
    clients = [
        Client("pypi-aioari", [str(python), str(FLOWS / "flow_aioari.py")]),
        Client("pypi-ari-client", [str(python), str(FLOWS / "flow_ari_client.py"), types]),
        Client("npm-ari-client", ["node", str(FLOWS / "flow_ari_client.js"), types]),
    ]
    return {client.name: client for client in clients}


async def run_flow(
    client: Client,
    ari_url: str,
    auth: tuple[str, str],
    app: str,
    place_call: Callable[[], Coroutine[Any, Any, object]],
) -> dict[str, Any]:
    """Run the client's flow against ``ari_url`` (a node's or the gateway's, without /ari)."""
    env = {**os.environ, "ARI_URL": ari_url, "ARI_USER": auth[0], "ARI_PASSWORD": auth[1], "ARI_APP": app}
    env["NODE_PATH"] = str(CACHE / "npm" / "node_modules")
    process = await asyncio.create_subprocess_exec(
        *client.command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        await asyncio.wait_for(_ready(process.stdout), 30)
        call = asyncio.create_task(place_call())
        out, err = await asyncio.wait_for(process.communicate(), FLOW_TIMEOUT_S)
        await call
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise AssertionError(f"{client.name} failed ({process.returncode}): {err.decode()[-3000:]}")
    transcript: dict[str, Any] = json.loads(lines[-1])
    return transcript


async def _ready(stdout: asyncio.StreamReader) -> None:
    """Until the flow says it is connected (libraries may print their own lines first)."""
    while (line := await stdout.readline()) and line.strip() != b"ready":
        pass
    if not line:
        raise AssertionError("the flow ended before it was ready")


_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d{4}|Z)?"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\bn\d+-\d+\.\d+"), "<channel>"),
    (re.compile(r"(PJSIP/[\w.]+)-[0-9a-f]{8}"), r"\1-<n>"),
]
_VOLATILE_KEYS = {"asterisk_id", "protocol_id", "timestamp", "creationtime", "uniqueid", "linkedid"}


def normalised(value: Any, names: dict[str, str]) -> Any:
    """``value`` with what differs between two runs of the same flow replaced by placeholders:
    ids, times, SIP Call-IDs, channel name counters, and ``names`` (app name, extension…)."""
    if isinstance(value, dict):
        return {k: "<volatile>" if k in _VOLATILE_KEYS else normalised(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, names) for v in value]
    if isinstance(value, str):
        for literal, placeholder in names.items():
            value = value.replace(literal, placeholder)
        for pattern, placeholder in _VOLATILE:
            value = pattern.sub(placeholder, value)
    return value


def _without_seq(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != SEQ_FIELD}


def comparable(transcript: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The transcript's REST answers and its app's events (those of :data:`EVENT_TYPES`, the flow's
    own variable only), normalised; events as a sorted list, since libraries dispatch concurrently."""
    steps = dict(transcript["steps"])
    created = (steps.get("create_bridge") or {}).get("id")
    steps["list_bridges"] = [b for b in steps.get("list_bridges") or [] if b.get("id") == created]
    if isinstance(steps.get("play"), dict):  # "queued" or "playing": a race inside Asterisk
        steps["play"] = {**steps["play"], "state": "<timing>"}
    events = [
        e
        for e in transcript["events"]
        if e.get("type") in EVENT_TYPES
        and (e.get("type") != "ChannelVarset" or e.get("variable") == "COMPAT")
    ]
    # ariscale_seq is the cluster's extension field (a node has no app-wide sequence): left out.
    shown = [json.dumps(normalised(_without_seq(e), names), sort_keys=True) for e in events]
    return {"steps": normalised(steps, names), "events": sorted(shown)}
