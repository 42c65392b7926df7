"""Real SIP calls from sipp through Kamailio reach Stasis on the nodes."""

from collections import Counter
from functools import partial

from ariscale_common.dialplan import ROUTED_VARIABLE, app_variable
from tests.support.ari import StasisWatcher, list_channels, set_global
from tests.support.sipp import place_calls
from tests.support.waiting import until


async def route_extension(node_aris: dict[str, str], auth: tuple[str, str], extension: str, app: str) -> None:
    for ari_url in node_aris.values():
        await set_global(ari_url, auth, app_variable(extension), app)


async def test_twenty_calls_land_in_stasis_on_both_nodes(
    node_aris: dict[str, str], ari_auth: tuple[str, str], sip_edge: str, app_name: str, extension: str
) -> None:
    await route_extension(node_aris, ari_auth, extension, app_name)
    watcher = StasisWatcher(node_aris, *ari_auth, app=app_name)
    async with watcher.running():
        result = await place_calls(sip_edge, extension, calls=20, rate=20, hold_ms=300)
        await until(lambda: len(watcher.of_type("StasisEnd")) == 20, message="20 StasisEnd")

    assert result.successful == 20, result.output[-2000:]
    starts = watcher.of_type("StasisStart")
    assert len(starts) == 20
    per_node = Counter(node for node, _ in starts)
    assert set(per_node) == {"n1", "n2"}, per_node
    # systemname prefixes every channel id with the node that owns it
    assert all(event["channel"]["id"].startswith(f"{node}-") for node, event in starts)
    assert all(event["channel"]["dialplan"]["exten"] == extension for _, event in starts)
    for ari_url in node_aris.values():
        await until(partial(_no_channels, ari_url, ari_auth), message=f"no channels on {ari_url}")


async def _no_channels(ari_url: str, auth: tuple[str, str]) -> bool:
    return await list_channels(ari_url, auth) == []


async def test_unknown_number_is_refused_with_404(sip_edge: str, extension: str) -> None:
    result = await place_calls(sip_edge, extension, calls=2, scenario="uac_rejected.xml", timeout=20)
    assert result.returncode == 0, result.output[-2000:]
    assert result.successful == 2


async def test_a_node_its_agent_has_not_routed_yet_sends_calls_elsewhere(
    node_aris: dict[str, str], ari_auth: tuple[str, str], sip_edge: str, app_name: str, extension: str
) -> None:
    """Just after Asterisk restarts its globals are gone: until its agent has routed it again, the
    node answers 503 and the SIP edge takes the call to another node (a 404 would end it)."""
    await route_extension(node_aris, ari_auth, extension, app_name)
    n1 = node_aris["n1"]
    # As a freshly restarted n1 has them: neither the mark nor the number's app.
    await set_global(n1, ari_auth, ROUTED_VARIABLE, "")
    await set_global(n1, ari_auth, app_variable(extension), "")
    watcher = StasisWatcher(node_aris, *ari_auth, app=app_name)
    try:
        async with watcher.running():
            result = await place_calls(sip_edge, extension, calls=6, rate=10, hold_ms=300)
            await until(lambda: len(watcher.of_type("StasisEnd")) == 6, message="6 StasisEnd")
    finally:
        await set_global(n1, ari_auth, ROUTED_VARIABLE, "1")
    assert result.successful == 6, result.output[-2000:]
    assert {node for node, _ in watcher.of_type("StasisStart")} == {"n2"}
