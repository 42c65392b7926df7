"""The registry's dashboard, looked at as an operator would: headless Chromium on a live cluster.

Callers join the 8000 conference on both nodes; the page shows them with their nodes and the
bridge spanning the two nodes over one link leg; they go when the calls end. The page's Drain
button then takes a node out of the SIP edge: new calls all land on the other node.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from ariscale_cluster import Cluster, kamailio
from tests.support.browser import chromium
from tests.support.sipp import SippResult, place_calls
from tests.support.waiting import until

CONFERENCE = "8000"
CONF = "[data-conference=conf]"


@pytest.fixture
async def conf_gw(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    """ARI through the gateway as the conference app (its password, as conf_app registered it)."""
    path = cluster.spec.state_dir / "credentials" / "conf"
    await until(path.exists, timeout=20, message="conf_app registered itself")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{cluster.spec.gateway_port}/ari",
        auth=("conf", path.read_text().strip()),
        timeout=15,
    ) as client:
        yield client


@pytest.fixture
async def dashboard(cluster: Cluster) -> AsyncIterator[Page]:
    """The dashboard, opened and given the admin token once (as a person types it)."""
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1300, "height": 800})
        await page.goto(f"http://127.0.0.1:{cluster.spec.registry_port}/dashboard")
        await page.fill("#token", cluster.spec.admin_token)
        await page.click("#login button")
        for node in cluster.spec.nodes:
            await page.wait_for_selector(f"[data-node={node.node_id}]", timeout=15000)
        yield page


async def members_by_node(page: Page) -> list[str]:
    """The node of each member the page shows in conference ``conf``."""
    nodes: list[str] = await page.eval_on_selector_all(
        f"{CONF} [data-member]", "rows => rows.map(r => r.dataset.memberNode).sort()"
    )
    return nodes


async def link_legs(page: Page) -> int:
    shown = await page.get_attribute(CONF, "data-link-legs") if await page.query_selector(CONF) else "0"
    return int(shown or 0)


async def hang_up_all(conf_gw: httpx.AsyncClient) -> None:
    for channel in (await conf_gw.get("/channels")).json():
        await conf_gw.delete(f"/channels/{channel['id']}")
    await until(lambda: _no_channels(conf_gw), timeout=15, message="the conference's calls ended")


async def close_conference(conf_gw: httpx.AsyncClient) -> None:
    """Destroy the (empty) conference bridge: later tests start from empty nodes."""
    assert (await conf_gw.delete("/bridges/conf")).status_code in (204, 404)


async def _no_channels(conf_gw: httpx.AsyncClient) -> bool:
    return bool((await conf_gw.get("/channels")).json() == [])


async def conference_calls(sip_edge: str, count: int) -> "asyncio.Task[SippResult]":
    return asyncio.create_task(
        place_calls(sip_edge, CONFERENCE, calls=count, rate=20, hold_ms=60000, timeout=90, caller="dashboard")
    )


async def test_the_page_shows_a_conference_across_nodes_then_its_end(
    dashboard: Page, conf_gw: httpx.AsyncClient, sip_edge: str, tmp_path: Path
) -> None:
    page = dashboard
    await page.wait_for_function(
        "document.querySelector('[data-app=conf] [data-testid=consumers]')?.textContent === '1'",
        timeout=20000,
    )
    calls = await conference_calls(sip_edge, 3)
    try:
        await page.wait_for_selector(f"{CONF}[data-nodes='n1,n2']", timeout=30000)
        await until(lambda: _shows(page, 3), timeout=20, message="3 members on the page")
        assert set(await members_by_node(page)) == {"n1", "n2"}
        assert await link_legs(page) == 1, "one link leg carries the bridge to its other node"
        assert "spans n1 + n2" in await page.inner_text(f"{CONF} [data-testid=spans]")
        assert await page.inner_text("[data-app=conf] [data-testid=calls]") == "3"
        await page.wait_for_timeout(1500)  # one more snapshot: charts drawn with the calls in
        await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    finally:
        await hang_up_all(conf_gw)
        await calls

    await until(lambda: _shows(page, 0), timeout=20, message="the members gone from the page")
    await until(lambda: _legs(page, 0), timeout=20, message="the link leg gone from the page")
    assert await page.query_selector(CONF) is not None, "the bridge itself is still there, empty"
    await close_conference(conf_gw)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


async def test_drain_from_the_page_and_the_edge_stops_sending_calls_there(
    cluster: Cluster, dashboard: Page, conf_gw: httpx.AsyncClient, registry: httpx.AsyncClient, sip_edge: str
) -> None:
    page = dashboard
    drained = cluster.spec.nodes[0]
    dispatch_set = kamailio.dispatcher_list(cluster.spec)
    try:
        await page.click(f"[data-node={drained.node_id}] [data-testid=drain]")
        await page.wait_for_selector(f"[data-node={drained.node_id}] [data-testid=drained]", timeout=10000)
        await until(
            lambda: drained.sip_address not in dispatch_set.read_text(), timeout=10,
            message=f"{drained.node_id} out of the SIP edge's dispatch set",
        )  # fmt: skip
        calls = await conference_calls(sip_edge, 2)
        try:
            await until(lambda: _shows(page, 2), timeout=30, message="2 members on the page")
            assert await members_by_node(page) == ["n2", "n2"]
        finally:
            await hang_up_all(conf_gw)
            await calls
            await close_conference(conf_gw)
        await page.click(f"[data-node={drained.node_id}] [data-testid=undrain]")
        await page.wait_for_selector(f"[data-node={drained.node_id}] [data-testid=drain]", timeout=10000)
        await until(lambda: drained.sip_address in dispatch_set.read_text(), timeout=10, message="back in")
    finally:
        await registry.delete(f"/nodes/{drained.node_id}/drain")


async def _shows(page: Page, count: int) -> bool:
    return len(await members_by_node(page)) == count


async def _legs(page: Page, count: int) -> bool:
    return await link_legs(page) == count
