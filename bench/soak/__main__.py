"""``make soak`` (not in CI): one long batch of steady calls through the SIP edge (``--duration``
s, default an hour), with memory (RSS) and open fds of every process of the cluster read at rest,
once the load is steady, just before it stops and at rest again, and what was left behind.

The cluster is the one ``make chaos`` runs (own Redis and RabbitMQ, supervised), without faults.
"""

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from bench.chaos import orphans
from bench.chaos.calls import totals
from bench.chaos.harness import Harness, add_load_options
from bench.chaos.sequence import delta
from bench.own_cluster import cluster_of_its_own
from bench.soak import resources


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    add_load_options(parser, rate=5, hold=10, duration=3600)
    return parser.parse_args(argv)


def process_groups(harness: Harness) -> dict[str, list[int]]:
    """Every process the cluster started (by component), and its broker."""
    procs = harness.cluster.procs
    names = [*procs.components(), harness.broker.component]
    return {name: [pid] for name in sorted(set(names)) if (pid := procs.pid(name)) is not None}


async def reading(harness: Harness, label: str) -> dict[str, dict[str, int]]:
    usage = await asyncio.to_thread(resources.usage, process_groups(harness))
    print(f"{label}: {json.dumps(usage)}", file=sys.stderr, flush=True)
    return usage


async def run(harness: Harness) -> dict[str, Any]:
    opts = harness.opts
    async with harness.connected():
        await harness.idle()
        at_rest, events = await harness.holdings(), harness.observed.snapshot()
        idle_before = await reading(harness, "at rest")
        started = time.monotonic()
        calls = asyncio.create_task(harness.place(harness.batch(opts.duration)))
        await asyncio.sleep(min(opts.hold + 30, opts.duration / 3))
        loaded_start = await reading(harness, "load steady")
        await asyncio.sleep(max(0.0, opts.duration - 2 - (time.monotonic() - started)))
        loaded_end = await reading(harness, "load ending")
        records = await calls
        drained_in = await harness.idle()
        await asyncio.sleep(2)
        idle_after = await reading(harness, "at rest after")
        left = orphans.left_behind(at_rest, await harness.holdings(), harness.cluster.spec.redis_key_prefix)
        return {
            "setup": {"nodes": opts.nodes, "gateways": opts.gateways, "rate": opts.rate, "hold_s": opts.hold,
                      "duration_s": opts.duration},
            "calls": totals(records.values()),
            "events": delta(events, harness.observed.snapshot()),
            "drained_in_s": drained_in,
            "processes": {"at_rest": idle_before, "load_steady": loaded_start, "load_ending": loaded_end,
                          "at_rest_after": idle_after},
            "growth_under_load": resources.growth(loaded_start, loaded_end),
            "growth_at_rest": resources.growth(idle_before, idle_after),
            "orphans": left,
        }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    opts = options(argv)
    with cluster_of_its_own(opts, "ariscale-soak") as (cluster, broker):
        results = asyncio.run(run(Harness(cluster, broker, opts)))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
