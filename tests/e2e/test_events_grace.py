"""A call to an app with no connected instance is hung up after the grace period, not left ringing."""

import asyncio
import time
from functools import partial

import httpx

from ariscale_cluster import Cluster
from tests.e2e.conftest import RegisteredApp
from tests.support.ari import list_channels
from tests.support.sipp import place_calls
from tests.support.waiting import until

GRACE = 5.0  # the gateway's default hangup_grace_seconds


async def _channels_everywhere(cluster: Cluster) -> int:
    auth = (cluster.spec.ari_user, cluster.spec.ari_password)
    return sum([len(await list_channels(node.ari_url, auth)) for node in cluster.spec.nodes])


async def _count_is(cluster: Cluster, count: int) -> bool:
    return await _channels_everywhere(cluster) == count


async def test_calls_of_an_app_nobody_listens_to_are_hung_up_after_grace(
    cluster: Cluster, sip_edge: str, registered_app: RegisteredApp, registry: httpx.AsyncClient
) -> None:
    detail = (await registry.get(f"/apps/{registered_app.name}")).json()
    assert detail["consumers"] == 0, "the registry shows that nobody listens to the app"
    calls = asyncio.create_task(place_calls(sip_edge, registered_app.extension, calls=4, rate=20, timeout=30))
    await until(partial(_count_is, cluster, 4), timeout=10, message="4 calls ringing in Stasis")
    entered = time.monotonic()
    await until(partial(_count_is, cluster, 0), timeout=GRACE + 10, message="every call hung up")
    waited = time.monotonic() - entered
    result = await calls
    # Not before the grace; soon after it (a sweep each second), long before sipp would give up.
    assert GRACE - 1.0 <= waited <= GRACE + 4.0, f"hung up after {waited:.1f} s; grace is {GRACE} s"
    assert result.successful == 0, result.output[-2000:]  # nobody answered
