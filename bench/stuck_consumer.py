"""One app's websocket reads nothing: the other apps' events must not wait for it (issue 11, row 11).

Two gateways, each app with a websocket on both: the *dispatcher* takes each app's events from
its queue (the app's first websocket is there) and hands them to the app's first live websocket
in id order, on the *target* gateway, whose gateway id sorts first. So every event of both apps
crosses the target's one forwarding queue, shared by all apps: the path where a write held up
by B's stuck websocket would hold up A's events too. App A's paced user events are timed alone,
then while B's websocket on the target reads nothing and B gets 240 events of 38 KB (about
9 MB, more than the kernel buffers of B's socket take; Asterisk takes bodies up to 40960 bytes).

``make bench`` reports the delays and their ratio; the e2e test of row 11 runs the same.
"""

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bench.event_path import Arrivals, listen, percentiles, raise_events

PACED = 200
PACE_S = 0.01
FLOOD = 240
FLOOD_BYTES = 38_000
TARGET_ID = "-target"  # host names never start with "-": sorts before every "<host>:<pid>" id

Consumers = Callable[[str], Awaitable[int]]


@dataclass(frozen=True)
class AppAuth:
    name: str
    password: str

    def query(self) -> str:
        return f"app={self.name}&api_key={self.name}:{self.password}"


@contextmanager
def never_reading(host: str, port: int, query: str) -> Iterator[socket.socket]:
    """A websocket on ``/ari/events?<query>`` whose client reads the handshake's answer, then nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills at once
    sock.settimeout(10)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ari/events?{query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)  # byte by byte: nothing after the handshake is taken
    if not answer.startswith(b"HTTP/1.1 101"):
        sock.close()
        raise RuntimeError(f"the websocket was refused: {answer!r}")
    try:
        yield sock
    finally:
        sock.close()


def established(sock: socket.socket) -> bool:
    """Whether the kernel still holds ``sock``'s connection open (read from /proc/net/tcp, so that
    nothing is taken from its receive buffer)."""
    host, port = sock.getsockname()
    local = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(row[1] == local and row[3] == "01" for row in rows)  # 01: ESTABLISHED


async def until_dropped(sock: socket.socket, timeout: float = 30) -> bool:
    """Whether the server drops ``sock``'s connection within ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while established(sock):
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.2)
    return True


@asynccontextmanager
async def listening(gateway: str, app: AppAuth) -> AsyncIterator[Arrivals]:
    """A websocket of ``app`` on ``gateway`` (http URL) that reads, collecting the bench's events."""
    arrivals, ready = Arrivals(), asyncio.Event()
    url = f"{gateway.replace('http', 'ws', 1)}/ari/events?{app.query()}"
    task = asyncio.create_task(listen(url, arrivals, ready))
    try:
        await asyncio.wait_for(ready.wait(), 20)
        yield arrivals
    finally:
        task.cancel()


async def probe(node: httpx.AsyncClient, app: str, arrivals: Arrivals, tries: int = 20) -> None:
    """Raise one event of ``app`` at a time until one reaches ``arrivals`` (RuntimeError if none)."""
    for _ in range(tries):
        arrivals.clear()
        await raise_events(node, app, 1, 0)
        await arrivals.wait_for(1, 0.5)
        if arrivals.sequence:
            arrivals.clear()
            return
    raise RuntimeError(f"no event of {app} reached the expected websocket")


async def until_accepted(gateways: list[str], apps: list[AppAuth], timeout: float = 30) -> None:
    """Every gateway knows every app (a gateway learns new apps from Consul within about a second)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=10) as http:
        for gateway in gateways:
            for app in apps:
                auth = (app.name, app.password)
                while (await http.get(f"{gateway}/ari/channels", auth=auth)).status_code != 200:
                    if asyncio.get_running_loop().time() >= deadline:
                        raise RuntimeError(f"{gateway} never accepted app {app.name}")
                    await asyncio.sleep(0.2)


async def until_consumers(consumers: Consumers, app: str, count: int, timeout: float = 30) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while await consumers(app) != count:
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def flood(node: httpx.AsyncClient, app: str) -> None:
    big = {"variables": {"blob": "x" * FLOOD_BYTES}}
    for _ in range(FLOOD // 30):
        sent = await asyncio.gather(*(
            node.post("/events/user/flood", params={"application": app}, json=big) for _ in range(30)
        ))  # fmt: skip
        for response in sent:
            response.raise_for_status()


async def paced_delays(node: httpx.AsyncClient, app: str, arrivals: Arrivals) -> list[float]:
    """Delays (ms) of ``app``'s paced events at ``arrivals``; fewer than PACED if some never came."""
    arrivals.clear()
    await raise_events(node, app, PACED, PACE_S)
    await arrivals.wait_for(PACED, 60)
    return list(arrivals.delay_ms)


async def stuck_beside(
    node: httpx.AsyncClient, dispatcher: str, target: str, a: AppAuth, b: AppAuth, consumers: Consumers
) -> dict[str, Any]:
    """A's delays on ``target`` alone, then beside B's stuck websocket there; ``node`` raises events."""
    await until_accepted([dispatcher, target], [a, b])
    async with listening(dispatcher, a) as a_first, listening(dispatcher, b) as b_first:
        await probe(node, a.name, a_first)  # the dispatcher takes A's and B's queues
        await probe(node, b.name, b_first)
        async with listening(target, a) as a_measured:
            await probe(node, a.name, a_measured)  # A's events cross the target's forwarding queue
            alone = await paced_delays(node, a.name, a_measured)
            host, port = target.removeprefix("http://").split(":")
            with never_reading(host, int(port), b.query()) as stuck_socket:
                if not await until_consumers(consumers, b.name, 2):
                    raise RuntimeError(f"B's stuck websocket on {target} never counted")
                flooding = asyncio.create_task(flood(node, b.name))
                beside = await paced_delays(node, a.name, a_measured)
                await flooding
                cut_off = await until_consumers(consumers, b.name, 1)
                dropped = await until_dropped(stuck_socket)
    base, stuck = percentiles(alone), percentiles(beside)
    return {
        "A alone": base,
        "A beside B stuck and flooded": stuck,
        "B cut off": cut_off,
        "B's connection dropped": dropped,
        "ratio (p50, beside stuck / alone)": round(stuck.get("p50_ms", 0) / base["p50_ms"], 2),
        "ratio (p99, beside stuck / alone)": round(stuck.get("p99_ms", 0) / base["p99_ms"], 2),
    }
