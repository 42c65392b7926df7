"""The Redis keyspace, written down once: every key ariscale keeps, under one prefix per cluster.

Grammar (``P`` = the cluster's prefix, ``ARISCALE_REDIS__KEY_PREFIX``, e.g. ``ariscale:``)::

    P own:<kind>:<id>           string  JSON owner (node, app) of a channel/bridge/playback/…
    P gone:<kind>:<id>          string  node whose death made the gateway forget the resource (expires)
    P creating:<kind>:<id>      string  held while one request creates a resource under an id the app chose
    P ended:<kind>:<id>         string  its end event came: a late creation record skips it (expires)
    P node-channels:<node>      zset    channels owned on a node (placement's counts), score = time
    P instances:<app>           zset    live instances of an app, score = live until
    P assign:<app>:<call>       string  instance a call's events go to
    P turn:<app>                counter round-robin turn for new calls of an app
    P events:<app>              hash    the app's event sequence, recent events and their instances
    P calls:<app>               zset    the app's calls in Stasis, score = arrival time
    P call-apps                 set     apps that have entries in ``calls:``
    P lock:grace                string  held by the one gateway sweeping calls nobody handles
    P lock:audit                string  held by the one gateway auditing channels against the nodes
    P link:<bridge>:<node>      string  JSON link leg of a bridge towards a node ("building")
    P leg-call:<sip call-id>    string  the SIP Call-ID of a link leg (both ends share it)
    P members:<bridge>:<node>   hash    members of a bridge on one node
    P moving:<bridge>           string  the bridge is being re-homed
    P placement:<bridge>        string  JSON creation of a bridge not used yet ("placing" while moved)
    P failover:<node>           string  incident of a dead node: the gateway handling it, or done
    P gateways                  zset    live gateway processes, score = live until (ownership shares)

The gateways write every key; the registry reads ``instances:`` to show an app's consumers.
Nobody else builds these strings: use :class:`Keyspace`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Keyspace:
    """Key names of one cluster (one prefix)."""

    prefix: str

    def owner(self, kind: str, resource_id: str) -> str:
        return f"{self.prefix}own:{kind}:{resource_id}"

    def forgotten(self, kind: str, resource_id: str) -> str:
        return f"{self.prefix}gone:{kind}:{resource_id}"

    def creating(self, kind: str, resource_id: str) -> str:
        return f"{self.prefix}creating:{kind}:{resource_id}"

    def ended(self, kind: str, resource_id: str) -> str:
        return f"{self.prefix}ended:{kind}:{resource_id}"

    def all_owners(self) -> str:
        """SCAN pattern matching every ``own:`` key."""
        return f"{self.prefix}own:*"

    def node_channels(self, node_id: str) -> str:
        return f"{self.prefix}node-channels:{node_id}"

    def instances(self, app: str) -> str:
        return f"{self.prefix}instances:{app}"

    def assignment(self, app: str, call: str) -> str:
        return f"{self.prefix}assign:{app}:{call}"

    def turn(self, app: str) -> str:
        return f"{self.prefix}turn:{app}"

    def event_log(self, app: str) -> str:
        return f"{self.prefix}events:{app}"

    def calls(self, app: str) -> str:
        return f"{self.prefix}calls:{app}"

    def call_apps(self) -> str:
        return f"{self.prefix}call-apps"

    def grace_lock(self) -> str:
        return f"{self.prefix}lock:grace"

    def audit_lock(self) -> str:
        return f"{self.prefix}lock:audit"

    def link(self, bridge_id: str, node_id: str) -> str:
        return f"{self.prefix}link:{bridge_id}:{node_id}"

    def leg_call(self, call_id: str) -> str:
        return f"{self.prefix}leg-call:{call_id}"

    def members(self, bridge_id: str, node_id: str) -> str:
        return f"{self.prefix}members:{bridge_id}:{node_id}"

    def moving(self, bridge_id: str) -> str:
        return f"{self.prefix}moving:{bridge_id}"

    def placement(self, bridge_id: str) -> str:
        return f"{self.prefix}placement:{bridge_id}"

    def incident(self, node_id: str) -> str:
        return f"{self.prefix}failover:{node_id}"

    def gateways(self) -> str:
        """Sorted set: live gateway processes (score: the time until which each counts as live)."""
        return f"{self.prefix}gateways"
