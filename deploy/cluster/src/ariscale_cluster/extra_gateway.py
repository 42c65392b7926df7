"""A gateway process beside a running cluster's own, with its own port and settings on top."""

from ariscale_cluster.cluster import Cluster, http_ok, wait_until
from ariscale_cluster.services import ServiceSpec, cluster_services, uvicorn_argv


def start_extra_gateway(
    cluster: Cluster, port: int, env: dict[str, str] | None = None, component: str = "gateway-2"
) -> str:
    """Start another gateway on ``port`` with the cluster's settings (``env`` on top); its URL."""
    base = next(s for s in cluster_services(cluster.spec) if s.component == "gateway")
    extra = ServiceSpec(
        component, base.factory, port, {**base.env, **(env or {})}, ws_protocol=base.ws_protocol
    )
    cluster.procs.start(extra.component, uvicorn_argv(extra), extra.env)
    if not wait_until(lambda: http_ok(f"{extra.url}/health"), 30):
        raise AssertionError(f"second gateway did not start: {cluster.procs.log_path(extra.component)}")
    return extra.url


def stop_extra_gateway(cluster: Cluster, component: str = "gateway-2") -> None:
    cluster.procs.stop(component)
