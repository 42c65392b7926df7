"""The integration level: one service with its real backing servers, per service folder.

Each folder's ``conftest.py`` starts (or borrows) the servers its service needs, once per session,
on its own ports: ``registry/`` (Consul, PostgreSQL, Kamailio, one Asterisk) and ``gateway/``
(Consul, a RabbitMQ vhost, Redis). Every test here is marked ``integration``.
"""

from pathlib import Path

import pytest

from tests.support.markers import mark_folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, pytest.mark.integration)
