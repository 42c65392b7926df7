"""The project's own services (registry, gateway, conf_app, one node agent per node) under uvicorn."""

import sys
from dataclasses import dataclass
from pathlib import Path

from ariscale_cluster import kamailio
from ariscale_cluster.images import image_tag
from ariscale_cluster.processes import Command
from ariscale_cluster.spec import ClusterSpec, NodeSpec

# A client that stopped reading is dropped when the gateway closes its events websocket.
GATEWAY_WS_PROTOCOL = "gateway.websocket_protocol:DroppingWebSocketProtocol"


@dataclass(frozen=True)
class ServiceSpec:
    component: str
    factory: str  # "package.main:create_app"
    port: int
    env: dict[str, str]
    writes: tuple[Path, ...] = ()  # directories it writes (mounted at the same path in containers)
    workers: int = 1  # processes on the one listening socket (uvicorn --workers)
    ws_protocol: str = ""  # uvicorn --ws class, for a service that serves websockets

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def package(self) -> str:
        return self.factory.split(".", 1)[0]


def credentials_dir(spec: ClusterSpec) -> Path:
    return spec.state_dir / "credentials"


def registry_db_dir(spec: ClusterSpec) -> Path:
    return spec.state_dir / "registry"


def shared_env(spec: ClusterSpec) -> dict[str, str]:
    """Settings every service reads (each service's ``Settings`` ignores what it does not use)."""
    return {
        "ARISCALE_CONSUL__URL": spec.consul_url,
        "ARISCALE_REDIS__URL": spec.redis_url,
        "ARISCALE_REDIS__KEY_PREFIX": spec.redis_key_prefix,
        "ARISCALE_AMQP__URL": spec.amqp_url,
        "ARISCALE_ARI__USER": spec.ari_user,
        "ARISCALE_ARI__PASSWORD": spec.ari_password,
        "ARISCALE_ADMIN_TOKEN": spec.admin_token,
        "ARISCALE_REGISTRY_URL": f"http://127.0.0.1:{spec.registry_port}",
        "ARISCALE_GATEWAY_URL": f"http://127.0.0.1:{spec.gateway_port}",
        # Apps' passwords, kept where the SDK's Config finds them (conf_app writes its own here).
        "ARISCALE_CREDENTIALS_DIR": str(credentials_dir(spec)),
    }


def node_agent(spec: ClusterSpec, node: NodeSpec) -> ServiceSpec:
    return ServiceSpec(
        component=f"agent-{node.node_id}",
        factory="node_agent.main:create_app",
        port=node.agent_port,
        env={
            **shared_env(spec),
            "ARISCALE_NODE_ID": node.node_id,
            "ARISCALE_ARI__URL": node.ari_url,
            "ARISCALE_SIP_ADDRESS": node.sip_address,
        },
    )


def cluster_services(spec: ClusterSpec) -> list[ServiceSpec]:
    env = shared_env(spec)
    registry_env = {
        **env,
        "ARISCALE_DATABASE_URL": f"sqlite+aiosqlite:///{registry_db_dir(spec) / 'registry.db'}",
        "ARISCALE_SIP_EDGE__DISPATCHER_LIST": str(kamailio.dispatcher_list(spec)),
        "ARISCALE_SIP_EDGE__CTL_SOCKET": str(kamailio.ctl_socket(spec)),
        "ARISCALE_PROMETHEUS_URL": spec.prometheus_url,
    }
    return [
        ServiceSpec(
            "registry", "registry.main:create_app", spec.registry_port, registry_env,
            # Its database, and the SIP edge's dispatch list it rewrites.
            writes=(registry_db_dir(spec), kamailio.edge_dir(spec)),
        ),
        *(node_agent(spec, node) for node in spec.nodes),
        ServiceSpec(
            "gateway", "gateway.main:create_app", spec.gateway_port, env, workers=spec.gateways,
            ws_protocol=GATEWAY_WS_PROTOCOL,
        ),
        # Its app's password, where the SDK's Config finds it.
        ServiceSpec(
            "conf_app", "conf_app.main:create_app", spec.conf_app_port, env, writes=(credentials_dir(spec),)
        ),
    ]  # fmt: skip


def service_command(service: ServiceSpec) -> Command:
    """The service under uvicorn: natively with this interpreter, in its image with the image's."""
    argv = uvicorn_argv(service)
    return Command(
        ["python", *argv[1:]],
        image_tag(service.package),
        env=service.env,
        mounts={path: str(path) for path in service.writes},
        native_argv=argv,
    )


def uvicorn_argv(service: ServiceSpec) -> list[str]:
    workers = ["--workers", str(service.workers)] if service.workers > 1 else []
    ws = ["--ws", service.ws_protocol] if service.ws_protocol else []
    # Events are small JSON on loopback: compressing every websocket frame cost CPU for nothing.
    return [
        sys.executable, "-m", "uvicorn", "--factory", service.factory,
        "--host", "127.0.0.1", "--port", str(service.port), "--no-access-log",
        # Half-sent headers are dropped after a bound (uvicorn alone waits forever).
        "--http", "ariscale_common.http_protocol:HeaderTimeoutHttpToolsProtocol",
        "--ws-per-message-deflate", "false", *ws, *workers,
    ]  # fmt: skip
