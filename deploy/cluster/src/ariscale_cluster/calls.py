"""``make call N=4``: N callers dial the conference through the SIP edge; print who is in it."""

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from ariscale_cluster.envfile import read
from ariscale_cluster.sipp import uac_scenario


def place_conference_calls(state_dir: Path, calls: int, hold_seconds: int, extension: str = "8000") -> int:
    env = read(state_dir / "env")
    sipp = subprocess.Popen(
        ["sipp", env["SIP_EDGE"], "-s", extension, "-sf", str(uac_scenario(hold_seconds * 1000)),
         "-m", str(calls), "-l", str(calls), "-r", "10", "-i", "127.0.0.1", "-p", "0", "-nostdin", "-nd",
         "-timeout", f"{hold_seconds + 30}s", "-timeout_error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd="/tmp",
    )  # fmt: skip
    conference: dict[str, Any] = {}
    deadline = time.monotonic() + 20
    url = f"{env['CONF_APP_URL']}/conferences/conf"
    while time.monotonic() < deadline:
        response = httpx.get(url, timeout=5)
        if response.status_code == 200:
            conference = response.json()
            if int(conference.get("count", 0)) >= calls:
                break
        time.sleep(0.5)
    print_conference(conference)
    print(f"\nholding the calls for {hold_seconds} s (Ctrl-C ends them now)")
    try:
        return sipp.wait()
    except KeyboardInterrupt:
        sipp.terminate()
        return 0


def print_conference(conference: dict[str, Any]) -> None:
    participants = conference.get("participants") or []
    print(f"conference conf: {len(participants)} participant(s)")
    print(f"{'channel':<24} {'caller':<10} {'node':<6} muted")
    for p in participants:
        print(f"{p['channel_id']:<24} {p['caller_id']:<10} {p['node']:<6} {p['muted']}")
