"""Real SIP calls from sipp (Debian's sip-tester), run as a subprocess."""

import asyncio
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from ariscale_cluster.sipp import SCENARIOS, uac_scenario


@dataclass(frozen=True)
class SippResult:
    returncode: int
    successful: int
    failed: int
    output: str


START_ATTEMPTS = 3


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cumulative(output: str, label: str) -> int:
    matches = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", output)
    return int(matches[-1]) if matches else 0


async def place_calls(
    target: str,
    extension: str,
    calls: int = 1,
    rate: float = 10,
    hold_ms: int = 1000,
    scenario: str | None = None,
    timeout: float = 60,
    extra: list[str] | None = None,
    tone: Path | None = None,
    caller: str | None = None,
) -> SippResult:
    """Place ``calls`` calls to ``extension`` at ``target`` (host:port); wait for them to end.

    With ``tone`` (a raw µ-law file), each call sends it as RTP once answered. The caller's
    number is ``caller``, else the tone file's stem, else "sipp".
    """
    if scenario is not None:
        scenario_file = SCENARIOS / scenario
    else:
        scenario_file = uac_scenario(hold_ms, tone, caller=caller or (tone.stem if tone else "sipp"))
    argv = [
        "sipp", target, "-s", extension,
        "-sf", str(scenario_file),
        "-m", str(calls), "-l", str(calls), "-r", str(rate), "-d", str(hold_ms),
        "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin", "-nd", "-max_retrans", "3",
        *(extra or []),
    ]  # fmt: skip
    for _ in range(START_ATTEMPTS):
        result = await _run_sipp(argv, timeout)
        # A free port found by probing may be taken before sipp binds it (other test suites,
        # RTP): sipp then stops before its first call. Only then is it run again, on new ports.
        if result.returncode == 0 or _cumulative(result.output, "Outgoing calls created") > 0:
            break
    return result


async def _run_sipp(argv: list[str], timeout: float) -> SippResult:
    ports = ["-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port())]
    proc = await asyncio.create_subprocess_exec(
        *argv, *ports, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd="/tmp"
    )
    raw, _ = await asyncio.wait_for(proc.communicate(), timeout + 15)
    output = raw.decode(errors="replace")
    return SippResult(
        returncode=proc.returncode if proc.returncode is not None else -1,
        successful=_cumulative(output, "Successful call"),
        failed=_cumulative(output, "Failed call"),
        output=output,
    )
