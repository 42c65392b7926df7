"""Smoke test of the containerised cluster: the same behaviour as natively, one container per process."""

import json
import subprocess
from functools import partial
from pathlib import Path

import httpx

from ariscale_cluster import Cluster, envfile
from ariscale_cluster.containers import ContainerTable
from ariscale_cluster.services import cluster_services
from tests.e2e.conftest import RegisteredApp
from tests.support.audio import band_energy, record_what_is_heard
from tests.support.callers import callers, node_of
from tests.support.conference import connected, two_tone_callers
from tests.support.node_agent import served
from tests.support.sip_edge import calls_per_node, dispatch_set, health_is
from tests.support.waiting import until

# Processes of the machine in both runtimes: its own servers, reused, and Prometheus and the
# supervisor, which watch the cluster from outside.
MACHINE_SERVERS = {"redis", "rabbitmq", "prometheus", "supervisor"}


def inspect(name: str) -> dict[str, object]:
    out = subprocess.run(["podman", "inspect", name], capture_output=True, text=True, check=True).stdout
    data: dict[str, object] = json.loads(out)[0]
    return data


def container_user(name: str) -> str:
    """The user the container's main process runs as."""
    out = subprocess.run(["podman", "top", name, "user"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def test_every_process_is_its_own_container_and_services_run_unprivileged(cluster: Cluster) -> None:
    table = cluster.procs
    assert isinstance(table, ContainerTable)
    components = [s.name for s in cluster.status()]
    assert all(s.healthy for s in cluster.status())
    for component in set(components) - MACHINE_SERVERS:
        state = inspect(table.container_name(component))
        assert state["State"]["Running"] is True, component  # type: ignore[index]
        assert state["HostConfig"]["NetworkMode"] == "host", component  # type: ignore[index]
    for service in cluster_services(cluster.spec):
        assert container_user(table.container_name(service.component)) == "ariscale", service.component
    # The same .cluster/env as the native path.
    assert envfile.read(cluster.spec.state_dir / "env") == envfile.cluster_env(cluster.spec)


def test_no_secret_is_baked_into_an_image(cluster: Cluster) -> None:
    table = cluster.procs
    assert isinstance(table, ContainerTable)
    for service in cluster_services(cluster.spec):
        image = inspect(table.container_name(service.component))["ImageName"]
        config = json.dumps(inspect(str(image))["Config"])
        assert "ARISCALE_" not in config and cluster.spec.admin_token not in config, image


async def test_a_registered_app_gets_calls_on_both_nodes_through_the_edge(
    gw: httpx.AsyncClient, registry: httpx.AsyncClient, sip_edge: str, registered_app: RegisteredApp
) -> None:
    listed = await registry.get(f"/apps/{registered_app.name}")
    assert listed.status_code == 200 and listed.json()["extensions"] == [registered_app.extension]
    async with callers(gw, sip_edge, registered_app.extension) as group:
        channels = await group.call(2)
        assert {node_of(c["id"]) for c in channels} == {"n1", "n2"}


async def test_conference_callers_on_both_nodes_hear_each_other(
    conf_api: httpx.AsyncClient, conf_gw: httpx.AsyncClient, sip_edge: str, tmp_path: Path
) -> None:
    await until(lambda: connected(conf_api), timeout=30, message="conf_app connected to the gateway")
    async with two_tone_callers(conf_api, conf_gw, sip_edge, tmp_path):
        participants = (await conf_api.get("/conferences/conf")).json()["participants"]
        by_caller = {p["caller_id"]: p for p in participants}
        # Two nodes in one bridge: a cross-node link leg carries the audio.
        assert {p["node"] for p in participants} == {"n1", "n2"}
        heard = await record_what_is_heard(conf_gw, by_caller["tone-1500"]["channel_id"], "conf")
        assert band_energy(heard, 1000) > 0.9, "the caller on one node hears the other node's tone"


async def test_a_killed_node_container_leaves_the_edge_and_comes_back(
    cluster: Cluster, registry: httpx.AsyncClient, registered_app: RegisteredApp, ari_auth: tuple[str, str]
) -> None:
    n1, n2 = cluster.spec.nodes
    try:
        cluster.procs.kill("asterisk-n2")
        assert cluster.procs.pid("asterisk-n2") is None
        await until(lambda: health_is(registry, "n2", "critical"), timeout=15, message="n2 critical")
        await until(lambda: dispatch_set(cluster) == {n1.sip_address}, timeout=10, message="edge drops n2")
        assert await calls_per_node(cluster, registered_app.name, registered_app.extension, 4) == {"n1": 4}
    finally:
        cluster.up()  # starts the dead node's container again
    await until(lambda: health_is(registry, "n2", "passing"), timeout=20, message="n2 passing again")
    await until(partial(served, n2.ari_url, ari_auth, registered_app.name, registered_app.extension),
                message="n2 serves the app again")  # fmt: skip
    await until(lambda: len(dispatch_set(cluster)) == 2, timeout=10, message="the edge sends to n2 again")
    assert set(await calls_per_node(cluster, registered_app.name, registered_app.extension, 4)) == {
        n1.node_id,
        n2.node_id,
    }
