"""Schemathesis (property-based requests from each OpenAPI document): no input gets a 5xx.

The gateway is driven as an app (HTTP basic), the registry as its operator (bearer token); each
run is bounded by a number of examples per operation and a deadline, so the suite stays quick.
"""

import asyncio
import sys
from pathlib import Path

import httpx

from ariscale_cluster import Cluster
from tests.e2e.conftest import RegisteredApp

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
DEADLINE_S = 240.0  # a hard stop well above the ~60 s a run takes


async def run_schemathesis(openapi_url: str, *options: str) -> str:
    """Run it against ``openapi_url``; its output, after asserting it found no server error."""
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS, "run", openapi_url, "--checks", "not_a_server_error", "--phases", "examples,fuzzing",
        "--max-examples", "6", "--generation-deterministic", "--request-timeout", "20", "--workers", "2",
        *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    except TimeoutError:
        process.kill()
        raise AssertionError(f"schemathesis took longer than {DEADLINE_S} s") from None
    text = output.decode(errors="replace")
    failures = text.find("FAILURES")
    assert process.returncode == 0, text[failures : failures + 8000] if failures >= 0 else text[-8000:]
    return text


async def test_the_gateway_gives_no_server_error(gateway_url: str, registered_app: RegisteredApp) -> None:
    auth = f"{registered_app.name}:{registered_app.password}"
    await run_schemathesis(f"{gateway_url}/openapi.json", "--auth", auth, "--exclude-path-regex", "^/health")


async def test_the_registry_gives_no_server_error(cluster: Cluster, registry: httpx.AsyncClient) -> None:
    before = {a["name"] for a in (await registry.get("/apps")).json()["data"]}
    url = f"http://127.0.0.1:{cluster.spec.registry_port}"
    try:
        await run_schemathesis(
            f"{url}/openapi.json",
            "--header", f"Authorization: Bearer {cluster.spec.admin_token}",
            # Draining a node would take it out of the edge's dispatch set for the later tests, and
            # the examples name the live app "conf": its password or its registration must stay.
            "--exclude-path-regex", "drain$|password$",
            "--exclude-method", "DELETE", "--exclude-method", "PATCH",
        )  # fmt: skip
    finally:
        for app in (await registry.get("/apps")).json()["data"]:
            if app["name"] not in before:
                await registry.delete(f"/apps/{app['name']}")
