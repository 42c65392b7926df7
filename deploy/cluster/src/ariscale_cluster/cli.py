"""``python -m ariscale_cluster up|status|down|logs``: what ``make up/status/down/logs`` run."""

import argparse
import logging
import os
import sys
from pathlib import Path

from ariscale_cluster import compose, images
from ariscale_cluster.calls import place_conference_calls
from ariscale_cluster.cluster import Cluster, ClusterError, ComponentStatus
from ariscale_cluster.spec import RUNTIMES, ClusterSpec

DEFAULT_PORT_BASE = 20000


def print_table(rows: list[ComponentStatus]) -> None:
    width = max(len(r.name) for r in rows)
    addr_width = max(len(r.address) for r in rows)
    print(f"{'component':<{width}}  {'address':<{addr_width}}  state")
    for r in rows:
        state = "healthy" if r.healthy else "DOWN"
        origin = "" if r.managed else "  (reused)"
        restarts = f"  (restarted {r.restarts}x)" if r.restarts else ""
        print(f"{r.name:<{width}}  {r.address:<{addr_width}}  {state}{origin}{restarts}")


def spec_from_args(args: argparse.Namespace) -> ClusterSpec:
    # A cluster on other ports also gets its own vhost and Redis keys: two never share a bus.
    suffix = "" if args.port_base == DEFAULT_PORT_BASE else f"-{args.port_base}"
    return ClusterSpec(
        state_dir=args.state_dir.resolve(),
        port_base=args.port_base,
        node_count=args.nodes,
        amqp_vhost=f"ariscale{suffix}",
        redis_key_prefix=f"ariscale{suffix}:",
        admin_token=os.environ.get("ADMIN_TOKEN", "ariscale-admin"),
        supervised=not args.no_supervise,
        runtime=args.runtime,
    )


def loaded(state_dir: Path) -> Cluster | None:
    if not (state_dir / "spec.json").exists():
        print(f"no cluster in {state_dir}: run make up")
        return None
    return Cluster.load(state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ariscale_cluster")
    parser.add_argument(
        "command",
        choices=["up", "status", "down", "logs", "call", "images", "compose", "supervise"],
    )
    parser.add_argument("--runtime", choices=RUNTIMES, default="native", help="up: processes or containers")
    parser.add_argument("--calls", type=int, default=2, help="call: how many callers")
    parser.add_argument("--hold", type=int, default=30, help="call: seconds each caller stays")
    parser.add_argument("--state-dir", type=Path, default=Path(".cluster"))
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--port-base", type=int, default=DEFAULT_PORT_BASE)
    parser.add_argument("--no-supervise", action="store_true", help="up: crashed processes stay dead")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[cluster] %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    if args.command == "compose":
        compose.prepare(compose.COMPOSE_SPEC)
        compose.COMPOSE_FILE.write_text(compose.render(compose.COMPOSE_SPEC))
        print(f"wrote {compose.COMPOSE_FILE}; configuration in {compose.COMPOSE_SPEC.state_dir}")
        return 0
    if args.command == "images":
        images.build_all()
        return 0
    if args.command == "call":
        return place_conference_calls(args.state_dir, args.calls, args.hold)

    if args.command == "up":
        previous = loaded(args.state_dir) if (args.state_dir / "spec.json").exists() else None
        if (
            previous
            and previous.procs.components()
            and (previous.spec.node_count != args.nodes or previous.spec.runtime != args.runtime)
        ):
            print(
                f"a {previous.spec.runtime} cluster with {previous.spec.node_count} nodes is running:"
                " make down first"
            )
            return 1
        try:
            rows = Cluster(spec_from_args(args)).up()
        except (ClusterError, ValueError) as exc:
            print(f"make up failed: {exc}", file=sys.stderr)
            return 1
        print_table(rows)
        print(f"\naddresses and credentials: {args.state_dir / 'env'}")
        return 0

    cluster = loaded(args.state_dir)
    if cluster is None:
        return 0 if args.command == "down" else 1
    if args.command == "supervise":
        cluster.supervise()
        return 0
    if args.command == "status":
        rows = cluster.status()
        print_table(rows)
        return 0 if all(r.healthy for r in rows) else 1
    if args.command == "down":
        stopped = cluster.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    for row in cluster.status():
        print(f"{row.name:<12} {row.log or '(not started by ariscale)'}")
    return 0
