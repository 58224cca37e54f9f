#!/usr/bin/env python
"""A fleet of signed-in Socket.IO clients in one process, for scripts/bench_live.py --cluster.

    python scripts/live_fleet.py --url http://127.0.0.1:8130 --cookies cookies.txt --out arrivals.json

Each line of `--cookies` is one signed `session` cookie: one client each, all connecting to `--url` (through nginx,
which spreads them over the web processes, or straight to one process). The clients speak Engine.IO 4 / Socket.IO 5
over WebSocket only (what browsers of the product do) on asyncio + wsproto: one thread for a thousand sockets, so
the load generator costs little CPU next to the servers it measures (python-socketio's asyncio client needs aiohttp,
which is not installed here; its threaded client would need two threads per socket).

Protocol on stdin/stdout (one JSON object per line): after connecting it prints {"connected", "refused", "failed",
"deflate", "seconds"}; then it answers the line "count" with {"deliveries": first arrivals so far, "dropped": n} and the line
"stop" by closing every socket, writing `--out` and printing {"done": true}. Timestamps are time.monotonic()
(CLOCK_MONOTONIC: comparable with the benchmark's own process on the same machine).

`--out` holds {"clients": n, "dropped": [client index, ...], "arrivals": {incident_id: [first arrival per client]},
"duplicates": {incident_id: extra deliveries}} for the incidents whose event name is one of `--names`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

try:
    import orjson

    loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is installed here
    loads = json.loads

CONNECT_TIMEOUT_S = 60.0
HANDSHAKES_AT_ONCE = 16  # concurrent connects (each makes the server read a session from the database)


class Client:
    """One Socket.IO client: connects with its cookie, answers pings, records the first arrival of each incident."""

    def __init__(self, index: int, url: str, cookie: str, names: frozenset[str], deflate: bool):
        parts = urlsplit(url)
        self.index, self.host, self.port = index, parts.hostname or "127.0.0.1", parts.port or 80
        self.netloc, self.cookie, self.names = parts.netloc, cookie, names
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.writer: asyncio.StreamWriter | None = None
        self.ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.first: dict[str, float] = {}
        self.extra: dict[str, int] = {}
        self.closing = False
        self.dropped = False
        self.deflate = deflate  # offer permessage-deflate, as every browser does
        self.deflated = False  # the server accepted it

    def send(self, event) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(self.ws.send(event))

    async def run(self) -> None:
        """Connect and read until closed; a connection that ends while not closing counts as dropped."""
        try:
            reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
            target = "/socket.io/?EIO=4&transport=websocket"
            headers = [(b"cookie", f"session={self.cookie}".encode())]
            offer = [PerMessageDeflate()] if self.deflate else []
            self.send(Request(host=self.netloc, target=target, extra_headers=headers, extensions=offer))
            text: list[str] = []
            while True:
                data = await reader.read(1 << 16)
                t = time.monotonic()
                if not data:
                    break
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, TextMessage):
                        text.append(event.data)
                        if event.message_finished:
                            self.packet("".join(text), t)
                            text.clear()
                    elif isinstance(event, Ping):
                        self.send(event.response())
                    elif isinstance(event, RejectConnection):
                        self.settle(f"refused: HTTP {event.status_code}")
                    elif isinstance(event, CloseConnection):
                        self.settle(f"closed: {event.code}")
                        return self.lost()
                    elif isinstance(event, AcceptConnection):
                        self.deflated = any(isinstance(x, PerMessageDeflate) for x in event.extensions)
        except Exception as exc:  # any failure (refused, reset, protocol error) is reported as the outcome
            self.settle(f"failed: {type(exc).__name__}: {exc}")
        self.lost()

    def lost(self) -> None:
        if not self.closing and self.ready.done() and self.ready.result() == "ok":
            self.dropped = True

    def settle(self, outcome: str) -> None:
        if not self.ready.done():
            self.ready.set_result(outcome)

    def packet(self, packet: str, t: float) -> None:
        """One Engine.IO packet: open → Socket.IO connect; ping → pong; Socket.IO event → record."""
        kind = packet[:1]
        if kind == "0":
            self.send(TextMessage(data="40"))
        elif kind == "2":
            self.send(TextMessage(data="3"))
        elif kind == "4":
            sub = packet[1:2]
            if sub == "2":
                self.event(packet[2:], t)
            elif sub == "0":
                self.settle("ok")
            elif sub == "4":
                self.settle(f"refused: {packet[2:200]}")

    def event(self, body: str, t: float) -> None:
        try:
            name, message = loads(body)[:2]
        except (ValueError, TypeError):
            return
        if name != "incident" or not isinstance(message, dict) or message.get("name") not in self.names:
            return
        incident_id = str(message.get("incident_id"))
        if incident_id in self.first:
            self.extra[incident_id] = self.extra.get(incident_id, 0) + 1
        else:
            self.first[incident_id] = t

    def close(self) -> None:
        self.closing = True
        if self.writer is not None and not self.writer.is_closing():
            with contextlib.suppress(Exception):  # the connection is already gone
                self.send(CloseConnection(code=1000))
            self.writer.close()


async def connect_all(clients: list[Client]) -> tuple[list[asyncio.Task], dict[str, int], float]:
    """Start every client (HANDSHAKES_AT_ONCE at a time); outcomes counted."""
    t0 = time.monotonic()
    gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
    tasks: list[asyncio.Task] = []

    async def start(client: Client) -> str:
        async with gate:
            tasks.append(asyncio.create_task(client.run()))
            try:
                return await asyncio.wait_for(asyncio.shield(client.ready), CONNECT_TIMEOUT_S)
            except TimeoutError:
                return "failed: timeout"

    outcomes = await asyncio.gather(*(start(c) for c in clients))
    counts = {"connected": 0, "refused": 0, "failed": 0}
    for outcome in outcomes:
        counts["connected" if outcome == "ok" else outcome.split(":")[0]] += 1
    return tasks, counts, time.monotonic() - t0


def summary(clients: list[Client]) -> dict:
    arrivals: dict[str, list[float]] = {}
    duplicates: dict[str, int] = {}
    for client in clients:
        for incident_id, t in client.first.items():
            arrivals.setdefault(incident_id, []).append(t)
        for incident_id, n in client.extra.items():
            duplicates[incident_id] = duplicates.get(incident_id, 0) + n
    return {
        "clients": len(clients),
        "dropped": [c.index for c in clients if c.dropped],
        "arrivals": arrivals,
        "duplicates": duplicates,
    }


def say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main_async(args: argparse.Namespace) -> None:
    cookies = [line.strip() for line in open(args.cookies, encoding="utf-8") if line.strip()]
    names = frozenset(args.names.split(","))
    clients = [Client(i, args.url, cookie, names, args.deflate) for i, cookie in enumerate(cookies)]
    tasks, counts, seconds = await connect_all(clients)
    say({**counts, "deflate": sum(c.deflated for c in clients), "seconds": round(seconds, 2)})
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == "count":
            say({"deliveries": sum(len(c.first) for c in clients), "dropped": sum(c.dropped for c in clients)})
        elif line in ("stop", ""):
            break
    result = summary(clients)
    for client in clients:
        client.close()
    await asyncio.wait(tasks, timeout=5)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out)
    say({"done": True})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="where every client connects (the proxy or one web process)")
    parser.add_argument("--cookies", required=True, help="file: one signed session cookie per line")
    parser.add_argument("--out", required=True, help="file: the arrivals, written on 'stop'")
    parser.add_argument(
        "--deflate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="offer permessage-deflate as browsers do (the server then compresses every push per socket)",
    )
    parser.add_argument("--names", default="incident.report,floor.emit", help="event names recorded [%(default)s]")
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
