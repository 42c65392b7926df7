"""``.cluster/env``: every address and credential of a running cluster, as KEY=VALUE lines."""

from pathlib import Path

from ariscale_cluster import services
from ariscale_cluster.spec import ClusterSpec


def cluster_env(spec: ClusterSpec) -> dict[str, str]:
    shared = services.shared_env(spec)
    env = {
        "REGISTRY_URL": shared["ARISCALE_REGISTRY_URL"],
        "GATEWAY_URL": shared["ARISCALE_GATEWAY_URL"],
        "CONF_APP_URL": f"http://127.0.0.1:{spec.conf_app_port}",
        "SIP_EDGE": f"127.0.0.1:{spec.sip_edge_port}",
        "CONSUL_HTTP_ADDR": f"127.0.0.1:{spec.consul_http_port}",
        "REDIS_URL": spec.redis_url,
        "REDIS_KEY_PREFIX": spec.redis_key_prefix,
        "AMQP_URL": spec.amqp_url,
        "ADMIN_TOKEN": spec.admin_token,
        "ARI_USER": spec.ari_user,
        "ARI_PASSWORD": spec.ari_password,
        "PROMETHEUS_URL": spec.prometheus_url,
        "NODES": ",".join(n.node_id for n in spec.nodes),
    }
    for node in spec.nodes:
        key = node.node_id.upper()
        env[f"NODE_{key}_ARI_URL"] = node.ari_url
        env[f"NODE_{key}_SIP"] = node.sip_address
        env[f"NODE_{key}_AGENT_URL"] = f"http://127.0.0.1:{node.agent_port}"
    return env


def write(path: Path, env: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    path.chmod(0o600)  # it holds the admin token and the ARI password


def read(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}
