"""The faults, each injected once: crashes (``kill -9``, the supervisor or uvicorn restarts the
process) and restarts (stopped, then started again as ``make up`` would)."""

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ariscale_cluster import Cluster
from ariscale_cluster.private_broker import PrivateBroker
from bench.load import cpu


@dataclass(frozen=True)
class Fault:
    name: str
    what: str


FAULTS = (
    Fault("asterisk", "kill -9 Asterisk of node n1 (supervisor restarts it)"),
    Fault("agent", "kill -9 the node agent of n1, Asterisk keeps running (supervisor restarts it)"),
    Fault("gateway", "kill -9 one gateway process of two (uvicorn starts another)"),
    Fault("rabbitmq", "restart the cluster's own RabbitMQ"),
    Fault("consul", "restart Consul (dev mode: it comes back empty)"),
    Fault("kamailio", "restart Kamailio (the SIP edge)"),
    Fault("registry", "kill -9 the registry (supervisor restarts it)"),
    # Last: its data lost, the app's numbering starts over and the gateway drops what follows.
    Fault("redis", "restart the cluster's own Redis (no persistence, as make up runs it)"),
)
NAMES = tuple(f.name for f in FAULTS)


def select(names: str) -> list[Fault]:
    """The faults named (comma-separated, in the order of ``FAULTS``); ValueError naming unknown ones."""
    wanted = [n.strip() for n in names.split(",") if n.strip()] or list(NAMES)
    unknown = sorted(set(wanted) - set(NAMES))
    if unknown:
        raise ValueError(f"unknown faults {', '.join(unknown)}; known: {', '.join(NAMES)}")
    return [f for f in FAULTS if f.name in wanted]


def why_skipped(fault: Fault, cluster: Cluster) -> str | None:
    """Why the fault cannot be injected in this cluster, or None."""
    if fault.name == "gateway" and cluster.spec.gateways < 2:
        return "needs two gateway processes (--gateways 2): killing the only one is not this fault"
    return None


def faulted_node(fault: Fault, cluster: Cluster) -> str | None:
    """The node whose Asterisk or agent the fault kills; None for faults of the whole cluster."""
    return cluster.spec.nodes[0].node_id if fault.name in ("asterisk", "agent") else None


def gateway_workers(cluster: Cluster) -> list[int]:
    """The gateway's uvicorn worker processes (children of its supervisor process)."""
    master = cluster.procs.pid("gateway")
    return sorted(
        child
        for child, (parent, _) in cpu.processes().items()
        if parent == master and b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    )


def restart(cluster: Cluster, component: str) -> None:
    """Stop the component (its pid file goes: the supervisor leaves it alone), start it again."""
    start = next(c.start for c in cluster.components() if c.name == component)
    assert start is not None, f"{component} is not the cluster's to start"
    cluster.procs.stop(component)
    start()


def injector(fault: Fault, cluster: Cluster, broker: PrivateBroker) -> Callable[[], None]:
    """What injecting ``fault`` does (blocking: run it in a thread)."""
    node = cluster.spec.nodes[0].node_id  # the node of faulted_node()

    def kill_gateway() -> None:
        os.kill(gateway_workers(cluster)[0], signal.SIGKILL)

    def restart_broker() -> None:
        broker.stop()
        time.sleep(1)
        broker.start()

    actions: dict[str, Callable[[], None]] = {
        "asterisk": lambda: cluster.procs.kill(f"asterisk-{node}"),
        "agent": lambda: cluster.procs.kill(f"agent-{node}"),
        "gateway": kill_gateway,
        "rabbitmq": restart_broker,
        "redis": lambda: restart(cluster, "redis"),
        "consul": lambda: restart(cluster, "consul"),
        "kamailio": lambda: restart(cluster, "kamailio"),
        "registry": lambda: cluster.procs.kill("registry"),
    }
    return actions[fault.name]
