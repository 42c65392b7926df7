"""A node takes far more HTTP sessions than Asterisk's default 100: every app holds an ARI
websocket on every node (its agent's), besides the gateways' request connections."""

import asyncio
import contextlib
from urllib.parse import urlparse

import httpx

SESSIONS = 150  # over Asterisk's default sessionlimit (100)


async def test_a_node_answers_beside_many_open_sessions(
    node_aris: dict[str, str], ari_auth: tuple[str, str]
) -> None:
    ari_url = node_aris["n1"]
    address = urlparse(ari_url)
    opened: list[asyncio.StreamWriter] = []
    try:
        for _ in range(SESSIONS):  # connected, no request yet: each holds a session
            _, writer = await asyncio.open_connection(address.hostname, address.port)
            opened.append(writer)
        async with httpx.AsyncClient(auth=ari_auth, timeout=10) as client:
            answer = await client.get(f"{ari_url}/asterisk/info")
        assert answer.status_code == 200, answer.text
    finally:
        for writer in opened:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
