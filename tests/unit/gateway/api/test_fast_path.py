from starlette.types import Message, Receive, Scope, Send

from gateway.api.fast_path import AriFastPath, OperationTable
from gateway.routing.plans import Policy, plan_for
from gateway.routing.spec import operations


def sample_path(path: str) -> str:
    return "/".join(f"x-{s[1:-1]}" if s.startswith("{") else s for s in path.split("/"))


def test_every_operation_is_found_with_its_path_parameters() -> None:
    table = OperationTable(operations())
    served = [op for op in operations() if plan_for(op).policy is not Policy.EVENTS]
    assert len(served) > 100
    for op in served:
        found = table.find(op.method, sample_path(op.path))
        assert found is not None, (op.method, op.path)
        assert found.op.path == op.path and found.op.method == op.method
        assert found.path_params == {name: f"x-{name}" for name in op.path_params}


def test_static_segments_win_over_parameters() -> None:
    table = OperationTable(operations())
    found = table.find("POST", "/channels/externalMedia")
    assert found is not None and found.op.nickname == "externalMedia"
    found = table.find("POST", "/channels/n1-1.0")
    assert found is not None and found.path_params == {"channelId": "n1-1.0"}


def test_what_no_operation_names_is_left_to_the_routes() -> None:
    table = OperationTable(operations())
    for method, path in [
        ("GET", "/channels/"),  # trailing slash: the router redirects
        ("GET", "/channels//variable"),  # an empty parameter
        ("PUT", "/channels"),  # a method the operation does not have: 405 from the router
        ("GET", "/events"),  # the websocket
        ("GET", "/nothing/here"),
        ("GET", ""),
        ("GET", "channels"),
    ]:
        assert table.find(method, path) is None, (method, path)


async def test_the_lifespan_websockets_and_other_paths_pass_through() -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError(f"the fast path answered {message}")

    fast = AriFastPath(inner)
    await fast({"type": "lifespan"}, receive, send)
    await fast({"type": "websocket", "path": "/ari/events"}, receive, send)
    await fast({"type": "http", "path": "/health", "method": "GET"}, receive, send)
    assert seen == ["lifespan", "websocket", "http"]
