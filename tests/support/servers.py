"""Servers of a test level, on a ClusterSpec of their own (own ports, own temporary state dir)."""

import os
import tempfile
from pathlib import Path

from ariscale_cluster import ClusterSpec


def scratch_spec(port_base_env: str, default_port_base: int, prefix: str) -> ClusterSpec:
    """A one-node spec at the port base in ``port_base_env`` (else the default), in a new temp dir."""
    return ClusterSpec(
        state_dir=Path(tempfile.mkdtemp(prefix=prefix)),
        port_base=int(os.environ.get(port_base_env, str(default_port_base))),
        node_count=1,
    )
