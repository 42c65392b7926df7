"""One batch of calls from sipp (dialog-correct ``deploy/sipp/uac.xml``), and what sipp measured."""

import asyncio
import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ariscale_cluster.sipp import uac_scenario


@dataclass(frozen=True)
class Batch:
    """``calls`` calls to ``extension`` at ``target`` (host:port), ``rate`` per second, each ``hold`` s."""

    target: str
    extension: str
    rate: float
    calls: int
    hold: float


@dataclass(frozen=True)
class SippResult:
    ok: int
    failed: int
    invite_to_200_ms: list[float]  # one per answered call (sipp's response-time trace)


def argv(batch: Batch, scenario: Path) -> list[str]:
    concurrent = int(batch.rate * (batch.hold + 10)) + 10  # room for slow answers, still bounded
    run_limit = int(batch.calls / batch.rate + batch.hold + 60)
    return [
        "sipp", batch.target, "-s", batch.extension, "-sf", str(scenario),
        "-r", f"{batch.rate:g}", "-m", str(batch.calls), "-l", str(concurrent),
        "-i", "127.0.0.1", "-p", "0", "-nostdin",
        "-timeout", f"{run_limit}s", "-timeout_error",
        "-trace_stat", "-stf", "stat.csv", "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
    ]  # fmt: skip


def parse_counts(stat_csv: Path) -> tuple[int, int]:
    """(successful, failed) calls from the last line of sipp's statistics file."""
    rows = list(csv.reader(stat_csv.read_text().splitlines(), delimiter=";"))
    header, last = rows[0], rows[-1]
    return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])


def parse_rtt(rtt_csv: Path) -> list[float]:
    """Response times (ms) from sipp's ``-trace_rtt`` file: ``date_ms;response_time_ms;rtd_no``."""
    times = []
    for line in rtt_csv.read_text().splitlines():
        fields = line.split(";")
        try:
            times.append(float(fields[1]))
        except (IndexError, ValueError):
            continue  # the header
    return times


async def place(batch: Batch) -> SippResult:
    """Run sipp to the end and read its files."""
    scenario = uac_scenario(int(batch.hold * 1000))
    with tempfile.TemporaryDirectory(prefix="ariscale-load-sipp-") as workdir:
        proc = await asyncio.create_subprocess_exec(
            *argv(batch, scenario), cwd=workdir,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await proc.wait()
        return read_results(Path(workdir), batch.calls)


def read_results(workdir: Path, calls: int) -> SippResult:
    """sipp's counts and response times from its files in ``workdir``."""
    stat = workdir / "stat.csv"
    ok, failed = parse_counts(stat) if stat.exists() else (0, calls)
    rtt = [t for path in workdir.glob("*_rtt.csv") for t in parse_rtt(path)]
    # Calls sipp never placed (its run limit struck) count as failed too.
    return SippResult(ok=ok, failed=max(failed, calls - ok), invite_to_200_ms=rtt)
