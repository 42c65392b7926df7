"""The contract between a node's dialplan and its agent, written down once.

* A dialed number reaches ``Stasis(<app>)`` through a global variable ``APP_<number>`` that the
  node agent sets over ARI; the dialplan is never reloaded when apps change.
* ``ARISCALE_ROUTED`` (:data:`ROUTED_VARIABLE`) is set by the agent once the node's numbers are
  routed. Globals vanish when Asterisk restarts: until the agent is back and has routed them, the
  node refuses every number with 503 (the SIP edge tries another node), not 404 (the caller gives up).
* ``link-<bridge id>`` is the extension one node dials on another to carry a bridge across
  nodes; the leg enters the internal ``LINK_APP`` with the bridge id as its argument.
"""

LINK_APP = "ariscale-link"
LINK_EXTEN_PREFIX = "link-"
# What the gateway names its own resources on the nodes (the registry's dashboard reads them too):
# bridge B's local bridge on a member node, and the home node's end of each link leg.
LOCAL_BRIDGE_PREFIX = "ariscale-link-"
LEG_CHANNEL_PREFIX = "ariscale-leg-"
RESERVED_PREFIX = "ariscale-"
INBOUND_CONTEXT = "ariscale-inbound"
CLUSTER_ENDPOINT = "cluster"
ROUTED_VARIABLE = "ARISCALE_ROUTED"


def app_variable(extension: str) -> str:
    """Name of the global variable the dialplan reads to route ``extension``."""
    return f"APP_{extension}"
