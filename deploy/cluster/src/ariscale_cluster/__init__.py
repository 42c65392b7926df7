"""The native cluster on one machine: Asterisk nodes in a sid chroot, Consul, Kamailio, services."""

from ariscale_cluster.cluster import Cluster, ClusterError, ComponentStatus
from ariscale_cluster.spec import ClusterSpec, NodeSpec

__all__ = ["Cluster", "ClusterError", "ClusterSpec", "ComponentStatus", "NodeSpec"]
