"""A cluster with a Redis and a RabbitMQ of its own, for the harnesses (load, chaos, soak): the
machine's servers are never stopped, and what the broker and Redis spend is the cluster's alone."""

import argparse
import contextlib
import secrets
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from ariscale_cluster import Cluster, ClusterSpec
from ariscale_cluster.private_broker import PrivateBroker

BROKER_OFFSET = 90  # P+90 (AMQP) and P+91 (Erlang distribution): free in the cluster's layout
REDIS_OFFSET = 8


@contextlib.contextmanager
def cluster_of_its_own(
    opts: argparse.Namespace, prefix: str, supervised: bool = True
) -> Iterator[tuple[Cluster, PrivateBroker]]:
    """Up (own Redis at P+8, own broker at P+90) for the block; down and removed after.

    ``opts`` carries ``port_base``, ``nodes``, ``gateways`` and ``keep_state``.
    """
    state_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    base = opts.port_base
    spec = ClusterSpec(
        state_dir=state_dir, port_base=base, node_count=opts.nodes, gateways=opts.gateways,
        redis_url=f"redis://127.0.0.1:{base + REDIS_OFFSET}/0",
        redis_key_prefix=f"{prefix}-{uuid.uuid4().hex[:6]}:",
        amqp_port=base + BROKER_OFFSET, amqp_vhost="/", admin_token=secrets.token_urlsafe(16),
        supervised=supervised,
    )  # fmt: skip
    cluster = Cluster(spec)
    broker = PrivateBroker(cluster.procs, state_dir / "rabbitmq", base + BROKER_OFFSET)
    try:
        broker.start()
        cluster.up()
        yield cluster, broker
    finally:
        cluster.down()  # the supervisor first: nothing is restarted behind our back
        broker.stop()  # never the machine's: its vhost "/" is private to this node
        shutil.rmtree(spec.rootfs / spec.chroot_cluster_dir.lstrip("/"), ignore_errors=True)
        if opts.keep_state:
            print(f"logs kept in {spec.log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)
