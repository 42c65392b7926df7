"""``make chaos``: steady SIP load through the edge, each fault injected once, and its cost.

One cluster for the whole run (port base 61000, or ``--port-base``), supervised as ``make up``
runs it, with a Redis and a RabbitMQ of its own (the machine's are never touched). For each fault:
a batch of calls (``--rate`` per second for ``--duration`` s, each held ``--hold`` s), the fault
``--fault-at`` s in, then: calls up before it that ended early (by node), calls not yet up that
failed and when, events lost or duplicated (the app's ``ariscale_seq``), how long the app's events
websocket was down each time it dropped, when the SIP edge's dispatch set dropped a node and took
it back (and, for a node's fault, which calls the edge still sent to that node), what was left
behind once the calls were gone (compared with the cluster at rest before the batch), and the
seconds until everything was healthy again. JSON on stdout, a table on stderr.
"""

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from bench.chaos import edge, faults, orphans
from bench.chaos.calls import fault_cost, totals
from bench.chaos.harness import Harness, add_load_options
from bench.chaos.report import table
from bench.chaos.sequence import delta
from bench.load.app import reconnects
from bench.own_cluster import cluster_of_its_own


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    add_load_options(parser, rate=10, hold=15, duration=35)
    parser.add_argument("--fault-at", type=float, default=20, help="seconds into each batch")
    parser.add_argument(
        "--faults", default="", help=f"comma-separated, default all: {','.join(faults.NAMES)}"
    )
    return parser.parse_args(argv)


async def one_fault(harness: Harness, fault: faults.Fault) -> dict[str, Any]:
    opts, cluster = harness.opts, harness.cluster
    result: dict[str, Any] = {"fault": fault.name, "what": fault.what}
    skipped = faults.why_skipped(fault, cluster)
    if skipped:
        return {**result, "skipped": skipped}
    _, sick = await harness.time_to_health(time.monotonic())
    if sick:
        return {**result, "skipped": f"cluster not healthy before the fault: {sick}"}
    await harness.idle()
    at_rest, before = await harness.holdings(), harness.observed.snapshot()
    calls = asyncio.create_task(harness.place(harness.batch(opts.duration)))
    await asyncio.sleep(opts.fault_at)
    async with edge.watching(cluster.spec) as dispatch:
        fault_at, since = time.time(), time.monotonic()
        await asyncio.to_thread(faults.injector(fault, cluster, harness.broker))
        healthy_after, still_sick = await harness.time_to_health(since)
        records = await calls
    sent = edge.destinations(await harness.edge_log(), harness.node_ports)
    node = faults.faulted_node(fault, cluster)
    drained_in = await harness.idle()
    await asyncio.sleep(2)  # the last events reach the app, expiring keys go
    left = orphans.left_behind(at_rest, await harness.holdings(), cluster.spec.redis_key_prefix)
    app_back = reconnects(harness.app.outages if harness.app else [], since)
    return {
        **result,
        "calls": totals(records.values()),
        **fault_cost(records.values(), fault_at),
        "events": delta(before, harness.observed.snapshot()),
        "resume_refused": harness.app.resume_refused if harness.app else 0,
        "app_reconnect_s": app_back["gap_s"],
        "app_reconnected_after_s": app_back["after_s"],
        "edge_out_and_back_s": dispatch.out_and_back(since),
        "edge_sent_to_faulted_node": edge.sent_to_node(records.values(), sent, node, fault_at)
        if node
        else None,
        "time_to_health_s": healthy_after,
        "not_healthy": still_sick,
        "drained_in_s": drained_in,
        "orphans": left,
    }


async def run(harness: Harness, chosen: list[faults.Fault]) -> dict[str, Any]:
    async with harness.connected():
        results = []
        for fault in chosen:
            print(f"fault {fault.name}: {fault.what}", file=sys.stderr, flush=True)
            outcome = await one_fault(harness, fault)
            print(json.dumps(outcome), file=sys.stderr, flush=True)
            results.append(outcome)
    opts, spec = harness.opts, harness.cluster.spec
    return {
        "setup": {
            "nodes": spec.node_count, "gateways": spec.gateways, "rate": opts.rate, "hold_s": opts.hold,
            "duration_s": opts.duration, "fault_at_s": opts.fault_at, "variant": opts.variant,
            "live_calls_at_fault": round(opts.rate * min(opts.hold, opts.fault_at)),
        },
        "faults": results,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    opts = options(argv)
    try:
        chosen = faults.select(opts.faults)
    except ValueError as exc:
        sys.exit(str(exc))
    with cluster_of_its_own(opts, "ariscale-chaos") as (cluster, broker):
        results = asyncio.run(run(Harness(cluster, broker, opts), chosen))
    print(table(results["faults"]), file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
