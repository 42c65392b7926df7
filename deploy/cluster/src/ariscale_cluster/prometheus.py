"""Prometheus for one cluster: Debian's ``prometheus`` with a scrape configuration made from the spec.

It scrapes every service's ``/metrics``, every node agent, and every Asterisk's res_prometheus
(on the node's ARI port, with the ARI login) every few seconds; data is kept for a day under the
cluster's state directory.
"""

import json
import shutil
from pathlib import Path
from typing import Any

from ariscale_cluster import services
from ariscale_cluster.spec import ClusterSpec

SCRAPE_INTERVAL = "5s"
RETENTION = "1d"


def binary() -> str | None:
    return shutil.which("prometheus")


def config_path(spec: ClusterSpec) -> Path:
    return spec.state_dir / "prometheus" / "prometheus.yml"


def scrape_config(spec: ClusterSpec) -> dict[str, Any]:
    """The whole configuration: one job per kind of target, nodes labelled with their id."""
    by_component = {s.component: s for s in services.cluster_services(spec)}

    def one(component: str) -> dict[str, Any]:
        return {"targets": [by_component[component].url.removeprefix("http://")]}

    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {"job_name": "registry", "static_configs": [one("registry")]},
            {"job_name": "gateway", "static_configs": [one("gateway")]},
            {"job_name": "conf_app", "static_configs": [one("conf_app")]},
            {
                "job_name": "node_agent",
                "honor_labels": True,  # its metrics name their node themselves
                "static_configs": [
                    {**one(f"agent-{n.node_id}"), "labels": {"node": n.node_id}} for n in spec.nodes
                ],
            },
            {
                "job_name": "asterisk",
                "metrics_path": "/metrics",
                "basic_auth": {"username": spec.ari_user, "password": spec.ari_password},
                "static_configs": [
                    {"targets": [f"127.0.0.1:{n.ari_port}"], "labels": {"node": n.node_id}}
                    for n in spec.nodes
                ],
            },
        ],
    }


def prepare(spec: ClusterSpec) -> Path:
    """Write the configuration (JSON is YAML) readable by root only: it holds the ARI password."""
    path = config_path(spec)
    (path.parent / "data").mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scrape_config(spec), indent=2))
    path.chmod(0o600)
    return path


def prometheus_argv(spec: ClusterSpec, config: Path) -> list[str]:
    return [
        binary() or "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={config.parent / 'data'}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address=127.0.0.1:{spec.prometheus_port}",
    ]
