"""The SIP edge's dispatch list, written down once: Kamailio ``dispatcher`` list-file lines.

One line per node that may take new calls::

    <set> sip:<sip address> <flags> <priority> node=<node id>      e.g. 1 sip:127.0.0.1:20011 0 0 node=n1

* Writer: the registry (the healthy, undrained nodes, sorted by node id), then
  ``kamcmd -s unix:<ctl socket> dispatcher.reload``. The cluster launcher writes the first list.
* Reader: Kamailio's ``dispatcher`` module; ``ds_select_dst("<set>", …)`` in its config uses
  :data:`DISPATCH_SET`. An empty file is a valid list: Kamailio then answers new calls 503.
"""

from collections.abc import Iterable
from dataclasses import dataclass

DISPATCH_SET = 1


@dataclass(frozen=True, order=True)
class DispatchTarget:
    """One node in the dispatch set: our node id and the SIP address Kamailio sends calls to."""

    node_id: str
    sip_address: str


def render_dispatcher_list(targets: Iterable[DispatchTarget]) -> str:
    """The list file's full text, one line per target, in node-id order."""
    return "".join(f"{DISPATCH_SET} sip:{t.sip_address} 0 0 node={t.node_id}\n" for t in sorted(set(targets)))


def parse_dispatcher_list(text: str) -> list[DispatchTarget]:
    """The targets of a list file written by :func:`render_dispatcher_list` (other lines skipped)."""
    targets = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] != str(DISPATCH_SET) or not fields[1].startswith("sip:"):
            continue
        attrs = dict(a.split("=", 1) for a in fields[4].split(";") if "=" in a)
        if "node" in attrs:
            targets.append(DispatchTarget(node_id=attrs["node"], sip_address=fields[1][len("sip:") :]))
    return targets
