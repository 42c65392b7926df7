"""Redis and RabbitMQ: reuse the machine's when they answer, start our own only when they do not."""

import shutil
import socket
import subprocess
from urllib.parse import urlparse

import redis

from ariscale_cluster.spec import ClusterSpec


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_ok(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        with client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def redis_server_argv(spec: ClusterSpec) -> list[str]:
    port = urlparse(spec.redis_url).port or 6379
    return ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]


def rabbitmq_ok(spec: ClusterSpec) -> bool:
    return port_open(spec.amqp_host, spec.amqp_port)


def rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=False)


def ensure_vhost(spec: ClusterSpec) -> None:
    """Create the cluster's vhost on the broker (adds a vhost, changes nothing else)."""
    if not shutil.which("rabbitmqctl"):
        raise RuntimeError("rabbitmqctl not found: cannot create the AMQP vhost")
    listed = rabbitmqctl("list_vhosts", "--quiet", "--no-table-headers")
    if spec.amqp_vhost in listed.stdout.split():
        return
    for args in (
        ("add_vhost", spec.amqp_vhost),
        ("set_permissions", "-p", spec.amqp_vhost, spec.amqp_user, ".*", ".*", ".*"),
    ):
        result = rabbitmqctl(*args)
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")


def delete_vhost(spec: ClusterSpec) -> None:
    rabbitmqctl("delete_vhost", spec.amqp_vhost)
