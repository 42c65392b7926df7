from pathlib import Path

from ariscale_cluster import envfile
from ariscale_cluster.spec import ClusterSpec

REQUIRED = [
    "REGISTRY_URL", "GATEWAY_URL", "CONF_APP_URL", "SIP_EDGE", "CONSUL_HTTP_ADDR", "REDIS_URL",
    "AMQP_URL", "ADMIN_TOKEN", "NODES", "ARI_USER", "ARI_PASSWORD",
]  # fmt: skip


def test_env_names_every_address_and_node(tmp_path: Path) -> None:
    spec = ClusterSpec(state_dir=tmp_path, node_count=3)
    env = envfile.cluster_env(spec)
    assert set(REQUIRED) <= set(env)
    assert env["NODES"] == "n1,n2,n3"
    for node in spec.nodes:
        assert env[f"NODE_{node.node_id.upper()}_ARI_URL"] == node.ari_url
        assert env[f"NODE_{node.node_id.upper()}_SIP"] == node.sip_address


def test_env_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "env"
    env = {"A": "1", "URL": "amqp://u:p@h:1/v?x=1"}
    envfile.write(path, env)
    assert envfile.read(path) == env
    assert path.stat().st_mode & 0o077 == 0
