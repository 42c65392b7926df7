"""The registry's errors, each with a stable ``error_id`` (rendered by ariscale_common.errors)::

ApiError
├── NotFound ── AppNotFound (app-not-found), NodeNotFound (node-not-found)
├── Conflict ── AppNameTaken (app-name-taken), ExtensionTaken (extension-taken),
│               AppNameReserved (app-name-reserved)
├── Unauthorized ── AdminTokenMissing (admin-token-missing)
├── Forbidden ── AdminTokenInvalid (admin-token-invalid)
└── ServiceUnavailable ── ConsulUnavailable (consul-unavailable)
"""

from ariscale_common.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized


class AppNotFound(NotFound):
    error_id = "app-not-found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no application named {name!r}", {"name": name})


class NodeNotFound(NotFound):
    error_id = "node-not-found"

    def __init__(self, node_id: str) -> None:
        super().__init__(f"no Asterisk node {node_id!r} is registered in Consul", {"node_id": node_id})


class AppNameTaken(Conflict):
    error_id = "app-name-taken"

    def __init__(self, name: str, owner: str | None = None) -> None:
        owner = owner or name
        case = "" if owner == name else ": names are unique ignoring case"
        details = {"name": name, "owner": owner}
        super().__init__(f"an application named {owner!r} already exists{case}", details)


class AppNameReserved(Conflict):
    error_id = "app-name-reserved"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name!r} is reserved: names starting with 'ariscale' belong to ariscale's internal apps",
            {"name": name, "owner": "ariscale"},
        )


class ExtensionTaken(Conflict):
    error_id = "extension-taken"

    def __init__(self, taken: dict[str, str]) -> None:
        listed = ", ".join(f"{ext} (owned by {owner!r})" for ext, owner in sorted(taken.items()))
        owners = sorted(set(taken.values()))
        super().__init__(
            f"extension already owned by another application: {listed}",
            {"extensions": taken, "owner": owners[0] if len(owners) == 1 else owners},
        )


class AdminTokenMissing(Unauthorized):
    error_id = "admin-token-missing"

    def __init__(self) -> None:
        super().__init__("this API needs the admin token: send 'Authorization: Bearer <ADMIN_TOKEN>'")


class AdminTokenInvalid(Forbidden):
    error_id = "admin-token-invalid"

    def __init__(self) -> None:
        super().__init__("the bearer token is not the admin token")


class ConsulUnavailable(ServiceUnavailable):
    error_id = "consul-unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(f"Consul did not answer: {detail}", {"detail": detail})
