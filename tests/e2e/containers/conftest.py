"""The containerised cluster (``make up RUNTIME=containers``) for the smoke tests in this package.

Its own ports (base 27000, or ARISCALE_CONTAINER_TEST_PORT_BASE), isolated like the native test
cluster; started once for the package from images built (or found cached) by ``make images``.
Every other fixture of tests/e2e (registry, gw, nodes, sip_edge, ...) then uses this cluster.
"""

import os
from collections.abc import Iterator

import pytest

from ariscale_cluster import Cluster, images
from tests.e2e.conftest import running_cluster

CONTAINER_TEST_PORT_BASE = int(os.environ.get("ARISCALE_CONTAINER_TEST_PORT_BASE", "27000"))


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    images.build_all(report=False)  # seconds when nothing changed; picks up any source change
    with running_cluster(CONTAINER_TEST_PORT_BASE, node_count=2, runtime="containers") as started:
        yield started
