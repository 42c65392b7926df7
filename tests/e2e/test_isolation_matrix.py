"""The isolation matrix: every operation of the spec the gateway serves that names an app, a channel
or a bridge in a query or body parameter, with app B naming app A's, in the query and in a JSON body.

The cases are generated from the served spec (``/ari/api-docs``), not written by hand: a parameter
names an app, a channel, a bridge or an event source by its name (:data:`NAMING`). Every other
required parameter is B's own or harmless, so the only thing wrong with each request is A's
resource; it must be refused with a 4xx that is not a malformed-request 400, and A's resources stay
A's. The one deliberate exception is a move's target app (``test_channel_move.py``).
"""

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.conftest import BLACK_HOLE, OtherApp, RegisteredApp

# Parameter name → what it names.
NAMING = {
    "app": "app",
    "application": "app",
    "channel": "channel",
    "channelId": "channel",
    "otherChannelId": "channel",
    "originator": "channel",
    "caller": "channel",
    "bridgeId": "bridge",
    "eventSource": "source",
    "source": "source",
}
# Handing one's own call to another registered app is allowed, as a transfer to its number is.
ALLOWED = {("move", "app")}
REFUSED = {403, 404, 409, 422}
# Asterisk's own 400 for a channel that does not exist (addChannel, removeChannel): A's is not B's.
NOT_FOUND_400 = "not found"


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # with {placeholders}
    nickname: str
    param: str
    names: str
    allow_multiple: bool
    required: tuple[str, ...]  # and the app: Asterisk needs one to originate
    path_params: tuple[str, ...]


async def served_cases(client: httpx.AsyncClient) -> list[Case]:
    """Every (operation, parameter) naming an app, channel, bridge or source, from the served spec."""
    listing = (await client.get("/api-docs/resources.json")).json()
    cases = []
    for api in listing["apis"]:
        document = (await client.get(api["path"].replace("{format}", "json"))).json()
        for entry in document["apis"]:
            for op in entry["operations"]:
                if op.get("upgrade") == "websocket":
                    continue  # the events websocket: its app is the login's (test_tenant_isolation)
                params = op.get("parameters") or []
                required = tuple(
                    q["name"]
                    for q in params
                    if q["paramType"] == "query" and (q.get("required") or q["name"] == "app")
                )
                for p in params:
                    if (
                        p["paramType"] == "query"
                        and p["name"] in NAMING
                        and (op["nickname"], p["name"]) not in ALLOWED
                    ):
                        cases.append(
                            Case(
                                op["httpMethod"], entry["path"], op["nickname"], p["name"], NAMING[p["name"]],
                                bool(p.get("allowMultiple")),
                                required,
                                tuple(q["name"] for q in params if q["paramType"] == "path"),
                            )
                        )  # fmt: skip
    return cases


@dataclass(frozen=True)
class Tenants:
    a_app: str
    a_channel: str
    a_bridge: str
    b_app: str
    b_channel: str
    b_bridge: str

    def foreign(self, case: Case) -> list[str]:
        """The values of A's that B names in the case's parameter."""
        if case.names == "source":
            return [f"channel:{self.a_channel}", f"bridge:{self.a_bridge}"]
        return [{"app": self.a_app, "channel": self.a_channel, "bridge": self.a_bridge}[case.names]]

    def own(self, name: str) -> str:
        """B's own (or a harmless) value for another required parameter."""
        values = {"app": self.b_app, "application": self.b_app, "channelId": self.b_channel,
                  "channel": self.b_channel, "eventSource": f"channel:{self.b_channel}",
                  "endpoint": BLACK_HOLE, "format": "ulaw", "external_host": "127.0.0.1:9"}  # fmt: skip
        return values[name]

    def path(self, case: Case) -> str:
        path = case.path.removeprefix("/ari") if case.path.startswith("/ari/") else case.path
        fresh = f"m{uuid.uuid4().hex[:10]}"
        values = {
            "channelId": fresh if case.nickname == "originateWithId" else self.b_channel,
            "snoopId": fresh,
            "bridgeId": self.b_bridge,
            "eventName": "matrix",
            "applicationName": self.b_app,
        }
        for name in case.path_params:
            path = path.replace(f"{{{name}}}", values[name])
        return path


async def request(
    client: httpx.AsyncClient, tenants: Tenants, case: Case, value: str, in_body: bool
) -> httpx.Response:
    query = {name: tenants.own(name) for name in case.required if name != case.param}
    if case.nickname == "externalMedia":
        query["external_host"] = tenants.own("external_host")
    kwargs: dict[str, Any] = {"params": query}
    if in_body:
        kwargs["json"] = {case.param: [value] if case.allow_multiple else value}
    else:
        query[case.param] = value
    return await client.request(case.method, tenants.path(case), **kwargs)


def refused(answer: httpx.Response) -> bool:
    """Refused as another app's (or as no such) resource, not as a malformed request."""
    if answer.status_code == 400:
        return NOT_FOUND_400 in answer.json().get("message", "").lower()
    return answer.status_code in REFUSED


async def new_channel(client: httpx.AsyncClient, app: str) -> str:
    created = await client.post("/channels/create", params={"endpoint": BLACK_HOLE, "app": app})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def new_bridge(client: httpx.AsyncClient) -> str:
    created = await client.post("/bridges", params={"type": "mixing"})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def test_no_operation_lets_app_b_name_app_as_resources(
    gw: httpx.AsyncClient, registered_app: RegisteredApp, other_app: OtherApp
) -> None:
    b = other_app.client
    tenants = Tenants(
        registered_app.name, await new_channel(gw, registered_app.name), await new_bridge(gw),
        other_app.name, await new_channel(b, other_app.name), await new_bridge(b),
    )  # fmt: skip
    b_channels_before = {c["id"] for c in (await b.get("/channels")).json()}
    cases = await served_cases(b)
    try:
        assert {c.nickname for c in cases} >= {
            "originate", "create", "originateWithId", "snoopChannel", "snoopChannelWithId", "dial",
            "externalMedia", "addChannel", "removeChannel", "userEvent", "claimChannel", "subscribe",
            "unsubscribe",
        }  # fmt: skip
        answered = []
        for case in cases:
            for value in tenants.foreign(case):
                for in_body in (False, True):
                    answer = await request(b, tenants, case, value, in_body)
                    answered.append((case.method, case.path, case.param, value, in_body, answer))
        let_through = [
            (method, path, param, value, "body" if in_body else "query", a.status_code, a.text[:160])
            for method, path, param, value, in_body, a in answered
            if not refused(a)
        ]
        assert let_through == [], "\n".join(map(str, let_through))
        assert len(answered) >= 2 * len(cases)
        assert (await gw.get(f"/channels/{tenants.a_channel}")).status_code == 200
        assert (await gw.get(f"/bridges/{tenants.a_bridge}")).json()["channels"] == []
        assert (await b.get(f"/bridges/{tenants.b_bridge}")).json()["channels"] == []
    finally:
        for channel in {c["id"] for c in (await b.get("/channels")).json()} - b_channels_before:
            await b.delete(f"/channels/{channel}")
        await b.delete(f"/channels/{tenants.b_channel}")
        await b.delete(f"/bridges/{tenants.b_bridge}")
        await gw.delete(f"/channels/{tenants.a_channel}")
        await gw.delete(f"/bridges/{tenants.a_bridge}")
