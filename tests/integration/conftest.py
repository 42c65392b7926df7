"""The integration level: one service with its real backing servers, per service folder.

Each folder's ``conftest.py`` starts (or borrows) the servers its service needs, once per session,
on its own ports: ``registry/`` (Consul, PostgreSQL, Kamailio, one Asterisk) and ``gateway/``
(Consul, a RabbitMQ vhost, Redis), ``node_agent/`` (a RabbitMQ vhost). Every test here is marked
``integration``.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ariscale_cluster import backing
from tests.support.markers import mark_folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, pytest.mark.integration)


@pytest.fixture(scope="session")
def events_amqp_url() -> Iterator[str]:
    """A RabbitMQ vhost of our own on the machine's broker, deleted at the end."""
    vhost = f"ariscale-events-{uuid.uuid4().hex[:8]}"
    for args in (("add_vhost", vhost), ("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")):
        result = backing.rabbitmqctl(*args)
        assert result.returncode == 0, result.stderr
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    backing.rabbitmqctl("delete_vhost", vhost)
