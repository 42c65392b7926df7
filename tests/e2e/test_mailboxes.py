"""Mailboxes: the nodes do not have them, and the cluster answers exactly as a node does.

Debian's Asterisk 22 ships neither ``res_mwi_external`` nor ``res_ari_mailboxes`` (nor
``res_stasis_mailbox``), so a node has no ``/mailboxes`` routes: every mailbox operation is a
404. The gateway passes that answer on (a deliberate 404, see README), for every operation of the
spec's ``mailboxes`` resource, parameters in the query or in a JSON body.
"""

import httpx

from gateway.routing.spec import operations

MAILBOX = "1000@ariscale"


async def test_every_mailbox_operation_answers_as_a_node(
    gw: httpx.AsyncClient, nodes: dict[str, httpx.AsyncClient]
) -> None:
    ops = [op for op in operations() if op.resource == "mailboxes"]
    assert {(op.method, op.path) for op in ops} == {
        ("GET", "/mailboxes"),
        ("GET", "/mailboxes/{mailboxName}"),
        ("PUT", "/mailboxes/{mailboxName}"),
        ("DELETE", "/mailboxes/{mailboxName}"),
    }
    counts = {"oldMessages": "1", "newMessages": "2"}
    for op in ops:
        path = op.path.replace("{mailboxName}", MAILBOX)
        for where in ("params", "json"):
            request = {where: counts} if op.method == "PUT" else {}
            answers = {
                name: await client.request(op.method, path, **request)  # type: ignore[arg-type]
                for name, client in {"gateway": gw, **nodes}.items()
            }
            seen = {name: (a.status_code, a.json()) for name, a in answers.items()}
            assert len(set(map(str, seen.values()))) == 1, f"{op.method} {path} ({where}): {seen}"
            assert seen["gateway"][0] == 404, seen
