"""Every service's /docs works without internet: Swagger UI comes from the service itself.

Checked in headless Chromium with every request off the machine refused: the page must list
every operation of the service's OpenAPI document (the gateway: Asterisk's 108 ARI operations).
"""

from typing import Any

import httpx
import pytest

from ariscale_cluster import Cluster
from tests.support.browser import chromium, offline

ARI_OPERATIONS = 108


def service_urls(cluster: Cluster) -> dict[str, str]:
    spec = cluster.spec
    return {
        "registry": f"http://127.0.0.1:{spec.registry_port}",
        "gateway": f"http://127.0.0.1:{spec.gateway_port}",
        "conf_app": f"http://127.0.0.1:{spec.conf_app_port}",
        **{f"agent-{n.node_id}": f"http://127.0.0.1:{n.agent_port}" for n in spec.nodes},
    }


def operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return {(m.upper(), path) for path, ops in openapi["paths"].items() for m in ops if m in methods}


@pytest.mark.parametrize("service", ["registry", "gateway", "conf_app", "agent-n1"])
async def test_docs_show_every_operation_offline(cluster: Cluster, service: str) -> None:
    url = service_urls(cluster)[service]
    async with httpx.AsyncClient(timeout=10) as http:
        expected = operations((await http.get(f"{url}/openapi.json")).json())
    assert expected, f"{service} documents no operation"

    async with chromium() as browser:
        page = await browser.new_page()
        refused = await offline(page)
        await page.goto(f"{url}/docs")
        await page.wait_for_selector(".opblock", timeout=20000)
        shown = await page.eval_on_selector_all(
            ".opblock",
            """blocks => blocks.map(b => [
                b.querySelector('.opblock-summary-method').textContent.trim(),
                b.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
        )

    assert {(m, p) for m, p in shown} == expected
    assert refused == [], "the page reached for the internet"
    if service == "gateway":
        ari = {(m, p) for m, p in shown if p.startswith("/ari/") and not p.startswith("/ari/api-docs")}
        assert len(ari) == ARI_OPERATIONS
