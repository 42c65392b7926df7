"""The launcher behind make up / status / down, on the session's real cluster."""

import time

import pytest

from ariscale_cluster import Cluster
from ariscale_cluster import cli as cluster_cli
from ariscale_cluster.envfile import read


def test_up_again_changes_nothing(cluster: Cluster) -> None:
    before = {name: cluster.procs.pid(name) for name in cluster.procs.components()}
    started = time.monotonic()
    rows = cluster.up()
    assert time.monotonic() - started < 60
    assert all(row.healthy for row in rows)
    assert {name: cluster.procs.pid(name) for name in cluster.procs.components()} == before


def test_env_file_lists_every_address(cluster: Cluster, cluster_env_vars: dict[str, str]) -> None:
    env = read(cluster.spec.state_dir / "env")
    assert env == cluster_env_vars
    assert env["NODES"] == "n1,n2"
    assert env["SIP_EDGE"] == f"127.0.0.1:{cluster.spec.sip_edge_port}"


def test_status_fails_while_a_component_is_down_and_up_repairs_it(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    state_dir = str(cluster.spec.state_dir)
    assert cluster_cli.main(["status", "--state-dir", state_dir]) == 0
    cluster.procs.kill("conf_app")
    assert cluster_cli.main(["status", "--state-dir", state_dir]) == 1
    table = capsys.readouterr().out
    assert any(line.startswith("conf_app") and "DOWN" in line for line in table.splitlines())
    cluster.up()
    assert cluster_cli.main(["status", "--state-dir", state_dir]) == 0


def test_logs_names_a_file_per_component(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert cluster_cli.main(["logs", "--state-dir", str(cluster.spec.state_dir)]) == 0
    out = capsys.readouterr().out
    for node in cluster.spec.nodes:
        assert f"asterisk-{node.node_id}" in out
    assert "kamailio" in out and ".log" in out
